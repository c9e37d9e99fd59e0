"""Batch inversion: targets per minute, success rate and start-up per worker vs per target.

Makes ``--n`` realizable adsorption targets of mixed structure families (target i from
a ``fam-*`` sampler plugin chosen by ``numpy.random.default_rng([SEED, i])``, simulated
with lattice-dft, the 41-point adsorption branch saved as ``tNN-FAMILY.npy``), then runs

    invtoolkit invert --target DIR --workers W --time-limit T --no-progress -o OUT

as a subprocess for every W in ``--workers`` and T in ``--time-limits``, and reports
targets per minute, the success rate (DFT-verified MAE <= 0.01, from summary.csv) and
the start-up paid: the chain's model start-up summed over the targets' reports (paid once per
worker in a batch, once per target otherwise), a worker's time not spent searching, ``(W x wall - sum of search
seconds) / W``, and that divided by the targets a worker ran (per target). With
``--separate`` the same targets also run as one ``invert`` call per target at T = 1,
whose per-target overhead (call wall - search seconds) is the start-up a batch saves.

``--done-when`` checks issue 20's criterion instead: 30 targets, ``--workers 2
--time-limit 3``, the process group interrupted (SIGINT) after ~40% of the targets,
run again with the same arguments; summary.csv must hold one row per target and
>= 90% within 0.01, no half-written directory or ``.part`` file; then the same
command with ``--scheduler`` on a ``distributed.LocalCluster`` (2 workers, 1 thread).

    nice -n 10 python benchmarks/batch.py --n 12 --workers 1,2 --time-limits 1,3,10 --separate
    nice -n 10 python benchmarks/batch.py --done-when
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 20
SHAPE = (20, 20)
POINTS = 41  # the adsorption branch of the default 81-point schedule
THRESHOLD = 0.01
INVERT = [sys.executable, "-m", "invtoolkit.cli", "invert"]


def family_names() -> list[str]:
    from invtoolkit.hooks import registry

    return sorted(name for name in registry.registry().names("sampler") if name.startswith("fam-"))


def make_targets(folder: Path, n: int) -> list[Path]:
    """n realizable targets: one grid per target from a seeded family, its DFT adsorption branch."""
    from invtoolkit.hooks import registry

    families = family_names()
    grids, names = [], []
    for i in range(n):
        rng = np.random.default_rng([SEED, i])
        family = families[int(rng.integers(len(families)))] if i >= len(families) else families[i]
        grid = registry.create("sampler", family).sample(1, SHAPE, rng)[0]
        while grid.sum() == 0:  # a grid without a pore cell is not a valid target
            grid = registry.create("sampler", family).sample(1, SHAPE, rng)[0]
        grids.append(grid)
        names.append(f"t{i:02d}-{family.removeprefix('fam-')}")
    curves = registry.create("simulator", "lattice-dft").simulate(np.stack(grids))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, curve in zip(names, curves):
        paths.append(folder / f"{name}.npy")
        np.save(paths[-1], curve[:POINTS].astype(np.float64))
    return paths


def read_summary(out: Path) -> list[dict]:
    with open(out / "summary.csv", newline="") as f:
        return list(csv.DictReader(f))


def within(row: dict) -> bool:
    return row["status"] == "ok" and row["error"] != "" and float(row["error"]) <= THRESHOLD


def invert_command(target, out: Path, time_limit: float, workers: int | None = None, scheduler=None) -> list[str]:
    cmd = INVERT + ["--target", str(target), "--time-limit", f"{time_limit:g}", "--no-progress", "-o", str(out)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    if scheduler is not None:
        cmd += ["--scheduler", scheduler]
    return cmd


def run_timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def model_startup(target_out: Path) -> float:
    """The chain's start-up (model loading, evaluator warm-up) a target's report records."""
    import json

    report = target_out / "report.json"
    return json.loads(report.read_text()).get("startup_seconds", 0.0) if report.exists() else 0.0


def batch_row(targets: Path, out: Path, workers: int, time_limit: float) -> dict:
    """One batch run: rate, success and the time each worker spent outside the search."""
    shutil.rmtree(out, ignore_errors=True)
    wall = run_timed(invert_command(targets, out, time_limit, workers=workers))
    rows = read_summary(out)
    search = sum(float(r["seconds"]) for r in rows if r["seconds"] != "")
    per_worker = (workers * wall - search) / workers
    return {"run": f"batch, {workers} worker{'s' * (workers > 1)}", "T": time_limit, "n": len(rows),
            "wall": wall, "rate": 60 * len(rows) / wall, "good": sum(map(within, rows)),
            "startup": sum(model_startup(out / r["target"]) for r in rows),
            "overhead_worker": per_worker, "overhead_target": per_worker / (len(rows) / workers)}


def separate_row(paths: list[Path], out: Path, time_limit: float) -> dict:
    """The same targets as one ``invert`` process each: every call pays the start-up."""
    import json

    shutil.rmtree(out, ignore_errors=True)
    wall, search, good, startup = 0.0, 0.0, 0, 0.0
    for path in paths:
        target_out = out / path.stem
        wall += run_timed(invert_command(path, target_out, time_limit))
        report = json.loads((target_out / "report.json").read_text())
        search += report["total_seconds"]
        good += report["grids"][0]["mae"] <= THRESHOLD
        startup += report.get("startup_seconds", 0.0)
    n = len(paths)
    return {"run": "one process per target", "T": time_limit, "n": n, "wall": wall, "rate": 60 * n / wall,
            "good": good, "startup": startup, "overhead_worker": (wall - search) / n, "overhead_target": (wall - search) / n}


def print_table(rows: list[dict]) -> None:
    print("| run | T (s) | targets | wall (s) | targets/min | MAE <= 0.01 | model start-up s, all targets "
          "| non-search s per worker | non-search s per target |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['run']} | {r['T']:g} | {r['n']} | {r['wall']:.0f} | {r['rate']:.1f} | "
              f"{r['good']}/{r['n']} ({100 * r['good'] / r['n']:.0f}%) | {r['startup']:.1f} | {r['overhead_worker']:.1f} | "
              f"{r['overhead_target']:.2f} |", flush=True)


def benchmark(args, work: Path) -> None:
    paths = make_targets(work / "targets", args.n)
    print(f"{args.n} targets ({', '.join(family_names())}), {os.cpu_count()} cores\n", flush=True)
    rows = []
    for time_limit in args.time_limits:
        for workers in args.workers:
            rows.append(batch_row(work / "targets", work / f"out-w{workers}-t{time_limit:g}", workers, time_limit))
            print_table(rows[-1:])
        if args.separate and time_limit == 1:
            rows.append(separate_row(paths, work / "out-separate", 1.0))
            print_table(rows[-1:])
    print()
    print_table(rows)


def completed(out: Path) -> int:
    return sum(1 for _ in out.glob("*/report.json"))


def interrupted_run(cmd: list[str], out: Path, stop_after: int) -> dict:
    """Start the batch in its own process group; SIGINT the group once ``stop_after`` targets are done."""
    start = time.perf_counter()
    # A shell's background job inherits SIGINT ignored, and Python keeps it so: restore the default.
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    while proc.poll() is None and completed(out) < stop_after:
        time.sleep(0.2)
    done, killed_at = completed(out), time.perf_counter()
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:  # an interrupt that does not stop the run is itself a finding
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        print("  the interrupted run did not stop within 60 s: killed (SIGKILL)")
    return {"done_at_kill": done, "returncode": proc.returncode, "seconds": killed_at - start,
            "stop_seconds": time.perf_counter() - killed_at, "done_at_exit": completed(out)}


def leftovers(out: Path) -> dict:
    """What a run left behind: sub-directories without a complete result, temporary files."""
    dirs = [d for d in out.iterdir() if d.is_dir()]
    half = [d.name for d in dirs if not (d / "report.json").exists() and not (d / "failed.json").exists()]
    return {"half_written": sorted(half), "part_files": sorted(str(p.relative_to(out)) for p in out.rglob("*.part"))}


def check_summary(out: Path, names: list[str], label: str) -> bool:
    rows = read_summary(out)
    targets = [r["target"] for r in rows]
    good = sum(map(within, rows))
    one_each = sorted(targets) == sorted(names)
    left = leftovers(out)
    ok = one_each and not left["half_written"] and not left["part_files"]
    print(f"  {label}: {len(rows)} rows, one per target: {one_each}, statuses "
          f"{ {s: sum(r['status'] == s for r in rows) for s in {r['status'] for r in rows}} }, "
          f"within {THRESHOLD}: {good}/{len(rows)} ({100 * good / max(len(rows), 1):.0f}%), leftovers {left}")
    return ok and good >= 0.9 * len(names)


def done_when(args, work: Path) -> bool:
    """Issue 20: 30 targets, --workers 2 --time-limit 3, interrupted and resumed; then on a LocalCluster."""
    n, targets, out = 30, work / "targets", work / "out-resume"
    names = [p.stem for p in make_targets(targets, n)]
    cmd = invert_command(targets, out, 3.0, workers=2)
    print("$ " + " ".join(cmd[2:]), flush=True)
    first = interrupted_run(cmd, out, stop_after=int(0.4 * n))
    print(f"  interrupted (SIGINT to the process group) after {first['seconds']:.0f} s with "
          f"{first['done_at_kill']} targets complete; stopped {first['stop_seconds']:.0f} s later with "
          f"{first['done_at_exit']} complete, exit code {first['returncode']}; left {leftovers(out)}")
    wall = run_timed(cmd)
    print(f"  resumed with the same arguments: {wall:.0f} s")
    resumed = check_summary(out, names, "after resume")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask_out = work / "out-dask"
        dask_cmd = invert_command(targets, dask_out, 3.0, workers=2, scheduler=cluster.scheduler_address)
        wall = run_timed(dask_cmd)
        print(f"$ ... --scheduler {cluster.scheduler_address}: {wall:.0f} s")
        on_dask = check_summary(dask_out, names, "LocalCluster")
    print(f"\ndone-when: resume {'PASS' if resumed else 'FAIL'}, LocalCluster {'PASS' if on_dask else 'FAIL'}")
    return resumed and on_dask


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=12, help="targets (the done-when check always uses 30)")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    ap.add_argument("--time-limits", default="1,3,10", help="comma-separated per-target budgets (s)")
    ap.add_argument("--separate", action="store_true", help="also one invert call per target at T = 1")
    ap.add_argument("--done-when", action="store_true", help="issue 20's kill/resume and LocalCluster check")
    ap.add_argument("-o", "--output", default=None, help="work directory (default: a temporary one, removed)")
    args = ap.parse_args()
    args.workers = [int(w) for w in args.workers.split(",")]
    args.time_limits = [float(t) for t in args.time_limits.split(",")]
    work = Path(args.output) if args.output else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.done_when:
            sys.exit(0 if done_when(args, work) else 1)
        benchmark(args, work)
    finally:
        if not args.output:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
