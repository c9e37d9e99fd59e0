"""Train a generator through a surrogate and save it with its recipe, history and
learning curve (the library side of ``invtoolkit train generator``)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from invtoolkit.core.defaults import DEFAULT_GRID_SHAPE
from invtoolkit.hooks import registry
from invtoolkit.errors import InvToolkitError
from invtoolkit.core.fileio import write_json
from invtoolkit.core.roles import Fittable, Saveable
from invtoolkit.learning.training import plot_learning_curve

GENERATOR_CURVES = (("train_mae", "train MAE (surrogate)"), ("val_mae", "validation MAE (surrogate)"))


def new_generator(generator: str, surrogate, *, init=None, latent_dim: int, grid_shape, seed: int):
    """A generator plugin's model ``init`` (fine-tuning), or fresh weights made for the
    surrogate's schedule, normalization and physical parameters."""
    if init is not None:
        gen = registry.create("generator", generator, model=str(init))
    else:
        physics = {k: v for k, v in surrogate.params.items() if k in ("T", "TC", "y") and v is not None}
        gen = registry.create("generator", generator, model=None, latent_dim=latent_dim,
                              steps=surrogate.schedule.steps, grid_shape=tuple(grid_shape), seed=seed,
                              normalization=surrogate.normalization, simulator_params=physics)
    if not (isinstance(gen, Fittable) and isinstance(gen, Saveable)):
        raise InvToolkitError(f"generator '{generator}' cannot be trained (it is not Fittable and Saveable)")
    return gen


def train_generator(*, generator: str, surrogate, curves: np.ndarray, output, init=None, epochs: int,
                    time_limit: float | None, seed: int, batch_size: int, lr: float, latent_dim: int,
                    info_weight: float, checkpoint=None, progress: bool, grid_shape=DEFAULT_GRID_SHAPE,
                    val_curves=None, log=None, diversity_weight: float | None = None,
                    diversity_margin: float | None = None, best_of: int | None = None):
    """Build (or load ``init``) a generator, fit it through ``surrogate``, save to ``output``
    (config with the training recipe, weights, history.json, learning_curve.png)."""
    gen = new_generator(generator, surrogate, init=init, latent_dim=latent_dim, grid_shape=grid_shape, seed=seed)
    start = time.monotonic()
    # Diversity options only when given: otherwise the plugin continues the --init model's
    # recorded ones or uses its defaults, and reports what it used (``fit_settings``).
    extra = {k: v for k, v in (("diversity_weight", diversity_weight), ("diversity_margin", diversity_margin),
                               ("best_of", best_of)) if v is not None}
    history = gen.fit(surrogate, curves, epochs=epochs, time_limit=time_limit, seed=seed, batch_size=batch_size,
                      lr=lr, info_weight=info_weight, progress=progress, checkpoint=checkpoint,
                      val_targets=val_curves, log=log, **extra)
    output = Path(output)
    gen.save(output, extra={"training": {
        "surrogate": surrogate.name, "targets": len(curves), "epochs": len(history["epoch"]),
        "seed": seed, "batch_size": batch_size, "lr": lr, "info_weight": info_weight,
        **(gen.fit_settings or extra),
        "init": str(init) if init is not None else None,
        "best_val_mae": min(history["val_mae"]) if history["val_mae"] else None,
        "seconds": round(time.monotonic() - start, 1)}})
    write_json(output / "history.json", history, indent=1)
    if history["epoch"]:
        plot_learning_curve(history, output / "learning_curve.png", f"{generator} through {surrogate.name}",
                            series=GENERATOR_CURVES)
    return gen, history
