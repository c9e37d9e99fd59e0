"""Chain runs the benchmarks share: one chain on one target (DFT-verified MAE), the
default chain with and without structured seeds, ``invtoolkit invert`` on measured files as
a user runs it, and :class:`Cells`, the resumable JSON record of finished runs (a killed
benchmark resumes where it stopped)."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from invtoolkit.plugin import DEFAULT_CHAIN, Chain, Population, Target, write_json

from invtoolkit_plugins.benchmarking.targets import SHAPE


def chains() -> dict[str, str]:
    """Label -> chain text: the default chain with and without structured seeds."""
    before = DEFAULT_CHAIN.replace("ga[time=2]", "ga[time=2,structured=false]")
    if before == DEFAULT_CHAIN:
        raise SystemExit(f"cannot switch the seeds off in the default chain '{DEFAULT_CHAIN}'")
    return {"before": before, "after": DEFAULT_CHAIN}


def run_one(chain_text: str, target: dict, seconds: float, seed: int) -> dict:
    """One chain on one target; the DFT-verified MAE of its best grid."""
    tgt = Target(target["curve"], target["schedule"], "pore")
    result = Chain.parse(chain_text).run(tgt, time_limit=seconds, seed=seed, population=Population.empty(SHAPE),
                                         keep=1)
    best = result.population
    return {"mae": float(best.errors[0]) if len(best) else float("inf"), "seconds": round(result.seconds, 2),
            "ga_evaluations": next((s.evaluations for s in result.stages if s.stage.startswith("ga")), None)}


def invert_files(paths: list[Path], out: Path, flags: list[str]) -> dict:
    """``invtoolkit invert`` of measured ``paths`` (several: a joint fit) with ``flags``, in a
    child process: its report.json, or {"error": the last line it wrote}; either with
    "wall_seconds" and "cpu_seconds" (the child's user + system time: the work, whatever the load)."""
    cmd = [sys.executable, "-m", "invtoolkit.cli", "invert", *[a for p in paths for a in ("--target", str(p))],
           "-o", str(out), "--no-progress", *flags]
    cpu0, t0 = _children_cpu(), time.monotonic()
    done = subprocess.run(cmd, capture_output=True, text=True)
    spent = {"wall_seconds": time.monotonic() - t0, "cpu_seconds": _children_cpu() - cpu0}
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["?"])[-1], **spent}
    return {**json.loads((out / "report.json").read_text()), **spent}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class Cells:
    """Finished cells, keyed by setting, chain label and target id, kept in a JSON file."""

    def __init__(self, path: Path | None):
        self.path = path
        self.data = json.loads(path.read_text()) if path is not None and path.exists() else {}

    def get(self, key: str):
        return self.data.get(key)

    def put(self, key: str, record: dict) -> None:
        self.data[key] = record
        if self.path is not None:
            write_json(self.path, self.data, indent=1)  # atomic: a kill keeps the last record
