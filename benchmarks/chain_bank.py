"""The structure bank as the chain's first stage, against the previous default chain,
side by side in one run on realizable adsorption targets of every fam-* family
(issues 17 and 20).

Targets: DFT adsorption branches (41 points) of fresh draws from each fam-* sampler,
seed 20261717 (a held-out seed: never used to build the bank, 5150, or to train).
Every target is run by every chain, same seed, same time, one after the other so a
change of machine load hits all alike. Success: DFT-verified MAE <= 0.01 at 3 s and
<= 0.005 at 20 s. ``bank-only`` (``bank[n=16]``, 3 s setting only) shows what the
lookup alone finds.

    NUMBA_NUM_THREADS=1 python benchmarks/chain_bank.py --out bench-bank.json

Finished cells are kept in ``--out`` (JSON), so a killed run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit_plugins.benchmarking.runs import Cells, run_one  # one chain runner for every benchmark
from invtoolkit_plugins.benchmarking.targets import STRUCTURES, structure_targets

FAMILIES = ("fam-random", "fam-smooth", "fam-slit", "fam-rect", "fam-pair", "fam-union", "fam-dense")
SHAPE = (20, 20)
STEPS = 40
CHAINS = {"old": "deconv[n=16] | ga[time=2] | steepest",
          "bank+deconv": "bank[n=16] | deconv[n=16] | ga[time=2] | steepest",
          "bank32": "bank[n=32] | ga[time=2] | steepest"}
SETTINGS = {"3s": (3.0, 0.01), "20s": (20.0, 0.005)}


def make_targets(n: int, seed: int, tag: str, families=FAMILIES) -> list[dict]:
    """``n`` adsorption targets per fam-* family (seeded, fresh draws)."""
    dft = registry.create("simulator", "lattice-dft", steps=STEPS, adsorption_only=True)
    out = []
    for f, family in enumerate(FAMILIES):
        if family not in families:
            continue
        grids = registry.create("sampler", family).sample(n, SHAPE, np.random.default_rng([seed, f]))
        for k, curve in enumerate(dft.simulate(grids)):
            out.append({"id": f"{tag}-{family}-{k}", "family": family, "grid": grids[k], "curve": curve,
                        "schedule": PressureSchedule(STEPS, adsorption_only=True)})
    return out


def run_setting(setting: str, targets: list[dict], chains: dict[str, str], cells: Cells, seed: int) -> list[dict]:
    """Every target under every chain; one row of MAEs per target."""
    seconds = SETTINGS[setting][0]
    rows = []
    for target in targets:
        row = {"setting": setting, "id": target["id"], "family": target["family"]}
        for label, text in chains.items():
            key = f"{setting}|{label}|{target['id']}"
            record = cells.get(key)
            if record is None:
                record = run_one(text, target, seconds, seed)
                cells.put(key, record)
            row[label] = record["mae"]
        print(setting, target["id"], "  ".join(f"{k} {row[k]:.4f}" for k in chains), flush=True)
        rows.append(row)
    return rows


def summary_table(rows: list[dict], labels: list[str], families=FAMILIES) -> str:
    """Markdown: per setting and family, the success rate and median MAE of every chain."""
    head = " | ".join(f"{label} ok / median" for label in labels)
    lines = [f"| setting | bar | family | targets | {head} |", "|---" * (4 + len(labels)) + "|"]
    for setting, (_, bar) in SETTINGS.items():
        for family in tuple(families) + ("all",):
            sel = [r for r in rows if r["setting"] == setting and family in ("all", r["family"])]
            if not sel:
                continue
            cells = []
            for label in labels:
                mae = np.array([r[label] for r in sel if label in r])
                cells.append(f"{np.mean(mae <= bar):.0%} / {np.median(mae):.4f}" if len(mae) else "-")
            lines.append(f"| {setting} | {bar} | {family} | {len(sel)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def batch_check(n: int, work: Path) -> None:
    """Issue 20's setting: ``invert DIR --workers 2 --time-limit 3`` on benchmarks/batch.py's
    ``n`` targets (seed 20, fam-* families), every chain; the share within MAE 0.01."""
    import batch  # benchmarks/batch.py: its targets and invert command

    targets = work / "targets"
    batch.make_targets(targets, n)
    for label, text in CHAINS.items():
        out = work / label
        cmd = batch.invert_command(targets, out, 3.0, workers=2) + ["--chain", text]
        wall = batch.run_timed(cmd) if not (out / "summary.csv").exists() else float("nan")
        rows = batch.read_summary(out)
        ok = sum(batch.within(r) for r in rows)
        print(f"batch --workers 2 --time-limit 3, {label:12s}: {ok}/{len(rows)} within 0.01 "
              f"({ok / max(len(rows), 1):.0%}), wall {wall:.0f} s", flush=True)


def main(argv=None) -> list[dict]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--per-family", type=int, default=6, help="3 s targets per family")
    ap.add_argument("--hard", type=int, default=2, help="20 s targets per family")
    ap.add_argument("--seed", type=int, default=20261717, help="target draws")
    ap.add_argument("--chain-seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=None, help="JSON file of finished cells (resumes)")
    ap.add_argument("--families", default=",".join(FAMILIES), help="comma-separated fam-* samplers")
    ap.add_argument("--batch", type=int, default=0, help="only issue 20's batch check on N targets (e.g. 30)")
    ap.add_argument("--work", type=Path, default=Path("bench-bank-batch"), help="batch check's directory")
    ap.add_argument("--issue17-targets", action="store_true",
                    help="3 s only, on benchmarks/chain_families.py's targets (seed 20261202; large slits, squares)")
    args = ap.parse_args(argv)
    families = tuple(f.strip() for f in args.families.split(",") if f.strip())
    tag = "a" if args.seed == 20261717 else f"a{args.seed}"  # other seeds: other target ids

    cells = Cells(args.out)
    t0 = time.monotonic()
    quick = {**CHAINS, "bank-only": "bank[n=16]"}
    if args.batch:
        batch_check(args.batch, args.work)
        return []
    if args.issue17_targets:
        rows = run_setting("3s", structure_targets(args.per_family, 20261202, False, "cf"), quick, cells,
                           args.chain_seed)
        print(summary_table(rows, list(quick), STRUCTURES))
        return rows
    rows = run_setting("3s", make_targets(args.per_family, args.seed, tag, families), quick, cells, args.chain_seed)
    if args.hard > 0:
        rows += run_setting("20s", make_targets(args.hard, args.seed + 1, tag.upper(), families), CHAINS, cells, args.chain_seed)
    print(f"\nchains: {quick}; {time.monotonic() - t0:.0f} s wall\n")
    print(summary_table(rows, list(quick)))
    return rows


if __name__ == "__main__":
    main()
