"""Screened starts for the measured fit (issue 31 part 3), side by side in one run.

For every measured file in ``--data`` and every seed, ``invtoolkit invert`` three ways, one
after another on an otherwise idle machine:

* ``default``: today's default (``--budget 120000``, no screen);
* ``half``: half the work (``--budget 60000``), no screen;
* ``screened half``: half the work, the scan runs started from ``cnn-cond``'s best
  predictions (``--screen cnn-cond``).

Prints (and writes benchmarks/results/fit_screen.md/json) each file's relative MAE per
arm, the median per arm, exact evaluations, surrogate predictions, and CPU seconds of each
run (user + system of the child process: the work, whatever the load). The issue's
criterion: the screened arm's median relative MAE <= the default's at half the budget.

    python benchmarks/fit_screen.py --data ../shared/isotherms --seeds 0 1
    python benchmarks/fit_screen.py --data ../shared/isotherms --seeds 0 1 --files --joint 'DUT-67_*.aif'
    python benchmarks/fit_screen.py --merge seed0/fit_screen.json seed1/fit_screen.json  # runs made apart
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

from invtoolkit_plugins.benchmarking.runs import invert_files

ARMS = {"default": ["--budget", "120000"], "half": ["--budget", "60000"],
        "screened half": ["--budget", "60000", "--screen", "cnn-cond"],
        "screened half, 500": ["--budget", "60000", "--screen", "cnn-cond", "--screen-candidates", "500"]}
DEFAULT_ARMS = ["default", "half", "screened half"]


def arms_in(rows: list[dict]) -> list[str]:
    """The arms some row holds, in ARMS order."""
    return [a for a in ARMS if any(a in r for r in rows)]


def invert(paths: list[Path], arm: list[str], seed: int, out: Path) -> dict:
    """One ``invert`` of ``paths`` (several: a joint fit); its fit's numbers and CPU seconds."""
    report = invert_files(paths, out, ["--seed", str(seed), *arm])
    cpu, wall = report["cpu_seconds"], report["wall_seconds"]
    if "error" in report:
        return {"error": report["error"], "cpu_s": cpu}
    fit = report["fit"]
    screen = fit.get("screen") or {}
    return {"rel_mae": fit["relative_mae"], "score": fit["score"], "y": fit.get("y"), "evaluations": fit["evaluations"],
            "surrogate_evaluations": screen.get("surrogate_evaluations", 0), "skipped": screen.get("skipped", []),
            "cpu_s": round(cpu, 1), "wall_s": round(wall, 1)}


def summary(rows: list[dict]) -> dict:
    """Per kind of run (single files; joint fits, whose relative MAE is their worst file's),
    per arm: see :func:`arm_summary`."""
    kinds = {"single files": [r for r in rows if "jointly" not in r["file"]],
             "joint fits": [r for r in rows if "jointly" in r["file"]]}
    return {kind: arm_summary(part) for kind, part in kinds.items() if part}


def arm_summary(rows: list[dict]) -> dict:
    out = {}
    for arm in arms_in(rows):
        done = [r[arm] for r in rows if "rel_mae" in r.get(arm, {})]
        paired = [(r[arm]["rel_mae"], r["default"]["rel_mae"]) for r in rows
                  if "rel_mae" in r.get(arm, {}) and r.get("default", {}).get("rel_mae")]
        ratios = [a / d for a, d in paired]
        out[arm] = {"files": len(done), "median_rel_mae": statistics.median(r["rel_mae"] for r in done) if done else None,
                    "cpu_s": round(sum(r["cpu_s"] for r in done), 1),
                    "evaluations": sum(r["evaluations"] for r in done),
                    "surrogate_evaluations": sum(r["surrogate_evaluations"] for r in done),
                    "vs_default": None if not ratios else {
                        "median": statistics.median(ratios), "best": min(ratios), "worst": max(ratios),
                        "geometric_mean": statistics.geometric_mean(ratios), "wilcoxon_p": wilcoxon_p(paired),
                        "better_5pct": sum(q < 0.95 for q in ratios), "worse_5pct": sum(q > 1.05 for q in ratios)}}
    return out


def wilcoxon_p(paired: list[tuple[float, float]]) -> float | None:
    """Two-sided Wilcoxon signed-rank p of (arm, default) pairs; None where every pair is equal."""
    from scipy.stats import wilcoxon

    if all(a == d for a, d in paired):
        return None
    return float(wilcoxon([a for a, _ in paired], [d for _, d in paired]).pvalue)


def cell(run: dict | None) -> str:
    if run is None:
        return "- | -"
    return f"{run['rel_mae']:.4f} | {run['cpu_s']:.0f}" if "rel_mae" in run else f"error | {run['cpu_s']:.0f}"


