"""AIF (Adsorption Information File) reader: ``_adsorp_*`` / ``_desorp_*`` loops, via gemmi."""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import (ADSORPTION, AIF_ADSORPTIVE_TAGS, AIF_AMOUNT_COLUMNS, AIF_LOADING_UNIT_TAGS,
                               AIF_MATERIAL_TAGS, DESORPTION, InputError, RawIsotherm, RELATIVE_UNITS,
                               require_file)


def parse_aif(path) -> RawIsotherm:
    """Both loops of an AIF file as written: pressure, optional p0 column, amount.

    ``_units_pressure`` absent or ``relative`` means p/p0; other units are kept
    for :func:`invtoolkit.parsing.measured.measured_from_raw` to convert.
    """
    from gemmi import cif

    path = require_file(path)
    try:
        doc = cif.read_file(str(path))
    except Exception as exc:  # gemmi raises RuntimeError/ValueError with a line number
        raise InputError(f"{path}: not a readable AIF/CIF file ({first_line(exc)})") from None
    if len(doc) == 0:
        raise InputError(f"{path}: no data_ block found")
    block = doc[0]

    def value(*tags):
        for tag in tags:
            raw = block.find_value(tag)
            if raw is not None and raw not in ("?", "."):
                return cif.as_string(raw)
        return None

    units_p = (value("_units_pressure") or "").strip()  # absent: relative, checked against the values
    columns = [_loop(block, prefix, branch, path) for prefix, branch in (("_adsorp_", ADSORPTION),
                                                                         ("_desorp_", DESORPTION))]
    columns = [c for c in columns if c is not None]
    if not columns:
        raise InputError(f"{path}: no _adsorp_pressure loop found (is it an AIF file?)")
    p0_parts = [c[1] for c in columns]
    p0 = np.concatenate(p0_parts) if all(part is not None for part in p0_parts) else None
    meta = {
        "adsorbate": value(*AIF_ADSORPTIVE_TAGS),
        "material": value(*AIF_MATERIAL_TAGS),
        "temperature": maybe_float(value("_exptl_temperature")),
        "units_temperature": value("_units_temperature"),
        "units_pressure": units_p or None,
        "units_loading": value(*AIF_LOADING_UNIT_TAGS),
        "units_mass": value("_units_mass"),  # what an amount without a per-what ('cc') is per
        "source": str(path),
        "format": "aif",
    }
    return RawIsotherm(np.concatenate([c[0] for c in columns]), np.concatenate([c[2] for c in columns]),
                       np.concatenate([c[3] for c in columns]), units_p.lower() in RELATIVE_UNITS, p0, meta)


def _loop(block, prefix, branch, path):
    """(pressures, p0 column or None, amounts, branches) of one loop, or None if absent."""
    table = block.find(prefix, ["pressure", "?p0", *["?" + c for c in AIF_AMOUNT_COLUMNS]])
    if len(table) == 0:
        return None
    amount_index = next((i for i in range(2, 2 + len(AIF_AMOUNT_COLUMNS)) if table.has_column(i)), None)
    if amount_index is None:
        raise InputError(f"{path}: loop {prefix}pressure has no {prefix}amount (or {prefix}loading) column")
    p = numbers(table.column(0), path, f"{prefix}pressure")
    a = numbers(table.column(amount_index), path, f"{prefix}{AIF_AMOUNT_COLUMNS[amount_index - 2]}")
    p0 = numbers(table.column(1), path, f"{prefix}p0") if table.has_column(1) else None
    return p, p0, a, np.full(len(p), branch, np.int8)


def numbers(values, path, name) -> np.ndarray:
    """CIF values as floats; a value that is not a finite number is a one-line error."""
    from gemmi import cif

    out = []
    for i, v in enumerate(values):
        x = cif.as_number(v)
        if not np.isfinite(x):
            raise InputError(f"{path}: {name} value '{v}' (point {i + 1}) is not a number")
        out.append(x)
    return np.array(out, dtype=np.float64)


def first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def maybe_float(text):
    if text is None:
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return text
