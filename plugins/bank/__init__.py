"""Generator plugin ``bank``: the stored grids whose stored isotherms are nearest the target.

A bank is a set of grids labelled once by the exact simulator (``training/build_bank.sh``;
the shipped one is in ``plugins/models/bank/``). ``generate`` ranks every stored curve by
its MAE to the target over the target's points (the full loop, ``2*steps+1`` points, or
its adsorption prefix, ``steps+1``) and returns the ``n`` nearest grids, best first. The
stored grids are distinct up to torus symmetry (the dataset dropped duplicates), so the
``n`` returned are distinct. With ``symmetry=True`` (default) each returned grid is moved
by a seeded random torus symmetry, which leaves its isotherm unchanged; the bank then
costs nothing to search and hands ranked, already good candidates to the next stage.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invtoolkit.plugin import Generator, InputError, PressureSchedule, hookimpl
from invtoolkit_plugins.bank.lookup import nearest
from invtoolkit_plugins.bank.store import load_bank, unpack_grids

DEFAULT_BANK = Path(__file__).resolve().parent.parent / "models" / "bank"


class BankGenerator(Generator):
    """Lookup generator over a bank directory (``model="default"``: the shipped bank)."""

    name = "bank"

    def __init__(self, model="default", *, symmetry: bool = True, **ignored):
        path = DEFAULT_BANK if model in (None, "default") else Path(model)
        self.path = path
        self.config, self.packed, self.curves = load_bank(path)
        self.grid_shape = tuple(int(s) for s in self.config["grid_shape"])
        self.schedule = PressureSchedule(int(self.config["steps"]))
        self.normalization = self.config["simulator_params"].get("normalization", "pore")
        self.symmetry = bool(symmetry)

    def _check_targets(self, targets) -> np.ndarray:
        t = np.asarray(targets, dtype=np.float64)
        if t.ndim == 1:
            t = t[None]
        steps = int(self.config["steps"])
        if t.ndim != 2 or t.shape[1] not in (steps + 1, 2 * steps + 1):
            raise InputError(f"targets of shape {t.shape}: the bank takes (M, {2 * steps + 1}) full loops "
                             f"or (M, {steps + 1}) adsorption branches")
        if not np.all(np.isfinite(t)):
            raise InputError("targets contain NaN or infinite values")
        return t

    def generate(self, targets: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
        if int(n) < 1:
            raise InputError(f"number of grids per target must be >= 1, got {n}")
        if int(n) > len(self.packed):
            raise InputError(f"the bank holds {len(self.packed)} grids, {n} asked")
        t = self._check_targets(targets)
        rng = np.random.default_rng(int(seed))
        out = np.empty((len(t), int(n), *self.grid_shape), dtype=np.uint8)
        for i, target in enumerate(t):
            grids = unpack_grids(self.packed[nearest(self.curves, target, n)], self.grid_shape)
            if self.symmetry:
                from invtoolkit.plugin import random_transform

                grids = random_transform(grids, rng)
            out[i] = grids
        return out


@hookimpl
def register_generators(register):
    register("bank", BankGenerator,
             "Lookup of the stored DFT-labelled grids whose isotherms are nearest the target (ranked, free)")