def markdown(rows: list[dict], summ: dict, meta: dict) -> str:
    lines = [f"# Screened starts for the measured fit ({meta['machine']}, {meta['date']})", "",
             "Relative MAE of the fit per file (lower is better); CPU seconds of each whole `invert` run.", "",
             "| file | seed | " + " | ".join(f"{a} rel MAE | {a} CPU s" for a in arms_in(rows)) + " |",
             "|---|---|" + "---|---|" * len(arms_in(rows))]
    for r in rows:
        cells = [cell(r.get(a)) for a in arms_in(rows)]
        lines.append(f"| {r['file']} | {r['seed']} | " + " | ".join(cells) + " |")
    lines += ["", "Per arm, over every (file, seed) run; 'vs default': each run's relative MAE over the default's "
              "for the same file and seed (median, best-worst; geometric mean and the paired Wilcoxon p; runs more "
              "than 5% better / worse)."]
    for kind, per_arm in summ.items():
        lines += ["", f"{kind}:", ""] + arm_table(per_arm)
    return "\n".join(lines) + "\n"


def arm_table(summ: dict) -> list[str]:
    lines = ["| arm | runs | median rel MAE | vs default | geometric mean, Wilcoxon p | better / worse | "
             "exact evaluations | surrogate predictions | CPU s |", "|---|---|---|---|---|---|---|---|---|"]
    for a, s in summ.items():
        med = "-" if s["median_rel_mae"] is None else f"{s['median_rel_mae']:.4f}"
        v = s["vs_default"]
        versus = "- | - | -" if v is None else (
            f"{v['median']:.3f} ({v['best']:.2f}-{v['worst']:.2f}) | {v['geometric_mean']:.3f}, "
            f"p = {'-' if v['wilcoxon_p'] is None else format(v['wilcoxon_p'], '.2f')} | "
            f"{v['better_5pct']} / {v['worse_5pct']}")
        lines.append(f"| {a} | {s['files']} | {med} | {versus} | {s['evaluations']} | {s['surrogate_evaluations']} | "
                     f"{s['cpu_s']} |")
    return lines


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="directory of measured files (*.aif)")
    ap.add_argument("--merge", type=Path, nargs="+", help="no runs: the rows of these fit_screen.json files, one table")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--files", nargs="*", default=None, help="only these file names")
    ap.add_argument("--joint", default=None, metavar="GLOB",
                    help="also fit the files matching GLOB jointly, e.g. 'DUT-67_*.aif' (a row of its own)")
    ap.add_argument("--arms", nargs="+", choices=list(ARMS), default=DEFAULT_ARMS,
                    help="which arms to run (a fit is deterministic: an arm run apart merges with --merge)")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    a = ap.parse_args(argv)
    meta = {"machine": f"{platform.machine()}, {len(__import__('os').sched_getaffinity(0))} cores",
            "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv)}
    if a.merge:
        runs = [json.loads(p.read_text()) for p in a.merge]
        rows = merged_rows(run["rows"] for run in runs)
        meta = {**runs[0]["meta"], "command": " | ".join(run["meta"]["command"] for run in runs)}
    elif a.data is None:
        ap.error("give --data (run the fits) or --merge (tabulate runs made apart)")
    else:
        rows = run_all(a.data, a.files, a.seeds, a.joint, a.arms)
    summ = summary(rows)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "fit_screen.json").write_text(json.dumps({"meta": meta, "rows": rows, "summary": summ}, indent=1))
    text = markdown(rows, summ, meta)
    (a.out / "fit_screen.md").write_text(text)
    print(text)


def merged_rows(runs) -> list[dict]:
    """Rows of several runs, the arms of one (file, seed) in one row, in first-seen order."""
    rows: dict[tuple, dict] = {}
    for run in runs:
        for r in run:
            rows.setdefault((r["file"], r["seed"]), {}).update(r)
    return list(rows.values())


def run_all(data: Path, names, seeds, joint=None, arms=DEFAULT_ARMS) -> list[dict]:
    targets = [[p] for p in sorted(data.glob("*.aif")) if names is None or p.name in names]
    if joint:
        targets.append(sorted(data.glob(joint)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seeds:
            for n, paths in enumerate(targets):
                name = paths[0].name if len(paths) == 1 else f"{joint} jointly ({len(paths)} files)"
                row = {"file": name, "seed": seed}
                for k, arm in enumerate(arms):
                    row[arm] = invert(paths, ARMS[arm], seed, Path(tmp) / f"{n}_{seed}_{k}")
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


if __name__ == "__main__":
    main()
