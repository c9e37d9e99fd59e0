"""Training ``cnn-cond`` on DFT-labelled stores of several (t, y) (``training/cond.sh``).

Seeded and resumable like cnn-fast: epoch e's data order is a permutation drawn from
(seed, e), warm-up + cosine over the planned epochs, a checkpoint after every epoch (model,
optimizer, best weights, history); a killed run resumes and ends with the same weights.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (EpochRecord, InputError, PressureSchedule, flush_denormals, modelio,
                               plot_learning_curve, split_indices, warmup_cosine)

PLUGIN = "cnn-cond"
FILM_HIDDEN = 32


def load_cond_stores(paths) -> tuple:
    """(grids uint8, pore loops float32, conditions float32 (N, 2) = (T/TC, y) per row, steps)
    of stores that may differ in T, TC and y (but not in steps or grid shape)."""
    from invtoolkit_plugins.cnn.training import load_training_data

    grids, curves, conds, steps = [], [], [], None
    for p in paths:
        g, c, _, params, s = load_training_data(p)
        if steps is not None and (s != steps or g.shape[1:] != grids[0].shape[1:]):
            raise InputError(f"{p}: steps or grid shape differ from {paths[0]}'s")
        if any(params.get(k) is None for k in ("T", "TC", "y")):
            raise InputError(f"{p}: the store does not record T, TC and y")
        steps = s
        grids.append(g)
        curves.append(c)
        conds.append(np.tile(np.float32([params["T"] / params["TC"], params["y"]]), (len(g), 1)))
    return np.concatenate(grids), np.concatenate(curves), np.concatenate(conds), steps


def val_errors(net, grids, curves, conds, batch: int = 1024) -> np.ndarray:
    """Per-grid loop MAE (numpy (N,)), the top point taken from the labels."""
    import torch

    errs = []
    top_col = (curves.shape[1] - 1) // 2
    with torch.inference_mode():
        for s in range(0, len(grids), batch):
            c = curves[s:s + batch]
            errs.append((net(grids[s:s + batch].float(), c[:, top_col], conds[s:s + batch]) - c).abs().mean(1))
    return torch.cat(errs).numpy()


def _epoch(net, opt, data, order, batch_size, step, total_steps, lr):
    """One pass over the shuffled training set: (step, mean L1 loss)."""
    g, c, k = data
    net.train()
    top_col = (c.shape[1] - 1) // 2
    loss_sum, seen = 0.0, 0
    for b in range(len(order) // batch_size):
        for group in opt.param_groups:
            group["lr"] = warmup_cosine(step / total_steps, lr)
        idx = order[b * batch_size:(b + 1) * batch_size]
        cb = c[idx]
        loss = (net(g[idx].float(), cb[:, top_col], k[idx]) - cb).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        loss_sum += float(loss.detach()) * len(idx)
        seen += len(idx)
    return step, loss_sum / max(seen, 1)


def warm_state(init, net) -> dict:
    """``net``'s start from ``init``: a cnn-fast model exactly (FiLM at identity), or a
    cnn-cond model (a further stage)."""
    from invtoolkit_plugins.cnn_cond.network import from_fast

    config, states = modelio.load_model(init)
    if config.get("plugin") not in ("cnn-fast", PLUGIN):
        raise InputError(f"{init}: a '{config.get('plugin')}' model, not a cnn-fast or cnn-cond model")
    try:
        return states[0] if config["plugin"] == PLUGIN else from_fast(states[0], net)
    except ValueError as exc:
        raise InputError(f"{init}: {exc}") from None


def train_cond(stores, output, *, init, epochs: int = 4, seed: int = 0, batch_size: int = 256, lr: float = 1e-3,
               weight_decay: float = 1e-4, val_n: int = 10_000, threads: int = 1, max_epochs_now: int | None = None,
               epoch_rows: int | None = None, log=None, command: str | None = None) -> dict | None:
    """Train into ``output`` from the cnn-fast model ``init`` (its architecture, FiLM at
    identity); checkpoint.pt every epoch, resumed from. ``epoch_rows``: an epoch is that many
    rows of a fresh permutation (shorter epochs, more checkpoints; None: all rows). Returns
    the summary when done."""
    import torch

    from invtoolkit_plugins.cnn_cond.network import CondCNN

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    flush_denormals()
    torch.set_num_threads(int(threads))
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    grids_np, curves_np, conds_np, steps = load_cond_stores([str(s) for s in stores])
    arch = {"film_hidden": FILM_HIDDEN, **modelio.load_model(init)[0]["architecture"], "steps": steps}
    tr, va = split_indices(len(grids_np), val_n / len(grids_np), seed, val_n)
    g, c, k = (torch.from_numpy(a) for a in (grids_np, curves_np, conds_np))
    torch.manual_seed(seed)
    net = CondCNN(arch)
    net.load_state_dict(warm_state(init, net))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    run = EpochRecord(output / "checkpoint.pt").resume(net, opt, log)
    stop = epochs if max_epochs_now is None else min(epochs, run.start + max_epochs_now)
    train, val = (g[tr], c[tr], k[tr]), (g[va], c[va], k[va])
    per_epoch = min(len(tr), int(epoch_rows or len(tr)))
    for epoch in range(run.start, stop):
        t0 = time.monotonic()
        order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(len(tr))[:per_epoch])
        step, loss = _epoch(net, opt, train, order, batch_size, run.step, epochs * (per_epoch // batch_size), lr)
        net.eval()
        run.end_epoch(net, opt, val_errors(net, *val), epoch=epoch, epochs=epochs, step=step, loss=loss, started=t0,
                      log=log)
    if stop < epochs:
        return None
    recipe = {"stores": len(stores), "epoch_rows": per_epoch, "store_dir": str(Path(stores[0]).parent), "rows": int(len(grids_np)),
              "seed": seed, "epochs": epochs, "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay,
              "n_val": int(len(va)), "val_mae": run.best, "history": run.history.rows, "init": str(init),
              "loss": "L1 over the 2*steps+1 loop points (pore)", "command": command, "torch": torch.__version__}
    save_cond(output, arch, steps, grids_np.shape[1:], recipe, run.best_state)
    plot_learning_curve(run.history, output / "learning_curve.png", title="cnn-cond surrogate")
    return recipe


def save_cond(output, arch, steps, grid_shape, recipe, state) -> None:
    from invtoolkit_plugins.cnn_cond.network import T_RANGE, Y_RANGE

    config = {"plugin": PLUGIN, "architecture": {k: v for k, v in arch.items() if k != "steps"},
              "simulator": "lattice-dft", "simulator_params": {"steps": steps, "normalization": "pore"},
              "conditions": {"t": list(T_RANGE), "y": list(Y_RANGE)},
              "grid_shape": [int(grid_shape[0]), int(grid_shape[1])],
              "pressures": PressureSchedule(steps).pressures.round(10).tolist(), "training": recipe}
    modelio.save_model(output, config, [state])
