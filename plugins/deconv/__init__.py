"""Generator plugin ``deconv``: target isotherm x latent code -> 0/1 grids.

Input convention: the network reads the ADSORPTION branch (the first ``steps + 1``
points). A full-loop target (``2 * steps + 1`` points) is accepted and its first
``steps + 1`` points are used; the desorption half is ignored by the generator
(search stages downstream can still fit it).

Latent codes are standard normal, drawn from ``torch.Generator().manual_seed(seed)``;
for one call every target gets the same ``n`` codes, so the same seed gives the same
grids, target by target, whatever the batch.

Training (``fit``) runs through a frozen differentiable surrogate: loss = MAE between
the surrogate's adsorption branch of the generated (binary) grids and the target,
plus two terms that keep different codes making different grids: a diversity
term (each target gets two codes; the pair is penalised by relu(margin - d) where d
is the fraction of cells in which the two grids differ up to torus symmetry) and an
InfoGAN-style term (a recognition head, blind to the torus symmetries, must recover z
from the grid); why both: docs/surrogate-notes.md. Optionally (``best_of`` = k) each target gets k codes and only the
best of them carries most of the MAE term (relaxed winner-takes-all), the way
inversion uses the generator.

This module also registers the surrogate ``dft-implicit``: the exact lattice DFT's
adsorption branch made differentiable by implicit differentiation of its fixed
points (``implicit.py``), so a generator can be trained or fine-tuned against
the physics itself (``invtoolkit train generator --surrogate dft-implicit``).
Model files follow :mod:`invtoolkit.learning.modelio` (config.json + tensors-only weights.pt).
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (Fittable, Generator, InputError, PressureSchedule, Saveable, hookimpl,
                               torch_save)

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "deconv"  # package data of invtoolkit_plugins
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.pt"
KIND = "deconv"
ARCH_KEYS = ("n_points", "latent_dim", "width", "hidden", "temperature")
# Diversity term defaults (see ``fit``): two grids for one target that differ in fewer
# than 0.25% of the cells up to symmetry (on 20 x 20: that are the same grid) are pushed
# apart. Measured from the shipped model: wider margins or larger weights cost accuracy
# (surrogate MAE) for little extra distinctness.
DIVERSITY_WEIGHT = 0.3
DIVERSITY_MARGIN = 0.0025
# Best-of-k term (see ``fit``): share of the plain mean over codes kept beside the
# minimum, so that codes that never win still learn (relaxed winner-takes-all).
BEST_OF_MEAN_SHARE = 0.1
HISTORY_KEYS = ("epoch", "train_loss", "train_mae", "info", "diversity", "val_mae", "val_close_pairs", "val_score",
                "val_best_of", "seconds")


def _torch():
    import torch

    return torch


class DeconvGenerator(Generator, Fittable, Saveable):
    """Isotherm x latent code -> grid, through a deconvolutional network.

    ``model``: a model directory (config.json + weights.pt), ``"default"`` for the
    shipped one, or ``None`` for a fresh untrained network built from the other
    options (``latent_dim``, ``grid_shape``, ``steps``, ``width``, ``hidden``,
    ``temperature``, ``seed``).
    """

    name = "deconv"

    def __init__(self, model="default", *, latent_dim: int = 12, grid_shape=(20, 20), steps: int = 40,
                 width: int = 64, hidden: int = 256, temperature: float = 1.0, normalization: str = "pore",
                 simulator_params: dict | None = None, seed: int = 0, threads: int | None = None,
                 batch: int = 2048, **ignored):
        torch = _torch()
        from invtoolkit.plugin import modelio
        from invtoolkit_plugins.deconv.network import DeconvModel

        if threads:
            torch.set_num_threads(int(threads))
        self.batch = int(batch)
        state = None
        if model is None:
            self.config = {
                "plugin": KIND,
                "architecture": {"n_points": int(steps) + 1, "latent_dim": int(latent_dim), "width": int(width),
                                 "hidden": int(hidden), "temperature": float(temperature)},
                "simulator": "lattice-dft",
                "simulator_params": {**(simulator_params or {}), "steps": int(steps), "normalization": normalization},
                "grid_shape": [int(grid_shape[0]), int(grid_shape[1])],
            }
        else:
            path = DEFAULT_MODEL if model == "default" else modelio.model_dir(model)
            if model == "default" and not (path / CONFIG_NAME).exists():
                raise InputError(f"no default deconv model shipped in {path}; train one with "
                                 f"'invtoolkit train generator' and pass model=DIR")
            self.config, members = modelio.load_model(path)
            if self.config.get("plugin") != KIND:
                raise InputError(f"{path / CONFIG_NAME}: a '{self.config.get('plugin')}' model, not a '{KIND}' one")
            arch = self.config["architecture"]
            missing = [k for k in ARCH_KEYS if k not in arch]
            if missing:
                raise InputError(f"{path / CONFIG_NAME}: architecture lacks {', '.join(missing)}")
            if arch["n_points"] != int(self.config["simulator_params"].get("steps", -1)) + 1:
                raise InputError(f"{path / CONFIG_NAME}: n_points {arch['n_points']} != steps + 1")
            state = members[0]
            self.path = path
        arch = self.config["architecture"]
        torch.manual_seed(int(seed))  # fresh weights are reproducible
        self.model = DeconvModel(arch["n_points"], arch["latent_dim"], tuple(self.config["grid_shape"]),
                                 arch["width"], arch["hidden"], arch["temperature"])
        if state is not None:
            modelio.load_state(self.model, state, path / WEIGHTS_NAME)
        self.model.eval()
        steps = int(self.config["simulator_params"]["steps"])
        self.schedule = PressureSchedule(steps, adsorption_only=True)
        self.grid_shape = tuple(self.config["grid_shape"])
        self.normalization = self.config["simulator_params"].get("normalization", "pore")

    @property
    def latent_dim(self) -> int:
        return self.config["architecture"]["latent_dim"]

    # -- generation ------------------------------------------------------------------
    def adsorption_targets(self, targets) -> np.ndarray:
        """(M,P) targets -> (M, steps+1) adsorption branches; InputError if malformed."""
        t = np.asarray(targets, dtype=np.float64)
        if t.ndim == 1:
            t = t[None]
        if t.ndim != 2:
            raise InputError(f"targets must have shape (M,P), got {t.shape}")
        steps = self.schedule.steps
        if t.shape[1] not in (steps + 1, 2 * steps + 1):
            raise InputError(
                f"targets have {t.shape[1]} points; generator '{self.name}' takes the adsorption branch "
                f"({steps + 1}) or the full loop ({2 * steps + 1})"
            )
        if not np.all(np.isfinite(t)):
            raise InputError("targets contain NaN or infinite values")
        if t.size and (t.min() < 0 or t.max() > 1):
            raise InputError("target amounts must lie in [0, 1]")
        return t[:, : steps + 1]

    def latent_codes(self, n: int, seed: int = 0):
        """(n, latent_dim) standard-normal codes from a seeded torch.Generator."""
        torch = _torch()
        gen = torch.Generator().manual_seed(int(seed))
        return torch.randn(int(n), self.latent_dim, generator=gen)

    def generate_from_codes(self, targets, codes) -> np.ndarray:
        """Every target with every code: uint8 (M, n, H, W), never an all-wall grid."""
        torch = _torch()
        t = torch.as_tensor(self.adsorption_targets(targets), dtype=torch.float32)
        codes = torch.as_tensor(codes, dtype=torch.float32)
        m, n = len(t), len(codes)
        h, w = self.grid_shape
        out = np.empty((m * n, h, w), dtype=np.uint8)
        pairs_t = t.repeat_interleave(n, dim=0)
        pairs_z = codes.repeat(m, 1)
        self.model.eval()
        with torch.inference_mode():
            for start in range(0, m * n, self.batch):
                stop = min(start + self.batch, m * n)
                logits = self.model.generator.logits(pairs_t[start:stop], pairs_z[start:stop])
                grids = logits > 0
                empty = ~grids.flatten(1).any(1)
                if empty.any():  # a grid needs a pore: open the most pore-like cell
                    flat = grids.flatten(1)
                    flat[empty, logits[empty].flatten(1).argmax(1)] = True
                    grids = flat.view_as(grids)
                out[start:stop] = grids.numpy().astype(np.uint8)
        return out.reshape(m, n, h, w)

    def generate(self, targets: np.ndarray, n: int, *, seed: int = 0) -> np.ndarray:
        if int(n) < 1:
            raise InputError(f"number of grids per target must be >= 1, got {n}")
        return self.generate_from_codes(targets, self.latent_codes(n, seed))

    # -- files ---------------------------------------------------------------------
    def save(self, path, extra: dict | None = None) -> None:
        from invtoolkit.plugin import modelio

        config = {k: v for k, v in self.config.items() if k not in ("format", "format_version", "members")}
        config.update(extra or {})
        self.config = config
        modelio.save_model(path, config, [self.model.state_dict()])

    # -- training ------------------------------------------------------------------
    def fit(self, surrogate, targets: np.ndarray, *, epochs: int = 50, time_limit: float | None = None,
            seed: int = 0, batch_size: int = 256, lr: float = 1e-3, info_weight: float = 0.02,
            diversity_weight: float | None = None, diversity_margin: float | None = None,
            best_of: int | None = None, val_fraction: float = 0.1, val_targets: np.ndarray | None = None,
            progress: bool = False, checkpoint=None, log=None, val_score=None) -> dict:
        """Train through the frozen ``surrogate`` on ``targets`` (N,P).

        ``time_limit`` in seconds; ``checkpoint`` a directory where the state is kept
        after every epoch and from which an interrupted run resumes. With
        ``diversity_weight`` > 0 a batch holds ``batch_size // 2`` targets with two
        codes each (``batch_size`` grids, as without it). With ``best_of`` = k >= 2 every
        target gets k codes (``batch_size // k`` targets per batch) and the MAE term is
        the relaxed winner-takes-all loss 0.9 * min over the k codes + 0.1 * their mean:
        it trains what inversion uses (the best of n codes, each code free to specialise
        on one family of grids) instead of asking every code to fit the target alone;
        the diversity term then pairs neighbouring codes. Returns the history (per
        epoch: train loss, train MAE, info loss, diversity penalty, validation MAE and
        validation fraction of code pairs closer than the margin) and leaves the
        weights of the best validation epoch (lowest MAE + weighted diversity penalty)
        in the model. ``val_score``: optional callable (this generator -> float, lower is
        better, e.g. a DFT-verified error) that picks the best epoch instead; recorded
        in the history as ``val_score``.
        """
        torch = _torch()
        from invtoolkit.plugin import flush_denormals, modules_set, progress_bar

        flush_denormals()
        diversity_weight, diversity_margin, best_of = self._settings(diversity_weight, diversity_margin, best_of)
        start_time = time.monotonic()
        train_t, val_t = self._split(targets, val_targets, val_fraction, seed)
        val_z = self.latent_codes(len(val_t), seed + 1)
        val_z2 = self.latent_codes(len(val_t), seed + 2)
        pairs = diversity_weight > 0
        frozen = contextlib.ExitStack()  # the surrogate in eval mode without gradients until fit ends
        frozen.enter_context(modules_set(surrogate, train=False, grad=False))
        gen = torch.Generator().manual_seed(int(seed))
        torch.manual_seed(int(seed))
        opt = torch.optim.Adam(self.model.parameters(), lr=lr)
        ckpt_file = Path(checkpoint) / "checkpoint.pt" if checkpoint else None
        history, best = self._resume(ckpt_file, opt, gen)
        first_epoch = len(history["epoch"])
        codes_per_target = max(best_of, 2 if pairs else 1)
        per_batch = max(1, batch_size // codes_per_target)
        n_batches = max(1, math.ceil(len(train_t) / per_batch))
        # Cosine decay of the learning rate over the planned batches (resumes with the step count).
        total_steps = max(1, epochs * n_batches)
        step = first_epoch * n_batches
        terms = dict(info_weight=info_weight, diversity_weight=diversity_weight, diversity_margin=diversity_margin,
                     best_of=best_of)
        try:
            with progress_bar(total=epochs * n_batches, initial=min(first_epoch, epochs) * n_batches,
                              desc="train deconv", unit="batch", enabled=progress) as bar:
                for epoch in range(first_epoch, epochs):
                    if time_limit is not None and time.monotonic() - start_time > time_limit:
                        break
                    deadline = None if time_limit is None else start_time + time_limit
                    sums, step = self._epoch(surrogate, opt, gen, train_t, per_batch, n_batches, codes_per_target,
                                             step, lambda k: lr * (0.05 + 0.95 * 0.5 * (
                                                 1 + math.cos(math.pi * min(k / total_steps, 1.0)))),
                                             terms, deadline, bar)
                    row = self._validate(surrogate, val_t, val_z, val_z2, sums, pairs, seed, terms, val_score)
                    row = {"epoch": epoch + 1, **dict(zip(("train_loss", "train_mae", "info", "diversity"), sums)),
                           **row, "seconds": time.monotonic() - start_time}
                    for key in HISTORY_KEYS:
                        history[key].append(float(row[key]))
                    if row["score"] < best[0]:
                        best = (row["score"], {k: v.detach().clone() for k, v in self.model.state_dict().items()})
                    if ckpt_file is not None:
                        self._checkpoint(ckpt_file, opt, gen, history, best)
                    bar.set_postfix(epoch=epoch + 1, mae=f"{sums[1]:.4f}", val=f"{row['val_mae']:.4f}",
                                    info=f"{sums[2]:.3f}", close=f"{row['val_close_pairs']:.3f}")
                    if log is not None:
                        log({k: v[-1] for k, v in history.items()})
        finally:
            frozen.close()
            self.model.eval()
        if best[1] is not None:
            self.model.load_state_dict(best[1])
        return history

    def _checkpoint(self, ckpt_file, opt, gen, history, best) -> None:
        """Everything :meth:`_resume` needs to continue after this epoch (written atomically)."""
        torch_save(ckpt_file, {"arch": json.dumps(self.config["architecture"], sort_keys=True),
                               "model": self.model.state_dict(), "optimizer": opt.state_dict(),
                               "rng": gen.get_state(), "history": history, "best_val": best[0],
                               "best_model": best[1]})

    def _settings(self, diversity_weight, diversity_margin, best_of):
        """Unset diversity settings continue the model's own recipe (fine-tuning with a
        smaller margin than the model was trained with erodes its diversity); recorded
        in ``fit_settings``."""
        recorded = self.config.get("training", {})
        if diversity_weight is None:
            diversity_weight = float(recorded.get("diversity_weight", DIVERSITY_WEIGHT))
        if diversity_margin is None:
            diversity_margin = float(recorded.get("diversity_margin", DIVERSITY_MARGIN))
        if best_of is None:
            best_of = int(recorded.get("best_of", 1))
        best_of = max(1, int(best_of))
        self.fit_settings = {"diversity_weight": diversity_weight, "diversity_margin": diversity_margin,
                             "best_of": best_of}
        return diversity_weight, diversity_margin, best_of

    def _split(self, targets, val_targets, val_fraction: float, seed: int):
        """(train, validation) target tensors: ``val_targets`` or a seeded fraction."""
        torch = _torch()
        t_all = self.adsorption_targets(targets).astype(np.float32)
        rng = np.random.default_rng(seed)
        if val_targets is None:
            n_val = int(round(len(t_all) * val_fraction)) if len(t_all) >= 10 else 0
            order = rng.permutation(len(t_all))
            val_np, train_np = t_all[order[:n_val]], t_all[order[n_val:]]
        else:
            val_np, train_np = self.adsorption_targets(val_targets).astype(np.float32), t_all
        if len(train_np) == 0:
            raise InputError("no training targets")
        return torch.from_numpy(train_np), torch.from_numpy(val_np)

    def _resume(self, ckpt_file, opt, gen):
        """(history, (best score, best weights)) from a checkpoint of this architecture, or empty."""
        torch = _torch()
        history, best = {k: [] for k in HISTORY_KEYS}, (math.inf, None)
        if ckpt_file is not None and ckpt_file.exists():
            state = torch.load(ckpt_file, weights_only=True)
            if state.get("arch") == json.dumps(self.config["architecture"], sort_keys=True):
                self.model.load_state_dict(state["model"])
                opt.load_state_dict(state["optimizer"])
                gen.set_state(state["rng"])
                history = {k: list(state["history"].get(k, [])) for k in HISTORY_KEYS}
                best = (state["best_val"], state["best_model"])
        return history, best

    def _epoch(self, surrogate, opt, gen, train_t, per_batch, n_batches, codes_per_target, step, lr_at, terms,
               deadline, bar):
        """One shuffled pass (stopping at ``deadline``): mean (loss, MAE, info, diversity), step count."""
        torch = _torch()
        self.model.train()
        perm = torch.randperm(len(train_t), generator=gen)
        sums = np.zeros(4)
        done = n_batches
        for b in range(n_batches):
            idx = perm[b * per_batch:(b + 1) * per_batch]
            z = torch.randn(len(idx) * codes_per_target, self.latent_dim, generator=gen)
            for group in opt.param_groups:
                group["lr"] = lr_at(step)
            step += 1
            loss, mae, info, div = self._loss(surrogate, train_t[idx], z, **terms)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), 5.0)
            opt.step()
            sums += [loss.item(), mae.item(), info.item(), div.item()]
            bar.update(1)
            if deadline is not None and time.monotonic() > deadline:
                done = b + 1
                break
        return sums / done, step

    def _validate(self, surrogate, val_t, val_z, val_z2, sums, pairs: bool, seed: int, terms: dict, val_score):
        """An epoch's validation record; ``score`` (lower is better) picks the best epoch."""
        weight, margin, best_of = terms["diversity_weight"], terms["diversity_margin"], terms["best_of"]
        val_mae = self.surrogate_mae(surrogate, val_t, val_z) if len(val_t) else sums[1]
        val_pen, val_close = (self.diversity_stats(val_t, val_z, val_z2, margin)
                              if len(val_t) and pairs else (sums[3], float("nan")))
        # Best-of-k training is judged by what it trains: the best of k codes.
        judge_best = best_of >= 2 and len(val_t) > 0
        val_best = (self.surrogate_best_of_mae(surrogate, val_t, self.latent_codes(best_of, seed + 3))
                    if judge_best else float("nan"))
        score = (val_best if judge_best else val_mae) + weight * val_pen
        external = float("nan")
        if val_score is not None:
            self.model.eval()
            score = external = float(val_score(self))
        return {"val_mae": val_mae, "val_close_pairs": val_close, "val_score": external, "val_best_of": val_best,
                "score": score}

    def _loss(self, surrogate, curves, z, info_weight, diversity_weight=0.0, diversity_margin=DIVERSITY_MARGIN,
              best_of=1):
        """Loss on one batch of B targets with k = len(z) // B codes each: code block j
        (z[j*B:(j+1)*B]) goes with the targets in order. With k >= 2 neighbouring blocks
        feed the diversity penalty; with ``best_of`` >= 2 the MAE term is the relaxed
        minimum over the k codes (see ``fit``). Returns (loss, mean MAE, info, diversity)."""
        torch = _torch()
        from invtoolkit_plugins.deconv.network import diversity_penalty

        b = len(curves)
        k = len(z) // b
        curves = curves.repeat(k, 1)
        grids = self.model.generator(curves, z)
        pred = surrogate.forward_torch(grids)[:, : curves.shape[1]]
        porosity = grids.flatten(1).mean(1)
        # An all-wall grid has no isotherm: push it open instead of trusting the surrogate.
        empty = porosity.detach() == 0
        per_grid = (pred - curves).abs().mean(1)
        per_grid = torch.where(empty, torch.ones_like(per_grid), torch.nan_to_num(per_grid, nan=1.0))
        mae = per_grid.mean()
        fit = mae
        if best_of >= 2 and k >= 2:
            best = per_grid.view(k, b).min(0).values.mean()
            fit = (1 - BEST_OF_MEAN_SHARE) * best + BEST_OF_MEAN_SHARE * mae
        opening = torch.relu(2.0 / grids[0].numel() - porosity).mean()
        info = ((self.model.recognition(grids, curves) - z) ** 2).mean() if info_weight > 0 else mae.new_zeros(())
        if k >= 2 and diversity_weight > 0:
            blocks = grids.view(k, b, *grids.shape[1:])
            div = torch.stack([diversity_penalty(blocks[j], blocks[j + 1], diversity_margin).mean()
                               for j in range(k - 1)]).mean()
        else:
            div = mae.new_zeros(())
        return fit + info_weight * info + diversity_weight * div + opening, mae, info, div

    def diversity_stats(self, curves, z1, z2, margin: float) -> tuple[float, float]:
        """Mean diversity penalty and fraction of targets whose two grids (codes z1[i],
        z2[i]) lie within ``margin`` of each other up to symmetry."""
        torch = _torch()
        from invtoolkit_plugins.deconv.network import symmetric_distance

        self.model.eval()
        pen = close = 0.0
        with torch.inference_mode():
            for s in range(0, len(curves), self.batch):
                c = curves[s:s + self.batch]
                d = symmetric_distance(self.model.generator(c, z1[s:s + self.batch]),
                                       self.model.generator(c, z2[s:s + self.batch]))
                pen += torch.relu(margin - d).sum().item()
                close += (d < margin - 1e-6).sum().item()  # FFT round-off: d is a whole number of cells
        return pen / len(curves), close / len(curves)

    def surrogate_errors(self, surrogate, curves, z):
        """Per-target surrogate MAE (tensor) of the grids made from (curves[i], z[i]);
        an unusable prediction (NaN) counts as 1."""
        torch = _torch()
        self.model.eval()
        out = torch.empty(len(curves))
        with torch.inference_mode():
            for s in range(0, len(curves), self.batch):
                c = curves[s:s + self.batch]
                pred = surrogate.forward_torch(self.model.generator(c, z[s:s + self.batch]))[:, : c.shape[1]]
                out[s:s + len(c)] = torch.nan_to_num((pred - c).abs().mean(1), nan=1.0)
        return out

    def surrogate_best_of_mae(self, surrogate, curves, codes) -> float:
        """Mean over targets of the lowest surrogate MAE among the grids for every code."""
        torch = _torch()
        errors = torch.stack([self.surrogate_errors(surrogate, curves, z.expand(len(curves), -1)) for z in codes])
        return float(errors.min(0).values.double().mean())

    def surrogate_mae(self, surrogate, curves, z) -> float:
        """Mean surrogate MAE of the grids made from (curves[i], z[i])."""
        return float(self.surrogate_errors(surrogate, curves, z).double().mean())


@hookimpl
def register_generators(register):
    register("deconv", DeconvGenerator,
             "Deconvolutional generator: isotherm x latent code -> 0/1 grid (binary sigmoid)", default=True)


def _implicit_dft(**options):
    from invtoolkit_plugins.lattice_dft.implicit import ImplicitDFT

    return ImplicitDFT(**options)


@hookimpl
def register_surrogates(register):
    register("dft-implicit", _implicit_dft,
             "Exact lattice DFT adsorption branch, differentiable by implicit differentiation (slow; for training)")
