"""One compiled code per x86-64 CPU family, so that a seed gives the same bytes on any machine.

numba compiles for the host CPU by default, and LLVM's tuning differs between CPUs with
the same instructions: measured on an Intel Sapphire Rapids, the lattice DFT's float32
isotherms compiled for the host differ by up to 1.9e-6 from those compiled for AMD
Zen 4, and the measured fit's search, which ranks near-equal scores, then ends in
another ensemble (README example: widths 0.20-1.83 nm instead of 0.20-1.42 nm).

So the code is named in full, CPU and features, never read off the host: the generic
x86-64-v3 tuning (AVX2, FMA) with the AVX-512 core (F, CD, BW, DQ, VL) where the CPU has
it. numba otherwise adds the host's own features to a named CPU, which changes the code
again. Two families result: AVX-512 machines, the same bytes on Intel and AMD (the Zen 4
bytes, 1.05-1.2x faster than host code on Sapphire Rapids), and AVX2-only ones, the same
code but bytes per vendor: LLVM divides with the approximate reciprocal vrcpps plus a
Newton step, and Intel's and AMD's vrcpps differ in the last bits (AVX-512's vrcp14ps is
specified exactly). docs/measurements.md.

Applied when invtoolkit is imported, before numba reads its settings; a user's own
``NUMBA_CPU_NAME`` wins, and so does a CPU without x86-64-v3 (it keeps the host's code).
"""

from __future__ import annotations

import os
import platform
import sys

TARGET = "x86-64-v3"
# the /proc/cpuinfo flags of x86-64-v3 (AVX2 level; lzcnt is listed as abm)
NEEDS = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}
AVX512 = ("avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl")  # the x86-64-v4 additions


def cpuinfo(field: str) -> str:
    """The value of the first /proc/cpuinfo line starting with ``field`` ('' where none)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(field):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_flags() -> set[str]:
    return set(cpuinfo("flags").split())


def target_features(flags: set[str]) -> str:
    """numba's feature string of the family ``flags`` belong to ('' is x86-64-v3's own)."""
    return ",".join(f"+{f}" for f in AVX512) if set(AVX512) <= flags else ""


def pin_numba_target() -> str | None:
    """Set NUMBA_CPU_NAME (x86-64-v3) and NUMBA_CPU_FEATURES where the CPU has x86-64-v3
    and nobody chose; the name in force."""
    if "NUMBA_CPU_NAME" in os.environ:
        return os.environ["NUMBA_CPU_NAME"]
    flags = cpu_flags()
    if platform.machine().lower() not in ("x86_64", "amd64") or not NEEDS <= flags:
        return None
    os.environ["NUMBA_CPU_NAME"] = TARGET
    os.environ.setdefault("NUMBA_CPU_FEATURES", target_features(flags))
    if "numba" in sys.modules:  # imported before invtoolkit: make it read the setting again
        sys.modules["numba"].config.reload_config()
    return TARGET
