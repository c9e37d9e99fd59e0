"""Argument checks shared by the 2-D solvers (numba and torch): one message for one fault."""
from __future__ import annotations

import numpy as np

__all__ = ["grids_2d"]


def grids_2d(grids) -> np.ndarray:
    """grids as an (N, H, W) array with H, W >= 3, or ValueError."""
    g = np.asarray(grids)
    if g.ndim != 3:
        raise ValueError(f"grids must be (N,H,W), got shape {g.shape}")
    if g.shape[1] < 3 or g.shape[2] < 3:
        raise ValueError(f"grid size must be at least 3x3, got {g.shape[1]}x{g.shape[2]}")
    return g
