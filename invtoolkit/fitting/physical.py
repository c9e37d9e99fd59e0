"""Lattice answers in physical units: nm, cm3/g and m2/g (docs/physics.md, "Physical units").

One lattice cell holds one molecule of the adsorbate's liquid, so its side is
``a = (Vm / N_A)^(1/3)`` (:meth:`invtoolkit.parsing.fluids.Fluid.lattice_spacing_nm`) and a pore
width of w cells is ``w a`` nm. The capacity (amount at complete pore filling) times
the liquid molar volume Vm is the pore volume (the Gurvich rule). Every pore-wall
contact is a cell face of area a^2, and there are ``V / a^3`` pore cells per gram, so
the specific surface is ``contacts per pore cell x V / a``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from invtoolkit.errors import InputError

WIDTH_NAMES = ("dominant_width", "mean_width", "max_width")
NM3_PER_CM3 = 1e21
M2_PER_NM2 = 1e-18


@dataclass(frozen=True)
class FileScale:
    """How one measured file's numbers map onto physical units."""

    lattice_spacing_nm: float
    spacing_source: str
    molar_volume_cm3_mol: float | None  # liquid at the file's T
    molar_volume_source: str | None
    mmol_g_per_unit: float | None  # file loading unit -> mmol/g (None: not amount per mass)

    @property
    def capacity_per_volume(self) -> float | None:
        """File-unit capacity per cm3/g of pore volume (None when units do not allow it)."""
        if self.mmol_g_per_unit is None or self.molar_volume_cm3_mol is None:
            return None
        return 1000.0 / (self.mmol_g_per_unit * self.molar_volume_cm3_mol)

    def pore_volume(self, capacity: float) -> float | None:
        r = self.capacity_per_volume
        return None if r is None else float(capacity) / r


def file_scale(measured, spacing_nm: float | None = None) -> FileScale:
    """Spacing (given, else from the liquid molar volume), Vm and the loading conversion."""
    fluid, T = measured.fluid, measured.T
    try:
        vm, source = fluid.liquid_molar_volume(T)
    except InputError:
        vm, source = None, None
    if spacing_nm is not None:
        if not spacing_nm > 0:
            raise InputError(f"--lattice-spacing must be positive (nm), got {spacing_nm:g}")
        spacing, how = float(spacing_nm), "--lattice-spacing"
    elif vm is not None:
        spacing, how = fluid.lattice_spacing_nm(T), f"(Vm / N_A)^(1/3), Vm from {source}"
    else:
        raise InputError(f"{measured.source}: no liquid density known for {fluid.name} at {T:.4g} K: "
                         "give --lattice-spacing NM")
    return FileScale(spacing, how, vm, source, measured.loading_to_mmol_g)


def widths_nm(descriptors: dict, spacing_nm: float) -> dict:
    """The width descriptors of one grid in nm (``*_nm``) and its PSD on an nm axis."""
    out = {f"{name}_nm": float(descriptors[name]) * spacing_nm for name in WIDTH_NAMES}
    out["psd_nm"] = [[float(w) * spacing_nm, float(f)] for w, f in descriptors["psd"]]
    return out


def surface_area_m2_g(surface_per_pore_cell: float, pore_volume_cm3_g: float | None, spacing_nm: float):
    """Pore-wall area per gram: contacts per pore cell x (pore cells per gram) x a^2."""
    if pore_volume_cm3_g is None:
        return None
    cells_per_g = pore_volume_cm3_g * NM3_PER_CM3 / spacing_nm**3
    return float(surface_per_pore_cell * cells_per_g * spacing_nm**2 * M2_PER_NM2)


def nm_range(cells: np.ndarray, spacings: list[float]) -> dict:
    """{min, max, mean} in nm of widths in cells, over all files' spacings (a joint fit
    has one structure probed by molecules of different sizes: the range covers all).

    A pore w cells wide stands for any real width within half a cell of w a: the
    lattice cannot tell them apart, so each end of the range carries that half cell.
    """
    cells = np.asarray(cells, float)
    lo, hi = min(spacings), max(spacings)
    return {"min": float((cells.min() - 0.5) * lo), "max": float((cells.max() + 0.5) * hi),
            "mean": float(cells.mean() * float(np.mean(spacings)))}
