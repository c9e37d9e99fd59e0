"""From the internal loop (RH 0, 1/S, ..., 1, ..., 0) onto any pressure path.

Adsorption values depend only on the pressure (branch values are path-independent), so the
adsorption points at or above the first step 1/S are a piecewise-linear interpolation of
the internal adsorption branch: linear weights between neighbouring grid points keep it
non-decreasing and in [0, top].

Below 1/S (N2 and Ar files hold half their points there, down to 1e-6) a line from the
empty state is far off where the wall fills a layer early. There the shape comes from the
anchor DFT, which runs on [0, the path's points below 1/S, 1/S, 1] instead of [0, 1] (at a
few per cent of its cost): A(p) = A_net(1/S) * A_dft(p) / A_dft(1/S), exact where the
network is exact at 1/S, and still non-decreasing.

Desorption depends on where the path turns. At a turning point of 1 (the internal path)
the desorption points interpolate the internal desorption branch (exact on the internal
grid); below 1/S the hysteresis gap D - A at 1/S shrinks linearly to 0 at p = 0. Below a
turning point p_t < 1 the full-loop desorption value is capped at the adsorption value at
p_t (the amount held when the pressure starts to fall) and never below the adsorption at
the same pressure; a model with a turning-point head keeps only a learned share of that
gap (``turning.py``). The errors of each path are measured in training/cond_eval.py.
"""

from __future__ import annotations

import numpy as np

PT_FULL = 1.0 - 1e-9  # a path turning at or above this is the full loop: no turning head


def _snap(x: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x - np.round(x)) < 1e-9, np.round(x), x)  # 0.35 * 40 = 13.99...: grid points exactly


def _interp(points, steps: int, index, low: np.ndarray) -> np.ndarray:
    """(2*steps+1 + len(low), len(points)) weights onto ``points`` of the augmented internal
    values: rows index(k) hold the values at k/steps, row 2*steps+1+i the adsorption at
    low[i] (used for points below 1/steps, which are all in ``low``)."""
    n_int = 2 * steps + 1
    m = np.zeros((n_int + len(low), len(points)))
    pts = np.asarray(points, np.float64)
    x = _snap(np.clip(pts, 0.0, 1.0) * steps)
    for j, xj in enumerate(x):
        if 0 < xj < 1:
            m[n_int + int(np.searchsorted(low, pts[j])), j] = 1.0
            continue
        k = min(int(np.floor(xj)), steps - 1)
        m[index(k), j] += 1.0 - (xj - k)
        m[index(k + 1), j] += xj - k
    return m


def node_weights(pressures, steps: int) -> np.ndarray:
    """(S, P) linear weights of the nodes k/S (k = 0..S-1) at ``pressures`` (clamped to the
    last node above (S-1)/S)."""
    x = np.clip(np.asarray(pressures, np.float64) * steps, 0.0, steps - 1.0)
    w = np.zeros((steps, len(x)))
    k = np.minimum(np.floor(x).astype(int), steps - 2)
    w[k, np.arange(len(x))] = 1.0 - (x - k)
    w[k + 1, np.arange(len(x))] += x - k
    return w


def needs_head(maps: dict) -> bool:
    """True when the path has desorption points and turns below 1."""
    return "des" in maps and maps["turn"] < PT_FULL


def path_maps(path, steps: int) -> dict:
    """The maps of ``path`` (a PressurePath), on the augmented internal values (L internal +
    one per low point): ads (., n_a); for desorption points des (., n_d) the full-loop
    desorption, floor (., n_d) the adsorption at the same pressures, cap (., 1) the
    adsorption at the turning point; low: the path's distinct pressures in (0, 1/steps)."""
    p, n_a = np.asarray(path.pressures, np.float64), int(path.n_adsorption)
    low = np.unique(p[(p > 0) & (_snap(p * steps) < 1)])
    ads_row = lambda k: k  # noqa: E731
    des_row = lambda k: 2 * steps - k if k < steps else steps  # noqa: E731
    maps = {"ads": _interp(p[:n_a], steps, ads_row, low), "low": low, "steps": steps}
    if n_a < len(p):
        d = p[n_a:]
        floor = _interp(d, steps, ads_row, low)
        des = _interp(d, steps, des_row, low)
        for j in np.flatnonzero((d > 0) & (_snap(d * steps) < 1)):  # A(p) + (D - A)(1/S) * p S
            w = d[j] * steps
            des[des_row(1), j] += w
            des[ads_row(1), j] -= w
        maps.update(des=des, floor=floor, cap=_interp(np.array([p.max()]), steps, ads_row, low),
                    turn=float(p.max()), phi=node_weights(d, steps))
    return maps


def anchor_pressures(maps: dict) -> np.ndarray:
    """The anchor DFT's path: 0, the low points and 1/steps if any, 1 (its last value is the top)."""
    if not len(maps["low"]):
        return np.array([0.0, 1.0])
    return np.concatenate([[0.0], maps["low"], [1.0 / maps["steps"], 1.0]])


def low_ratio(anchor: np.ndarray, maps: dict) -> np.ndarray:
    """(N, n_low) A_dft(p) / A_dft(1/S) at the low points, non-decreasing in p, in [0, 1]
    (p S where the exact value at 1/S is 0) from the anchor values (N, n_low + 3)."""
    low = maps["low"]
    first = anchor[:, len(low) + 1:len(low) + 2]
    safe = np.where(first > 1e-12, first, 1.0)
    ratio = np.where(first > 1e-12, anchor[:, 1:len(low) + 1] / safe, low[None] * maps["steps"])
    return np.clip(np.maximum.accumulate(ratio, axis=1), 0.0, 1.0).astype(np.float32)


def apply_maps(loops, maps: dict, ratio=None, phi=None):
    """Internal loops (N, L) -> (N, P) on the path; numpy or torch (differentiable).
    ``ratio`` (N, n_low): see :func:`low_ratio` (None: p S, a line from the empty state).
    ``phi`` (N, S): the share of the capped hysteresis gap kept at the internal desorption
    nodes (``turning.py``; None: all of it, the old mapping)."""
    n_low = len(maps["low"])
    if ratio is None:
        ratio = np.tile(maps["low"] * maps["steps"], (len(loops), 1))
    if isinstance(loops, np.ndarray):
        aug = np.concatenate([loops, loops[:, 1:2] * ratio], 1) if n_low else loops
        ads = aug @ maps["ads"]
        if "des" not in maps:
            return ads
        floor = aug @ maps["floor"]
        des = np.maximum(floor, np.minimum(aug @ maps["des"], aug @ maps["cap"]))
        if phi is not None:  # a share of the gap, then non-increasing as the pressure falls
            des = np.maximum.accumulate((floor + (phi @ maps["phi"]) * (des - floor))[:, ::-1], 1)[:, ::-1]
        return np.concatenate([ads, des], 1)
    import torch

    as_t = lambda m: torch.as_tensor(np.asarray(m), dtype=loops.dtype, device=loops.device)  # noqa: E731
    aug = torch.cat([loops, loops[:, 1:2] * as_t(ratio)], 1) if n_low else loops
    ads = aug @ as_t(maps["ads"])
    if "des" not in maps:
        return ads
    floor = aug @ as_t(maps["floor"])
    des = torch.maximum(floor, torch.minimum(aug @ as_t(maps["des"]), aug @ as_t(maps["cap"])))
    if phi is not None:
        des = torch.cummax((floor + (phi @ as_t(maps["phi"])) * (des - floor)).flip(1), 1).values.flip(1)
    return torch.cat([ads, des], 1)
