"""``invtoolkit train generator``: train a generator through a frozen surrogate.

Attached to the ``train`` group of ``train_cmd``. Also holds the small helpers that
the generate and active-learn commands share (loading surrogates and target curves).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click
import numpy as np

from invtoolkit import plugins
from invtoolkit.errors import InputError, InvToolkitError


# ------------------------------------------------------------------ shared helpers
def load_surrogate(spec: str, **options):
    """A surrogate by plugin name (its default model) or by model directory.

    A directory's config.json names its plugin under "plugin" (or "kind"/"name");
    the plugin's factory receives ``model=DIR``.
    """
    reg = plugins.registry()
    path = Path(spec)
    if spec in reg.names("surrogate") and not path.is_dir():
        return plugins.create("surrogate", spec, **options)
    if not path.exists():
        known = ", ".join(reg.names("surrogate")) or "none"
        raise InputError(f"{spec}: neither a surrogate model directory nor a surrogate name (available: {known})")
    if not path.is_dir():
        raise InputError(f"{spec}: a surrogate model must be a directory")
    cfg_file = path / "config.json"
    name = None
    if cfg_file.exists():
        try:
            cfg = json.loads(cfg_file.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{cfg_file}: not valid JSON ({exc})") from None
        for key in ("plugin", "surrogate", "kind", "name", "model"):
            if isinstance(cfg, dict) and cfg.get(key) in reg.names("surrogate"):
                name = cfg[key]
                break
    if name is None:
        names = reg.names("surrogate")
        if len(names) != 1:
            raise InputError(f"{path}: cannot tell which surrogate plugin reads this model (config.json has no 'plugin')")
        name = names[0]
    return plugins.create("surrogate", name, model=str(path), **options)


def load_dataset(path) -> tuple[np.ndarray, np.ndarray]:
    """(grids, curves) of a dataset store; a ``.npy`` file is read as curves only."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such dataset")
    if path.suffix == ".npy" and path.is_file():
        try:
            curves = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(f"{path}: not a readable .npy array ({type(exc).__name__})") from None
        if curves.ndim != 2 or curves.dtype.kind not in "fiu":
            raise InputError(f"{path}: expected curves (N,P), got shape {curves.shape} dtype {curves.dtype}")
        return None, np.asarray(curves, dtype=np.float64)
    from invtoolkit.dataset import Dataset

    return Dataset.open(path).load()


def write_learning_curve(history: dict, path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(history["epoch"], history["train_mae"], label="train MAE (surrogate)")
    ax.plot(history["epoch"], history["val_mae"], label="validation MAE (surrogate)")
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("isotherm MAE")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def train_generator(*, generator: str, surrogate, curves: np.ndarray, output, init=None, epochs: int,
                    time_limit: float | None, seed: int, batch_size: int, lr: float, latent_dim: int,
                    info_weight: float, checkpoint=None, progress: bool, grid_shape=(20, 20),
                    val_curves=None, log=None, diversity_weight: float | None = None,
                    diversity_margin: float | None = None, best_of: int | None = None):
    """Build (or load ``init``) a generator, fit it through ``surrogate``, save to ``output``."""
    steps = surrogate.schedule.steps
    if init is not None:
        gen = plugins.create("generator", generator, model=str(init))
    else:
        gen = plugins.create("generator", generator, model=None, latent_dim=latent_dim, steps=steps,
                             grid_shape=tuple(grid_shape), seed=seed,
                             normalization=getattr(surrogate, "normalization", "pore"),
                             simulator_params={k: v for k, v in getattr(surrogate, "params", {}).items()
                                               if k in ("T", "TC", "y") and v is not None})
    if not hasattr(gen, "fit") or not hasattr(gen, "save"):
        raise InvToolkitError(f"generator '{generator}' cannot be trained (no fit/save)")
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
        "surrogate": getattr(surrogate, "name", "?"), "targets": len(curves), "epochs": len(history["epoch"]),
        "seed": seed, "batch_size": batch_size, "lr": lr, "info_weight": info_weight,
        **getattr(gen, "fit_settings", extra),
        "init": str(init) if init is not None else None,
        "best_val_mae": min(history["val_mae"]) if history["val_mae"] else None,
        "seconds": round(time.monotonic() - start, 1)}})
    (output / "history.json").write_text(json.dumps(history, indent=1) + "\n")
    if history["epoch"]:
        write_learning_curve(history, output / "learning_curve.png", f"{generator} through {surrogate.name}")
    return gen, history


