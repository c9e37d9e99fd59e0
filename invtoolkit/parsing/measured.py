"""Measured isotherms as instruments write them -> points the lattice model is fitted to.

A reader parses a file into a :class:`~invtoolkit.parsing.formats.RawIsotherm` (numbers and
unit names as written); :func:`measured_from_raw` makes it a :class:`MeasuredIsotherm`:
temperature in K and pressures as p/p0 (units through pint), p0 from the file's p0
column, else ``--p0``, else the fluid library at T; the adsorbate resolved to its
critical temperature (:mod:`invtoolkit.parsing.fluids`). The loading unit must read as an
amount per mass or per volume of adsorbent (:func:`read_loading_unit`; else refused
naming it, or naming ``--loading-unit`` when the file has none) and gives
``loading_to_mmol_g``; pressure and temperature units pint does not read are refused.

Nothing is guessed; every change is a note naming the rows (branch and row in the
file's order): points with p/p0 <= 0 or > 1 are dropped; exact repeats of a row are
left out; a rise-then-fall without desorption points is split at its top; a branch
of 2-3 pasted runs keeps its longest run; points out of order otherwise are sorted
within their branch; outliers (:mod:`invtoolkit.parsing.screening`: far
outside the amounts' range, or an isolated excursion from both pressure neighbours)
are left out of the fit; negative amounts are kept as measured. A file with no uptake
(every amount <= 0, or constant) is refused. Refusals carry the true reason in one
line (supercritical, too few points, unknown unit, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import re
from functools import lru_cache

import numpy as np

from invtoolkit.parsing import screening
from invtoolkit.errors import InputError
from invtoolkit.parsing.fluids import Fluid, resolve_fluid
from invtoolkit.core.pressure import ADSORPTION, DESORPTION, PressurePath

MIN_ADSORPTION_POINTS = 3
MAX_UNITLESS_RELATIVE = 1.5  # pressures without a unit above this are not p/p0 (a few may overshoot 1)
RELATIVE_UNITS = {"relative", "p/p0", "p/po", "rh", "relative pressure", "none", "", "1", "-"}


@dataclass
class MeasuredIsotherm:
    """Measured points in path order (adsorption rising, then desorption falling), in p/p0.

    Amounts stay in the file's loading unit ``unit``: the fit supplies the capacity.
    ``loading_to_mmol_g``: the factor that turns an amount in ``unit`` into mmol/g
    (amount x factor = mmol/g; mol/g directly, gas volume at STP through 22 414 cm3/mol,
    mass through the adsorbate's molar mass), None when the unit is per volume of
    adsorbent, the model's filled fraction, or the molar mass is unknown.
    """

    pressures: np.ndarray
    amounts: np.ndarray
    n_adsorption: int
    T: float  # K
    fluid: Fluid
    unit: str | None
    p0_source: str
    source: str = "isotherm"
    material: str | None = None
    p0: float | None = None  # Pa (median over points) when known
    normalization: str = "pore"
    notes: list[str] = field(default_factory=list)
    loading_to_mmol_g: float | None = None

    @property
    def path(self) -> PressurePath:
        """The measured points as a pressure path (what the objective scores)."""
        return PressurePath(self.pressures, self.n_adsorption)

    @property
    def simulation_path(self) -> PressurePath:
        """RH = 0 (empty pores), then every measured point: what the simulator runs.

        Adsorption starts from the empty state, so the first measured point lies on
        the least fixed point above it (path independence, docs/physics.md).
        """
        return PressurePath(np.concatenate([[0.0], self.pressures]), self.n_adsorption + 1)

    @property
    def branches(self) -> np.ndarray:
        return self.path.branches

    @property
    def has_desorption(self) -> bool:
        return self.n_adsorption < len(self.pressures)

    def describe(self) -> dict:
        return {"adsorbate": self.fluid.name, "T": self.T, "TC": self.fluid.TC, "unit": self.unit,
                "points": int(len(self.pressures)), "points_adsorption": int(self.n_adsorption),
                "p0_source": self.p0_source, "material": self.material,
                "loading_to_mmol_g": self.loading_to_mmol_g}


def measured_from_raw(raw, *, tc: float | None = None, p0: float | None = None,
                      normalization: str = "pore", loading_unit: str | None = None) -> MeasuredIsotherm:
    """A parsed file -> a MeasuredIsotherm (units, p0, fluid, noise; see the module).

    ``loading_unit`` (``--loading-unit``) replaces the file's loading unit.
    """
    meta = raw.metadata
    src = meta.get("source", "isotherm")
    T = temperature_kelvin(meta.get("temperature"), meta.get("units_temperature"), src)
    fluid = _fluid(meta.get("adsorbate"), tc, src)
    try:
        fluid.check_subcritical(T)
    except InputError as exc:
        raise InputError(f"{src}: {exc}") from None
    unit = loading_unit or meta.get("units_loading")
    loading = read_loading_unit(unit, fluid, T, src, units_mass=meta.get("units_mass"),
                                basis=meta.get("loading_basis"), option=loading_unit is not None)
    notes: list[str] = list(meta.get("notes") or [])
    if meta.get("units_temperature") in (None, ""):
        notes.append(f"temperature {T:g} has no unit: read as K")
    if loading_unit and meta.get("units_loading") and loading_unit != meta.get("units_loading"):
        notes.append(f"loading unit '{loading_unit}' from --loading-unit (the file says '{meta['units_loading']}')")
    relative, p0_pa, p0_source = _relative_pressures(raw, fluid, T, p0, src)
    pressures, amounts, branches = _clean(relative, np.asarray(raw.amounts, float), np.asarray(raw.branches),
                                          src, notes)
    ads = branches == ADSORPTION
    return MeasuredIsotherm(
        pressures=pressures, amounts=amounts, n_adsorption=int(ads.sum()), T=T, fluid=fluid,
        unit=unit, p0_source=p0_source, source=src, material=meta.get("material"),
        p0=p0_pa, normalization=normalization, notes=notes, loading_to_mmol_g=loading.to_mmol_g,
    )


def _fluid(adsorbate, tc, src) -> Fluid:
    try:
        return resolve_fluid(adsorbate, tc=tc)
    except InputError as exc:
        raise InputError(f"{src}: {exc}") from None


# -- units --------------------------------------------------------------------------------

STP_CM3_PER_MMOL = 22.414  # ideal gas at 0 °C and 1 atm: 22 414 cm3/mol
MODEL_LOADING_UNITS = ("fraction", "filled fraction", "per site")  # what write_aif writes for model curves
WEIGHT_PERCENT = re.compile(r"^(wt\.?|w/w|weight|mass)\s*-?\s*(%|percent)$|^%\s*(wt\.?|w/w)$")
PYGAPS_RATIO = re.compile(r"^(fraction|%)\s+(mass|volume|molar)$")
LOADING_EXAMPLES = "e.g. mmol/g, cm3(STP)/g, mg/g, wt%, mmol/cm3"


@dataclass(frozen=True)
class LoadingUnit:
    """How a file's amounts read: ``basis`` "mass" (per gram of adsorbent), "volume"
    (per cm3 of adsorbent) or "model" (the toolkit's filled fraction); ``to_mmol_g``
    multiplies an amount into mmol/g (None when not per mass or not convertible)."""

    text: str
    basis: str
    to_mmol_g: float | None
    meaning: str


def read_loading_unit(unit, fluid: Fluid, T: float, src, *, units_mass=None, basis=None, option=False) -> LoadingUnit:
    """The file's loading unit read as amount per mass or per volume, else a one-line refusal.

    Volumes per mass are gas at STP (the convention of adsorption exports; ``basis``
    "volume_liquid", pyGAPS's liquid volume, divides by the liquid molar volume
    instead); masses per mass (mg/g, wt%) divide by the adsorbate's molar mass. An
    amount without a per-what (``cc``, ``mmol``) is per the file's ``_units_mass``.
    """
    where = "--loading-unit" if option else "loading unit"
    if unit is None or not str(unit).strip():
        raise InputError(f"{src}: the file gives no loading unit: give it with --loading-unit UNIT "
                         f"({LOADING_EXAMPLES})")
    text = str(unit).strip()
    if text.lower() in MODEL_LOADING_UNITS:
        return LoadingUnit(text, "model", None, "filled fraction of the model")
    refuse = InputError(f"{src}: {where} '{text}' is not an amount per mass or per volume of adsorbent "
                        f"({LOADING_EXAMPLES})" + ("" if option else ": give --loading-unit UNIT"))
    pygaps = PYGAPS_RATIO.match(text.lower())  # pyGAPS' labels: 'fraction mass', '% mass', '% volume'
    if pygaps and pygaps.group(2) != "molar":
        num = _units().Quantity(1.0 if pygaps.group(1) == "fraction" else 0.01, "g")
        den = _units().Quantity(1.0, "g" if pygaps.group(2) == "mass" else "cm^3")
    elif WEIGHT_PERCENT.match(text.lower()):
        num, den = _units().Quantity(1.0, "g"), _units().Quantity(100.0, "g")
    else:
        try:
            num, den = _num_den(_spelled_loading(text), refuse)
        except InputError:  # 'MMOL/G': capitals pint does not know
            num, den = _num_den(_spelled_loading(text.lower()), refuse)
    if den.dimensionless and units_mass:
        den = _num_den(_spelled_loading(str(units_mass)), refuse)[0]
    return _classify(text, num, den, fluid, T, refuse, str(basis or "").lower())


def _spelled_loading(text: str) -> str:
    """Instrument spellings pint does not read: (STP), cm³, cm3, g-1."""
    s = re.sub(r"\bscc\b", "cc", text)  # standard cc
    s = re.sub(r"[(\[]?\s*stp\s*[)\]]?", " ", s, flags=re.IGNORECASE)
    s = s.replace("³", "^3").replace("²", "^2").replace("⁻¹", "^-1").replace("·", " ")
    s = re.sub(r"(?<=[A-Za-z])(-?\d+)\b", r"^\1", s)
    s = re.sub(r"(?<![A-Za-z^\d.])(\d+(?:\.\d+)?)(?=[A-Za-z])", r"\1 ", s)  # g/100g
    return " ".join(s.split()).strip(" /")


def _num_den(text: str, refuse: InputError):
    """(numerator, denominator) quantities of a unit, kept apart so g/g does not cancel."""
    ureg = _units()

    def parse(part: str):
        q = ureg.parse_expression(part.strip() or "1")
        return q if isinstance(q, ureg.Quantity) else ureg.Quantity(float(q), "")

    try:
        if "/" in text:
            top, bottom = text.split("/", 1)
            return parse(top), parse(bottom)
        q = parse(text)
    except Exception:  # pint raises many kinds on text that is not a unit
        raise refuse from None
    num, den = ureg.Quantity(float(q.magnitude), ""), ureg.Quantity(1.0, "")
    for name, power in q.units._units.items():
        if power > 0:
            num = num * ureg.Quantity(1.0, name) ** power
        else:
            den = den * ureg.Quantity(1.0, name) ** -power
    return num, den


def _classify(text, num, den, fluid: Fluid, T, refuse, basis) -> LoadingUnit:
    amount = next((k for k, dim in (("substance", "[substance]"), ("gas", "[length]**3"), ("mass", "[mass]"))
                   if num.check(dim)), None)
    if amount is None:
        raise refuse
    if den.check("[length]**3"):
        return LoadingUnit(text, "volume", None, "amount per volume of adsorbent")
    if not den.check("[mass]"):
        raise refuse
    ratio = num / den
    if amount == "substance":
        return LoadingUnit(text, "mass", float(ratio.to("mmol/g").magnitude), "amount per mass")
    if amount == "gas" and basis == "volume_liquid":
        try:
            vm = fluid.liquid_molar_volume(T)[0]  # cm3/mol
        except InputError:
            return LoadingUnit(text, "mass", None, "liquid volume per mass (no liquid density known)")
        return LoadingUnit(text, "mass", float(ratio.to("cm^3/g").magnitude) * 1000.0 / vm, "liquid volume per mass")
    if amount == "gas":
        return LoadingUnit(text, "mass", float(ratio.to("cm^3/g").magnitude) / STP_CM3_PER_MMOL,
                           "gas volume at STP per mass")
    molar_mass = getattr(fluid, "molar_mass", None)  # g/mol
    factor = float(ratio.to("").magnitude) * 1000.0 / molar_mass if molar_mass else None
    return LoadingUnit(text, "mass", factor, "mass per mass" + ("" if factor else " (molar mass unknown)"))



@lru_cache(maxsize=1)
def _units():
    import pint

    return pint.UnitRegistry()


def _quantity(value, unit: str, kind: str, src):
    """``value`` in ``unit`` as a pint quantity of dimension ``kind`` ("[pressure]", ...)."""
    import pint

    ureg = _units()
    spelled = {"torr": "torr", "c": "degC", "°c": "degC", "deg c": "degC", "celsius": "degC", "k": "K",
               "mm hg": "mmHg", "mmhg": "mmHg"}.get(unit.strip().lower(), unit.strip())
    try:
        q = ureg.Quantity(value, spelled)
    except (pint.errors.UndefinedUnitError, pint.errors.DefinitionSyntaxError, AttributeError, TypeError,
            ValueError, AssertionError):
        raise InputError(f"{src}: unknown {kind.strip('[]')} unit '{unit}'") from None
    if not q.check(kind):
        raise InputError(f"{src}: '{unit}' is not a {kind.strip('[]')} unit")
    return q


def temperature_kelvin(value, unit, src) -> float:
    """The file's temperature in K (unit K or °C; no unit: K)."""
    if value is None or isinstance(value, str):
        raise InputError(f"{src}: the file gives no temperature (needed for p/p0 and the model's T)")
    if unit in (None, ""):
        kelvin = float(value)
    else:
        kelvin = float(_quantity(float(value), str(unit), "[temperature]", src).to("K").magnitude)
    if not kelvin > 0:
        raise InputError(f"{src}: temperature {value} {unit or ''} is not above absolute zero".rstrip())
    return kelvin


def pressure_pascal(values, unit: str, src) -> np.ndarray:
    return np.asarray(_quantity(np.asarray(values, float), unit, "[pressure]", src).to("Pa").magnitude, float)


def _relative_pressures(raw, fluid: Fluid, T: float, p0, src):
    """(p/p0 per point, p0 in Pa or None, where p0 came from)."""
    unit = str(raw.metadata.get("units_pressure") or "relative")
    pressures = np.asarray(raw.pressures, float)
    top = float(np.nanmax(pressures, initial=0.0))
    if not raw.metadata.get("units_pressure") and top > MAX_UNITLESS_RELATIVE:
        raise InputError(f"{src}: the file gives no pressure unit and pressures reach {top:g}: not p/p0; "
                         "add the unit to the file (e.g. _units_pressure kPa)")
    if raw.relative or unit.strip().lower() in RELATIVE_UNITS:
        if p0 is not None:
            raise InputError(f"{src}: pressures are already relative (p/p0): --p0 does not apply")
        return pressures, None, "relative pressures in the file"
    if p0 is not None:
        if not p0 > 0:
            raise InputError(f"--p0 must be positive, got {p0:g}")
        return pressures / p0, _pascal(p0, unit, src), f"--p0 {p0:g} {unit}"
    if raw.p0 is not None:
        column = np.asarray(raw.p0, float)
        if not np.all(column > 0):
            raise InputError(f"{src}: the p0 column must be positive")
        return pressures / column, _pascal(float(np.median(column)), unit, src), "p0 column of the file"
    try:
        sat, how = fluid.saturation_pressure(T)
    except InputError as exc:
        raise InputError(f"{src}: pressures in {unit} without a p0 column: {exc}") from None
    return pressure_pascal(pressures, unit, src) / sat, sat, f"{how} at {T:g} K: {sat:.6g} Pa"


def _pascal(value, unit, src):
    """p0 in Pa; the unit must be a pressure unit even where only ratios are needed."""
    return float(pressure_pascal([value], unit, src)[0])


# -- noise ----------------------------------------------------------------------------------


def _clean(p, a, branches, src, notes):
    """Drop points outside 0 < p/p0 <= 1, screen and order each branch, refuse what cannot be fitted."""
    if len(p) != len(a):
        raise InputError(f"{src}: {len(p)} pressures but {len(a)} amounts")
    if not (np.all(np.isfinite(p)) and np.all(np.isfinite(a))):
        raise InputError(f"{src}: pressures and amounts must be finite numbers (found NaN or infinity)")
    if not (branches == ADSORPTION).any():
        raise InputError(f"{src}: no adsorption loop (the file has desorption points only)")
    labels = _row_labels(branches)
    keep = (p > 0) & (p <= 1)
    if (~keep).any():
        parts = [f"{n} point(s) {where}" for n, where in ((int((p <= 0).sum()), "at p/p0 <= 0"),
                                                          (int((p > 1).sum()), "above p/p0 = 1")) if n]
        notes.append(f"dropped {' and '.join(parts)} (the model covers 0 < p/p0 <= 1): {_name_rows(labels[~keep])}")
    p, a, branches, labels = p[keep], a[keep], branches[keep], labels[keep]
    once = _without_repeats(p, a, branches, labels, notes)
    p, a, branches, labels = p[once], a[once], branches[once], labels[once]
    branches = _split_loop(p, branches, labels, notes)
    _require_adsorption(branches, src)
    top = p[branches == ADSORPTION].max()
    above = (branches == DESORPTION) & (p > top)
    if above.any():  # measured above every adsorption point: the path reached it rising
        branches = np.where(above, ADSORPTION, branches)
        notes.append(f"{int(above.sum())} desorption point(s) above the highest adsorption pressure "
                     "moved to the adsorption branch")
    ads = _branch_order(p, a, labels, branches == ADSORPTION, "adsorption", notes)
    des = _branch_order(p, a, labels, branches == DESORPTION, "desorption", notes)
    order = np.concatenate([ads, des]).astype(int)
    p, a, labels = p[order], a[order], labels[order]
    branches = np.concatenate([np.full(len(ads), ADSORPTION, np.int8), np.full(len(des), DESORPTION, np.int8)])
    _require_uptake(a, src)
    kept = _drop_outliers(p, a, branches, labels, notes)
    p, a, branches = p[kept], a[kept], branches[kept]
    _require_adsorption(branches, src)
    _require_uptake(a, src, " once the outliers are left out")
    if (a < 0).any():
        notes.append(f"{int((a < 0).sum())} negative amount(s) kept as measured")
    return p, a, branches


def _without_repeats(p, a, branches, labels, notes) -> np.ndarray:
    """Mask of the points kept: a row equal (pressure and amount) to an earlier row of its branch is left out."""
    keep = np.ones(len(p), bool)
    for which in (ADSORPTION, DESORPTION):
        idx = np.flatnonzero(branches == which)
        twins = screening.repeats(p[idx], a[idx])
        if twins:
            notes.append(f"{_name_rows(labels[idx[[i for i, _ in twins]]])} repeat earlier rows "
                         f"({_name_rows(labels[idx[[j for _, j in twins]]])}) exactly: left out, one copy kept")
            keep[idx[[i for i, _ in twins]]] = False
    return keep


def _split_loop(p, branches, labels, notes):
    """A file without desorption points whose pressures rise, then fall (at least
    MIN_RUN points each way, in file order) holds a whole loop: the fall is desorption
    (as pyGAPS splits a loop without a branch column)."""
    if (branches == DESORPTION).any():
        return branches
    top = int(np.argmax(p))
    rise, fall = p[: top + 1], p[top:]
    if len(fall) - 1 < screening.MIN_RUN or np.any(np.diff(rise) < 0) or np.any(np.diff(fall) >= 0):
        return branches
    notes.append(f"{_name_rows(labels[[top + 1, len(p) - 1]]).replace(',', ' to')} fall from the highest "
                 "pressure: read as the desorption branch")
    return np.where(np.arange(len(p)) > top, DESORPTION, branches).astype(np.int8)


def _require_adsorption(branches, src):
    n = int((branches == ADSORPTION).sum())
    if n < MIN_ADSORPTION_POINTS:
        raise InputError(f"{src}: {n} adsorption point(s) with 0 < p/p0 <= 1, need at least {MIN_ADSORPTION_POINTS}")


def _require_uptake(a, src, when=""):
    """No uptake (every amount <= 0, or all the same) is nothing to fit: refused."""
    if not (a > 0).any():
        raise InputError(f"{src}: no uptake: every amount is <= 0{when}")
    if np.ptp(a) <= 1e-9 * np.abs(a).max():
        raise InputError(f"{src}: no uptake: every amount is {a[0]:g}{when}")


def _row_labels(branches) -> np.ndarray:
    """(branch name, row in that branch's file order, from 1) per point, for notes."""
    labels = np.empty(len(branches), object)
    for which, name in ((ADSORPTION, "adsorption"), (DESORPTION, "desorption")):
        idx = np.flatnonzero(branches == which)
        for k, i in enumerate(idx):
            labels[i] = (name, k + 1)
    return labels


def _name_rows(labels, limit: int = 8) -> str:
    """'adsorption rows 3, 5 and desorption row 2' (at most ``limit`` numbers per branch)."""
    parts = []
    for name in ("adsorption", "desorption"):
        rows = [k for b, k in labels if b == name]
        if rows:
            more = f" (+{len(rows) - limit} more)" if len(rows) > limit else ""
            shown = ", ".join(str(k) for k in rows[:limit]) + more
            parts.append(f"{name} row{'s' if len(rows) > 1 else ''} {shown}")
    return " and ".join(parts)


def _branch_order(p, a, labels, mask, name, notes) -> np.ndarray:
    """Indices of one branch's points in pressure order (pasted runs and sorting noted)."""
    rising = name == "adsorption"
    idx = np.flatnonzero(mask)
    runs = screening.pasted(p[idx], rising)
    if runs:
        best = max(runs, key=len)  # max keeps the first of equals
        dropped = np.setdiff1d(np.arange(len(idx)), best)
        notes.append(f"{name}: pressures restart {len(runs) - 1} time(s), {len(runs)} runs pasted together: kept "
                     f"{_name_rows(labels[idx[best[[0, -1]]]]).replace(',', ' to')}, left out the other "
                     f"{len(dropped)} ({_name_rows(labels[idx[dropped]])})")
        idx = idx[best]
    order = np.argsort(p[idx] if rising else -p[idx], kind="stable")
    moved = order != np.arange(len(idx))
    if moved.any():
        rows = _name_rows(labels[idx[np.sort(order[moved])]])
        notes.append(f"{int(moved.sum())} point(s) out of pressure order ({rows}): sorted within the branch")
    return idx[order]


def _drop_outliers(p, a, branches, labels, notes) -> np.ndarray:
    """Mask of the points kept: level and monotone outliers (:mod:`invtoolkit.parsing.screening`) named in notes."""
    level = screening.level_outliers(a)
    lo, hi = screening.trimmed_span(a[~level])
    mono = np.zeros(len(a), bool)
    for which in (ADSORPTION, DESORPTION):
        sel = np.flatnonzero((branches == which) & ~level)
        up = np.argsort(p[sel], kind="stable")  # rising pressure for both branches
        mono[sel[up]] = screening.monotone_outliers(a[sel[up]], hi - lo)
    for mask, why in ((level, f"out of the range of the other amounts ({lo:.4g} to {hi:.4g} without the extremes)"),
                      (mono, "far outside the amounts of both its neighbours in pressure (an isolated excursion)")):
        if mask.any():
            points = "; ".join(f"{_name_rows([labels[i]])} (p/p0 {p[i]:.4g}, amount {a[i]:.6g})"
                               for i in np.flatnonzero(mask))
            notes.append(f"left out of the fit, {why}: {points}")
    return ~(level | mono)


