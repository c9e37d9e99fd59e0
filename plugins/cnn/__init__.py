"""Surrogate plugin ``cnn``: a convolutional network standing in for the lattice DFT.

Grid -> full adsorption/desorption loop (pore normalization), exactly invariant under
the torus symmetries (circular stride-1 convolutions, D4-symmetric kernels, pooled
means), adsorption non-decreasing and desorption never below it by construction (see
``invtoolkit_plugins.cnn.network``). ``normalization="site"`` multiplies by the porosity (exact);
``adsorption_only`` keeps the first ``steps + 1`` points; only the trained ``steps``
is accepted.

A model is a directory (``invtoolkit.modelio``): config.json + weights.pt with one or
more ensemble members. ``model=None`` loads the shipped default from
``models/cnn/`` beside this file. Ensembles give a per-point standard deviation
(:meth:`CNNSurrogate.predict_with_uncertainty`).

Training: :meth:`CNNSurrogate.train` (used by ``invtoolkit train surrogate``).
"""

from __future__ import annotations

import copy
import math
import sys
import threading
import time
from pathlib import Path

import numpy as np

from dataclasses import dataclass

from invtoolkit import modelio
from invtoolkit.errors import InputError
from invtoolkit.hookspecs import hookimpl
from invtoolkit.io import check_grids
from invtoolkit.options import option
from invtoolkit.pressure import PressureSchedule
from invtoolkit.roles import Surrogate, Trainable, WithUncertainty

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "cnn"  # package data of invtoolkit_plugins
PLUGIN = "cnn"
JIT_MIN_GRIDS = 2048  # below this, tracing costs more than it saves
# Chosen by measurement (docs/surrogate-notes.md): exact symmetry at one pass, ~2 MMAC/grid.
DEFAULT_ARCH = {
    "conv": "iso",
    "channels": 16,
    "dilations": [1, 1, 2, 4],
    "kernel": 3,
    "embed": 64,
    "hidden": 256,
}


def _torch():
    import torch

    return torch


@dataclass
class CNNOptions:
    """What ``cnn`` accepts (``invtoolkit plugins --options cnn``)."""

    model: str | None = option(None, "model directory (config.json + weights.pt); None: the shipped one")
    normalization: str = option("pore", "pore: filled fraction of pore cells; site: amount per lattice site")
    steps: int | None = option(None, "pressure steps per branch; must equal the trained ones (None: those)")
    adsorption_only: bool = option(False, "only the adsorption branch (steps + 1 points)")
    T: float | None = option(None, "temperature (K), checked against the model's")
    TC: float | None = option(None, "critical temperature (K), checked against the model's")
    y: float | None = option(None, "wall/fluid interaction ratio, checked against the model's")
    device: str = option("cpu", "torch device: cpu or cuda")
    threads: int | None = option(None, "torch CPU threads (None: all cores)")
    batch_size: int | None = option(None, "inference batch (None: 64 on CPU, 8192 on GPU)")


