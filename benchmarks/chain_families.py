"""The default chain on realizable targets of every structure family, before and after
structured seeds, measured side by side in one run (issue 17).

Targets are DFT isotherms of fresh seeded draws from five families: random cells
(porosity 0.3-0.95), thresholded smooth fields, slits (half of them wide, 6-10 cells),
squares (half of them large, 8-12 cells) and pairs of slits or squares. Every target is
run by the default chain with the GA's structured seeds (``after``) and without them
(``before``, ``ga[structured=false]``), same seed, same time, one after the other so a
change of machine load hits both alike. Success is a DFT-verified MAE <= 0.01 at 3 s
(adsorption branch) and <= 0.005 (adsorption) / 0.01 (full loop) at 20 s.

    NUMBA_NUM_THREADS=1 python benchmarks/chain_families.py --out bench-families.json [--quick]

Finished cells are kept in ``--out`` (JSON), so a killed run resumes where it stopped.
The targets, the chain runner and the cells live in ``invtoolkit_plugins.benchmarking``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from invtoolkit_plugins.benchmarking.runs import Cells, chains, run_one
from invtoolkit_plugins.benchmarking.targets import SHAPE, STEPS, STRUCTURES, family_grid, structure_targets  # noqa: F401

FAMILIES = STRUCTURES
BARS = {"3s-ads": 0.01, "20s-ads": 0.005, "20s-loop": 0.01}
make_targets = structure_targets  # chain_bank.py --quick reads these targets


def run_setting(setting: str, targets: list[dict], seconds: float, cells: Cells, seed: int) -> list[dict]:
    """Every target under both chains (before, then after); rows with the MAEs."""
    rows = []
    for target in targets:
        row = {"setting": setting, "id": target["id"], "family": target["family"],
               "porosity": float(target["grid"].mean())}
        for label, chain_text in chains().items():
            key = f"{setting}|{label}|{target['id']}"
            record = cells.get(key)
            if record is None:
                record = run_one(chain_text, target, seconds, seed)
                cells.put(key, record)
            row[label] = record["mae"]
            row[f"{label}_ga_evals"] = record["ga_evaluations"]
        print(f"{setting:9s} {target['id']:18s} porosity {row['porosity']:.2f}  "
              f"before {row['before']:.4f}  after {row['after']:.4f}", flush=True)
        rows.append(row)
    return rows


def summary_table(rows: list[dict]) -> str:
    """Markdown: per setting and family, success before -> after, and median MAEs."""
    lines = ["| setting | bar | family | targets | success before | success after | median MAE before | after |",
             "|---|---|---|---|---|---|---|---|"]
    for setting, bar in BARS.items():
        for family in FAMILIES + ("all",):
            sel = [r for r in rows if r["setting"] == setting and family in ("all", r["family"])]
            if not sel:
                continue
            cells = []
            for label in ("before", "after"):
                mae = np.array([r[label] for r in sel])
                cells.append((f"{np.mean(mae <= bar):.0%}", f"{np.median(mae):.4f}"))
            lines.append(f"| {setting} | {bar} | {family} | {len(sel)} | {cells[0][0]} | {cells[1][0]} | "
                         f"{cells[0][1]} | {cells[1][1]} |")
    return "\n".join(lines)


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-family", type=int, default=5, help="3 s adsorption targets per family")
    ap.add_argument("--hard", type=int, default=2, help="20 s targets per family and branch kind (adsorption, loop)")
    ap.add_argument("--seed", type=int, default=20261202, help="target draws")
    ap.add_argument("--chain-seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="JSON file of finished cells (resumes)")
    ap.add_argument("--skip-20s", action="store_true")
    args = ap.parse_args(argv)

    cells = Cells(args.out)
    t0 = time.monotonic()
    rows = run_setting("3s-ads", make_targets(args.per_family, args.seed, False, "a"), 3.0, cells, args.chain_seed)
    if not args.skip_20s and args.hard > 0:
        # the large-pore case of every family first (even k), then an ordinary draw
        for setting, loop, tag in (("20s-ads", False, "A"), ("20s-loop", True, "L")):
            targets = make_targets(args.hard, args.seed + 1, loop, tag)
            rows += run_setting(setting, targets, 20.0, cells, args.chain_seed)
    print(f"\nchains: before = '{chains()['before']}', after = '{chains()['after']}'; "
          f"{time.monotonic() - t0:.0f} s wall\n")
    print(summary_table(rows))
    return rows


if __name__ == "__main__":
    main()
