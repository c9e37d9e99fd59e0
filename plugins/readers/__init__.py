"""Built-in target readers (plugin ``readers``): model tables and measured isotherm files.

* ``.npy``, plain ``.csv``: model targets (filled fractions), :mod:`.table`;
* ``.aif`` / ``.cif`` (AIF), ``.json`` (pyGAPS) and pyGAPS ``.csv``: measured
  isotherms in the instrument's units, made fit-ready by
  :func:`invtoolkit.parsing.measured.measured_from_raw` (units, p0, adsorbate, noise).
"""

from __future__ import annotations

from invtoolkit.plugin import MeasuredIsotherm, hookimpl, measured_from_raw

from .aif import parse_aif
from .pygaps import looks_like_pygaps_csv, parse_pygaps_csv, parse_pygaps_json
from .table import read_csv, read_npy


def _measured_reader(parse):
    def read(path, *, steps: int = 40, normalization: str = "pore", tc: float | None = None,
             p0: float | None = None, loading_unit: str | None = None) -> MeasuredIsotherm:
        # steps is the model axis: measured points are simulated where they were measured
        return measured_from_raw(parse(path), tc=tc, p0=p0, normalization=normalization, loading_unit=loading_unit)

    read.__doc__ = f"Measured isotherm via {parse.__name__} -> MeasuredIsotherm (options tc, p0, loading_unit)."
    return read


read_aif = _measured_reader(parse_aif)
read_pygaps_json = _measured_reader(parse_pygaps_json)
read_pygaps_csv = _measured_reader(parse_pygaps_csv)


def read_any_csv(path, *, steps: int = 40, normalization: str = "pore", tc: float | None = None,
                 p0: float | None = None, loading_unit: str | None = None):
    """pyGAPS CSV (it has a ``data`` line) as measured; otherwise a plain model table."""
    if looks_like_pygaps_csv(path):
        return read_pygaps_csv(path, steps=steps, normalization=normalization, tc=tc, p0=p0,
                               loading_unit=loading_unit)
    if tc is not None or p0 is not None or loading_unit is not None:
        from invtoolkit.plugin import InputError

        raise InputError(f"{path}: --tc, --p0 and --loading-unit apply to measured files (AIF, pyGAPS), "
                         "not to a plain table")
    return read_csv(path, steps=steps, normalization=normalization)


@hookimpl
def register_target_readers(register):
    register(".npy", read_npy, "41 or 81 filled fractions on the simulator axis")
    register(".csv", read_any_csv, "pressure,amount[,branch] fractions, or a pyGAPS CSV isotherm (measured)")
    register(".aif", read_aif, "Adsorption Information File (measured, instrument units)")
    register(".cif", read_aif, "AIF with a .cif suffix")
    register(".json", read_pygaps_json, "pyGAPS JSON isotherm (measured)")
