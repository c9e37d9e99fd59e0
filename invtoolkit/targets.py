"""Reading target isotherms from files onto the simulator's pressure axis.

``read_target(path)`` dispatches on the file suffix through :data:`READERS`; a
reader is ``reader(path, *, steps, normalization) -> Target``. Other formats (AIF,
pyGAPS JSON) plug in with :func:`register_reader`; they can hand their measured
points to :func:`target_from_points`, which validates them and interpolates onto
the simulator axis.

Supported here:
  * ``.npy``: 41 (adsorption branch) or 81 (loop) amounts on the default axis
    (``steps + 1`` or ``2 * steps + 1`` in general);
  * ``.csv``: columns pressure,amount[,branch] (header optional; branch is
    ads/des). Without a branch column, pressures that rise then fall are split
    at the highest one into adsorption and desorption.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.pressure import PressureSchedule, schedule_for_points
from invtoolkit.problem import Target

MIN_POINTS = 3
EDGE_TOLERANCE = 1e-3  # a branch may stop this short of RH = 1 (held constant there)

Reader = Callable[..., Target]
READERS: dict[str, Reader] = {}


def register_reader(suffix: str, reader: Reader) -> None:
    """Let ``read_target`` read files ending in ``suffix`` (e.g. ".aif")."""
    READERS[suffix.lower()] = reader


def read_target(path, *, steps: int = 40, normalization: str = "pore", **options) -> Target:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a target file")
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(READERS))
        raise InputError(f"{path}: unknown target format '{path.suffix}' (supported: {known})")
    if normalization not in ("pore", "site"):
        raise InputError(f"unknown normalization '{normalization}' (pore or site)")
    options = {k: v for k, v in options.items() if v is not None}  # e.g. scale, p0 (measured formats)
    if options:
        import inspect

        accepted = inspect.signature(reader).parameters
        extra = sorted(k for k in options if k not in accepted)
        if extra:
            raise InputError(f"{path}: option(s) {', '.join(extra)} do not apply to '{path.suffix}' targets")
    return reader(path, steps=int(steps), normalization=normalization, **options)


def _read_npy(path: Path, *, steps: int, normalization: str) -> Target:
    try:
        values = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise InputError(f"{path}: not a readable .npy array ({type(exc).__name__})") from None
    if values.dtype.kind not in "biuf":
        raise InputError(f"{path}: amounts must be numbers, got dtype {values.dtype}")
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 2 and 1 in values.shape:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise InputError(f"{path}: expected one isotherm (P,), got shape {values.shape}")
    try:
        schedule = schedule_for_points(len(values), steps)
    except ValueError as exc:
        raise InputError(f"{path}: {exc}") from None
    _check_amounts(values, path)
    return Target(values, schedule, normalization, notes=[f"{path.name}: {len(values)} points on the simulator axis"])


def _read_csv(path: Path, *, steps: int, normalization: str) -> Target:
    rows = _csv_rows(path)
    header = None
    if rows and not _is_number(rows[0][0]):
        header = [c.strip().lower() for c in rows[0]]
        rows = rows[1:]
    if not rows:
        raise InputError(f"{path}: no data rows")
    widths = {len(r) for r in rows}
    if len(widths) != 1 or widths.pop() not in (2, 3):
        raise InputError(f"{path}: every row needs 2 or 3 columns: pressure,amount[,branch]")
    cols = _column_order(header, len(rows[0]), path)
    try:
        pressure = np.array([float(r[cols["pressure"]]) for r in rows])
        amount = np.array([float(r[cols["amount"]]) for r in rows])
    except ValueError as exc:
        raise InputError(f"{path}: pressure and amount must be numbers ({exc})") from None
    branch = None
    if "branch" in cols:
        branch = np.array([_branch_of(r[cols["branch"]], path) for r in rows])
    return target_from_points(pressure, amount, branch, steps=steps, normalization=normalization, source=str(path))


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
    _check_amounts(amount, source)
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


def _check_amounts(values: np.ndarray, source) -> None:
    if not np.all(np.isfinite(values)):
        raise InputError(f"{source}: contains NaN or infinite amounts")
    if values.min(initial=0) < 0 or values.max(initial=0) > 1:
        raise InputError(f"{source}: amounts must lie in [0, 1] (fraction filled), found "
                         f"{values.min():g}..{values.max():g}")


def _csv_rows(path: Path) -> list[list[str]]:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text CSV file") from None
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rows.append([c.strip() for c in line.replace(";", ",").split(",")])
    if not rows:
        raise InputError(f"{path}: empty file")
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


_ALIASES = {
    "pressure": ("pressure", "p", "rh", "p/p0", "relative_pressure", "relative pressure"),
    "amount": ("amount", "loading", "uptake", "n", "filling", "adsorbed"),
    "branch": ("branch",),
}


def _column_order(header, width: int, path) -> dict[str, int]:
    positional = {"pressure": 0, "amount": 1, **({"branch": 2} if width == 3 else {})}
    if header is None:
        return positional
    found = {}
    for key, names in _ALIASES.items():
        for i, h in enumerate(header):
            if h in names:
                found[key] = i
    if "pressure" in found and "amount" in found:
        if width == 3 and "branch" not in found:
            found["branch"] = ({0, 1, 2} - {found["pressure"], found["amount"]}).pop()
        return found
    return positional


def _branch_of(text: str, path) -> str:
    t = text.strip().lower()
    if t in ("ads", "adsorption", "a"):
        return "ads"
    if t in ("des", "desorption", "d"):
        return "des"
    raise InputError(f"{path}: branch must be 'ads' or 'des', got '{text}'")


register_reader(".npy", _read_npy)
register_reader(".csv", _read_csv)

# Measured-isotherm formats (AIF, pyGAPS JSON/CSV) live in invtoolkit.formats.
from invtoolkit.formats import install_target_readers  # noqa: E402

install_target_readers(register_reader, READERS)