class CNNSurrogate(Surrogate, Trainable, WithUncertainty):
    """Learned lattice-DFT isotherms, options in :class:`CNNOptions`."""

    name = PLUGIN
    Options = CNNOptions

    def __init__(self, model=None, **options):
        from invtoolkit_plugins.cnn.network import Ensemble, IsothermCNN

        o = CNNOptions(model=model, **options)
        normalization, steps, device, batch_size = o.normalization, o.steps, o.device, o.batch_size
        T, TC, y, model = o.T, o.TC, o.y, o.model
        if normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{normalization}'")
        if model is None:
            if not (DEFAULT_MODEL / modelio.CONFIG_NAME).exists():
                raise InputError(f"no default cnn model shipped in {DEFAULT_MODEL}; train one with "
                                 f"'invtoolkit train surrogate DATA.zarr -o DIR' and pass model=DIR")
            model = DEFAULT_MODEL
        self.model_path = modelio.model_dir(model)
        self.config, states = read_model(self.model_path, params={"T": T, "TC": TC, "y": y, "steps": steps})
        trained_steps = int(self.config["simulator_params"]["steps"])
        members = []
        for i, state in enumerate(states):
            net = IsothermCNN({**self.config["architecture"], "steps": trained_steps})
            modelio.load_state(net, state, self.model_path / modelio.WEIGHTS_NAME)
            members.append(net)
        self.net = Ensemble(members).eval().requires_grad_(False)
        self.device = device
        if device != "cpu":
            self.net.to(device)
        self.threads = o.threads
        self._frozen = None  # the traced CPU network, made on first use (see _frozen_net)
        # Small CPU batches keep the 20x20 activations in cache: measured ~10x faster per
        # grid at 64 than at 4096 (the convolutions are memory-bound at 16-64 channels).
        self.batch_size = int(batch_size or (64 if device == "cpu" else 8192))
        self.grid_shape = tuple(int(v) for v in self.config["grid_shape"])
        self.schedule = PressureSchedule(trained_steps, bool(o.adsorption_only))
        self.normalization = normalization

    # -- role interface -------------------------------------------------------------
    @property
    def params(self) -> dict:
        p = self.config["simulator_params"]
        return {"T": p.get("T"), "TC": p.get("TC"), "y": p.get("y"), "steps": self.schedule.steps,
                "normalization": self.normalization}

    @property
    def n_members(self) -> int:
        return len(self.net.members)

    def with_options(self, **options) -> "CNNSurrogate":
        """A copy sharing the network, with other normalization / adsorption_only."""
        steps = options.pop("steps", None)
        modelio.check_compatible(self.config, self.model_path, params={"steps": steps, **{
            k: options.pop(k) for k in ("T", "TC", "y") if k in options}})
        other = copy.copy(self)  # shares the network (and its frozen copy)
        normalization = options.pop("normalization", self.normalization)
        if normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{normalization}'")
        other.normalization = normalization
        other.schedule = PressureSchedule(self.schedule.steps, bool(options.pop("adsorption_only",
                                                                                self.schedule.adsorption_only)))
        for key in ("threads", "batch_size"):
            if key in options:
                setattr(other, key, options.pop(key))
        if options:
            raise InputError(f"cnn: unknown options {sorted(options)}")
        return other

    def _check_shape(self, shape) -> None:
        if tuple(shape[-2:]) != self.grid_shape:
            h, w = self.grid_shape
            raise InputError(f"{self.model_path}: model was trained on {h}x{w} grids, "
                             f"not {shape[-2]}x{shape[-1]}")

    def _finish(self, loop, grids):
        """Pore-normalized full loops (torch) -> this surrogate's points and normalization."""
        out = loop[:, : len(self.schedule)]
        if self.normalization == "site":
            out = out * grids.mean((-2, -1)).unsqueeze(1)
        return out

    def forward_torch(self, grids):
        """torch (N,H,W) float in [0,1] -> (N,P), differentiable with respect to ``grids``."""
        self._check_shape(grids.shape)
        return self._finish(self.net(grids), grids)

    def _batches(self, grids, fn, progress: bool):
        torch = _torch()
        from invtoolkit.progress import progress_bar

        grids = check_grids(grids)
        self._check_shape(grids.shape)
        if self.threads:
            torch.set_num_threads(int(self.threads))
        bs = self.batch_size
        workers = self._workers(len(grids))
        with progress_bar(total=len(grids), desc="cnn", unit="grid", enabled=progress) as bar:
            lock = threading.Lock()

            def run(start):
                with torch.inference_mode():  # thread-local: each worker enters it
                    x = torch.from_numpy(grids[start:start + bs]).to(self.device, torch.float32)
                    out = [t.cpu().numpy().astype(np.float64) for t in fn(x)]
                with lock:
                    bar.update(len(x))
                return out

            starts = range(0, len(grids), bs)
            if workers == 1:
                outs = [run(s) for s in starts]
            else:
                outs = self._in_parallel(run, starts, workers)
        return [np.concatenate(parts) for parts in zip(*outs)]

    def _workers(self, n: int) -> int:
        """Batch-parallel workers for CPU inference: one torch thread per batch beats
        intra-op threads on the small cache-resident batches (measured 11.2k vs 7.6k
        grids/s on 2 cores), but only pays when every worker gets several batches."""
        if self.device != "cpu":
            return 1
        workers = int(self.threads or _torch().get_num_threads())
        return workers if workers > 1 and n >= 4 * workers * self.batch_size else 1

    @staticmethod
    def _in_parallel(run, starts, workers: int):
        from concurrent.futures import ThreadPoolExecutor

        torch = _torch()
        before = torch.get_num_threads()
        torch.set_num_threads(1)  # process-wide: restored below
        try:
            with ThreadPoolExecutor(workers) as pool:
                return list(pool.map(run, starts))
        finally:
            torch.set_num_threads(before)

    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        """float64 (N,P) predicted isotherms of uint8 grids (N,H,W)."""
        net = self._frozen_net() if len(grids) >= JIT_MIN_GRIDS else self.net
        (curves,) = self._batches(grids, lambda x: (self._finish(net(x), x),), progress)
        return curves

    def _frozen_net(self):
        """The network traced, frozen and optimized for CPU inference (conv+relu fusion,
        oneDNN layouts; measured ~1.5-2x faster than eager). Same numbers to float
        rounding; the eager network stays for gradients and small batches."""
        if self.device != "cpu":
            return self.net
        if self._frozen is None:
            torch = _torch()
            import warnings

            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    example = torch.zeros(64, *self.grid_shape)
                    example[:, ::2, ::3] = 1.0
                    traced = torch.jit.trace(self.net, example, check_trace=False)
                    self._frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            except Exception:  # no TorchScript in this torch build: eager is still correct
                self._frozen = self.net
        return self._frozen

    def predict_with_uncertainty(self, grids: np.ndarray, *, progress: bool = False):
        """(mean, std) float64 (N,P): ensemble mean and per-point standard deviation
        (all zeros for a single model)."""

        def both(x):
            mean, std = self.net.mean_std(x)
            return self._finish(mean, x), self._finish(std, x)

        return tuple(self._batches(grids, both, progress))

    def save(self, path) -> None:
        modelio.save_model(path, {k: v for k, v in self.config.items() if k not in ("format", "format_version",
                                                                                     "members")},
                           [m.state_dict() for m in self.net.members])

    # -- training ---------------------------------------------------------------------
    @classmethod
    def train(cls, data, output, **options) -> dict:
        """Train a model (K members) on dataset ``data`` into directory ``output``; see :func:`train_cnn`."""
        return train_cnn(data, output, **options)


