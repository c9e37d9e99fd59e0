"""Invert an isotherm from Python: make a realisable target, run a chain, check the result.

    python examples/invert_api.py

Same as ``invtoolkit invert --target FILE --chain "ga | steepest" -o DIR`` but in
memory. Small grids (10x10) and a 10-step pressure axis keep it to a few seconds.
"""

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.search.chain import Chain
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Target

STEPS, SHAPE = 10, (10, 10)

# A target we know is reachable: the adsorption branch of a known grid (a 3-wide slit).
truth = np.zeros(SHAPE, np.uint8)
truth[2:5, :] = 1
# normalization="site" (amount per lattice site) keeps the pore volume in the isotherm,
# so the porosity of the found grids comes out right; "pore" would leave it free.
simulator = registry.create("simulator", "lattice-dft", steps=STEPS, normalization="site")  # verifies results
curve = simulator.simulate(truth[None])[0]
target = Target(curve[: STEPS + 1], PressureSchedule(STEPS, adsorption_only=True), normalization="site")

chain = Chain.parse("ga[time=2] | steepest")
result = chain.run(
    target,
    time_limit=6,
    seed=0,
    simulator=simulator,
    population=Population.empty(SHAPE),  # sets the grid size of the search
    keep=3,
)

for stage in result.stages:
    print(f"{stage.stage:<12} {stage.evaluations:>7} evaluations {stage.seconds:5.1f} s  best {stage.best_error:.5f}")
for rank, (grid, error) in enumerate(zip(result.population.grids, result.population.errors), 1):
    print(f"grid {rank}: DFT-verified MAE {error:.5f}, porosity {grid.mean():.2f} (true {truth.mean():.2f})")
print("\n".join("".join(".#"[1 - c] for c in row) for row in result.population.grids[0]))
