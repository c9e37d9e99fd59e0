"""Regenerate the example targets in examples/data/ (seeded, reproducible).

The targets are isotherms of known grids from the built-in samplers, so a user can
check how close an inversion gets: examples/data/truth_*.npy hold the grids.
"""

from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry

DATA = Path(__file__).parent / "data"


def main(seed: int = 2026) -> None:
    rng = np.random.default_rng(seed)
    sim = registry.create("simulator", "lattice-dft", precision="float64")
    rect = registry.create("sampler", "rect").sample(1, (20, 20), rng)[0]
    corr = registry.create("sampler", "correlated").sample(1, (20, 20), rng)[0]
    curves = sim.simulate(np.stack([rect, corr]))
    n_ads = sim.schedule.steps + 1
    p = sim.pressures
    np.savetxt(DATA / "target.csv", np.column_stack([p[:n_ads], curves[0, :n_ads]]), delimiter=",",
               header="pressure,amount", comments="", fmt="%.8f")
    np.save(DATA / "truth_target.npy", rect)
    np.save(DATA / "target_loop.npy", curves[1])
    np.save(DATA / "truth_target_loop.npy", corr)
    print(f"rect grid porosity {rect.mean():.3f}; correlated grid porosity {corr.mean():.3f}")


if __name__ == "__main__":
    main()
