"""One compiled code for every x86-64 machine, so that a seed gives the same bytes anywhere.

numba compiles for the host CPU by default, and LLVM's tuning differs between CPUs with
the same instructions: measured on an Intel Sapphire Rapids, the lattice DFT's float32
isotherms compiled for the host differ in the last bits from those compiled for AMD
Zen 4, and the measured fit's search, which ranks near-equal scores, then ends in
another ensemble (README example: widths 0.20-1.83 nm instead of 0.20-1.42 nm). The
generic x86-64-v3 level (AVX2, FMA) gives both CPUs the same code and the same bytes, at
no loss of speed on either (docs/measurements.md).

Applied when invtoolkit is imported, before numba reads its settings; a user's own
``NUMBA_CPU_NAME`` wins, and so does a CPU without x86-64-v3 (it keeps the host's code).
"""

from __future__ import annotations

import os
import platform

TARGET = "x86-64-v3"
# the /proc/cpuinfo flags of x86-64-v3 (AVX2 level; lzcnt is listed as abm)
NEEDS = {"avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"}


def cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def pin_numba_target() -> str | None:
    """Set NUMBA_CPU_NAME to x86-64-v3 where the CPU has it and nobody chose; the name in force."""
    if "NUMBA_CPU_NAME" in os.environ:
        return os.environ["NUMBA_CPU_NAME"]
    if platform.machine().lower() not in ("x86_64", "amd64") or not NEEDS <= cpu_flags():
        return None
    os.environ["NUMBA_CPU_NAME"] = TARGET
    import sys

    if "numba" in sys.modules:  # imported before invtoolkit: make it read the setting again
        sys.modules["numba"].config.reload_config()
    return TARGET
