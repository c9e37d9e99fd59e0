"""numba's first dispatch without importing scipy.linalg (issue 30: start-up).

numba initialises its CPU target on the first call of any compiled function, cached or
not; on the way it imports ``scipy.linalg.cython_blas`` only to learn that a BLAS exists
for ``np.dot`` and friends, and importing that pulls in all of ``scipy.linalg`` (~0.1 s
of a ~0.6 s cold start). The kernels use no BLAS. :func:`init` runs that initialisation
while ``sys.modules`` answers the check with an empty module, then removes the
stand-in, so a later BLAS use in the process imports the real scipy module as usual.
Nothing is done when the target was already initialised or scipy.linalg is loaded.
"""
from __future__ import annotations

import sys
import types

_BLAS = "scipy.linalg.cython_blas"


def init() -> None:
    """Initialise numba's CPU target now, without scipy.linalg (once per process)."""
    if "numba.np.arraymath" in sys.modules or "scipy.linalg" in sys.modules:
        return
    from numba.core.registry import cpu_target

    stand_in = sys.modules.setdefault(_BLAS, types.ModuleType(_BLAS))
    try:
        cpu_target.target_context.refresh()
    finally:
        if sys.modules.get(_BLAS) is stand_in and not hasattr(stand_in, "__file__"):
            del sys.modules[_BLAS]
