"""Progress bars (tqdm), silent when disabled or not on a terminal."""

from __future__ import annotations

import contextlib
import sys

from tqdm.auto import tqdm


@contextlib.contextmanager
def progress_bar(total=None, desc="", unit="it", enabled=True, **kwargs):
    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.1,
        **kwargs,
    )
    try:
        yield bar
    finally:
        bar.close()
