"""Issue 33: a batch killed with SIGKILL (the OOM killer, a cluster scheduler) leaves no
worker and no resource tracker behind. Processes are found through /proc (Linux)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from invtoolkit.datasets import workers

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc (Linux)")


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, session id) of a process, None when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the name may hold spaces and brackets
    return fields[0], int(fields[1]), int(fields[3])


def session_members(sid: int) -> set[int]:
    """Live (not zombie) processes of session ``sid``: the batch and everything it started,
    whoever adopted them after the batch died."""
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[2] == sid and stat[0] != "Z":
                members.add(int(entry.name))
    return members


def wait_until(predicate, seconds: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def test_watch_parent_exits_an_orphan():
    """A grandchild watching its parent exits once the parent is killed."""
    code = ("import os, sys, time; from invtoolkit.datasets.workers import watch_parent; "
            "watch_parent(os.getppid()); print(os.getpid(), flush=True); time.sleep(60)")
    middle = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', {code!r}]); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        grandchild = int(middle.stdout.readline())
        assert _stat(grandchild) is not None
        middle.kill()
        middle.wait()
        assert wait_until(lambda: _stat(grandchild) is None or _stat(grandchild)[0] == "Z", 5)
    finally:
        middle.kill()
        for pid in session_members(middle.pid):
            os.kill(pid, signal.SIGKILL)


def test_local_pool_runs_the_initializer_after_the_watch():
    from invtoolkit.datasets.dataset import _init_worker  # the dataset pool's thread cap

    pool = workers.local_pool(1, initializer=_init_worker, initargs=(3,))
    try:
        assert pool.submit(os.getenv, "OMP_NUM_THREADS").result(timeout=120) == "3"
        assert pool.submit(os.getppid).result(timeout=120) == os.getpid()
    finally:
        pool.shutdown()


def model_targets(folder: Path, n: int = 4) -> None:
    """``n`` adsorption isotherms of 6x6 slits on a 10-step axis (small and fast)."""
    from invtoolkit.hooks import registry

    folder.mkdir()
    sim = registry.create("simulator", "lattice-dft", steps=10, adsorption_only=True)
    for k in range(n):
        grid = np.zeros((6, 6), np.uint8)
        grid[: 1 + k % 4] = 1
        np.save(folder / f"slit{k}.npy", sim.simulate(grid[None])[0])


def batch_command(tmp_path: Path) -> tuple[list[str], Path]:
    """A batch inversion of four small targets on two workers; what a running one writes."""
    model_targets(tmp_path / "targets")
    return (["invert", "--target", str(tmp_path / "targets"), "--workers", "2", "--time-limit", "30",
             "--steps", "10", "--grid-size", "6", "--chain", "ga | steepest", "--no-progress",
             "-o", str(tmp_path / "out")], tmp_path / "out")


def dataset_command(tmp_path: Path) -> tuple[list[str], Path]:
    """Dataset generation labelled by two local workers, long enough to be killed mid-way."""
    return (["dataset", "generate", "-o", str(tmp_path / "d.zarr"), "--n", "200000", "--chunk-size", "2000",
             "--workers", "2", "--no-progress"], tmp_path / "d.zarr")


@pytest.mark.parametrize("command", [batch_command, dataset_command], ids=["invert batch", "dataset generate"])
def test_sigkill_while_running_leaves_no_process(tmp_path, command):
    args, written = command(tmp_path)
    env = dict(os.environ, NUMBA_NUM_THREADS="1", OMP_NUM_THREADS="1")
    # a session of its own: its processes keep the batch's session id after re-parenting
    proc = subprocess.Popen([sys.executable, "-m", "invtoolkit.cli", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        # running: both workers and the resource tracker are up, and work has started
        started = wait_until(lambda: len(session_members(proc.pid)) >= 4 and written.exists(), 120, 0.2)
        assert started and proc.poll() is None, proc.stderr.read().decode() if proc.poll() is not None else ""
        time.sleep(1.0)
        assert len(session_members(proc.pid) - {proc.pid}) >= 3  # two workers and the resource tracker
        proc.kill()
        proc.wait()
        assert wait_until(lambda: not session_members(proc.pid), 10), \
            f"left running 10 s after SIGKILL: {sorted(session_members(proc.pid))}"
    finally:
        for pid in session_members(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.stderr.close()
