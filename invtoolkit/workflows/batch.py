"""Batch inversion: many target files, local worker processes or a dask cluster.

Each target gets its own sub-directory; a target is complete once its
``report.json`` (written last, atomically) or ``failed.json`` exists, so a run that
was killed and started again skips finished targets and redoes half-written ones.
The summary is rebuilt from the sub-directories, one row per target, whatever
order or worker produced them. SIGTERM (a kill, a cluster's scheduler) is turned
into :class:`Terminated`, a KeyboardInterrupt: like Ctrl-C it stops the workers and
drops the queued targets, so the caller's summary matches what is on disk.
"""

from __future__ import annotations

import contextlib
import glob
import signal
import threading
import time
import zlib
from concurrent.futures import as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from invtoolkit.errors import InputError
from invtoolkit.core.fileio import write_json as write_json_atomic
from invtoolkit.core.progress import progress_bar
from invtoolkit.datasets.workers import local_pool

TARGET_SUFFIXES = (".npy", ".csv", ".aif", ".json")
REPORT = "report.json"
FAILED = "failed.json"


@dataclass(frozen=True)
class BatchJob:
    """One target of a batch: where it is read from and written to, and its seed."""

    path: Path
    name: str
    out_dir: Path
    seed: int


def expand_targets(spec: str) -> list[Path]:
    """A file, a directory (its target files) or a glob -> sorted target files."""
    path = Path(spec)
    if path.is_dir():
        found = [p for p in path.iterdir() if p.is_file() and p.suffix.lower() in TARGET_SUFFIXES]
        if not found:
            raise InputError(f"{path}: no target files ({', '.join(TARGET_SUFFIXES)}) in this directory")
        return sorted(found)
    if path.exists():
        return [path]
    if glob.has_magic(spec):
        found = [Path(p) for p in glob.glob(spec) if Path(p).is_file()]
        if not found:
            raise InputError(f"{spec}: the pattern matches no file")
        return sorted(found)
    raise InputError(f"{path}: no such file or directory")


def target_seed(seed: int, name: str) -> int:
    """A target's seed from the run's seed and its name: independent of worker and order."""
    return zlib.crc32(f"{int(seed)}:{name}".encode()) % 2**31


def plan_jobs(paths: list[Path], out: Path, seed: int) -> list[BatchJob]:
    """One job per file, named after its stem (made unique when two files share one)."""
    jobs, used = [], set()
    for path in paths:
        name, k = path.stem, 2
        while name in used:
            name, k = f"{path.stem}-{k}", k + 1
        used.add(name)
        jobs.append(BatchJob(path, name, out / name, target_seed(seed, name)))
    return jobs


def is_complete(job: BatchJob) -> bool:
    return (job.out_dir / REPORT).exists() or (job.out_dir / FAILED).exists()


def run_job(job: BatchJob, invert: Callable) -> dict:
    """Invert one target into its directory; a failure is written down, never raised."""
    start = time.monotonic()
    job.out_dir.mkdir(parents=True, exist_ok=True)
    (job.out_dir / FAILED).unlink(missing_ok=True)
    try:
        invert(job.path, job.out_dir, job.seed)
        return {"target": job.name, "status": "ok", "seconds": time.monotonic() - start}
    except Exception as exc:  # one bad target must not stop the others
        reason = _one_line(exc)
        record = {"target": job.name, "file": str(job.path), "reason": reason,
                  "seconds": time.monotonic() - start}
        write_json_atomic(job.out_dir / FAILED, record)
        return {"target": job.name, "status": "failed", "reason": reason}


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    message = text[0] if text else ""
    return message if type(exc).__module__.startswith("invtoolkit") else f"{type(exc).__name__}: {message}"


def pending_jobs(jobs: list[BatchJob]) -> list[BatchJob]:
    return [job for job in jobs if not is_complete(job)]


class Terminated(KeyboardInterrupt):
    """The run got SIGTERM; handled like Ctrl-C (the CLI exits non-zero)."""


@contextlib.contextmanager
def terminate_as_interrupt():
    """While inside, SIGTERM raises :class:`Terminated` in the main thread (signals can
    only be handled there; elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum, frame):
        raise Terminated(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_local(jobs: list[BatchJob], invert: Callable, workers: int, on_done: Callable) -> None:
    """Run jobs in ``workers`` spawned processes (each imports and loads models once)."""
    if workers <= 1:
        for job in jobs:
            on_done(run_job(job, invert))
        return
    pool = local_pool(workers)  # its workers exit if this process is killed
    try:
        futures = [pool.submit(run_job, job, invert) for job in jobs]
        for future in as_completed(futures):
            on_done(future.result())
    except BaseException:
        # Interrupted (Ctrl-C, SIGTERM, a worker's KeyboardInterrupt): drop the queued
        # targets (a plain shutdown would run them all) and stop the running ones, so no
        # target finishes after the summary is written.
        processes = list(pool._processes.values())  # shutdown forgets them
        pool.shutdown(wait=False, cancel_futures=True)
        _stop(processes)
        raise
    pool.shutdown()


def _stop(processes: list) -> None:
    """Terminate and reap a pool's processes (before Python 3.14 a pool has no public call
    for it); a half-written target has no report.json yet and is redone on the next run."""
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def run_dask(jobs: list[BatchJob], invert: Callable, scheduler, on_done: Callable) -> None:
    """Run jobs on a dask.distributed cluster (an address or a ``Client``)."""
    from distributed import Client, as_completed as dask_completed

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler, timeout="20s")
    futures = []
    try:
        futures = client.map(run_job, jobs, invert=invert, pure=False, key=[f"invert-{j.name}" for j in jobs])
        for future in dask_completed(futures):
            on_done(future.result())
    except BaseException:
        # Interrupted: release every submitted target, so the cluster's workers do not
        # go on with a batch nobody waits for.
        client.cancel(futures)
        raise
    finally:
        if client is not scheduler:
            client.close()


def run_batch(jobs: list[BatchJob], invert: Callable, *, workers: int = 1, scheduler=None,
              progress: bool = True) -> dict:
    """Invert every incomplete job; return counts. The summary is written by the caller."""
    todo = pending_jobs(jobs)
    counts = {"targets": len(jobs), "skipped": len(jobs) - len(todo), "ok": 0, "failed": 0}
    with terminate_as_interrupt(), progress_bar(total=len(todo), desc="targets", unit="target",
                                                enabled=progress) as bar:
        def on_done(row):
            counts["ok" if row["status"] == "ok" else "failed"] += 1
            bar.set_postfix(done=counts["ok"], failed=counts["failed"], refresh=False)
            bar.update(1)

        if scheduler is not None:
            run_dask(todo, invert, scheduler, on_done)
        else:
            run_local(todo, invert, workers, on_done)
    return counts