# ------------------------------------------------------------------ command
@click.command("generator")
@click.option("--surrogate", "surrogate_spec", default="cnn", show_default=True,
              help="Surrogate plugin name (its default model) or a surrogate model directory.")
@click.option("--targets", required=True, type=click.Path(),
              help="Dataset (zarr) whose curves are the training targets (or a .npy (N,P) of curves).")
@click.option("--val-targets", type=click.Path(), default=None,
              help="Held-out targets for validation (default: 10% of --targets).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--generator", default="deconv", show_default=True, help="Generator plugin to train.")
@click.option("--init", type=click.Path(file_okay=False), default=None,
              help="Start from this generator model (fine-tuning) instead of fresh weights.")
@click.option("--epochs", type=click.IntRange(1), default=50, show_default=True)
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None, help="Minutes.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", type=click.IntRange(1), default=256, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
@click.option("--latent-dim", type=click.IntRange(1), default=12, show_default=True)
@click.option("--info-weight", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Weight of the latent-recovery (diversity) term.")
@click.option("--diversity-weight", type=click.FloatRange(min=0), default=None,
              help="Weight of the penalty on two codes giving grids closer than the margin up to symmetry "
                   "(default: the --init model's recorded one, else the generator's, 0.3 for deconv; 0 turns it off).")
@click.option("--diversity-margin", type=click.FloatRange(0, 1), default=None,
              help="Fraction of cells two grids for one target should differ by, up to symmetry "
                   "(default: the --init model's recorded one, else the generator's, 0.0025 for deconv).")
@click.option("--best-of", type=click.IntRange(1), default=None,
              help="Codes per target whose BEST surrogate MAE is trained (relaxed winner-takes-all), matching "
                   "inversion's best of n (default: the --init model's recorded one, else 1 = every code alone).")
@click.option("--max-targets", type=click.IntRange(1), default=None, help="Use at most this many targets.")
@click.option("--max-val", type=click.IntRange(1), default=4000, show_default=True,
              help="Use at most this many --val-targets.")
@click.option("--checkpoint", type=click.Path(file_okay=False), default=None,
              help="Checkpoint directory (default OUTPUT/checkpoint); an interrupted run resumes from it.")
@click.option("--threads", type=click.IntRange(1), default=None, help="torch threads.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def train_generator_command(surrogate_spec, targets, val_targets, output, generator, init, epochs, time_limit,
                            seed, batch_size, lr, latent_dim, info_weight, diversity_weight, diversity_margin,
                            best_of, max_targets, max_val, checkpoint, threads, progress):
    """Train a generator (isotherm x latent code -> grid) through a frozen surrogate.

    The loss is the MAE between the surrogate's isotherm of each generated grid and
    its target (the adsorption branch of the dataset's curves), plus terms that make
    different latent codes give different grids (a diversity penalty on pairs of codes
    per target and a latent-recovery term). --init fine-tunes an existing model. Writes OUTPUT/config.json,
    weights.pt, history.json and learning_curve.png.

    \b
    Example:
      invtoolkit train generator --surrogate cnn --targets data/train.zarr -o models/deconv
      invtoolkit train generator --init models/deconv --diversity-weight 0.3 --targets data/train.zarr -o models/deconv2
    """
    if threads:
        import torch

        torch.set_num_threads(threads)
    surrogate = load_surrogate(surrogate_spec)
    grids, curves = load_dataset(targets)
    if max_targets is not None:
        curves = curves[:max_targets]
    shape = tuple(grids.shape[1:]) if grids is not None else (getattr(surrogate, "grid_shape", None) or (20, 20))
    val_curves = load_dataset(val_targets)[1][:max_val] if val_targets else None
    _, history = train_generator(
        generator=generator, surrogate=surrogate, curves=curves, output=output, init=init, epochs=epochs,
        time_limit=None if time_limit is None else time_limit * 60, seed=seed, batch_size=batch_size, lr=lr,
        latent_dim=latent_dim, info_weight=info_weight, checkpoint=checkpoint or Path(output) / "checkpoint",
        progress=progress, grid_shape=shape, val_curves=val_curves, diversity_weight=diversity_weight,
        diversity_margin=diversity_margin, best_of=best_of)
    best = min(history["val_mae"]) if history["val_mae"] else float("nan")
    click.echo(f"{generator}: {len(history['epoch'])} epochs, best validation MAE {best:.4f} (surrogate) -> {output}",
               err=True)


def register(cli):
    from invtoolkit.commands.train_cmd import train_group

    if "generator" not in train_group.commands:
        train_group.add_command(train_generator_command)
