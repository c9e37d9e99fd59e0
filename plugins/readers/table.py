"""Model targets as tables: ``.npy`` (41 or 81 fractions on the simulator axis) and
plain ``.csv`` (columns pressure,amount[,branch]; header optional; branch ads/des;
without one, pressures that rise then fall are split at the highest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invtoolkit.plugin import InputError, Target, check_amounts, schedule_for_points, target_from_points


def read_npy(path: Path, *, steps: int, normalization: str) -> Target:
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
    check_amounts(values, path)
    return Target(values, schedule, normalization, notes=[f"{path.name}: {len(values)} points on the simulator axis"])


def read_csv(path: Path, *, steps: int, normalization: str) -> Target:
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
