"""pyGAPS point isotherms: JSON (``isotherm_to_json``) and CSV (``isotherm_to_csv``)."""

from __future__ import annotations

import csv
import json

import numpy as np

from invtoolkit.plugin import ADSORPTION, DESORPTION, InputError, RawIsotherm, RELATIVE_UNITS, require_file

from .aif import first_line, maybe_float

P0_KEYS = ("saturation_pressure", "p0", "pressure_saturation")


def parse_pygaps_json(path) -> RawIsotherm:
    """A pyGAPS JSON isotherm: ``isotherm_data`` as a list of points (pyGAPS 4), a dict
    of points keyed by index (pyGAPS 2/3) or a dict of columns; ``branch`` "des" (or
    1/true) marks desorption points."""
    path = require_file(path)
    try:
        raw = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({first_line(exc)})") from None
    if not isinstance(raw, dict) or "isotherm_data" not in raw:
        raise InputError(f"{path}: no 'isotherm_data' (expected a pyGAPS point isotherm JSON)")
    rows = _json_rows(raw["isotherm_data"], path)
    return _from_rows(path, rows, raw, raw.get("pressure_key", "pressure"), raw.get("loading_key", "loading"),
                      fmt="pygaps-json")


def parse_pygaps_csv(path) -> RawIsotherm:
    """A pyGAPS CSV isotherm: ``key,value`` lines until a line starting with ``data``,
    then a header (pressure, loading, optional branch ads/des) and one row per point."""
    path = require_file(path)
    try:
        lines = path.read_text().splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file") from None
    header: dict = {}
    start = None
    for i, row in enumerate(csv.reader(lines)):
        if not row or not "".join(row).strip():
            continue
        if row[0].strip().lower().startswith("data"):
            start = i + 1
            break
        if len(row) >= 2:
            header[row[0].strip()] = maybe_float(row[1].strip())
    if start is None:
        raise InputError(f"{path}: no 'data' line found (expected a pyGAPS CSV isotherm)")
    table = [r for r in csv.reader(lines[start:]) if r and "".join(r).strip()]
    if len(table) < 2:
        raise InputError(f"{path}: no data rows after the 'data' line")
    columns = [c.strip() for c in table[0]]
    rows = [dict(zip(columns, (c.strip() for c in r))) for r in table[1:]]
    return _from_rows(path, rows, header, columns[0], columns[1], fmt="pygaps-csv")


def looks_like_pygaps_csv(path) -> bool:
    """True if a ``.csv`` file has a pyGAPS ``data`` line (plain tables do not)."""
    try:
        with open(path) as fh:
            return any(line.lower().startswith("data") for line in fh)
    except (OSError, UnicodeDecodeError):
        return False


def _json_rows(data, path) -> list[dict]:
    if isinstance(data, list):
        rows = data
    elif isinstance(data, dict) and data and all(isinstance(v, dict) for v in data.values()):
        rows = [data[k] for k in sorted(data, key=lambda k: float(k) if str(k).lstrip("-").isdigit() else 0)]
    elif isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        n = {len(v) for v in data.values()}
        if len(n) != 1:
            raise InputError(f"{path}: isotherm_data columns differ in length")
        rows = [{k: v[i] for k, v in data.items()} for i in range(n.pop())]
    else:
        raise InputError(f"{path}: isotherm_data must be a list of points or a dict of columns")
    if not rows or not all(isinstance(r, dict) for r in rows):
        raise InputError(f"{path}: isotherm_data holds no points")
    return rows


def _is_desorption(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("des", "desorption", "1", "true")
    return bool(value) if value is not None and value == value else False


def _from_rows(path, rows, header, p_key, l_key, fmt) -> RawIsotherm:
    try:
        pressures = np.array([float(r[p_key]) for r in rows])
        amounts = np.array([float(r[l_key]) for r in rows])
    except KeyError as exc:
        raise InputError(f"{path}: a data point has no '{exc.args[0]}' value") from None
    except (TypeError, ValueError):
        raise InputError(f"{path}: pressure and loading values must be numbers") from None
    branches = np.array([DESORPTION if _is_desorption(r.get("branch")) else ADSORPTION for r in rows], np.int8)
    mode = str(header.get("pressure_mode") or "").lower()
    unit = str(header.get("pressure_unit") or "")
    relative = mode == "relative" or (not mode and unit.lower() in RELATIVE_UNITS)
    p0 = None
    point_key = next((k for k in P0_KEYS if all(k in r for r in rows)), None)
    header_p0 = next((header[k] for k in P0_KEYS if isinstance(header.get(k), (int, float))), None)
    if not relative and point_key is not None:
        p0 = np.array([float(r[point_key]) for r in rows])
    elif not relative and header_p0 is not None:
        p0 = np.full(len(rows), float(header_p0))
    loading_unit, material_unit = header.get("loading_unit"), header.get("material_unit")
    reader_notes = []
    if not loading_unit and not header.get("loading_basis"):  # pyGAPS's own defaults: molar basis, mmol per g
        loading_unit, material_unit = "mmol", material_unit or "g"
        reader_notes.append("no loading unit in the file: pyGAPS's default, mmol/g")
    meta = {
        "adsorbate": header.get("adsorbate"),
        "material": header.get("material"),
        "temperature": header.get("temperature"),
        "units_temperature": header.get("temperature_unit", "K"),  # pyGAPS stores K unless it says otherwise
        "units_loading": f"{loading_unit}/{material_unit}" if loading_unit and material_unit else loading_unit,
        "units_pressure": "relative" if relative else unit,
        "loading_basis": header.get("loading_basis"),  # volume_liquid: liquid, not gas, volume
        "source": str(path),
        "format": fmt,
        "notes": reader_notes,
    }
    return RawIsotherm(pressures, amounts, branches, relative, p0, meta)
