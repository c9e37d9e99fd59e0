"""Generic helpers for training learned plugins: split, schedule, early stopping,
checkpoints, learning-curve plot. torch and matplotlib are imported on use only."""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.fileio import atomic_path, torch_save


def flush_denormals() -> None:
    """Flush denormal floats to zero (process-wide). Tiny softmax probabilities in the
    surrogate's loop head make denormals in backward passes, which run ~10x slower on
    x86 (observed: a cnn epoch 2.7 -> 22 min, generator batches 1.3 -> 7 s)."""
    import torch

    torch.set_flush_denormal(True)


def split_indices(n: int, val_fraction: float, seed: int, max_val: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train, validation) index arrays; the validation set has at least one row."""
    if n < 2:
        raise InputError(f"need at least 2 examples to split into train/validation, got {n}")
    n_val = max(1, int(round(n * float(val_fraction))))
    if max_val is not None:
        n_val = min(n_val, int(max_val))
    n_val = min(n_val, n - 1)
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def warmup_cosine(progress: float, peak: float, warmup: float = 0.03, final: float = 0.01) -> float:
    """Learning rate at ``progress`` in [0, 1]: linear warm-up then cosine to ``final * peak``."""
    p = min(max(progress, 0.0), 1.0)
    if p < warmup:
        return peak * (0.1 + 0.9 * p / warmup)
    q = (p - warmup) / max(1e-12, 1.0 - warmup)
    return peak * (final + (1.0 - final) * 0.5 * (1.0 + math.cos(math.pi * q)))


@dataclass
class EarlyStopping:
    """Stop after ``patience`` evaluations without an improvement larger than ``min_delta``."""

    patience: int = 10
    min_delta: float = 0.0
    best: float = math.inf
    best_epoch: int = -1
    bad: int = 0

    def update(self, value: float, epoch: int) -> bool:
        """Record ``value``; True when it is a new best."""
        if value < self.best - self.min_delta:
            self.best, self.best_epoch, self.bad = float(value), int(epoch), 0
            return True
        self.bad += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad >= self.patience

    def state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch, "bad": self.bad}

    def load(self, state: dict) -> None:
        self.best, self.best_epoch, self.bad = float(state["best"]), int(state["best_epoch"]), int(state["bad"])


@dataclass
class History:
    """Per-epoch records (dicts), e.g. epoch, train_loss, val_mae, lr, seconds."""

    rows: list = field(default_factory=list)

    def add(self, **row) -> None:
        self.rows.append(row)

    def column(self, key: str) -> list:
        return [r[key] for r in self.rows if key in r]


@dataclass
class EpochRecord:
    """A resumable training run between epochs: the history, the best validation MAE and
    its weights, the next epoch and optimiser step, all in one checkpoint at ``path``
    (a run killed mid-epoch resumes after the last finished epoch)."""

    path: Path
    history: History = field(default_factory=History)
    best: float = float("inf")
    best_state: dict | None = None
    start: int = 0  # the next epoch
    step: int = 0  # optimiser steps so far (the learning-rate schedule's position)

    def resume(self, net, opt, log) -> "EpochRecord":
        """Load the checkpoint into ``net``, ``opt`` and this record, if there is one."""
        if Path(self.path).exists():
            st = load_checkpoint(self.path)
            net.load_state_dict(st["model"])
            opt.load_state_dict(st["optimizer"])
            self.history.rows, self.best, self.best_state = list(st["history"]), float(st["best"]), st["best_state"]
            self.start, self.step = int(st["epoch"]) + 1, int(st["step"])
            log(f"resuming after epoch {self.start} (best val MAE {self.best:.5f})")
        return self

    def end_epoch(self, net, opt, errors, *, epoch: int, epochs: int, step: int, loss: float, started: float,
                  log) -> None:
        """Record epoch ``epoch`` (validation ``errors`` per example), keep the best
        weights, log a line and write the checkpoint."""
        import time

        mae, p95 = float(errors.mean()), float(np.quantile(errors, 0.95))
        if mae < self.best:
            self.best, self.best_state = mae, {k: v.detach().clone() for k, v in net.state_dict().items()}
        seconds = time.monotonic() - started
        self.history.add(epoch=epoch + 1, train_loss=loss, val_mae=mae, val_p95=p95, lr=opt.param_groups[0]["lr"],
                         seconds=round(seconds, 1))
        log(f"epoch {epoch + 1}/{epochs}: train {loss:.5f}  val MAE {mae:.5f} (p95 {p95:.5f})  best {self.best:.5f}  "
            f"{seconds:.0f} s")
        self.start, self.step = epoch + 1, step
        save_checkpoint(self.path, {"model": net.state_dict(), "optimizer": opt.state_dict(),
                                    "history": self.history.rows, "best": self.best, "best_state": self.best_state,
                                    "epoch": epoch, "step": step})


def save_checkpoint(path, state: dict) -> None:
    """Atomic ``torch.save`` (a kill mid-write leaves the previous checkpoint intact)."""
    torch_save(path, state)


def load_checkpoint(path) -> dict:
    """A checkpoint written by :func:`save_checkpoint` (tensors and plain values only)."""
    import torch

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no checkpoint to resume from")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputError(f"{path}: corrupt checkpoint ({type(exc).__name__})") from None


def trainable_modules(obj) -> list:
    """The torch modules of a model object that training should update: ``obj`` itself
    if it is one, else its module attributes, without cached TorchScript copies (e.g.
    the cnn surrogate's frozen inference network, which has no train mode)."""
    import torch

    if isinstance(obj, torch.nn.Module):
        return [obj]
    return [v for v in vars(obj).values()
            if isinstance(v, torch.nn.Module) and not isinstance(v, torch.jit.ScriptModule)]


@contextmanager
def modules_set(obj, *, train: bool, grad: bool):
    """Put ``obj``'s torch modules (see :func:`trainable_modules`) in train or eval
    mode with or without gradients for the block, then restore each one's state:
    frozen while a generator trains through a surrogate, thawed while it is fine-tuned."""
    saved = []
    for module in trainable_modules(obj):
        saved.append((module, module.training, [(p, p.requires_grad) for p in module.parameters()]))
        module.train(train)
        for p in module.parameters():
            p.requires_grad_(grad)
    try:
        yield [p for module, _, params in saved for p, _ in params]
    finally:
        for module, training, params in saved:
            module.train(training)
            for p, flag in params:
                p.requires_grad_(flag)


def plot_lines(path, lines, *, title: str = "", ylabel: str = "mean absolute error (filled fraction)") -> Path:
    """The one learning-curve figure: ``lines`` of (label, epochs, values, style dict)
    on a log scale, written atomically as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for label, x, y, style in lines:
        ax.plot(x, y, label=label, **style)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    with atomic_path(path, keep_suffix=True) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return path


def plot_learning_curve(history, path, title: str = "",
                        series=(("train_loss", "train L1 loss"), ("val_mae", "validation MAE"))) -> Path:
    """Per-epoch ``series`` (key, label) of a :class:`History` or of a dict of columns
    (with an ``epoch`` column), on a log scale, saved as PNG."""
    rows = history.rows if isinstance(history, History) else [dict(zip(history, v)) for v in zip(*history.values())]
    lines = []
    for key, label in series:
        have = [r for r in rows if key in r]
        if have:
            lines.append((label, [r["epoch"] for r in have], [r[key] for r in have], {"marker": "."}))
    return plot_lines(path, lines, title=title)
