"""A measured isotherm in, a structure and its isotherm out, both as AIF files.

1. Write an 'instrument' AIF file: water at 298 K, absolute pressure in kPa with a
   saturation pressure column, uptake in mmol/g (here made from a known grid).
2. Read it as a target: p/p0, amounts divided by the saturation uptake (scale="max").
3. Search, and write the best grid's simulated isotherm as AIF (in mmol/g again).
"""

from pathlib import Path

import numpy as np

from invtoolkit import plugins
from invtoolkit.chain import Chain
from invtoolkit.formats import read_aif, write_result_aif
from invtoolkit.population import Population
from invtoolkit.targets import read_target

P0_KPA = 3.169  # water, 298 K
UPTAKE = 14.2  # mmol/g when every pore is full


def write_measured_aif(path: Path, curve: np.ndarray, pressures: np.ndarray) -> None:
    n_ads = (len(pressures) + 1) // 2
    lines = ["data_measured", "_audit_aif_version '1.0'", "_exptl_adsorptive 'Water'", "_exptl_temperature 298.15",
             "_adsnt_material_name 'example material'", "_units_pressure kPa", "_units_loading 'mmol/g'"]
    for prefix, sl in (("_adsorp_", slice(1, n_ads)), ("_desorp_", slice(n_ads, len(pressures) - 1))):
        lines += ["loop_", f"{prefix}pressure", f"{prefix}p0", f"{prefix}amount"]
        lines += [f"{p * P0_KPA:.5f} {P0_KPA} {a * UPTAKE:.5f}" for p, a in zip(pressures[sl], curve[sl])]
    path.write_text("\n".join(lines) + "\n")


def main(workdir=".", size: int = 12, time_limit: float = 6.0, seed: int = 0):
    workdir = Path(workdir)
    grid = np.zeros((size, size), np.uint8)
    grid[2 : size - 2, 2 : size // 2] = 1  # one rectangular pore
    simulator = plugins.create("simulator", "lattice-dft")
    curve = simulator.simulate(grid[None])[0]
    measured = workdir / "measured.aif"
    write_measured_aif(measured, curve, simulator.pressures)

    iso = read_aif(measured)
    print(f"{measured}: {iso.metadata['adsorbate']} at {iso.metadata['temperature']} K, "
          f"{len(iso.pressures)} points, uptake in {iso.metadata['units_loading']}")
    target = read_target(measured, scale="max")
    for note in target.notes:
        print("  note:", note)

    chain = Chain.parse("ga[time=2] | steepest")
    result = chain.run(target, time_limit=time_limit, seed=seed, population=Population.empty((size, size)))
    out = write_result_aif(workdir / "best.aif", result, chain=str(chain), temperature=298.15)
    print(f"best grid: DFT-verified MAE {result.best_error:.4f} -> {out}")
    return target, result, out


if __name__ == "__main__":
    main()
