"""Target files: one reader registry, and the model-target helpers readers share.

``read_target(path)`` dispatches on the file suffix to a ``target_reader`` plugin
(built-ins: ``invtoolkit_plugins.readers``; a third-party package adds formats with
the ``register_target_readers`` hook). A reader is ``reader(path, *, steps,
normalization, **options) -> Target | MeasuredIsotherm``: a model target (fractions
on the simulator axis: ``.npy``, plain ``.csv``) or measured points in their own
units (AIF, pyGAPS), whose capacity and wall affinity the inversion fits
(:mod:`invtoolkit.fitting`). :func:`target_from_points` turns fractions given at any
pressures into a model target on the simulator axis.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.objective import Target
from invtoolkit.core.pressure import PressureSchedule

MIN_POINTS = 3
EDGE_TOLERANCE = 1e-3  # a branch may stop this short of RH = 1 (held constant there)


def readers() -> dict:
    """Suffix -> reader of every registered ``target_reader`` plugin."""
    from invtoolkit.hooks.registry import registry

    reg = registry()
    return {name: reg.entry("target_reader", name).factory for name in reg.names("target_reader")}


def read_target(path, *, steps: int = 40, normalization: str = "pore", **options):
    """The target in ``path``: a model :class:`Target` or a ``MeasuredIsotherm``.

    ``options`` (e.g. ``tc``, ``p0`` for measured formats) that are None are
    dropped; others must be accepted by the suffix's reader.
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a target file")
    known = readers()
    reader = known.get(path.suffix.lower())
    if reader is None:
        raise InputError(f"{path}: unknown target format '{path.suffix}' (supported: {', '.join(sorted(known))})")
    if normalization not in ("pore", "site"):
        raise InputError(f"unknown normalization '{normalization}' (pore or site)")
    options = {k: v for k, v in options.items() if v is not None}
    accepted = inspect.signature(reader).parameters
    extra = sorted(k for k in options if k not in accepted)
    if extra:
        raise InputError(f"{path}: option(s) {', '.join(extra)} do not apply to '{path.suffix}' targets")
    return reader(path, steps=int(steps), normalization=normalization, **options)


def target_from_points(pressure, amount, branch=None, *, steps: int = 40, normalization: str = "pore",
                       source: str = "target") -> Target:
    """Measured points -> Target on the simulator axis (linear interpolation).

    ``branch``: per point "ads"/"des" (None: split a rise-then-fall pressure
    sequence at its maximum). Each branch must cover the axis: RH = 0 may be
    missing (the model's amount there is 0, so (0, 0) is added), the top must be
    within 1e-3 of RH = 1, except that a desorption branch may start lower: it
    then starts from the adsorption amount at RH = 1 (in the model desorption
    starts from that state). No other extrapolation.
    """
    pressure = np.asarray(pressure, dtype=np.float64).reshape(-1)
    amount = np.asarray(amount, dtype=np.float64).reshape(-1)
    if len(pressure) != len(amount):
        raise InputError(f"{source}: {len(pressure)} pressures but {len(amount)} amounts")
    if not (np.all(np.isfinite(pressure)) and np.all(np.isfinite(amount))):
        raise InputError(f"{source}: contains NaN or infinite values")
    if pressure.min(initial=0) < 0:
        raise InputError(f"{source}: negative pressure {pressure.min():g}")
    if pressure.max(initial=0) > 1 + EDGE_TOLERANCE:
        raise InputError(f"{source}: relative pressure {pressure.max():g} > 1 (expected RH in [0, 1])")
    check_amounts(amount, source)
    if branch is None:
        top = int(np.argmax(pressure))
        ads_p, ads_a = pressure[: top + 1], amount[: top + 1]
        des_p, des_a = pressure[top + 1:], amount[top + 1:]
        if np.any(np.diff(ads_p) <= 0):
            raise InputError(f"{source}: pressures must increase along adsorption (and then only decrease)")
        if np.any(np.diff(np.concatenate([[pressure[top]], des_p])) >= 0):
            raise InputError(f"{source}: pressures must increase along adsorption, then decrease along desorption")
    else:
        branch = np.asarray(branch)
        ads_p, ads_a = pressure[branch == "ads"], amount[branch == "ads"]
        des_p, des_a = pressure[branch == "des"], amount[branch == "des"]
        if np.any(np.diff(ads_p) <= 0):
            raise InputError(f"{source}: adsorption pressures must be strictly increasing")
        if len(des_p) and not (np.all(np.diff(des_p) < 0) or np.all(np.diff(des_p) > 0)):
            raise InputError(f"{source}: desorption pressures must be strictly monotonic")
    if len(ads_p) < MIN_POINTS:
        raise InputError(f"{source}: adsorption branch has {len(ads_p)} point(s), need at least {MIN_POINTS}")
    if 0 < len(des_p) < MIN_POINTS:
        raise InputError(f"{source}: desorption branch has {len(des_p)} point(s), need at least {MIN_POINTS}")

    notes = []
    axis = PressureSchedule(steps, adsorption_only=True).adsorption
    ads_values = _onto_axis(ads_p, ads_a, axis, "adsorption", source, notes)
    values = ads_values
    schedule = PressureSchedule(steps, adsorption_only=True)
    if len(des_p):
        order = np.argsort(des_p)
        des_p, des_a = des_p[order], des_a[order]
        if des_p[-1] < 1 - EDGE_TOLERANCE:  # the loop closes at RH = 1
            des_p, des_a = np.append(des_p, 1.0), np.append(des_a, ads_values[-1])
            notes.append("desorption starts from the adsorption amount at RH = 1 (added point)")
        des_values = _onto_axis(des_p, des_a, axis, "desorption", source, notes)
        values = np.concatenate([ads_values, des_values[-2::-1]])
        schedule = PressureSchedule(steps)
    notes.insert(0, f"{Path(source).name}: {len(pressure)} points linearly interpolated onto the simulator axis "
                    f"(RH = 0, 1/{steps}, ..., 1{' and back' if len(des_p) else ''})")
    return Target(values, schedule, normalization, notes=notes)


def _onto_axis(p, a, axis, name, source, notes) -> np.ndarray:
    if p[0] > 0:  # the model's amount at RH = 0 is zero
        p, a = np.insert(p, 0, 0.0), np.insert(a, 0, 0.0)
        notes.append(f"{name}: added amount 0 at RH = 0 (first point at RH = {p[1]:g})")
    if p[-1] < 1 - EDGE_TOLERANCE:
        raise InputError(f"{source}: {name} branch ends at RH = {p[-1]:g}; the simulator axis needs up to 1 "
                         f"(no extrapolation)")
    return np.interp(axis, p, a)


def check_amounts(values: np.ndarray, source) -> None:
    if not np.all(np.isfinite(values)):
        raise InputError(f"{source}: contains NaN or infinite amounts")
    if values.min(initial=0) < 0 or values.max(initial=0) > 1:
        raise InputError(f"{source}: amounts must lie in [0, 1] (fraction filled), found "
                         f"{values.min():g}..{values.max():g}")
