"""Chain runs the benchmarks share: one chain on one target (DFT-verified MAE), the
default chain with and without structured seeds, and :class:`Cells`, the resumable JSON
record of finished runs (a killed benchmark resumes where it stopped)."""

from __future__ import annotations

import json
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
