"""Batch inversion: job planning, seeds, resumption, failures, summary, dask."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from invtoolkit.workflows import batch
from invtoolkit.workflows.batch_summary import summary_rows, write_summary
from invtoolkit.errors import InputError


def fake_invert(path: Path, out: Path, seed: int, fail_on: str = "bad") -> None:
    """Stands in for a real inversion: error = seed-derived number, report written last."""
    if fail_on in path.stem:
        raise InputError(f"{path.name}: NaN in the amounts")
    (out / "best.npy").write_bytes(b"x")
    report = {"grids": [{"mae": (seed % 1000) / 1e5}], "total_seconds": 0.1, "seed": seed}
    (out / "report.json").write_text(json.dumps(report))


def make_targets(folder: Path, names) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        np.save(folder / f"{name}.npy", np.linspace(0, 1, 41))
    (folder / "notes.txt").write_text("not a target")


def test_expand_targets_file_dir_glob(tmp_path):
    make_targets(tmp_path / "t", ["a", "b"])
    assert [p.name for p in batch.expand_targets(str(tmp_path / "t"))] == ["a.npy", "b.npy"]
    assert [p.name for p in batch.expand_targets(str(tmp_path / "t" / "a.npy"))] == ["a.npy"]
    assert [p.name for p in batch.expand_targets(str(tmp_path / "t" / "*.npy"))] == ["a.npy", "b.npy"]
    with pytest.raises(InputError, match="no such file"):
        batch.expand_targets(str(tmp_path / "missing.npy"))
    with pytest.raises(InputError, match="matches no file"):
        batch.expand_targets(str(tmp_path / "t" / "*.aif"))


def test_seed_depends_on_name_not_order(tmp_path):
    paths = [Path("x/a.npy"), Path("y/b.csv")]
    forward = batch.plan_jobs(paths, tmp_path, seed=3)
    backward = batch.plan_jobs(paths[::-1], tmp_path, seed=3)
    assert {j.name: j.seed for j in forward} == {j.name: j.seed for j in backward}
    assert forward[0].seed != batch.plan_jobs(paths, tmp_path, seed=4)[0].seed
    same_stem = batch.plan_jobs([Path("x/a.npy"), Path("y/a.csv")], tmp_path, seed=0)
    assert [j.name for j in same_stem] == ["a", "a-2"]


def test_failure_recorded_and_others_go_on(tmp_path):
    make_targets(tmp_path / "t", ["a", "bad", "c"])
    jobs = batch.plan_jobs(batch.expand_targets(str(tmp_path / "t")), tmp_path / "out", 0)
    counts = batch.run_batch(jobs, fake_invert, workers=1, progress=False)
    assert counts == {"targets": 3, "skipped": 0, "ok": 2, "failed": 1}
    rows = summary_rows(jobs)
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert rows[1]["reason"] == "bad.npy: NaN in the amounts"


def test_resume_skips_complete_and_redoes_half_written(tmp_path):
    make_targets(tmp_path / "t", [f"t{i}" for i in range(5)])
    jobs = batch.plan_jobs(batch.expand_targets(str(tmp_path / "t")), tmp_path / "out", 0)
    batch.run_batch(jobs[:3], fake_invert, progress=False)
    os.remove(jobs[1].out_dir / "report.json")  # killed while writing target 1
    calls = []

    def counting(path, out, seed):
        calls.append(path.stem)
        fake_invert(path, out, seed)

    counts = batch.run_batch(jobs, counting, progress=False)
    assert sorted(calls) == ["t1", "t3", "t4"] and counts["skipped"] == 2
    rows = summary_rows(jobs)
    assert len(rows) == 5 and all(r["status"] == "ok" for r in rows)
    assert [r["error"] for r in rows] == [(j.seed % 1000) / 1e5 for j in jobs]


def test_workers_give_the_same_results_as_serial(tmp_path):
    make_targets(tmp_path / "t", [f"t{i}" for i in range(4)])
    paths = batch.expand_targets(str(tmp_path / "t"))
    serial = batch.plan_jobs(paths, tmp_path / "serial", 0)
    parallel = batch.plan_jobs(paths, tmp_path / "parallel", 0)
    batch.run_batch(serial, fake_invert, workers=1, progress=False)
    batch.run_batch(parallel, partial(fake_invert), workers=2, progress=False)
    assert [r["error"] for r in summary_rows(serial)] == [r["error"] for r in summary_rows(parallel)]


def test_dask_local_cluster_one_row_per_target(tmp_path):
    distributed = pytest.importorskip("distributed")
    make_targets(tmp_path / "t", ["a", "b", "bad"])
    jobs = batch.plan_jobs(batch.expand_targets(str(tmp_path / "t")), tmp_path / "out", 0)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        counts = batch.run_batch(jobs, fake_invert, scheduler=client, progress=False)
    assert counts["ok"] == 2 and counts["failed"] == 1
    paths = write_summary(tmp_path / "out", summary_rows(jobs))
    lines = paths[0].read_text().strip().splitlines()
    assert len(lines) == 4 and lines[0].startswith("target,")
    assert all(p.exists() for p in paths)


def test_invert_cli_on_a_directory_resumes_and_summarises(tmp_path):
    """The real command: two model targets and a broken file, then a resumed run."""
    from click.testing import CliRunner

    from invtoolkit.cli import build_cli

    cli = build_cli()

    targets = tmp_path / "targets"
    targets.mkdir()
    ramp = np.clip(np.linspace(-0.5, 1.5, 41), 0, 1)
    np.save(targets / "ramp.npy", ramp)
    np.save(targets / "step.npy", (np.arange(41) >= 20).astype(float))
    (targets / "broken.csv").write_text("pressure,amount\n0.1,nan\n0.5,0.3\n1.0,0.9\n")
    args = ["invert", "--target", str(targets), "-o", str(tmp_path / "out"), "--workers", "1",
            "--chain", "random[max_evals=40]", "--time-limit", "5", "--no-progress"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    lines = (tmp_path / "out" / "summary.csv").read_text().strip().splitlines()
    assert len(lines) == 4
    rows = {line.split(",")[0]: line for line in lines[1:]}
    assert ",failed," in rows["broken"] and ",ok," in rows["ramp"] and ",ok," in rows["step"]
    report = json.loads((tmp_path / "out" / "ramp" / "report.json").read_text())
    seed = batch.target_seed(0, "ramp")
    assert report["seed"] == seed
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "3 targets already complete" in again.output
    assert (tmp_path / "out" / "summary.csv").read_text().strip().splitlines() == lines


def interrupted_invert(path: Path, out: Path, seed: int, fail_on: str = "t00") -> None:
    """Like fake_invert, slower, and target ``fail_on`` is interrupted (as Ctrl-C does to a worker)."""
    import time

    if path.stem == fail_on:
        raise KeyboardInterrupt
    time.sleep(0.3)
    fake_invert(path, out, seed)


def test_interrupt_drops_queued_targets_and_resume_finishes(tmp_path):
    make_targets(tmp_path / "t", [f"t{i:02d}" for i in range(16)])
    jobs = batch.plan_jobs(batch.expand_targets(str(tmp_path / "t")), tmp_path / "out", 0)
    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(jobs, interrupted_invert, workers=2, progress=False)
    done = sum(batch.is_complete(job) for job in jobs)
    assert done < 8  # the queue was dropped, not run to the end (15 x 0.3 s on 2 workers)
    counts = batch.run_batch(jobs, fake_invert, workers=1, progress=False)
    assert counts["skipped"] == done and counts["ok"] == 16 - done
    assert [r["status"] for r in summary_rows(jobs)] == ["ok"] * 16


SLOW_INVERT = '''
import json, time

def invert(path, out, seed):
    time.sleep(0.4)
    (out / "report.json").write_text(json.dumps({"grids": [{"mae": 0.001}], "total_seconds": 0.4}))
'''

RUN_BATCH = '''
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, sys.argv[1])
    from slowinvert import invert

    from invtoolkit.workflows import batch
    from invtoolkit.workflows.batch_summary import run_and_summarise

    jobs = batch.plan_jobs(batch.expand_targets(sys.argv[2]), Path(sys.argv[3]), 0)
    run_and_summarise(jobs, invert, Path(sys.argv[3]), workers=2, progress=False)
'''


def finished(out: Path) -> set[str]:
    return {p.parent.name for p in out.glob("*/report.json")}


def test_sigterm_part_way_writes_the_summary_of_what_is_done(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    make_targets(tmp_path / "t", [f"t{i:02d}" for i in range(12)])
    (tmp_path / "slowinvert.py").write_text(SLOW_INVERT)
    (tmp_path / "run.py").write_text(RUN_BATCH)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(tmp_path / "run.py"), str(tmp_path), str(tmp_path / "t"), str(out)])
    deadline = time.monotonic() + 60
    while len(finished(out)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) != 0
    done = finished(out)
    time.sleep(0.8)  # a worker left running would finish another target by now
    assert finished(out) == done and 2 <= len(done) < 12
    rows = summary_rows(batch.plan_jobs(batch.expand_targets(str(tmp_path / "t")), out, 0))
    lines = (out / "summary.csv").read_text().strip().splitlines()
    assert len(lines) == 13  # a header and one row per target, finished or not
    ok = {line.split(",")[0] for line in lines[1:] if ",ok," in line}
    assert ok == done == {r["target"] for r in rows if r["status"] == "ok"}


def test_dask_interrupt_cancels_the_submitted_targets(tmp_path):
    import signal
    import threading
    import time

    distributed = pytest.importorskip("distributed")
    make_targets(tmp_path / "t", [f"t{i:02d}" for i in range(12)])
    jobs = batch.plan_jobs(batch.expand_targets(str(tmp_path / "t")), tmp_path / "out", 0)
    slow = partial(interrupted_invert, fail_on="never")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        client.submit(sum, [1]).result()  # the cluster is up before the clock starts
        kill = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        kill.start()
        try:
            with pytest.raises(batch.Terminated):
                batch.run_batch(jobs, slow, scheduler=client, progress=False)
        finally:
            kill.cancel()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and invert_tasks(cluster.scheduler):
            time.sleep(0.05)
        left = invert_tasks(cluster.scheduler)
        time.sleep(0.8)  # the two running targets end; no queued one may start
        done = sum(batch.is_complete(job) for job in jobs)
    assert left == [] and done <= 6


def invert_tasks(scheduler) -> list:
    """The batch's targets the scheduler still holds (cancelled ones are forgotten)."""
    return [key for key in list(scheduler.tasks) if str(key).startswith("invert-")]