def read_model(path, *, params: dict, grid_shape=None) -> tuple[dict, list[dict]]:
    """(config, member state dicts) of a cnn model directory; refused with an InputError
    if it is another plugin's model or was trained for other parameters or grid size."""
    config, states = modelio.load_model(path)
    if config.get("plugin") != PLUGIN:
        raise InputError(f"{path}: a '{config.get('plugin')}' model, not a cnn model")
    modelio.check_compatible(config, path, params=params, grid_shape=grid_shape)
    return config, states


# ------------------------------------------------------------------------ training
def _load_training_data(path):
    """(grids uint8, pore-normalized curves float32, attrs) of a dataset store."""
    from invtoolkit.dataset import Dataset

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
    torch = _torch()
    was_training = net.training
    net.eval()
    errs = []
    with torch.inference_mode():
        for start in range(0, len(grids), batch):
            x = grids[start:start + batch].float()
            errs.append((net(x) - curves[start:start + batch]).abs().mean(1))
    net.train(was_training)
    return torch.cat(errs).numpy()


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
    torch = _torch()
    from invtoolkit.progress import progress_bar
    from invtoolkit.training import (EarlyStopping, History, flush_denormals, load_checkpoint, plot_learning_curve,
                                     save_checkpoint, split_indices, warmup_cosine)
    from invtoolkit_plugins.cnn.network import IsothermCNN
    from invtoolkit.symmetry import augment_torch

    log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
    flush_denormals()
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise InputError(f"{output}: exists and is not a directory")
    if threads:
        torch.set_num_threads(int(threads))
    grids_np, curves_np, attrs, params, steps = _load_training_data(data)
    init_state, init_training = None, None
    if init is not None:  # warm start: the given model's architecture and first member's weights
        init_params = {**{k: params.get(k) for k in ("T", "TC", "y")}, "steps": steps}
        init_config, init_states = read_model(init, params=init_params, grid_shape=grids_np.shape[1:])
        arch = {**init_config["architecture"], **(arch or {})}
        init_state = init_states[0]
        init_training = init_config.get("training")  # kept: the warm start's own recipe
    arch = {**DEFAULT_ARCH, **(arch or {}), "steps": steps}
    train_idx, val_idx = split_indices(len(grids_np), val_fraction, seed, max_val)
    grids = torch.from_numpy(grids_np)
    curves = torch.from_numpy(curves_np)
    g_tr, c_tr = grids[train_idx], curves[train_idx]
    g_va, c_va = grids[val_idx], curves[val_idx]
    n_batches = max(1, len(train_idx) // batch_size)
    budget = None if time_limit is None else float(time_limit) * 60.0
    member_budget = None if budget is None else budget / ensemble
    output.mkdir(parents=True, exist_ok=True)
    ckpt_path = output / "checkpoint.pt"

    state = load_checkpoint(ckpt_path) if resume and ckpt_path.exists() else None
    if resume and state is None:
        log(f"{ckpt_path}: no checkpoint, starting from scratch")
    done = list(state["done"]) if state else []  # finished members: {"state", "summary", "history"}

    for member in range(len(done), ensemble):
        member_seed = seed + member
        torch.manual_seed(member_seed)
        net = IsothermCNN(arch)
        if init_state is not None:
            modelio.load_state(net, init_state, Path(init) / modelio.WEIGHTS_NAME)
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
        early, history = EarlyStopping(patience=patience), History()
        best_state, start_epoch, step, elapsed = None, 0, 0, 0.0
        if state and state.get("member") == member and "model" in state:
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            early.load(state["early"])
            history.rows = list(state["history"])
            best_state = state["best_state"]
            start_epoch, step, elapsed = int(state["epoch"]) + 1, int(state["step"]), float(state["elapsed"])
            log(f"member {member}: resuming after epoch {start_epoch} (best val MAE {early.best:.5f})")
        total_steps = epochs * n_batches
        augment = arch.get("conv") != "iso"  # iso nets are exactly invariant: augmenting changes nothing
        t_start = time.monotonic() - elapsed
        stop_reason = "epochs"
        for epoch in range(start_epoch, epochs):
            if early.should_stop:
                stop_reason = "early stopping"
                break
            if member_budget is not None and time.monotonic() - t_start >= member_budget:
                stop_reason = "time limit"
                break
            gen = torch.Generator().manual_seed(member_seed * 100_003 + epoch)
            order = torch.randperm(len(train_idx), generator=gen)
            net.train()
            loss_sum, seen = 0.0, 0
            desc = f"member {member} epoch {epoch + 1}/{epochs}"
            with progress_bar(total=n_batches, desc=desc, unit="batch", enabled=progress) as bar:
                for b in range(n_batches):
                    frac = step / total_steps
                    if member_budget is not None:
                        frac = max(frac, (time.monotonic() - t_start) / member_budget)
                    if frac >= 1.0:
                        break
                    for group in opt.param_groups:
                        group["lr"] = warmup_cosine(frac, lr)
                    idx = order[b * batch_size:(b + 1) * batch_size]
                    x = g_tr[idx].float()
                    if augment:
                        x = augment_torch(x, gen)
                    loss = (net(x) - c_tr[idx]).abs().mean()
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    step += 1
                    loss_sum += float(loss.detach()) * len(idx)
                    seen += len(idx)
                    bar.update(1)
                    if b % 50 == 0:
                        bar.set_postfix(loss=f"{loss_sum / seen:.4f}",
                                        val=f"{early.best:.4f}" if early.best < math.inf else "-")
            errs = evaluate(net, g_va, c_va)
            val_mae, val_p95 = float(errs.mean()), float(np.quantile(errs, 0.95))
            if early.update(val_mae, epoch):
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            elapsed = time.monotonic() - t_start
            history.add(epoch=epoch + 1, train_loss=loss_sum / max(seen, 1), val_mae=val_mae, val_p95=val_p95,
                        lr=opt.param_groups[0]["lr"], seconds=round(elapsed, 1))
            log(f"member {member} epoch {epoch + 1}: train {loss_sum / max(seen, 1):.5f}  val MAE {val_mae:.5f} "
                f"(p95 {val_p95:.5f})  best {early.best:.5f}  {elapsed / 60:.1f} min")
            save_checkpoint(ckpt_path, {"done": done, "member": member, "epoch": epoch, "step": step,
                                        "elapsed": elapsed, "model": net.state_dict(), "optimizer": opt.state_dict(),
                                        "best_state": best_state, "early": early.state(), "history": history.rows})
            if seen < n_batches * batch_size:  # the schedule ran out inside this epoch (time limit)
                stop_reason = "time limit"
                break
        net.load_state_dict(best_state)
        errs = evaluate(net, g_va, c_va)
        summary = {"seed": member_seed, "epochs_run": len(history.rows), "best_epoch": early.best_epoch + 1,
                   "val_mae": float(errs.mean()), "val_mae_p95": float(np.quantile(errs, 0.95)),
                   "seconds": round(elapsed, 1), "steps": step, "stopped_by": stop_reason}
        done.append({"state": best_state, "summary": summary, "history": history.rows})
        save_checkpoint(ckpt_path, {"done": done})
        log(f"member {member} done: val MAE {summary['val_mae']:.5f} (p95 {summary['val_mae_p95']:.5f})")

    # the ensemble as a whole on the validation set
    from invtoolkit_plugins.cnn.network import Ensemble

    members = []
    for d in done:
        net = IsothermCNN(arch)
        net.load_state_dict(d["state"])
        members.append(net)
    errs = evaluate(Ensemble(members), g_va, c_va)
    summary = {"val_mae": float(errs.mean()), "val_mae_p95": float(np.quantile(errs, 0.95)),
               "n_train": int(len(train_idx)), "n_val": int(len(val_idx)), "members": [d["summary"] for d in done]}
    sim_params = {k: params.get(k) for k in ("T", "TC", "y")}
    config = {
        "plugin": PLUGIN,
        "architecture": {k: v for k, v in arch.items() if k != "steps"},
        "simulator": attrs.get("simulator", "lattice-dft"),
        "simulator_params": {**sim_params, "steps": steps, "normalization": "pore"},
        "grid_shape": [int(grids_np.shape[1]), int(grids_np.shape[2])],
        "pressures": PressureSchedule(steps).pressures.round(10).tolist(),
        "training": {
            "dataset": str(data), "dataset_rows": int(len(grids_np)), "sampler": attrs.get("sampler"),
            "dataset_seed": attrs.get("seed"), "dataset_normalization": params.get("normalization", "pore"),
            "seed": seed, "epochs": epochs, "time_limit_min": time_limit, "batch_size": batch_size, "lr": lr,
            "weight_decay": weight_decay, "val_fraction": val_fraction, "patience": patience,
            "init": None if init is None else str(init), "init_training": init_training,
            "loss": "L1 over the 2*steps+1 loop points (pore normalization)",
            "command": command, "torch": torch.__version__, **summary,
        },
    }
    modelio.save_model(output, config, [d["state"] for d in done])
    rows = []
    for k, d in enumerate(done):
        rows += [{**r, "member": k} for r in d["history"]]
    _plot_members(done, output / "learning_curve.png")
    log(f"saved {output} ({len(done)} member(s)): val MAE {summary['val_mae']:.5f} (p95 {summary['val_mae_p95']:.5f})")
    return summary


def _plot_members(done, path) -> None:
    from invtoolkit.training import History, plot_learning_curve

    if len(done) == 1:
        history = History(list(done[0]["history"]))
        plot_learning_curve(history, path, title="cnn surrogate")
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for k, d in enumerate(done):
        rows = d["history"]
        ax.plot([r["epoch"] for r in rows], [r["val_mae"] for r in rows], marker=".", label=f"member {k} val MAE")
        ax.plot([r["epoch"] for r in rows], [r["train_loss"] for r in rows], ls=":", alpha=0.6)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("MAE (dotted: train loss)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@hookimpl
def register_surrogates(register):
    register(PLUGIN, CNNSurrogate, "CNN surrogate of lattice-dft: full loop, exact torus symmetry, ensembles")
