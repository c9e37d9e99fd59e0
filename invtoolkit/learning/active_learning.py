"""Active learning (``invtoolkit active-learn``): generate, verify by DFT, learn from the mistakes, repeat.

Round k (k = 0 .. R) first MEASURES the current models: the generator proposes ``n``
grids for every evaluation target, the lattice DFT verifies them, and the round's
error is the median over targets of the best-of-n DFT MAE (round 0 = the models as
given). Beside it: the DFT error of the grid the round's surrogate ranks best among
the n (the generator + predictor pipeline without DFT), and from round 1 on the paired
change of both against the previous round on the same targets and codes. Then, unless
k = R, it UPDATES them:

1. the generator proposes ``n`` grids for fresh training targets (dataset curves,
   drawn per round); the DFT verifies them;
2. every verified pair is appended to the working copy of the dataset;
3. the surrogate is fine-tuned on the pairs where it was wrong (surrogate vs DFT MAE
   above ``--wrong``), mixed with a replay sample of older data;
4. the generator is fine-tuned through the updated surrogate on the round's hard
   targets (best-of-n DFT error above the round's median, repeated) plus a replay
   sample of dataset targets; after every epoch it is measured by DFT on a separate
   VALIDATION target set, and the best epoch is kept;
5. acceptance: the fine-tuned generator replaces the previous one only if its
   DFT-verified median best-of-n error on the validation set is lower and no fewer
   validation targets get >= 4 distinct grids (up to symmetry); otherwise the round
   keeps the previous generator (``generator_accepted`` in rounds.json).

Evaluation, validation and training targets are disjoint (seeded draws from the
dataset; evaluation and validation sets are drawn once and stored in WORKDIR). Without
acceptance a round can make the generator worse: a few epochs through a surrogate
tune it to the surrogate's errors as much as to the physics. And a median over few
targets moves by noise alone, hence 512 evaluation and 512 validation targets by
default (measurements in docs/surrogate-notes.md).

Everything lives in WORKDIR: ``data.zarr`` (a copy; the user's dataset is only
written with ``--in-place``), ``round_K/`` models, ``rounds.json`` (one entry per
finished round, written atomically). Running the command again resumes after the
last finished round; all draws are seeded by (seed, round), so a round interrupted
after its append is recomputed identically and not appended twice.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.core.defaults import DEFAULT_SIMULATOR
from invtoolkit.errors import InputError
from invtoolkit.core.fileio import copytree, write_json
from invtoolkit.learning.loaders import load_dataset, load_surrogate
from invtoolkit.core.objective import mae
from invtoolkit.core.roles import FineTunable, Fittable


def _atomic_json(path: Path, obj) -> None:
    write_json(path, obj, indent=1)


def best_of_n_errors(grids: np.ndarray, curves: np.ndarray, targets: np.ndarray):
    """grids (M,n,H,W), DFT curves (M*n,P'), targets (M,P) -> per-target best MAE, all MAEs (M,n)."""
    m, n = grids.shape[:2]
    p = targets.shape[1]
    errors = mae(curves[:, :p].reshape(m, n, p), targets[:, None])
    return errors.min(1), errors


def surrogate_pick_errors(surrogate, flat: np.ndarray, errors: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """DFT MAE (per target) of the grid the SURROGATE ranks best among a target's n:
    what a pipeline without DFT in the loop would return. It falls as the surrogate
    learns the generator's designs, even while the generator stays the same."""
    m, n = errors.shape
    p = targets.shape[1]
    pred = np.asarray(surrogate.simulate(flat))[:, :p].reshape(m, n, p)
    choice = mae(pred, targets[:, None]).argmin(1)
    return errors[np.arange(m), choice]


def fine_tune_surrogate(surrogate, grids, curves, *, epochs: int, seed: int, lr: float = 3e-4,
                        batch_size: int = 128, progress: bool = False) -> dict:
    """Fine-tune a surrogate on (grids, curves): its own ``fine_tune`` if it is
    :class:`FineTunable`, else MAE on ``forward_torch`` over its torch modules, with
    random torus symmetries."""
    if isinstance(surrogate, FineTunable):
        return surrogate.fine_tune(grids, curves, epochs=epochs, seed=seed, lr=lr, progress=progress) or {}
    import torch

    from invtoolkit.core.progress import progress_bar
    from invtoolkit.learning.training import flush_denormals, modules_set

    flush_denormals()
    gen = torch.Generator().manual_seed(int(seed))
    x_all = torch.as_tensor(np.asarray(grids), dtype=torch.float32)
    y_all = torch.as_tensor(np.asarray(curves), dtype=torch.float32)
    losses = []
    # Loaded surrogates are usually frozen (eval, no gradients): thawed for the loop, then restored.
    with modules_set(surrogate, train=True, grad=True) as params, \
            progress_bar(total=epochs, desc="fine-tune surrogate", unit="epoch", enabled=progress) as bar:
        if not params:
            raise InputError(f"surrogate '{surrogate.name}' has no trainable torch parameters to fine-tune")
        opt = torch.optim.Adam(params, lr=lr)
        for _ in range(epochs):
            losses.append(_surrogate_epoch(surrogate, opt, x_all, y_all, batch_size, gen))
            bar.update(1)
    return {"loss": losses}


def _surrogate_epoch(surrogate, opt, x_all, y_all, batch_size: int, gen) -> float:
    """One shuffled pass of MAE fine-tuning; the mean loss."""
    import torch

    from invtoolkit.core.symmetry import augment_torch

    perm = torch.randperm(len(x_all), generator=gen)
    total = 0.0
    for s in range(0, len(perm), batch_size):
        idx = perm[s:s + batch_size]
        x = augment_torch(x_all[idx], generator=gen)
        pred = surrogate.forward_torch(x)
        loss = (pred - y_all[idx][:, : pred.shape[1]]).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(perm)


@dataclass
class ActiveLearningSettings:
    """How a run learns; see the module docstring (defaults as in ``invtoolkit active-learn``)."""

    generator: str | None = None  # None: the default generator a plugin declares
    n: int = 16
    targets: int = 64
    eval_targets: str | None = None
    eval_count: int = 512
    val_count: int = 512
    seed: int = 0
    wrong: float = 0.01
    surrogate_epochs: int = 5
    generator_epochs: int = 3
    generator_targets: int = 4096
    surrogate_lr: float = 1e-4
    generator_lr: float = 1e-4
    replay: float = 3.0
    hard_repeat: int = 3
    generator_best_of: int | None = None
    select: bool = True
    in_place: bool = False
    progress: bool = False


class ActiveLearner:
    """One active-learning run in ``workdir``: its dataset copy, held-out targets,
    finished rounds (rounds.json) and the models each round left."""

    def __init__(self, workdir, data, surrogate_spec, generator_spec, settings: ActiveLearningSettings | None = None,
                 *, log=print, **options):
        st = settings or ActiveLearningSettings(**options)
        self.settings = st
        self.workdir = Path(workdir)
        self.n, self.n_targets, self.seed, self.wrong = int(st.n), int(st.targets), int(st.seed), float(st.wrong)
        self.surrogate_epochs, self.generator_epochs = int(st.surrogate_epochs), int(st.generator_epochs)
        self.generator_targets, self.hard_repeat, self.select = (int(st.generator_targets), int(st.hard_repeat),
                                                                 bool(st.select))
        # None: the generator continues its own recorded recipe.
        self.fit_options = {} if st.generator_best_of is None else {"best_of": int(st.generator_best_of)}
        self.surrogate_lr, self.generator_lr, self.replay = (float(st.surrogate_lr), float(st.generator_lr),
                                                             float(st.replay))
        self.generator_name = st.generator or registry.default("generator")
        self.progress, self.log = st.progress, log
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_path = self._working_copy(Path(data), st.in_place)
        self.initial_length = self._initial_length()
        self.rounds_file = self.workdir / "rounds.json"
        self.rounds = json.loads(self.rounds_file.read_text()) if self.rounds_file.exists() else []
        self.start_specs = (surrogate_spec, generator_spec)
        self.eval_targets = self._held_out("eval_targets.npy", st.eval_targets, st.eval_count, 999_999, set())
        self.val_targets = self._held_out("val_targets.npy", None, st.val_count, 888_888,
                                          held_out_keys(self.eval_targets))

    def _working_copy(self, src: Path, in_place: bool) -> Path:
        """The dataset rounds append to: ``src`` itself, or a copy in WORKDIR made once."""
        if in_place:
            return src
        path = self.workdir / "data.zarr"
        if not path.exists():
            if not src.is_dir():
                raise InputError(f"{src}: no such dataset")
            copytree(src, path)
        return path

    def _initial_length(self) -> int:
        """The dataset length before any round appended to it (recorded on the first start)."""
        from invtoolkit.datasets.dataset import Dataset

        state_file = self.workdir / "state.json"
        if not state_file.exists():
            _atomic_json(state_file, {"initial_length": len(Dataset.open(self.data_path))})
        return json.loads(state_file.read_text())["initial_length"]

    # -- models -------------------------------------------------------------------
    def _models(self):
        if self.rounds and self.rounds[-1].get("models"):
            sur_spec, gen_spec = self.rounds[-1]["models"]
        else:
            sur_spec, gen_spec = self.start_specs
        options = {} if gen_spec in (None, "default") else {"model": str(gen_spec)}
        return load_surrogate(str(sur_spec)), registry.create("generator", self.generator_name, **options)

    def _held_out(self, name, from_file, count, stream, exclude: set):
        """Targets drawn once (seeded) from the dataset, never used for training; stored
        in WORKDIR/name so that a resumed run measures on the same ones. At most a
        quarter of the dataset each, so the training pool keeps the larger part."""
        path = self.workdir / name
        if path.exists():
            return np.load(path)
        if from_file is not None:
            targets = load_dataset(from_file)[1]
        else:
            from invtoolkit.datasets.dataset import Dataset

            ds = Dataset.open(self.data_path)
            curves = np.asarray(ds.curves[: self.initial_length], dtype=np.float32)
            rng = np.random.default_rng([self.seed, stream])
            count = min(int(count), max(1, len(curves) // 4))
            pick = [i for i in rng.permutation(len(curves)) if curves[i].tobytes() not in exclude][:count]
            targets = curves[np.sort(pick)]
        targets = np.asarray(targets, dtype=np.float64)
        np.save(path, targets)
        return targets

    # -- one round ----------------------------------------------------------------
    def _verify(self, generator, targets, seed, simulator):
        grids = generator.generate(targets, self.n, seed=seed)
        flat = grids.reshape(-1, *grids.shape[2:])
        curves = simulator.simulate(flat)
        return grids, flat, curves

    def validation_stats(self, generator, simulator) -> dict:
        """DFT-verified best-of-n error on the validation targets, and the fraction of
        them with at least 4 distinct grids up to symmetry."""
        from invtoolkit.core.symmetry import distinct_up_to_symmetry

        targets = self.val_targets[:, : simulator.schedule.steps + 1]
        grids, _, curves = self._verify(generator, targets, self.seed + 7, simulator)
        best, _ = best_of_n_errors(grids, curves, targets)
        distinct = np.array([distinct_up_to_symmetry(g) for g in grids])
        return {"median": float(np.median(best)), "mean": float(best.mean()),
                "distinct4": float((distinct >= min(4, self.n)).mean())}

    def run(self, rounds: int) -> list[dict]:
        """Measure and update round by round up to ``rounds`` (resuming after the last
        finished one); every finished round is appended to rounds.json at once."""
        simulator = registry.create("simulator", DEFAULT_SIMULATOR)
        if self.rounds and self.rounds[-1].get("final") and self.rounds[-1]["round"] < rounds:
            self.rounds.pop()  # the last run's final measurement: this run updates after it
        for k in range(len(self.rounds), rounds + 1):
            t0 = time.monotonic()
            surrogate, generator = self._models()
            entry = self._measure(k, surrogate, generator, simulator)
            if k < rounds:
                entry.update(self._update(k, surrogate, generator, simulator))
            else:  # measurement only
                entry["models"] = self.rounds[-1]["models"] if self.rounds else list(self.start_specs)
                if self.rounds:
                    entry["data_length"] = self.rounds[-1]["data_length"]
                entry["final"] = True
            entry["seconds"] = round(time.monotonic() - t0, 1)
            self.rounds.append(entry)
            _atomic_json(self.rounds_file, self.rounds)
            self.log(round_message(entry, self.n))
        return self.rounds

    def _measure(self, k, surrogate, generator, simulator) -> dict:
        """Round k's DFT-verified errors on the evaluation targets, and their paired
        change against round k - 1."""
        eval_ads = self.eval_targets[:, : simulator.schedule.steps + 1]
        # The same codes every round: the change in error is the models' alone.
        grids, flat, curves = self._verify(generator, eval_ads, self.seed, simulator)
        best, errors = best_of_n_errors(grids, curves, eval_ads)
        picked = surrogate_pick_errors(surrogate, flat, errors, eval_ads)
        entry = {"round": k, "dft_median_best_of_n": float(np.median(best)),
                 "dft_mean_best_of_n": float(best.mean()),
                 "dft_median_surrogate_pick": float(np.median(picked)),
                 "dft_mean_surrogate_pick": float(picked.mean()), "n": self.n, "eval_targets": len(eval_ads)}
        np.save(self.workdir / f"eval_best_{k}.npy", best)
        np.save(self.workdir / f"eval_pick_{k}.npy", picked)
        if k > 0 and (self.workdir / f"eval_best_{k - 1}.npy").exists():
            entry["vs_previous"] = paired_change(np.load(self.workdir / f"eval_best_{k - 1}.npy"), best)
            entry["pick_vs_previous"] = paired_change(np.load(self.workdir / f"eval_pick_{k - 1}.npy"), picked)
        return entry

    def _update(self, k, surrogate, generator, simulator) -> dict:
        """Round k's update: verify fresh designs, append them, fine-tune both models."""
        from invtoolkit.datasets.dataset import Dataset

        ds = Dataset.open(self.data_path, mode="r+")
        before = self.rounds[-1]["data_length"] if self.rounds else self.initial_length
        rng = np.random.default_rng([self.seed, k])
        old_grids, old_curves = ds.load(0, before)  # the data before this round, read once
        held_out = held_out_keys(self.eval_targets) | held_out_keys(self.val_targets)
        free = np.array([c.tobytes() not in held_out for c in old_curves], dtype=bool)
        pick = [i for i in rng.permutation(before) if free[i]][: self.n_targets]
        targets = old_curves[pick].astype(np.float64)[:, : simulator.schedule.steps + 1]
        grids, flat, curves = self._verify(generator, targets, self.seed + 104729 * (k + 1), simulator)
        if len(ds) == before:  # not yet appended (an interrupted round may have done it)
            ds.append(flat, curves.astype(np.float32))
        out = self.workdir / f"round_{k + 1}"
        sur = self._update_surrogate(k, surrogate, flat, curves, old_grids, old_curves, rng, out)
        # Generator: fine-tune through the corrected surrogate on the round's hard targets
        # (repeated) plus replayed dataset targets (never evaluation or validation ones).
        best, _ = best_of_n_errors(grids, curves, targets)
        hard = targets[best > np.median(best)].astype(np.float32)
        replayed = old_curves[free]
        replayed = replayed[rng.permutation(len(replayed))[: self.generator_targets], : targets.shape[1]]
        gen_targets = np.concatenate([np.repeat(hard, self.hard_repeat, axis=0), targets.astype(np.float32), replayed])
        gen = self._update_generator(k, sur.pop("surrogate"), generator, simulator, gen_targets, out)
        return {"new_pairs": len(flat), "wrong_pairs": sur.pop("wrong_pairs"), "data_length": len(ds),
                "train_targets_median_best_of_n": float(np.median(best)), "hard_targets": len(hard),
                **sur, **gen}

    def _update_surrogate(self, k, surrogate, flat, curves, old_grids, old_curves, rng, out: Path) -> dict:
        """Fine-tune the surrogate where it was wrong (plus replayed older pairs), save
        it in ``out`` and reload it from there; its errors on the new pairs before and after."""
        predicted = np.asarray(surrogate.simulate(flat))
        p = min(predicted.shape[1], curves.shape[1])
        sur_err = mae(predicted[:, :p], curves[:, :p])
        wrong = sur_err > self.wrong
        before = len(old_grids)
        # Replay older pairs (``replay`` x as many), so fine-tuning does not forget the rest.
        replay = rng.choice(before, size=min(before, max(int(self.replay * wrong.sum()), 1)), replace=False)
        if wrong.any():
            fine_tune_surrogate(surrogate, np.concatenate([flat[wrong], old_grids[replay]]),
                                np.concatenate([curves.astype(np.float32)[wrong], old_curves[replay]]),
                                epochs=self.surrogate_epochs, seed=self.seed + k, lr=self.surrogate_lr,
                                progress=self.progress)
        surrogate.save(out / "surrogate")
        surrogate = load_surrogate(str(out / "surrogate"))
        after = mae(np.asarray(surrogate.simulate(flat))[:, :p], curves[:, :p])
        return {"surrogate": surrogate, "wrong_pairs": int(wrong.sum()),
                "surrogate_mae_before": float(sur_err.mean()), "surrogate_mae_after": float(after.mean())}

    def _update_generator(self, k, surrogate, generator, simulator, gen_targets, out: Path) -> dict:
        """Fine-tune the generator through ``surrogate``; keep it only if it beats the
        previous one on the validation targets (``select``). Saved either way."""
        if not isinstance(generator, Fittable):
            raise InputError(f"generator '{self.generator_name}' cannot be fine-tuned (it is not Fittable)")
        fit = dict(epochs=self.generator_epochs, seed=self.seed + k, lr=self.generator_lr, progress=self.progress,
                   **self.fit_options)
        result, accepted = {}, True
        if self.select:
            incumbent = self.validation_stats(generator, simulator)

            def score(g):  # DFT on the validation set picks the epoch; diversity may not drop
                stats = self.validation_stats(g, simulator)
                return stats["median"] if stats["distinct4"] >= incumbent["distinct4"] else float("inf")

            history = generator.fit(surrogate, gen_targets, val_targets=self.val_targets, val_score=score, **fit)
            candidate = self.validation_stats(generator, simulator)
            accepted = accept_generator(incumbent, candidate)
            # per epoch: DFT validation median (inf: fewer targets with 4 distinct grids)
            result.update(val_before=incumbent, val_after=candidate, generator_accepted=accepted,
                          val_by_epoch=[None if math.isinf(v) else v for v in history["val_score"]])
        else:
            generator.fit(surrogate, gen_targets, **fit)
        # The saved model records the recipe it was fine-tuned with, for the next round.
        recipe = {"training": {**generator.config.get("training", {}), **generator.fit_settings}}
        prev_spec = self.rounds[-1]["models"][1] if self.rounds else self.start_specs[1]
        name = "generator" if accepted else "generator_rejected"  # a rejected one is kept for inspection
        generator.save(out / name, extra=recipe)
        gen_spec = str(out / "generator") if accepted else prev_spec
        return {**result, "models": [str(out / "surrogate"), gen_spec]}


def round_message(entry: dict, n: int) -> str:
    """The one-line log of a finished round."""
    msg = f"round {entry['round']}: DFT-verified median best-of-{n} MAE {entry['dft_median_best_of_n']:.4f}"
    if "surrogate_mae_after" in entry:
        msg += (f", surrogate MAE on new pairs {entry['surrogate_mae_before']:.4f} -> "
                f"{entry['surrogate_mae_after']:.4f}")
    if "generator_accepted" in entry:
        msg += (f", generator {'accepted' if entry['generator_accepted'] else 'rejected'} (validation "
                f"{entry['val_before']['median']:.4f} -> {entry['val_after']['median']:.4f})")
    msg += f"; surrogate's pick of the {n}: median {entry['dft_median_surrogate_pick']:.4f}"
    for key, what in (("vs_previous", "best-of-n"), ("pick_vs_previous", "surrogate's pick")):
        if key in entry:
            ch = entry[key]
            msg += (f"; {what} paired change {ch['mean_change']:+.4f} +- {ch['se']:.4f}, {ch['improved']:.0%} "
                    f"of targets better, Wilcoxon p = {ch['wilcoxon_p']:.2g}")
    return msg


def paired_change(before: np.ndarray, after: np.ndarray) -> dict:
    """Round-to-round change of per-target DFT errors on the SAME evaluation targets and
    codes: the paired differences remove the spread between targets, which
    dominates the noise of a median (one-sided Wilcoxon signed-rank test, H1: lower)."""
    from scipy.stats import wilcoxon

    diff = np.asarray(after, np.float64) - np.asarray(before, np.float64)
    nonzero = diff[diff != 0]
    p = float(wilcoxon(nonzero, alternative="less").pvalue) if len(nonzero) >= 10 else 1.0
    se = float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0
    return {"mean_change": float(diff.mean()), "se": se,
            "median_change": float(np.median(after) - np.median(before)),
            "improved": float((diff < 0).mean()), "worse": float((diff > 0).mean()), "wilcoxon_p": p}


def held_out_keys(curves) -> set:
    """Byte keys of curves as stored (float32), to keep held-out targets out of training."""
    return {c.tobytes() for c in np.asarray(curves, np.float32)}


def accept_generator(incumbent: dict, candidate: dict) -> bool:
    """The fine-tuned generator replaces the previous one only if its DFT-verified median
    best-of-n error on the validation targets is strictly lower and it gives no fewer of
    them at least 4 distinct grids."""
    return candidate["median"] < incumbent["median"] and candidate["distinct4"] >= incumbent["distinct4"]




def held_out_split(workdir, data, *, seed: int = 0, eval_count: int = 512, val_count: int = 512):
    """Draw a run's evaluation and validation targets in ``workdir`` exactly as
    :class:`ActiveLearner` will, and return (learner, the dataset's other curves)."""
    from invtoolkit.datasets.dataset import Dataset

    learner = ActiveLearner(workdir, data, None, None, eval_count=eval_count, val_count=val_count, seed=seed)
    held_out = held_out_keys(learner.eval_targets) | held_out_keys(learner.val_targets)
    curves = np.asarray(Dataset.open(data).curves[:], dtype=np.float32)
    return learner, curves[[c.tobytes() not in held_out for c in curves]]
