"""A custom search stage, registered from Python and used in a chain with built-ins.

The stage 'mutate-best' keeps the best grids and adds random few-cell mutations of
them; the chain 'random | mutate-best | steepest' then finds a slit pore from its
isotherm alone.
"""

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.search.chain import Chain
from invtoolkit.hooks.hookspecs import hookimpl
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Target
from invtoolkit.core.roles import Optimizer


class MutateBest(Optimizer):
    """Mutate the ``parents`` best grids (``flips`` random cells each) until the deadline."""

    name = "mutate-best"

    def __init__(self, parents: int = 4, children: int = 32, flips: int = 2):
        self.parents, self.children, self.flips = int(parents), int(children), int(flips)

    def run(self, problem, population, *, rng, termination, progress=False):
        pop = population if population.scored else Population(population.grids, problem.errors(population.grids))
        while termination.time_left() > 0 and len(pop):
            parents = pop.best(self.parents).grids
            kids = parents[rng.integers(0, len(parents), self.children)].copy()
            n, h, w = kids.shape
            for _ in range(self.flips):
                kids.reshape(n, -1)[np.arange(n), rng.integers(0, h * w, n)] ^= 1
            pop = pop.concat(Population(kids, problem.errors(kids))).sorted().unique()[:64]
        return pop


class MyPlugin:
    @hookimpl
    def register_optimizers(self, register):
        register("mutate-best", MutateBest, "Few-cell mutations of the best grids (example)")


def main(size: int = 12, time_limit: float = 6.0, seed: int = 0):
    registry.register_plugin(MyPlugin(), name="my-plugin")
    try:
        slit = np.zeros((size, size), np.uint8)
        slit[:, : size // 3] = 1
        simulator = registry.create("simulator", "lattice-dft", adsorption_only=True)
        target = Target(simulator.simulate(slit[None])[0], PressureSchedule(40, adsorption_only=True))
        chain = Chain.parse("random[batch=32] | mutate-best[time=2] | steepest")
        result = chain.run(target, time_limit=time_limit, seed=seed, population=Population.empty((size, size)))
    finally:
        registry.unregister_plugin("my-plugin")
    for stage in result.stages:
        print(f"{stage.stage:28s} {stage.evaluations:6d} evaluations  best {stage.best_error:.4f}")
    print(f"verified best MAE {result.best_error:.4f}, porosity {result.population.grids[0].mean():.2f} "
          f"(slit: {slit.mean():.2f})")
    return result


if __name__ == "__main__":
    main()
