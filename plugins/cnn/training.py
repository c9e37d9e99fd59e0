"""Training the ``cnn`` surrogate: K ensemble members on a labelled dataset, each with
a warm-up + cosine schedule, early stopping on the validation MAE, a checkpoint every
epoch (resumable) and the learning curve beside the saved model."""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (EarlyStopping, History, InputError, PressureSchedule, flush_denormals,
                               load_checkpoint, modelio, plot_learning_curve, plot_lines, save_checkpoint,
                               split_indices, warmup_cosine)

PLUGIN = "cnn"
# Chosen by measurement (docs/surrogate-notes.md): exact symmetry at one pass, ~2 MMAC/grid.
DEFAULT_ARCH = {
    "conv": "iso",
    "channels": 16,
    "dilations": [1, 1, 2, 4],
    "kernel": 3,
    "embed": 64,
    "hidden": 256,
}


def read_model(path, *, params: dict, grid_shape=None) -> tuple[dict, list[dict]]:
    """(config, member state dicts) of a cnn model directory; refused with an InputError
    if it is another plugin's model or was trained for other parameters or grid size."""
    config, states = modelio.load_model(path)
    if config.get("plugin") != PLUGIN:
        raise InputError(f"{path}: a '{config.get('plugin')}' model, not a cnn model")
    modelio.check_compatible(config, path, params=params, grid_shape=grid_shape)
    return config, states


def load_training_data(path):
    """(grids uint8, pore-normalized curves float32, attrs, simulator params, steps) of a dataset store."""
    from invtoolkit.plugin import Dataset

    ds = Dataset.open(path)
    grids, curves = ds.load()
    attrs = ds.attrs
    if len(grids) < 10:
        raise InputError(f"{path}: only {len(grids)} labelled grids, need at least 10 to train")
    params = dict(attrs.get("simulator_params") or {})
    steps = int(params.get("steps", 40))
    if curves.shape[1] != 2 * steps + 1:
        raise InputError(f"{path}: curves have {curves.shape[1]} points; training needs the full loop "
                         f"({2 * steps + 1} points for steps={steps})")
    if params.get("normalization", "pore") == "site":  # exact conversion to pore filling
        pores = grids.reshape(len(grids), -1).sum(1).astype(np.float32)
        curves = curves * (grids.shape[1] * grids.shape[2]) / pores[:, None]
    return grids, np.clip(curves, 0.0, 1.0).astype(np.float32), attrs, params, steps


def evaluate(net, grids, curves, batch: int = 256) -> np.ndarray:
    """Per-grid MAE over all points (numpy (N,)) of ``net`` in eval mode."""
    import torch

    from invtoolkit_plugins.cnn.network import anchor_inputs

    was_training = net.training
    net.eval()
    errs = []
    with torch.inference_mode():
        for start in range(0, len(grids), batch):
            x, c = grids[start:start + batch].float(), curves[start:start + batch]
            errs.append((net(x, **anchor_inputs(net, c)) - c).abs().mean(1))
    net.train(was_training)
    return torch.cat(errs).numpy()


