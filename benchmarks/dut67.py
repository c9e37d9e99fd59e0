"""One material, five adsorbates: DUT-67 (issues 32 and 34), measured side by side in one run.

For each of the five shared DUT-67 files (methanol, ethanol, hexane, toluene,
dichloromethane at 298 K) and each seed: ``invtoolkit invert`` with default flags but
the seed, then the five jointly. Prints (and writes benchmarks/results/dut67.md/json)
the pore volume with its interval beside the file's Gurvich volume, the dominant
width range in nm, y with its interval, the relative MAE, and the issues' criteria:

* each pore volume within 30% of its file's Gurvich volume; the five within a factor 1.5;
* the dominant-width ranges (nm) share a value, meet 0.6-2.0 nm and are <= 1.5 nm wide;
* across seeds, each run's best y, pore volume and dominant width inside every other
  run's intervals (reproducible, honest ranges).

    python benchmarks/dut67.py --data ../shared/isotherms --seeds 0 1 2 [--budget N]
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

from invtoolkit_plugins.benchmarking.runs import invert_files

FILES = ["MeOH", "EtOH", "hexane", "toluol", "DCM"]
PATTERN = "DUT-67_DUT67_1_Garching_{}_298K.aif"


def invert(paths: list[Path], out: Path, seed: int, budget: int | None) -> dict:
    return invert_files(paths, out, ["--seed", str(seed), *(["--budget", str(budget)] if budget else [])])


def row(name: str, seed: int, report: dict) -> dict:
    if "error" in report:
        return {"file": name, "seed": seed, "error": report["error"]}
    fit, ens = report["fit"], report["ensemble"]
    width = ens["descriptors"]["dominant_width_nm"]
    best_width = report["grids"][0]["descriptors"]["dominant_width_nm"]
    return {"file": name, "seed": seed, "pv": fit["pore_volume_cm3_g"], "pv_interval": fit["pore_volume_interval_cm3_g"],
            "gurvich": [f["gurvich_volume_cm3_g"] for f in report["fits"]],
            "y": [f["y"] for f in report["fits"]], "y_interval": [f["y_interval"] for f in report["fits"]],
            "width": [width["min"], width["max"]], "best_width": best_width,
            "rel_mae": [f["relative_mae"] for f in report["fits"]], "evaluations": fit["evaluations"],
            "seconds": report["wall_seconds"]}


def inside(value, interval, slack=1e-9) -> bool:
    return value is not None and interval is not None and interval[0] - slack <= value <= interval[1] + slack


def criteria(rows: list[dict]) -> list[str]:
    """The issues' checks on the single-file rows, as PASS/FAIL lines."""
    ok = [r for r in rows if "error" not in r and r["file"] != "joint"]
    out = []
    for r in ok:
        g = r["gurvich"][0]
        out.append(f"{'PASS' if r['pv'] and abs(r['pv'] / g - 1) <= 0.3 else 'FAIL'} {r['file']} seed {r['seed']}: "
                   f"pore volume {r['pv']} vs Gurvich {g:.3f} (within 30%)")
    for seed in sorted({r["seed"] for r in ok}):
        same = [r for r in ok if r["seed"] == seed]
        pvs = [r["pv"] for r in same if r["pv"]]
        lo, hi = max(r["width"][0] for r in same), min(r["width"][1] for r in same)
        out.append(f"{'PASS' if pvs and max(pvs) / min(pvs) <= 1.5 else 'FAIL'} seed {seed}: five pore volumes "
                   f"within a factor 1.5 ({min(pvs):.3f}-{max(pvs):.3f})")
        out.append(f"{'PASS' if lo <= hi and hi >= 0.6 and lo <= 2.0 else 'FAIL'} seed {seed}: dominant-width "
                   f"ranges share {lo:.2f}-{hi:.2f} nm and meet 0.6-2.0 nm")
        widest = max(r["width"][1] - r["width"][0] for r in same)
        out.append(f"{'PASS' if widest <= 1.5 else 'FAIL'} seed {seed}: widest dominant-width range {widest:.2f} nm")
    for name in FILES:
        runs = [r for r in ok if r["file"] == name]
        bad = [(a["seed"], b["seed"]) for a in runs for b in runs if a is not b and not (
            inside(a["y"][0], b["y_interval"][0]) and inside(a["pv"], b["pv_interval"])
            and inside(a["best_width"], b["width"]))]
        if len(runs) > 1:
            out.append(f"{'PASS' if not bad else 'FAIL'} {name}: every seed's best y, pore volume and dominant width "
                       f"inside every other seed's intervals{'' if not bad else f' (not: {bad})'}")
    return out


def table(rows: list[dict]) -> str:
    lines = ["| file | seed | pore volume cm3/g [interval] | Gurvich | y [interval] | dominant width nm | rel. MAE "
             "| evaluations | s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['file']} | {r['seed']} | error: {r['error']} | | | | | | |")
            continue
        pv = "undetermined" if r["pv"] is None else f"{r['pv']:.3f} [{r['pv_interval'][0]:.3f}-{r['pv_interval'][1]:.3f}]"
        ys = "; ".join(f"{y:.2f} [{a:.2f}-{b:.2f}]" for y, (a, b) in zip(r["y"], r["y_interval"]))
        lines.append(f"| {r['file']} | {r['seed']} | {pv} | {', '.join(f'{g:.3f}' for g in r['gurvich'])} | {ys} | "
                     f"{r['width'][0]:.2f}-{r['width'][1]:.2f} | {max(r['rel_mae']):.4f} | {r['evaluations']} | "
                     f"{r['seconds']:.0f} |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / "tests" / "data" / "measured")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budget", type=int, default=None)
    ap.add_argument("--joint", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--work", type=Path, default=Path("dut67_runs"))
    ap.add_argument("--results", type=Path, default=Path(__file__).resolve().parent / "results")
    args = ap.parse_args(argv)
    paths = {n: args.data / PATTERN.format(n) for n in FILES}
    rows = []
    for seed in args.seeds:
        for name, path in paths.items():
            rows.append(row(name, seed, invert([path], args.work / f"{name}_{seed}", seed, args.budget)))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    if args.joint:
        rows.append(row("joint", args.seeds[0], invert(list(paths.values()), args.work / "joint", args.seeds[0],
                                                         args.budget)))
    checks = criteria(rows)
    machine = f"{platform.machine()}, {platform.processor() or 'cpu'}, Python {platform.python_version()}"
    text = f"{table(rows)}\n\n" + "\n".join(f"- {c}" for c in checks) + f"\n\nMachine: {machine}\n"
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "dut67.md").write_text(text)
    (args.results / "dut67.json").write_text(json.dumps({"rows": rows, "checks": checks}, indent=1))


if __name__ == "__main__":
    main()
