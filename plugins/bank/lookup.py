"""Nearest stored isotherms: the bank's search, one numpy matrix operation per target."""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import mae


def nearest(curves: np.ndarray, target: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` stored curves (N, >= P) nearest to ``target`` (P,) by MAE over
    the target's points (the search's own :func:`invtoolkit.core.objective.mae`), best first;
    ties broken by index so the answer is deterministic."""
    errors = mae(curves[:, : len(target)], target)
    n = min(int(n), len(errors))
    part = np.argpartition(errors, n - 1)[:n] if n < len(errors) else np.arange(len(errors))
    return part[np.lexsort((part, errors[part]))]
