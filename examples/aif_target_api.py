"""A measured isotherm in, a structure and its isotherm out, both as AIF files.

1. Write an 'instrument' AIF file: water at 298.15 K, absolute pressure in kPa with a
   saturation pressure column, uptake in mmol/g (here made from a known grid).
2. Read it: p/p0, amounts kept in mmol/g, water's critical temperature from the
   fluid library.
3. Fit structure and pore volume (y fixed here at the value the file was made with;
   leave it out to fit it) on a budget of evaluations, and write the best grid's
   isotherm as AIF, in mmol/g, with the pore volume in cm3/g.
"""

from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.fitting import fit_isotherms
from invtoolkit.fitting.outputs import write_answer_aif
from invtoolkit.parsing.targets import read_target

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


def main(workdir=".", size: int = 12, time_limit: float | None = None, seed: int = 0, budget: int = 8000):
    workdir = Path(workdir)
    grid = np.zeros((size, size), np.uint8)
    grid[2 : size - 2, 2 : size // 2] = 1  # one rectangular pore
    simulator = registry.create("simulator", "lattice-dft", T=298.15)
    curve = simulator.simulate(grid[None])[0]
    measured = workdir / "measured.aif"
    write_measured_aif(measured, curve, simulator.schedule.pressures)

    target = read_target(measured)
    print(f"{measured}: {target.fluid.name} at {target.T} K (TC {target.fluid.TC} K), "
          f"{len(target.pressures)} points, uptake in {target.unit}")
    for note in target.notes:
        print("  note:", note)

    answer = fit_isotherms(measured, chain="ga[time=2] | steepest", budget=budget, time_limit=time_limit,
                           seed=seed, y=1.5, grid_size=f"{size}x{size}")
    fit = answer.files[0]
    out = write_answer_aif(workdir / "best.aif", answer)
    print(f"best grid: capacity {fit.capacity:.3f} {target.unit} (pore volume {fit.pore_volume:.3f} cm3/g), "
          f"relative MAE {fit.relative_mae:.4f} -> {out}")
    return target, fit, out


if __name__ == "__main__":
    main()
