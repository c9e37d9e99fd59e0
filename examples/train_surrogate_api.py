"""A tiny dataset, a tiny CNN surrogate trained on it, and the surrogate used in a chain.

1. Label a few hundred sampled grids with the exact lattice DFT (a zarr store).
2. Train the 'cnn' surrogate plugin on it for a few epochs.
3. Compare its isotherms with the exact ones on fresh grids, then let a chain
   search with the surrogate ('random[evaluator=cnn]') and polish with the DFT.
Real models use ~10^5-10^6 grids and many epochs (see the user guide).
"""

from pathlib import Path

import numpy as np

from invtoolkit.datasets import dataset
from invtoolkit.hooks import registry
from invtoolkit.search.chain import Chain
from invtoolkit.core.population import Population
from invtoolkit.core.pressure import PressureSchedule
from invtoolkit.core.problem import Target


TINY_ARCH = {"channels": 8, "dilations": [1, 2], "embed": 16, "hidden": 32}  # the default net is ~10x larger


def main(workdir=".", n: int = 512, epochs: int = 4, size: int = 20, seed: int = 0, time_limit: float = 6.0,
         threads: int | None = None):
    workdir = Path(workdir)
    store = dataset.generate(workdir / "tiny.zarr", n, sampler="mixed", seed=seed, shape=(size, size))
    print(f"dataset: {len(store)} grids -> {store.path}")

    trainer = registry.registry().entry("surrogate", "cnn").factory.train
    summary = trainer(store.path, workdir / "cnn-tiny", epochs=epochs, seed=seed, batch_size=32, arch=TINY_ARCH,
                      threads=threads, progress=False, log=lambda msg: None)
    print(f"trained: validation MAE {summary['val_mae']:.4f}")

    cnn = registry.create("surrogate", "cnn", model=workdir / "cnn-tiny")
    dft = registry.create("simulator", "lattice-dft")
    fresh = registry.create("sampler", "mixed").sample(64, (size, size), np.random.default_rng(seed + 1))
    test_mae = float(np.abs(cnn.simulate(fresh) - dft.simulate(fresh)).mean())
    print(f"surrogate vs exact DFT on 64 new grids: MAE {test_mae:.4f}")

    target = Target(dft.simulate(fresh[:1])[0][:41], PressureSchedule(40, adsorption_only=True))
    # The surrogate scores the random stage; steepest uses the exact DFT; the result is DFT-verified.
    chain = Chain.parse("random[evaluator=cnn,batch=256] | steepest")
    result = chain.run(target, time_limit=time_limit, seed=seed, population=Population.empty((size, size)),
                       evaluators={"cnn": cnn.with_options(adsorption_only=True)})
    for stage in result.stages:
        print(f"  {stage.stage:34s} {stage.evaluator:12s} {stage.evaluations:6d} evaluations")
    print(f"verified by DFT: MAE {result.best_error:.4f}")
    return summary, test_mae, result


if __name__ == "__main__":
    main()