@dataclass
class Run:
    """What every member of one training run shares: data, split, schedule, budget."""

    arch: dict
    g_tr: object
    c_tr: object
    g_va: object
    c_va: object
    epochs: int
    batch_size: int
    lr: float
    weight_decay: float
    patience: int
    member_budget: float | None
    ckpt_path: Path
    progress: bool
    log: object
    init_state: dict | None = None
    init_path: object = None

    @property
    def n_batches(self) -> int:
        return max(1, len(self.g_tr) // self.batch_size)


def train_cnn(data, output, *, epochs: int = 40, time_limit: float | None = None, seed: int = 0,
              batch_size: int = 256, lr: float = 2e-3, weight_decay: float = 1e-4, ensemble: int = 1,
              threads: int | None = None, resume: bool = False, val_fraction: float = 0.05,
              max_val: int = 20_000, patience: int = 8, arch: dict | None = None, progress: bool = True,
              init=None, log=None, command: str | None = None) -> dict:
    """Train ``ensemble`` members (seeds seed, seed+1, ...) and save the model directory.

    ``time_limit`` (minutes) caps the whole run; the learning-rate schedule (warm-up +
    cosine) follows whichever of epochs or time runs out first, so a time-limited run
    still anneals. A checkpoint is written every epoch to ``output/checkpoint.pt``;
    ``resume=True`` continues from it. ``init`` (a cnn model directory) warm-starts every
    member from that model's first member (its architecture is used; the simulator
    parameters must match the data). Returns a summary (validation MAE mean / p95 ...).
    """
    import torch

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    flush_denormals()
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a directory")
    if threads:
        torch.set_num_threads(int(threads))
    grids_np, curves_np, attrs, params, steps = load_training_data(data)
    arch, init_state, init_training = _architecture(arch, init, params, steps, grids_np.shape[1:])
    train_idx, val_idx = split_indices(len(grids_np), val_fraction, seed, max_val)
    grids, curves = torch.from_numpy(grids_np), torch.from_numpy(curves_np)
    budget = None if time_limit is None else float(time_limit) * 60.0
    output.mkdir(parents=True, exist_ok=True)
    run = Run(arch, grids[train_idx], curves[train_idx], grids[val_idx], curves[val_idx], epochs, batch_size, lr,
              weight_decay, patience, None if budget is None else budget / ensemble, output / "checkpoint.pt",
              progress, log, init_state, init)
    state = load_checkpoint(run.ckpt_path) if resume and run.ckpt_path.exists() else None
    if resume and state is None:
        log(f"{run.ckpt_path}: no checkpoint, starting from scratch")
    done = list(state["done"]) if state else []  # finished members: {"state", "summary", "history"}
    for member in range(len(done), ensemble):
        done.append(_train_member(run, member, seed + member, state if state and state.get("member") == member
                                  else None, done))
        save_checkpoint(run.ckpt_path, {"done": done})
    summary = _ensemble_summary(run, done, len(train_idx), len(val_idx))
    recipe = {"dataset": str(data), "dataset_rows": int(len(grids_np)), "sampler": attrs.get("sampler"),
              "dataset_seed": attrs.get("seed"), "dataset_normalization": params.get("normalization", "pore"),
              "seed": seed, "epochs": epochs, "time_limit_min": time_limit, "batch_size": batch_size, "lr": lr,
              "weight_decay": weight_decay, "val_fraction": val_fraction, "patience": patience,
              "init": None if init is None else str(init), "init_training": init_training,
              "loss": "L1 over the 2*steps+1 loop points (pore normalization)",
              "command": command, "torch": torch.__version__, **summary}
    _save(output, run.arch, attrs, params, steps, grids_np.shape[1:], recipe, done)
    log(f"saved {output} ({len(done)} member(s)): val MAE {summary['val_mae']:.5f} (p95 {summary['val_mae_p95']:.5f})")
    return summary


def _architecture(arch, init, params, steps, grid_shape):
    """(architecture, warm-start state or None, the warm start's own recipe or None)."""
    init_state, init_training = None, None
    if init is not None:  # warm start: the given model's architecture and first member's weights
        init_params = {**{k: params.get(k) for k in ("T", "TC", "y")}, "steps": steps}
        init_config, init_states = read_model(init, params=init_params, grid_shape=grid_shape)
        arch = {**init_config["architecture"], **(arch or {})}
        init_state = init_states[0]
        init_training = init_config.get("training")  # kept: the warm start's own recipe
    return {**DEFAULT_ARCH, **(arch or {}), "steps": steps}, init_state, init_training


def _train_member(run: Run, member: int, member_seed: int, state: dict | None, done: list) -> dict:
    """Train one member (resuming from ``state`` if it holds this member's checkpoint);
    its best-epoch weights, summary and history."""
    import torch

    from invtoolkit_plugins.cnn.network import IsothermCNN

    torch.manual_seed(member_seed)
    net = IsothermCNN(run.arch)
    if run.init_state is not None:
        modelio.load_state(net, net.load_warm(run.init_state), Path(run.init_path) / modelio.WEIGHTS_NAME)
    opt = torch.optim.AdamW(net.parameters(), lr=run.lr, weight_decay=run.weight_decay)
    early, history = EarlyStopping(patience=run.patience), History()
    best_state, start_epoch, step, elapsed = None, 0, 0, 0.0
    if state is not None and "model" in state:
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        early.load(state["early"])
        history.rows = list(state["history"])
        best_state = state["best_state"]
        start_epoch, step, elapsed = int(state["epoch"]) + 1, int(state["step"]), float(state["elapsed"])
        run.log(f"member {member}: resuming after epoch {start_epoch} (best val MAE {early.best:.5f})")
    t_start = time.monotonic() - elapsed
    stop_reason = "epochs"
    for epoch in range(start_epoch, run.epochs):
        if early.should_stop:
            stop_reason = "early stopping"
            break
        if run.member_budget is not None and time.monotonic() - t_start >= run.member_budget:
            stop_reason = "time limit"
            break
        gen = torch.Generator().manual_seed(member_seed * 100_003 + epoch)
        step, loss_mean, seen = _run_epoch(run, net, opt, gen, step, t_start, early, member, epoch)
        errs = evaluate(net, run.g_va, run.c_va)
        val_mae, val_p95 = float(errs.mean()), float(np.quantile(errs, 0.95))
        if early.update(val_mae, epoch):
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elapsed = time.monotonic() - t_start
        history.add(epoch=epoch + 1, train_loss=loss_mean, val_mae=val_mae, val_p95=val_p95,
                    lr=opt.param_groups[0]["lr"], seconds=round(elapsed, 1))
        run.log(f"member {member} epoch {epoch + 1}: train {loss_mean:.5f}  val MAE {val_mae:.5f} "
                f"(p95 {val_p95:.5f})  best {early.best:.5f}  {elapsed / 60:.1f} min")
        save_checkpoint(run.ckpt_path, {"done": done, "member": member, "epoch": epoch, "step": step,
                                        "elapsed": elapsed, "model": net.state_dict(), "optimizer": opt.state_dict(),
                                        "best_state": best_state, "early": early.state(), "history": history.rows})
        if seen < run.n_batches * run.batch_size:  # the schedule ran out inside this epoch (time limit)
            stop_reason = "time limit"
            break
    net.load_state_dict(best_state)
    errs = evaluate(net, run.g_va, run.c_va)
    summary = {"seed": member_seed, "epochs_run": len(history.rows), "best_epoch": early.best_epoch + 1,
               "val_mae": float(errs.mean()), "val_mae_p95": float(np.quantile(errs, 0.95)),
               "seconds": round(elapsed, 1), "steps": step, "stopped_by": stop_reason}
    run.log(f"member {member} done: val MAE {summary['val_mae']:.5f} (p95 {summary['val_mae_p95']:.5f})")
    return {"state": best_state, "summary": summary, "history": history.rows}


def _run_epoch(run: Run, net, opt, gen, step: int, t_start: float, early, member: int, epoch: int):
    """One pass over the shuffled training grids: (step count, mean loss, grids seen)."""
    import torch

    from invtoolkit.plugin import progress_bar
    from invtoolkit.plugin import augment_torch
    from invtoolkit_plugins.cnn.network import anchor_inputs

    order = torch.randperm(len(run.g_tr), generator=gen)
    augment = run.arch.get("conv") != "iso"  # iso nets are exactly invariant: augmenting changes nothing
    total_steps = run.epochs * run.n_batches
    net.train()
    loss_sum, seen = 0.0, 0
    desc = f"member {member} epoch {epoch + 1}/{run.epochs}"
    with progress_bar(total=run.n_batches, desc=desc, unit="batch", enabled=run.progress) as bar:
        for b in range(run.n_batches):
            frac = step / total_steps
            if run.member_budget is not None:
                frac = max(frac, (time.monotonic() - t_start) / run.member_budget)
            if frac >= 1.0:
                break
            for group in opt.param_groups:
                group["lr"] = warmup_cosine(frac, run.lr)
            idx = order[b * run.batch_size:(b + 1) * run.batch_size]
            x = run.g_tr[idx].float()
            if augment:
                x = augment_torch(x, gen)
            c = run.c_tr[idx]
            loss = (net(x, **anchor_inputs(net, c)) - c).abs().mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
            bar.update(1)
            if b % 50 == 0:
                bar.set_postfix(loss=f"{loss_sum / seen:.4f}", val=f"{early.best:.4f}" if early.best < math.inf else "-")
    return step, loss_sum / max(seen, 1), seen


def _members(run: Run, done: list) -> list:
    from invtoolkit_plugins.cnn.network import IsothermCNN

    members = []
    for d in done:
        net = IsothermCNN(run.arch)
        net.load_state_dict(d["state"])
        members.append(net)
    return members


def _ensemble_summary(run: Run, done: list, n_train: int, n_val: int) -> dict:
    """The ensemble as a whole on the validation set."""
    from invtoolkit_plugins.cnn.network import Ensemble

    errs = evaluate(Ensemble(_members(run, done)), run.g_va, run.c_va)
    return {"val_mae": float(errs.mean()), "val_mae_p95": float(np.quantile(errs, 0.95)),
            "n_train": int(n_train), "n_val": int(n_val), "members": [d["summary"] for d in done]}


def _save(output: Path, arch: dict, attrs: dict, params: dict, steps: int, grid_shape, recipe: dict, done) -> None:
    """The model directory (config + weights of every member) and its learning curve."""
    config = {
        "plugin": PLUGIN,
        "architecture": {k: v for k, v in arch.items() if k != "steps"},
        "simulator": attrs.get("simulator", "lattice-dft"),
        "simulator_params": {**{k: params.get(k) for k in ("T", "TC", "y")}, "steps": steps, "normalization": "pore"},
        "grid_shape": [int(grid_shape[0]), int(grid_shape[1])],
        "pressures": PressureSchedule(steps).pressures.round(10).tolist(),
        "training": recipe,
    }
    modelio.save_model(output, config, [d["state"] for d in done])
    plot_members(done, output / "learning_curve.png")


def plot_members(done, path) -> None:
    """One member: its train loss and validation MAE; several: each one's validation MAE
    (solid) and train loss (dotted)."""
    if len(done) == 1:
        plot_learning_curve(History(list(done[0]["history"])), path, title="cnn surrogate")
        return
    lines = []
    for k, d in enumerate(done):
        epochs = [r["epoch"] for r in d["history"]]
        lines.append((f"member {k} val MAE", epochs, [r["val_mae"] for r in d["history"]], {"marker": "."}))
        lines.append((None, epochs, [r["train_loss"] for r in d["history"]], {"ls": ":", "alpha": 0.6}))
    plot_lines(path, lines, ylabel="MAE (dotted: train loss)")
