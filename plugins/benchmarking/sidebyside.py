"""Side-by-side runs of the lattice-DFT kernels in subprocesses: this tree beside a
baseline checkout (a git worktree or pinned copy of the previous release), one core beside
all.  Shared by ``benchmarks/dft.py`` (2-D and ``invtoolkit simulate``) and
``benchmarks/dft3d.py`` (16^3), which import it as
``invtoolkit_plugins.benchmarking.sidebyside`` (it imports nothing from the core).

Each kernel runs in a fresh interpreter: the baseline's packages come first on its path
through a temporary directory of two links (``invtoolkit`` and ``invtoolkit_plugins`` ->
the checkout's ``invtoolkit`` and ``plugins``), so numba's on-disk cache stays with each
tree's own sources and an edit here never recompiles the other kernel.  The worker
(``python benchmarks/dft.py --worker ...``) warms the JIT up, then times one ``solve``
and prints one JSON line.
"""
from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path



class Trees:
    """Environments for the two trees: 'new' (this checkout, as installed) and 'base'."""

    def __init__(self, baseline: str | None):
        self.baseline = Path(baseline).resolve() if baseline else None
        self._tmp = None
        if self.baseline is not None:
            if not (self.baseline / "plugins").is_dir() or not (self.baseline / "invtoolkit").is_dir():
                raise SystemExit(f"--baseline {baseline}: not a checkout (no invtoolkit/ and plugins/)")
            self._tmp = tempfile.TemporaryDirectory(prefix="dft-baseline-")
            os.symlink(self.baseline / "invtoolkit", Path(self._tmp.name) / "invtoolkit")
            os.symlink(self.baseline / "plugins", Path(self._tmp.name) / "invtoolkit_plugins")

    def names(self):
        return ["base", "new"] if self.baseline is not None else ["new"]

    def env(self, tree: str, threads: int) -> dict:
        env = dict(os.environ, NUMBA_NUM_THREADS=str(threads), OMP_NUM_THREADS="1")
        if tree == "base":
            env["PYTHONPATH"] = os.pathsep.join([self._tmp.name, env.get("PYTHONPATH", "")])
        return env


def run_worker(trees: Trees, tree: str, threads: int, script: str, args: list[str]) -> dict:
    """Run ``python script --worker args`` in ``tree`` with ``threads`` numba threads
    (``script``: the benchmark's own path, ``__file__``: the plugin may be installed
    anywhere, the scripts live in the checkout)."""
    cmd = [sys.executable, str(Path(script).resolve()), "--worker", *args]
    res = subprocess.run(cmd, env=trees.env(tree, threads), capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(f"worker failed ({tree}, {threads} threads): {res.stderr[-2000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def run_cli(trees: Trees, tree: str, threads: int, args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of ``invtoolkit ARGS`` (cold interpreter, as a user runs it)."""
    return run_python(trees, tree, threads,
                      "import sys; from invtoolkit.cli import main; sys.exit(main())", args)


def run_python(trees: Trees, tree: str, threads: int, code: str,
               args: list[str] = ()) -> tuple[float, float]:
    """(wall s, CPU s) of ``python -c CODE ARGS`` in ``tree``, cold.

    Run from a neutral directory: ``python -c`` puts the working directory first on the
    path, and a checkout's ``invtoolkit/`` there would shadow the baseline's."""
    cmd = [sys.executable, "-c", code, *args]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=trees.env(tree, threads), capture_output=True, text=True,
                         cwd=tempfile.gettempdir())
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if res.returncode:
        raise SystemExit(f"python -c {code[:60]!r} {' '.join(args)} failed ({tree}): "
                         f"{res.stderr[-2000:]}")
    return wall, (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)


def machine() -> str:
    """CPU model, cores and the load, for the header beside any absolute number."""
    model = platform.processor() or "?"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        model = info.get("Model name", model).strip()
        cores = int(info.get("Core(s) per socket", "0")) * int(info.get("Socket(s)", "1"))
        avx = " AVX-512" if "avx512f" in info.get("Flags", "") else ""
        model = f"{model}{avx}, {cores} cores"
    except (OSError, ValueError):
        pass
    return f"{model}, {os.cpu_count()} CPUs, load average {load()}"


def load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def span(xs) -> str:
    """'median (min-max)' of a list of numbers."""
    xs = list(xs)
    med = statistics.median(xs)
    fmt = (lambda v: f"{v:,.0f}") if med >= 100 else (lambda v: f"{v:.2f}")
    return fmt(med) if len(xs) == 1 else f"{fmt(med)} ({fmt(min(xs))}-{fmt(max(xs))})"
