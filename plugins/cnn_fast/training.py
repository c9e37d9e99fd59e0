"""Training the ``cnn-fast`` surrogate on DFT-labelled stores (``training/cnn_fast.sh``).

Seeded and resumable: the data order of epoch e is a permutation drawn from (seed, e), the
learning rate follows a warm-up + cosine over the planned epochs (never the wall clock),
and a checkpoint after every epoch holds model, optimizer, best weights and history, so a
killed run resumes where it stopped and ends with the same weights as an unbroken one.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (EpochRecord, InputError, PressureSchedule, flush_denormals, modelio,
                               plot_learning_curve, split_indices, warmup_cosine)

PLUGIN = "cnn-fast"
# Chosen by measurement (docs/surrogate-notes.md, "cnn-fast"): ~0.35 MMAC/grid.
DEFAULT_ARCH = {"channels": 8, "stem_dilations": [1, 2], "dilations": [1, 2, 4], "embed": 32, "hidden": 128}


def load_stores(paths) -> tuple:
    """(grids uint8, pore-normalized loops float32, simulator params, steps) of one or more stores."""
    from invtoolkit_plugins.cnn.training import load_training_data

    parts = [load_training_data(p) for p in paths]
    params, steps = parts[0][3], parts[0][4]
    for p, part in zip(paths, parts):
        if part[4] != steps or any(part[3].get(k) != params.get(k) for k in ("T", "TC", "y")):
            raise InputError(f"{p}: simulator parameters differ from {paths[0]}'s")
    return np.concatenate([q[0] for q in parts]), np.concatenate([q[1] for q in parts]), params, steps


def val_errors(net, grids, curves, batch: int = 1024) -> np.ndarray:
    """Per-grid MAE over the loop (numpy (N,)), the top point taken from the labels."""
    import torch

    errs = []
    with torch.inference_mode():
        for s in range(0, len(grids), batch):
            c = curves[s:s + batch]
            errs.append((net(grids[s:s + batch].float(), c[:, (c.shape[1] - 1) // 2]) - c).abs().mean(1))
    return torch.cat(errs).numpy()


def _epoch(net, opt, g, c, order, batch_size, step, total_steps, lr):
    """One pass over the shuffled training set: (step, mean L1 loss)."""
    import torch

    net.train()
    top_col = (c.shape[1] - 1) // 2
    loss_sum, seen = 0.0, 0
    for b in range(len(order) // batch_size):
        for group in opt.param_groups:
            group["lr"] = warmup_cosine(step / total_steps, lr)
        idx = order[b * batch_size:(b + 1) * batch_size]
        cb = c[idx]
        loss = (net(g[idx].float(), cb[:, top_col]) - cb).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        loss_sum += float(loss.detach()) * len(idx)
        seen += len(idx)
    return step, loss_sum / max(seen, 1)


def train_fast(stores, output, *, epochs: int = 20, seed: int = 0, batch_size: int = 256, lr: float = 3e-3,
               weight_decay: float = 1e-4, val_n: int = 10_000, arch: dict | None = None, threads: int = 1,
               max_epochs_now: int | None = None, log=None, command: str | None = None,
               init=None) -> dict | None:
    """Train into ``output`` (checkpoint.pt every epoch; resumes from it). ``max_epochs_now``
    stops this call early (the checkpoint stays resumable). ``init``: a cnn-fast model
    directory to start from, widened to ``arch`` (``widen_state``: the same function at
    step 0). Returns the summary when done."""
    import torch

    from invtoolkit_plugins.cnn_fast.network import FastCNN

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    flush_denormals()
    torch.set_num_threads(int(threads))
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    grids_np, curves_np, params, steps = load_stores([str(s) for s in stores])
    arch = {**DEFAULT_ARCH, **(arch or {}), "steps": steps}
    tr, va = split_indices(len(grids_np), val_n / len(grids_np), seed, val_n)
    g, c = torch.from_numpy(grids_np), torch.from_numpy(curves_np)
    g_tr, c_tr, g_va, c_va = g[tr], c[tr], g[va], c[va]
    torch.manual_seed(seed)
    net = FastCNN(arch)
    if init is not None:
        net.load_state_dict(warm_state(init, net, params, steps))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    run = EpochRecord(output / "checkpoint.pt").resume(net, opt, log)
    n_batches = len(tr) // batch_size
    stop = epochs if max_epochs_now is None else min(epochs, run.start + max_epochs_now)
    for epoch in range(run.start, stop):
        t0 = time.monotonic()
        order = torch.from_numpy(np.random.default_rng([seed, epoch]).permutation(len(tr)))
        step, loss = _epoch(net, opt, g_tr, c_tr, order, batch_size, run.step, epochs * n_batches, lr)
        net.eval()
        run.end_epoch(net, opt, val_errors(net, g_va, c_va), epoch=epoch, epochs=epochs, step=step, loss=loss,
                      started=t0, log=log)
    if stop < epochs:
        return None
    recipe = {"stores": [str(s) for s in stores], "rows": int(len(grids_np)), "seed": seed, "epochs": epochs,
              "batch_size": batch_size, "lr": lr, "weight_decay": weight_decay, "n_val": int(len(va)),
              "val_mae": run.best, "history": run.history.rows, "loss": "L1 over the 2*steps+1 loop points (pore)",
              "command": command, "torch": torch.__version__,
              **({"init": str(init)} if init is not None else {})}
    save_fast(output, arch, params, steps, grids_np.shape[1:], recipe, run.best_state)
    plot_learning_curve(run.history, output / "learning_curve.png", title="cnn-fast surrogate")
    return recipe


def warm_state(init, net, params: dict, steps: int) -> dict:
    """The state dict of the model in ``init`` widened to ``net``'s architecture; InputError
    if it is not a cnn-fast model of these simulator parameters or cannot be widened."""
    from invtoolkit_plugins.cnn_fast.network import widen_state

    config, states = modelio.load_model(init)
    if config.get("plugin") != PLUGIN:
        raise InputError(f"{init}: a '{config.get('plugin')}' model, not a cnn-fast model")
    modelio.check_compatible(config, init, params={**{k: params.get(k) for k in ("T", "TC", "y")}, "steps": steps})
    try:
        return widen_state(states[0], config["architecture"], net)
    except ValueError as exc:
        raise InputError(f"{init}: {exc}") from None


def save_fast(output, arch, params, steps, grid_shape, recipe, state) -> None:
    config = {"plugin": PLUGIN, "architecture": {k: v for k, v in arch.items() if k != "steps"},
              "simulator": "lattice-dft",
              "simulator_params": {**{k: params.get(k) for k in ("T", "TC", "y")}, "steps": steps,
                                   "normalization": "pore"},
              "grid_shape": [int(grid_shape[0]), int(grid_shape[1])],
              "pressures": PressureSchedule(steps).pressures.round(10).tolist(), "training": recipe}
    modelio.save_model(output, config, [state])
