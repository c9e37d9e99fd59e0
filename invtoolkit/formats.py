"""Measured isotherm files in and out: AIF (read/write) and pyGAPS JSON/CSV (read).

* AIF, the Adsorption Information File (Evans et al., Langmuir 2021), is a CIF
  dialect: parsed and written with ``gemmi.cif``.
* pyGAPS JSON (``isotherm_to_json``) is a JSON document: read with :mod:`json`.
* pyGAPS CSV (``isotherm_to_csv``): ``key,value`` metadata lines, a line starting
  with ``data``, then a table with a header row; read with :mod:`csv`.

Every reader returns an :class:`Isotherm` in *relative* pressure: pressures given
as absolute values are divided by the saturation pressure p0 (per point, or one
value from the header). :func:`isotherm_to_target` then puts it on the simulator's
pressure schedule and turns the amounts into the model's filled fraction.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.pressure import ADSORPTION, DESORPTION
from invtoolkit.io import require_file

RELATIVE_UNITS = {"relative", "p/p0", "p/po", "rh", "relative pressure", "none", "", "1"}
AIF_VERSION = "1.0"  # the version written by this module (tags below)
# Accepted spellings, oldest first: the AIF dictionary renamed several tags over time.
AIF_AMOUNT_COLUMNS = ("amount", "loading", "loading_absolute", "loading_excess")
AIF_ADSORPTIVE_TAGS = ("_exptl_adsorptive", "_adsorptive_name")
AIF_MATERIAL_TAGS = ("_adsnt_material_name", "_adsnt_material_id", "_sample_material_id")
AIF_LOADING_UNIT_TAGS = ("_units_loading", "_units_sorbed_amount")
P0_KEYS = ("saturation_pressure", "p0", "pressure_saturation")


@dataclass
class Isotherm:
    """A measured isotherm in relative pressure, in file order, with its metadata."""

    pressures: np.ndarray  # relative pressure p/p0
    amounts: np.ndarray  # in the file's loading unit
    branches: np.ndarray  # ADSORPTION (0) / DESORPTION (1) per point
    metadata: dict = field(default_factory=dict)  # adsorbate, material, temperature, units_loading, source

    def branch(self, which: int) -> tuple[np.ndarray, np.ndarray]:
        """(pressures, amounts) of one branch, sorted by pressure."""
        mask = self.branches == which
        order = np.argsort(self.pressures[mask], kind="stable")
        return self.pressures[mask][order], self.amounts[mask][order]

    @property
    def has_desorption(self) -> bool:
        return bool((self.branches == DESORPTION).any())


# -- reading -------------------------------------------------------------------------


def read_isotherm(path, p0: float | None = None) -> Isotherm:
    """Read ``.aif`` (or ``.cif``), pyGAPS ``.json`` or pyGAPS ``.csv`` by suffix."""
    path = require_file(path)
    reader = ISOTHERM_READERS.get(path.suffix.lower())
    if reader is None:
        known = ", ".join(sorted(ISOTHERM_READERS))
        raise InputError(f"{path}: unknown isotherm format '{path.suffix}' (known: {known})")
    return reader(path, p0=p0)


def read_aif(path, p0: float | None = None) -> Isotherm:
    """Adsorption (``_adsorp_*``) and desorption (``_desorp_*``) loops of an AIF file.

    Pressure columns are relative when ``_units_pressure`` is ``relative`` (or
    absent); otherwise each is divided by the ``_adsorp_p0``/``_desorp_p0`` column,
    or by ``p0`` when the file has none.
    """
    from gemmi import cif

    path = require_file(path)
    try:
        doc = cif.read_file(str(path))
    except Exception as exc:  # gemmi raises RuntimeError/ValueError with a line number
        raise InputError(f"{path}: not a readable AIF/CIF file ({_first_line(exc)})") from None
    if len(doc) == 0:
        raise InputError(f"{path}: no data_ block found")
    block = doc[0]

    def value(*tags):
        for tag in tags:
            raw = block.find_value(tag)
            if raw is not None and raw not in ("?", "."):
                return cif.as_string(raw)
        return None

    units_p = (value("_units_pressure") or "relative").strip()
    relative = units_p.lower() in RELATIVE_UNITS
    pressures, amounts, branches = [], [], []
    for prefix, branch in (("_adsorp_", ADSORPTION), ("_desorp_", DESORPTION)):
        amount_cols = ["?" + c for c in AIF_AMOUNT_COLUMNS]
        table = block.find(prefix, ["pressure", "?p0", *amount_cols])
        if len(table) == 0:
            continue
        amount_index = next((i for i in range(2, 2 + len(AIF_AMOUNT_COLUMNS)) if table.has_column(i)), None)
        if amount_index is None:
            raise InputError(f"{path}: loop {prefix}pressure has no {prefix}amount (or {prefix}loading) column")
        p = _numbers(table.column(0), path, f"{prefix}pressure")
        a = _numbers(table.column(amount_index), path, f"{prefix}{AIF_AMOUNT_COLUMNS[amount_index - 2]}")
        if not relative:
            if table.has_column(1):
                p = p / _positive(_numbers(table.column(1), path, f"{prefix}p0"), path, f"{prefix}p0")
            elif p0 is not None:
                p = p / _positive(np.array([p0], float), path, "p0")[0]
            else:
                raise InputError(
                    f"{path}: pressures are in {units_p} but there is no {prefix}p0 column: "
                    "give the saturation pressure (p0) or relative pressures"
                )
        pressures.append(p)
        amounts.append(a)
        branches.append(np.full(len(p), branch, np.int8))
    if not pressures:
        raise InputError(f"{path}: no _adsorp_pressure loop found (is it an AIF file?)")
    meta = {
        "adsorbate": value(*AIF_ADSORPTIVE_TAGS),
        "material": value(*AIF_MATERIAL_TAGS),
        "temperature": _maybe_float(value("_exptl_temperature")),
        "units_temperature": value("_units_temperature"),
        "units_pressure": units_p,
        "units_loading": value(*AIF_LOADING_UNIT_TAGS),
        "source": str(path),
        "format": "aif",
    }
    return _finish(path, np.concatenate(pressures), np.concatenate(amounts), np.concatenate(branches), meta)


def read_pygaps_json(path, p0: float | None = None) -> Isotherm:
    """A pyGAPS point isotherm saved by ``pygaps.isotherm_to_json``.

    ``isotherm_data`` may be a list of points (pyGAPS 4), a dict of points keyed
    by index (pyGAPS 2/3) or a dict of columns; ``branch`` is ``"des"`` (or 1/true)
    for desorption points, adsorption otherwise. With ``"pressure_mode":
    "absolute"`` the saturation pressure comes from a ``saturation_pressure`` (or
    ``p0``) column, the same key in the header, or ``p0``.
    """
    path = require_file(path)
    try:
        raw = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({_first_line(exc)})") from None
    if not isinstance(raw, dict) or "isotherm_data" not in raw:
        raise InputError(f"{path}: no 'isotherm_data' (expected a pyGAPS point isotherm JSON)")
    rows = _json_rows(raw["isotherm_data"], path)
    p_key = raw.get("pressure_key", "pressure")
    l_key = raw.get("loading_key", "loading")
    return _from_rows(path, rows, raw, p_key, l_key, p0, fmt="pygaps-json")


def read_pygaps_csv(path, p0: float | None = None) -> Isotherm:
    """A pyGAPS point isotherm saved by ``pygaps.isotherm_to_csv``.

    Metadata lines ``key,value`` until a line starting with ``data``; then a
    header (first column pressure, second loading, optional ``branch`` of
    ``ads``/``des``) and one row per point.
    """
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
            header[row[0].strip()] = _maybe_float(row[1].strip())
    if start is None:
        raise InputError(f"{path}: no 'data' line found (expected a pyGAPS CSV isotherm)")
    table = [r for r in csv.reader(lines[start:]) if r and "".join(r).strip()]
    if len(table) < 2:
        raise InputError(f"{path}: no data rows after the 'data' line")
    columns = [c.strip() for c in table[0]]
    rows = [dict(zip(columns, (c.strip() for c in r))) for r in table[1:]]
    return _from_rows(path, rows, header, columns[0], columns[1], p0, fmt="pygaps-csv")


def looks_like_pygaps_csv(path) -> bool:
    """True if a ``.csv`` file has a pyGAPS ``data:`` line (plain tables do not)."""
    try:
        with open(path) as fh:
            return any(line.lower().startswith("data") for line in fh)
    except (OSError, UnicodeDecodeError):
        return False


ISOTHERM_READERS = {".aif": read_aif, ".cif": read_aif, ".json": read_pygaps_json, ".csv": read_pygaps_csv}


# -- onto the simulator's schedule --------------------------------------------------


def isotherm_to_target(
    iso: Isotherm,
    *,
    steps: int = 40,
    normalization: str = "pore",
    scale=None,
    branch: str = "auto",
):
    """Put ``iso`` on the simulator's pressure axis: a :class:`~invtoolkit.problem.Target`.

    ``scale``: the model isotherm is a filled fraction in [0, 1]; measured uptakes
    (mmol/g, cm3/g) are not. ``"max"`` divides by the largest amount (taken as the
    saturation uptake), a number divides by that number, ``None`` requires amounts
    already in [0, 1]. ``branch``: ``"auto"`` (the full loop if the file has a
    desorption branch), ``"adsorption"`` or ``"loop"``. The interpolation and its
    rules at the ends of the axis are :func:`invtoolkit.targets.target_from_points`.
    """
    from invtoolkit.targets import target_from_points

    src = iso.metadata.get("source", "isotherm")
    if branch not in ("auto", "adsorption", "loop"):
        raise InputError(f"branch must be auto, adsorption or loop, got '{branch}'")
    if branch == "loop" and not iso.has_desorption:
        raise InputError(f"{src}: a full-loop target needs a desorption branch, the file has none")
    amounts, factor = scale_amounts(iso.amounts, scale, source=src, units=iso.metadata.get("units_loading"))
    keep = np.ones(len(amounts), bool) if branch != "adsorption" else iso.branches == ADSORPTION
    labels = np.where(iso.branches == DESORPTION, "des", "ads")[keep]
    pressures, amounts = iso.pressures[keep], amounts[keep]
    # target_from_points wants each branch in measuring order: adsorption up, desorption down.
    order = np.lexsort((np.where(labels == "des", -pressures, pressures), labels == "des"))
    target = target_from_points(pressures[order], amounts[order], labels[order], steps=steps,
                                normalization=normalization, source=src)
    unit = iso.metadata.get("units_loading")
    if factor != 1.0:
        target.notes.append(f"amounts divided by {factor:.6g} {unit or ''} (scale)".replace("  ", " "))
    # write_result_aif multiplies back, so results come out in the file's own units
    target.amount_scale = (factor, unit if factor != 1.0 else None)
    return target


def scale_amounts(amounts, scale, *, source="isotherm", units=None) -> tuple[np.ndarray, float]:
    """Amounts divided by ``scale`` ("max", a number, or None), and the factor used."""
    amounts = np.asarray(amounts, dtype=np.float64)
    if scale is None or scale == "none":
        factor = 1.0
    elif isinstance(scale, str) and scale.lower() == "max":
        factor = float(np.max(amounts))
        if not factor > 0:
            raise InputError(f"{source}: cannot scale by the maximum amount, it is {factor:g}")
    else:
        try:
            factor = float(scale)
        except (TypeError, ValueError):
            raise InputError(f"scale must be 'max' or a positive number, got '{scale}'") from None
        if not factor > 0:
            raise InputError(f"scale must be positive, got {factor:g}")
    out = amounts / factor
    lo, hi = float(out.min()), float(out.max())
    if lo < -1e-9 or hi > 1 + 1e-9:
        unit = f" {units}" if units else ""
        bad = hi if hi > 1 else lo
        hint = "use --scale max (divide by the saturation uptake) or --scale NUMBER" if factor == 1.0 else "use a larger --scale"
        raise InputError(f"{source}: amounts reach {bad * factor:g}{unit}, outside the model's filled fraction [0, 1]: {hint}")
    return np.clip(out, 0.0, 1.0), factor


# -- as target readers of invtoolkit.targets -------------------------------------------


def read_target_file(path, *, steps: int = 40, normalization: str = "pore", scale=None, p0=None,
                     branch: str = "auto"):
    """Target reader for ``invtoolkit.targets.read_target`` (.aif, .cif, .json, pyGAPS .csv)."""
    iso = read_isotherm(path, p0=p0)
    return isotherm_to_target(iso, steps=steps, normalization=normalization, scale=scale, branch=branch)


def install_target_readers(register, existing: dict) -> None:
    """Register the AIF / pyGAPS readers with ``register(suffix, reader)``.

    ``.csv`` stays with the reader already in ``existing`` unless the file has
    pyGAPS's ``data`` line, so plain ``pressure,amount`` tables keep working.
    """
    for suffix in (".aif", ".cif", ".json"):
        register(suffix, read_target_file)
    plain_csv = existing.get(".csv")

    def read_csv_target(path, *, steps=40, normalization="pore", scale=None, p0=None, branch="auto"):
        if plain_csv is None or looks_like_pygaps_csv(path):
            return read_target_file(path, steps=steps, normalization=normalization, scale=scale, p0=p0,
                                    branch=branch)
        if scale is not None or p0 is not None or branch != "auto":
            iso = _plain_csv_isotherm(path)
            return isotherm_to_target(iso, steps=steps, normalization=normalization, scale=scale, branch=branch)
        return plain_csv(path, steps=steps, normalization=normalization)

    register(".csv", read_csv_target)


def _plain_csv_isotherm(path) -> Isotherm:
    """A plain pressure,amount[,branch] CSV with unscaled amounts, via numpy."""
    try:
        data = np.genfromtxt(path, delimiter=",", dtype=str, comments="#", autostrip=True)
    except Exception as exc:
        raise InputError(f"{path}: not a readable CSV table ({_first_line(exc)})") from None
    data = np.atleast_2d(data)
    if data.size and not _is_number(data[0, 0]):
        data = data[1:]
    try:
        pressures, amounts = data[:, 0].astype(float), data[:, 1].astype(float)
    except (IndexError, ValueError):
        raise InputError(f"{path}: expected columns pressure,amount[,branch] of numbers") from None
    if data.shape[1] >= 3:
        branches = np.array([DESORPTION if _is_desorption(b) else ADSORPTION for b in data[:, 2]], np.int8)
    else:
        branches = _branches_from_order(pressures)
    return _finish(path, pressures, amounts, branches, {"source": str(path), "format": "csv"})


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


# -- writing ---------------------------------------------------------------------------


def write_aif(path, pressures, amounts, branches=None, metadata: dict | None = None) -> Path:
    """Write an isotherm in relative pressure as an AIF file (atomically); returns the path.

    ``branches`` marks desorption points (1) apart from adsorption ones (0); by
    default a point is on desorption once the pressure starts falling.
    ``metadata`` keys: ``material``, ``adsorbate``, ``temperature`` (K),
    ``units_loading`` (default ``fraction``), ``method`` (default ``simulation``),
    ``scale`` (amounts are multiplied back by it, e.g. to mmol/g), and any other
    key, written as ``_invtoolkit_<key>``.
    """
    from gemmi import cif

    path = Path(path)
    pressures = np.asarray(pressures, dtype=np.float64).reshape(-1)
    amounts = np.asarray(amounts, dtype=np.float64).reshape(-1)
    if len(pressures) != len(amounts):
        raise InputError(f"{path}: {len(pressures)} pressures but {len(amounts)} amounts")
    if branches is None:
        branches = _branches_from_order(pressures)
    branches = np.asarray(branches).reshape(-1)
    meta = dict(metadata or {})
    factor = float(meta.pop("scale", 1.0) or 1.0)
    amounts = amounts * factor

    doc = cif.Document()
    block = doc.add_new_block(_block_name(meta.get("material") or path.stem))
    block.set_pair("_audit_aif_version", cif.quote(AIF_VERSION))
    block.set_pair("_audit_creation_method", cif.quote("invtoolkit"))
    block.set_pair("_exptl_method", cif.quote(str(meta.pop("method", "simulation"))))
    block.set_pair("_exptl_isotherm_type", cif.quote("absolute"))
    adsorbate = str(meta.pop("adsorbate", None) or "lattice fluid")
    for tag in AIF_ADSORPTIVE_TAGS:  # old and new spellings, for old and new readers
        block.set_pair(tag, cif.quote(adsorbate))
    temperature = meta.pop("temperature", None)
    if temperature is not None:
        block.set_pair("_exptl_temperature", f"{float(temperature):.6g}")
    material = str(meta.pop("material", None) or path.stem)
    block.set_pair("_adsnt_material_name", cif.quote(material))
    block.set_pair("_sample_material_id", cif.quote(material))
    block.set_pair("_units_temperature", "K")
    block.set_pair("_units_pressure", cif.quote("relative"))
    block.set_pair("_units_loading", cif.quote(str(meta.pop("units_loading", None) or "fraction")))
    for key, val in meta.items():
        if val is None:
            continue
        block.set_pair(f"_invtoolkit_{_tag_part(key)}", cif.quote(str(val)))
    for prefix, which in (("_adsorp_", ADSORPTION), ("_desorp_", DESORPTION)):
        mask = branches == which
        if not mask.any():
            continue
        loop = block.init_loop(prefix, ["pressure", "amount"])
        loop.set_all_values([[f"{p:.8g}" for p in pressures[mask]], [f"{a:.8g}" for a in amounts[mask]]])
    tmp = path.with_name(path.name + ".part")
    doc.write_file(str(tmp))
    os.replace(tmp, path)
    return path


def write_result_aif(path, result, *, chain: str | None = None, temperature: float | None = None) -> Path:
    """The best grid's simulated isotherm of a ChainResult as AIF (full loop when simulated).

    Amounts are filled fractions, or the target file's units when the target was
    scaled (``--scale``), so the result overlays the measured isotherm.
    """
    from invtoolkit.pressure import PressureSchedule

    if not len(result.population):
        raise InputError(f"{path}: no verified grid to write")
    curve = np.asarray(result.curves[0], dtype=np.float64)
    steps = result.target.schedule.steps
    schedule = PressureSchedule(steps, adsorption_only=len(curve) == steps + 1)
    if len(schedule) != len(curve):
        raise InputError(f"{path}: {len(curve)} simulated points fit no {steps}-step schedule")
    factor, unit = getattr(result.target, "amount_scale", (1.0, None))
    meta = {
        "material": "invtoolkit best grid",
        "temperature": temperature,
        "units_loading": unit or ("fraction" if result.target.normalization == "pore" else "per site"),
        "scale": factor,
        "normalization": result.target.normalization,
        "mae": f"{float(result.population.errors[0]):.6g}",
        "chain": chain,
        "porosity": f"{float(result.population.grids[0].mean()):.4g}",
    }
    return write_aif(path, schedule.pressures, curve, schedule.branches, meta)


# -- helpers -----------------------------------------------------------------------------


def _first_line(exc) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _numbers(values, path, name) -> np.ndarray:
    from gemmi import cif

    out = []
    for v in values:
        x = cif.as_number(v)
        if not np.isfinite(x):
            raise InputError(f"{path}: {name} value '{v}' is not a number")
        out.append(x)
    return np.array(out, dtype=np.float64)


def _positive(values: np.ndarray, path, name) -> np.ndarray:
    if not np.all(values > 0):
        raise InputError(f"{path}: {name} must be positive")
    return values


def _maybe_float(text):
    if text is None:
        return None
    try:
        return float(text)
    except (TypeError, ValueError):
        return text


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


def _from_rows(path, rows, header, p_key, l_key, p0, fmt) -> Isotherm:
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
    if not relative:
        point_p0 = next((k for k in P0_KEYS if all(k in r for r in rows)), None)
        header_p0 = next((header[k] for k in P0_KEYS if isinstance(header.get(k), (int, float))), None)
        if point_p0 is not None:
            sat = np.array([float(r[point_p0]) for r in rows])
        elif header_p0 is not None or p0 is not None:
            sat = np.full(len(rows), float(header_p0 if header_p0 is not None else p0))
        else:
            raise InputError(
                f"{path}: pressures are absolute ({unit or 'no unit'}) and no saturation pressure is given: "
                "add 'saturation_pressure' to the points or the header, or give p0"
            )
        pressures = pressures / _positive(sat, path, "saturation pressure")
    loading_unit = header.get("loading_unit")
    material_unit = header.get("material_unit")
    units = f"{loading_unit}/{material_unit}" if loading_unit and material_unit else loading_unit
    meta = {
        "adsorbate": header.get("adsorbate"),
        "material": header.get("material"),
        "temperature": header.get("temperature"),
        "units_loading": units,
        "units_pressure": "relative" if relative else unit,
        "source": str(path),
        "format": fmt,
    }
    return _finish(path, pressures, amounts, branches, meta)


def _finish(path, pressures, amounts, branches, meta) -> Isotherm:
    if len(pressures) == 0:
        raise InputError(f"{path}: no data points")
    if not (np.all(np.isfinite(pressures)) and np.all(np.isfinite(amounts))):
        raise InputError(f"{path}: pressures and amounts must be finite numbers")
    if pressures.min() < 0:
        raise InputError(f"{path}: negative pressure {pressures.min():g}")
    if pressures.max() > 1 + 1e-6:
        raise InputError(
            f"{path}: relative pressure reaches {pressures.max():.4g} > 1 (supercritical or a wrong p0); "
            "the model covers p/p0 in [0, 1]"
        )
    return Isotherm(np.clip(pressures, 0.0, 1.0), amounts, np.asarray(branches, np.int8), meta)


def _branches_from_order(pressures: np.ndarray) -> np.ndarray:
    top = int(np.argmax(pressures))
    out = np.full(len(pressures), ADSORPTION, np.int8)
    out[top + 1 :] = DESORPTION
    return out


def _block_name(text: str) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text)).strip("_")
    return name or "isotherm"


def _tag_part(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in str(text).lower())
