"""Objective plugins: the built-in design properties of a simulated isotherm.

* ``step``        RH at the top of the steepest rise of the adsorption branch,
                  ``rh[argmax(diff(ads)) + 1]`` on the simulator's axis
* ``hysteresis``  the largest gap between desorption and adsorption at one RH
* ``uptake``      the amount at ``rh`` on ``branch`` (adsorption or desorption)
* ``capacity``    ``uptake(high) - uptake(low)``, each ``{rh, branch}``
* ``porosity``    the fraction of pore cells of the grid
* ``curve``       MAE to a target isotherm file (curve matching inside a spec)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invtoolkit.plugin import InputError, Property, branch, check_branch, check_rh, hookimpl, mae, uptake_at


class Step(Property):
    """RH at the top of the steepest rise of the adsorption branch.

    The rise between points i and i+1 is credited to point i+1 (where the pores are
    full); of equal rises the first counts.
    """

    name = "step"

    def values(self, curves, grids=None):
        rh, ads = branch(curves, self.path, "adsorption")
        if len(rh) < 2:
            raise InputError("step needs at least two adsorption points")
        return rh[np.argmax(np.diff(ads, axis=1), axis=1) + 1]


class Hysteresis(Property):
    """Largest |desorption - adsorption| at one RH (the loop's widest point).

    Desorption is read at the adsorption pressures (linear interpolation; on the
    uniform schedule the points coincide).
    """

    name = "hysteresis"
    needs_desorption = True

    def values(self, curves, grids=None):
        rh_a, ads = branch(curves, self.path, "adsorption")
        rh_d, des = branch(curves, self.path, "desorption")
        if not np.array_equal(rh_a, rh_d):  # measured paths: read desorption at the adsorption RH
            des = np.stack([np.interp(rh_a, rh_d, row) for row in des]) if len(des) else des[:, : len(rh_a)]
        return np.abs(des - ads).max(axis=1)


class Uptake(Property):
    """Amount adsorbed at ``rh`` on ``branch``."""

    name = "uptake"
    option_names = ("rh", "branch")

    def __init__(self, rh=None, branch: str = "adsorption", **common):
        if rh is None:
            raise InputError("uptake needs rh (a relative pressure in [0, 1])")
        self.rh = check_rh(rh)
        self.branch = check_branch(branch)
        self.needs_desorption = self.branch == "desorption"
        super().__init__(**common)

    def values(self, curves, grids=None):
        return uptake_at(curves, self.path, self.rh, self.branch)

    def settings(self):
        return {"rh": self.rh, "branch": self.branch}


def _point(value, which: str) -> tuple[float, str]:
    """A capacity end: a table {rh = x, branch = "..."} (branch defaults to adsorption)."""
    if not isinstance(value, dict):
        raise InputError(f"capacity {which} must be a table like {{ rh = 0.25, branch = \"adsorption\" }}")
    extra = sorted(set(value) - {"rh", "branch"})
    if extra:
        raise InputError(f"capacity {which}: unknown key '{extra[0]}' (takes: rh, branch)")
    if "rh" not in value:
        raise InputError(f"capacity {which} needs rh")
    return check_rh(value["rh"], f"{which}.rh"), check_branch(value.get("branch", "adsorption"), f"{which}.branch")


class Capacity(Property):
    """Working capacity ``uptake(high) - uptake(low)``; each end is ``{rh, branch}``."""

    name = "capacity"
    option_names = ("high", "low")

    def __init__(self, high=None, low=None, **common):
        if high is None or low is None:
            raise InputError("capacity needs high and low, e.g. high = { rh = 0.25 }, low = { rh = 0.05 }")
        self.high = _point(high, "high")
        self.low = _point(low, "low")
        self.needs_desorption = "desorption" in (self.high[1], self.low[1])
        super().__init__(**common)

    def values(self, curves, grids=None):
        return uptake_at(curves, self.path, *self.high) - uptake_at(curves, self.path, *self.low)

    def settings(self):
        return {"high": {"rh": self.high[0], "branch": self.high[1]},
                "low": {"rh": self.low[0], "branch": self.low[1]}}


class Porosity(Property):
    """Fraction of pore cells of the grid (needs the grids, not the curve)."""

    name = "porosity"

    def values(self, curves, grids=None):
        if grids is None:
            raise InputError("porosity needs the grids")
        grids = np.asarray(grids)
        return grids.reshape(len(grids), -1).mean(axis=1, dtype=np.float64)


class Curve(Property):
    """MAE to a target isotherm file (.npy, .csv, ...): curve matching inside a spec.

    The target's pressure path must be a prefix of the simulated one (an adsorption
    target, or the whole loop).
    """

    name = "curve"
    option_names = ("target",)

    def __init__(self, target=None, **common):
        from invtoolkit.plugin import read_target

        if not isinstance(target, (str, Path)):
            raise InputError("curve needs target = \"FILE\" (an isotherm file)")
        super().__init__(**common)
        self.target_file = str(target)
        steps = self.path.steps or 40
        self.target = read_target(target, steps=steps, normalization=self.normalization)
        if not self.path.starts(self.target.schedule):
            raise InputError(f"{target}: its pressure path is not part of the simulated one")

    def values(self, curves, grids=None):
        curves = np.atleast_2d(np.asarray(curves, dtype=np.float64))
        return mae(curves[:, : len(self.target.values)], self.target.values)

    def settings(self):
        return {"target": self.target_file}


@hookimpl
def register_objectives(register):
    register("step", Step, "RH at the top of the steepest adsorption rise")
    register("hysteresis", Hysteresis, "Largest gap between desorption and adsorption at one RH")
    register("uptake", Uptake, "Amount at rh on branch (adsorption or desorption)")
    register("capacity", Capacity, "Working capacity uptake(high) - uptake(low)")
    register("porosity", Porosity, "Fraction of pore cells of the grid")
    register("curve", Curve, "MAE to a target isotherm file")
