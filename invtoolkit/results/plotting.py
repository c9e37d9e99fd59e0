"""Small guards every figure writer shares, so degenerate input (one grid, equal curves,
NaN descriptors, empty lists) draws a sparse figure instead of raising."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["pyplot", "fmt", "finite_top", "finite_mae"]


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fmt(value, spec: str = ".4g", missing: str = "n/a") -> str:
    """``value`` formatted by ``spec``; None, NaN, inf or a non-number -> ``missing``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return missing
    return format(number, spec) if math.isfinite(number) else missing


def finite_top(*arrays, default: float = 1.0) -> float:
    """The largest finite value of ``arrays`` (``default`` when there is none): an axis
    limit must never be NaN or inf."""
    values = [np.asarray(a, dtype=float).ravel() for a in arrays if a is not None]
    values = np.concatenate(values) if values else np.zeros(0)
    values = values[np.isfinite(values)]
    return float(values.max()) if len(values) else float(default)


def finite_mae(curve, values) -> float:
    """MAE of ``curve``'s first len(values) points against ``values``; NaN when the curve
    is shorter (a plot label, not a score)."""
    curve, values = np.asarray(curve, dtype=float).ravel(), np.asarray(values, dtype=float).ravel()
    if len(curve) < len(values) or not len(values):
        return math.nan
    return float(np.abs(curve[:len(values)] - values).mean())
