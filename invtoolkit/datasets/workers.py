"""Local worker pools whose workers die with the process that started them.

A pool's workers normally outlive a parent killed by SIGKILL (the OOM killer, a
cluster scheduler): they sit idle, adopted by init, holding their memory, and keep
multiprocessing's resource tracker alive (it exits once every process holding its
pipe is gone). Every worker here therefore watches its parent two ways:

* on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker when
  the parent dies, even in the middle of a numba kernel that holds the GIL;
* everywhere, a daemon thread that polls ``os.getppid()`` and calls ``os._exit``
  once the parent has changed (the portable fallback, and a guard for the race of
  a parent that died before ``prctl`` ran).

Linux sends the death signal when the *thread* that started the worker exits, so a
pool is used and shut down by the thread that submits to it (as both pools here are).
"""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Callable

__all__ = ["POLL_SECONDS", "watch_parent", "local_pool"]

POLL_SECONDS = 0.5
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
EXIT_ORPHANED = 70  # exit status of a worker whose parent died


def _pdeathsig() -> bool:
    """Ask the Linux kernel to SIGKILL this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _poll(parent: int, seconds: float) -> None:
    stop = threading.Event()
    while not stop.wait(seconds):
        if os.getppid() != parent:  # re-parented: the parent is gone
            os._exit(EXIT_ORPHANED)


def watch_parent(parent: int, seconds: float = POLL_SECONDS) -> None:
    """Make this process exit when process ``parent`` (its parent) dies."""
    _pdeathsig()
    if os.getppid() != parent:  # died before we could ask
        os._exit(EXIT_ORPHANED)
    threading.Thread(target=_poll, args=(parent, seconds), name="watch-parent", daemon=True).start()


def _initialize(parent: int, then: Callable | None, args: tuple) -> None:
    watch_parent(parent)
    if then is not None:
        then(*args)


def local_pool(workers: int, initializer: Callable | None = None, initargs: tuple = ()) -> ProcessPoolExecutor:
    """A pool of ``workers`` spawned processes (spawn, not fork: this process may already
    run numba / BLAS threads) that exit when this process dies; ``initializer(*initargs)``
    runs in each worker after the watch is set up."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_initialize,
                               initargs=(os.getpid(), initializer, tuple(initargs)))