def _fit_of(out: Path) -> tuple[bytes, tuple]:
    fit = json.loads((out / "report.json").read_text())["fit"]
    return (out / "best.npy").read_bytes(), (fit["y"], fit["capacity"], fit["relative_mae"], fit["y_interval"])


def test_a_measured_file_gets_the_same_answer_alone_in_worker_processes_and_on_dask(tmp_path):
    """Issue 34: the answer depends on the file and the seed only. Two copies of one measured
    file in a batch (2 worker processes, then a dask cluster) give, byte for byte, the best
    grid and fit that `invert` gives each alone with the seed the batch derives for it."""
    from shutil import copyfile

    from invtoolkit.cli import main

    distributed = pytest.importorskip("distributed")
    source = Path(__file__).resolve().parents[1] / "data/measured/DUT-67_DUT67_1_Garching_MeOH_298K.aif"
    (tmp_path / "t").mkdir()
    for name in ("a", "b"):
        copyfile(source, tmp_path / "t" / f"{name}.aif")
    common = ["--budget", "1500", "--seed", "7", "--no-progress"]

    def invert(*args):
        with pytest.raises(SystemExit) as done:
            main([str(a) for a in args])
        assert done.value.code == 0

    invert("invert", "--target", tmp_path / "t", "--workers", 2, "-o", tmp_path / "workers", *common)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        invert("invert", "--target", tmp_path / "t", "--scheduler", cluster.scheduler_address,
               "-o", tmp_path / "dask", *common)
    for name in ("a", "b"):
        invert("invert", "--target", tmp_path / "t" / f"{name}.aif", "-o", tmp_path / f"alone-{name}",
               "--budget", 1500, "--seed", batch.target_seed(7, name), "--no-progress")
        alone = _fit_of(tmp_path / f"alone-{name}")
        assert _fit_of(tmp_path / "workers" / name) == alone
        assert _fit_of(tmp_path / "dask" / name) == alone
    assert _fit_of(tmp_path / "alone-a") != _fit_of(tmp_path / "alone-b")  # the seeds differ, and so do the searches
