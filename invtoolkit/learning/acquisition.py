"""Uncertainty-driven acquisition (``invtoolkit acquire``): the committee's disagreement
picks where exact DFT labels are added to a training store.

Round K (K = 1 .. R):

1. POOL: ``pool`` candidate grids from the sampler (default ``families-mixed``), drawn
   with ``default_rng([seed, K])``.
2. DISAGREEMENT: every member of every committee model predicts every pool grid; the
   score of a grid is the mean over the isotherm points of the per-point standard
   deviation across ALL members of ALL models (population std, the models' members
   pooled exactly from each model's mean and std). A single model must have >= 2 members.
3. TAKE: the ``take`` highest-scored grids, walking down the scores and skipping a grid
   that is equivalent up to torus symmetry (translations, rotations, reflections) to an
   earlier pick, to a grid already in the store or to a held-out grid (canonical
   hashes of the pool, the store and the held-out set). They are labelled by the
   store's own (exact) simulator and appended to the working store.
4. RECORD (rounds.json, written atomically after every round): pool size and distinct
   candidates, mean score of the pool vs the taken grids, and, beside them, a seeded
   random CONTROL sample of the pool (``control`` grids, labelled too but not appended):
   the committee mean's true MAE on the taken grids vs on the control (evidence that
   disagreement finds errors) and the rank correlation of score and error on the
   control; counts by porosity band (pool and taken) and, when the sampler is a mixture
   ``a:w,b:w`` built here, counts per sampler (family).
5. TRAIN (optional, ``train_minutes``): a model is fine-tuned from ``init`` (round 1:
   ``--init`` or the first ``--model``; later rounds: the previous round's model) on the
   whole working store through its plugin's ``train`` entry (the same path as
   ``invtoolkit train surrogate``), saved as ``round_K/``; it replaces the first
   committee model from round K + 1 on.

Every round records the per-family MAE (mean, p95, worst) of the committee mean and of
its first model on a held-out set drawn once (``held_out`` grids per family sampler,
``default_rng([held_out_seed, i])`` for family i, as ``training/eval_families.py``
draws them) and never acquired; with training, also of ``round_K/``, and the run stops
early once no family's worst case exceeds ``worst``.

Everything lives in WORKDIR: ``data.zarr`` (a copy of the store; the user's store is
written only with ``in_place``), ``held_out.npz``, ``state.json`` (the settings the run
started with; a resume with other ones is refused), ``rounds.json``, ``round_K/``.
Running again continues after the last finished round; an interrupted round is
recomputed identically (all draws seeded by (seed, K)) and never appended twice.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from invtoolkit.learning import modelio
from invtoolkit.hooks import registry
from invtoolkit.errors import InputError
from invtoolkit.core.fileio import copytree, write_json
from invtoolkit.core.objective import mae

DEFAULT_POOL_SAMPLER = "families-mixed"
HELD_OUT_SAMPLERS = ("fam-random", "fam-smooth", "fam-slit", "fam-rect", "fam-pair", "fam-union", "fam-dense")
HELD_OUT_SEED = 20261717  # training/eval_families.py's: no training set uses it
POROSITY_BANDS = ((0.0, 0.15), (0.15, 0.5), (0.5, 0.85), (0.85, 1.0001))


@dataclass
class AcquisitionSettings:
    """How a run acquires; see the module docstring (defaults as in ``invtoolkit acquire``)."""

    models: list = field(default_factory=list)
    pool: int = 20_000
    take: int = 2000
    control: int | None = None  # None: as many as ``take``
    seed: int = 0
    sampler: str = DEFAULT_POOL_SAMPLER
    train_minutes: float | None = None
    init: str | None = None
    worst: float = 0.05
    held_out: int = 500
    held_out_seed: int = HELD_OUT_SEED
    held_out_samplers: tuple = HELD_OUT_SAMPLERS
    threads: int | None = None
    in_place: bool = False
    progress: bool = False

    @property
    def control_size(self) -> int:
        return int(self.take if self.control is None else self.control)

    def fingerprint(self) -> dict:
        """What must not change between a run and its resume."""
        skip = {"threads", "in_place", "progress"}
        return json.loads(json.dumps({k: v for k, v in asdict(self).items() if k not in skip}))


# -- the committee ---------------------------------------------------------------------
def pool_members(means, stds, counts) -> tuple[np.ndarray, np.ndarray]:
    """Mean and population std over all members of several models, from each model's
    mean and population std (N,P) and member count: exact (law of total variance)."""
    counts = np.asarray(counts, np.float64)
    total = counts.sum()
    mean = sum(k * m for k, m in zip(counts, means)) / total
    second = sum(k * (s * s + m * m) for k, m, s in zip(counts, means, stds)) / total
    return mean, np.sqrt(np.maximum(second - mean * mean, 0.0))


class Committee:
    """The surrogate models whose members disagree; every model is a directory."""

    def __init__(self, specs, *, store_params: dict, grid_shape, normalization: str = "pore", threads=None):
        from invtoolkit.learning.loaders import load_surrogate
        from invtoolkit.core.roles import WithUncertainty

        if not specs:
            raise InputError("no committee: give --model DIR at least once")
        self.specs = [str(s) for s in specs]
        self.models, self.counts = [], []
        options = {} if normalization == "pore" else {"normalization": normalization}
        if threads:
            options["threads"] = int(threads)
        check_committee(self.specs, store_params, grid_shape)
        for spec in self.specs:
            members = int(modelio.read_config(spec).get("members", 1))
            model = load_surrogate(spec, **options)
            if members > 1 and not isinstance(model, WithUncertainty):
                raise InputError(f"{spec}: {members} members but its plugin gives no per-member spread "
                                 f"(not WithUncertainty)")
            self.models.append(model)
            self.counts.append(members)

    @property
    def members(self) -> int:
        return int(sum(self.counts))

    def predict(self, grids, *, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) float64 (N,P) over all members of all models."""
        return pool_members(*self.predict_models(grids, progress=progress), self.counts)

    def predict_models(self, grids, *, progress: bool = False) -> tuple[list, list]:
        """Every model's (mean, std) over its own members: two lists of float64 (N,P)."""
        means, stds = [], []
        for model, k in zip(self.models, self.counts):
            if k > 1:
                mean, std = model.predict_with_uncertainty(grids, progress=progress)
            else:
                mean = np.asarray(model.simulate(grids, progress=progress), np.float64)
                std = np.zeros_like(mean)
            means.append(np.asarray(mean, np.float64))
            stds.append(np.asarray(std, np.float64))
        return means, stds


def disagreement(std: np.ndarray) -> np.ndarray:
    """The score of a grid: the mean over points of the committee's per-point std."""
    return np.asarray(std, np.float64).mean(1)


# -- pool, selection, counts ----------------------------------------------------------
def parse_sampler(spec: str) -> list[tuple[str, float]]:
    """``name`` or a mixture ``a:w,b:w`` (weights default 1) -> [(name, weight)]."""
    parts = []
    for item in str(spec).split(","):
        name, _, weight = item.strip().partition(":")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise InputError(f"sampler '{spec}': weight '{weight}' of '{name}' is not a number") from None
        if not name or w < 0:
            raise InputError(f"sampler '{spec}': expected NAME or NAME:WEIGHT,NAME:WEIGHT with weights >= 0")
        parts.append((name, w))
    if sum(w for _, w in parts) <= 0:
        raise InputError(f"sampler '{spec}': the weights are all 0")
    return parts


def draw_pool(spec: str, n: int, shape, rng) -> tuple[np.ndarray, np.ndarray | None]:
    """(grids, sampler label per grid or None): one sampler, or a mixture drawn here
    (each grid's sampler chosen with the weights, so its label is known)."""
    parts = parse_sampler(spec)
    samplers = [registry.create("sampler", name) for name, _ in parts]
    if len(parts) == 1:
        return np.ascontiguousarray(samplers[0].sample(n, tuple(shape), rng), np.uint8), None
    weights = np.array([w for _, w in parts])
    which = rng.choice(len(parts), size=n, p=weights / weights.sum())
    grids = np.empty((n, *shape), np.uint8)
    for c, sampler in enumerate(samplers):
        idx = np.flatnonzero(which == c)
        if idx.size:
            grids[idx] = sampler.sample(idx.size, tuple(shape), rng)
    return grids, np.array([name for name, _ in parts])[which]


def select_top(scores, hashes, exclude: set, take: int) -> tuple[np.ndarray, dict]:
    """Indices of the ``take`` highest scores (ties: the earlier grid), skipping grids
    whose symmetry hash is in ``exclude`` or was already taken; and what was skipped."""
    order = np.argsort(-np.asarray(scores), kind="stable")
    taken, seen, skipped = [], set(), {"in_store_or_held_out": 0, "duplicate_in_pool": 0}
    for i in order:
        h = int(hashes[i])
        if h in exclude:
            skipped["in_store_or_held_out"] += 1
        elif h in seen:
            skipped["duplicate_in_pool"] += 1
        else:
            seen.add(h)
            taken.append(int(i))
            if len(taken) == take:
                break
    return np.array(taken, np.int64), skipped


def porosity_counts(grids) -> list[dict]:
    porosity = np.asarray(grids).reshape(len(grids), -1).mean(1)
    return [{"porosity": [lo, min(hi, 1.0)], "n": int(((porosity >= lo) & (porosity < hi)).sum())}
            for lo, hi in POROSITY_BANDS]


def label_counts(labels) -> dict:
    names, counts = np.unique(np.asarray(labels), return_counts=True)
    return {str(n): int(c) for n, c in zip(names, counts)}


def error_stats(err, worst: float) -> dict:
    err = np.asarray(err, np.float64)
    if err.size == 0:
        return {"n": 0}
    return {"n": int(err.size), "mean": float(err.mean()), "p95": float(np.quantile(err, 0.95)),
            "worst": float(err.max()), f"above_{worst:g}": float((err > worst).mean())}


def model_errors(specs, means, truth, taken, control, worst: float) -> dict:
    """Each committee model's own MAE (mean of its members) on the taken and control grids."""
    out = {}
    for spec, mean in zip(specs, means):
        err = mae(mean, truth)
        out[spec] = {"taken": error_stats(err[taken], worst), "control": error_stats(err[control], worst)}
    return out


def spearman(a, b) -> float | None:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


def per_family(pred, truth, labels, worst: float) -> dict:
    """Per held-out family: MAE mean, p95, worst (over the loop points of each grid)."""
    err = mae(np.asarray(pred)[:, : truth.shape[1]], truth)
    return {str(f): error_stats(err[labels == f], worst) for f in dict.fromkeys(labels.tolist())}


def all_within(table: dict, worst: float) -> bool:
    return all(row["worst"] <= worst for row in table.values() if row.get("n"))

# -- the run -----------------------------------------------------------------------------
class Acquirer:
    """One acquisition run in ``workdir`` on (a copy of) the labelled ``store``."""

    def __init__(self, workdir, store, settings: AcquisitionSettings, *, log=print):
        from invtoolkit.datasets.dataset import Dataset

        self.st, self.log = settings, log
        _check_settings(settings)
        src = Dataset.open(store)  # InputError if missing or not a dataset
        self.workdir = Path(workdir)
        if self.workdir.exists() and not self.workdir.is_dir():
            raise InputError(f"{self.workdir}: exists and is not a directory")
        self.shape, self.attrs = src.shape, src.attrs
        check_committee(settings.models, self.attrs.get("simulator_params") or {}, self.shape)
        self.simulator = self._simulator(src)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.data_path = Path(store) if settings.in_place else self.workdir / "data.zarr"
        state_file = self.workdir / "state.json"
        state = {"store": str(Path(store).resolve()), "settings": settings.fingerprint()}
        if state_file.exists():
            old = json.loads(state_file.read_text())
            if {k: old.get(k) for k in state} != state:
                raise InputError(f"{self.workdir}: was started with other settings or another store "
                                 f"({old.get('settings')}); use another -o to start a new run")
            self.initial_length = int(old["initial_length"])
        else:
            self.initial_length = len(src)
        if not settings.in_place and not self.data_path.exists():
            copytree(store, self.data_path)
        if not state_file.exists():
            write_json(state_file, {**state, "initial_length": self.initial_length}, indent=1)
        self.rounds_file = self.workdir / "rounds.json"
        self.rounds = json.loads(self.rounds_file.read_text()) if self.rounds_file.exists() else []
        self._hashes, self._hashed_upto = set(), 0
        self.held_out = self._held_out()

    def _simulator(self, ds):
        """The store's own simulator, rebuilt from its attributes (refused if it is a surrogate)."""
        from invtoolkit.datasets.dataset import _factory_accepts, _jsonish

        name = self.attrs.get("simulator")
        if name in registry.registry().names("surrogate") or name not in registry.registry().names("simulator"):
            raise InputError(f"{ds.path}: labelled by '{name}', not by an exact simulator; acquisition adds "
                             f"exact labels to a store of exact labels")
        options = dict(self.attrs.get("simulator_options") or {})
        if self.st.threads and _factory_accepts("simulator", name, "threads"):
            options["threads"] = int(self.st.threads)
        sim = registry.create("simulator", name, **options)
        if _jsonish(sim.params) != _jsonish(self.attrs.get("simulator_params")) or \
                not np.allclose(sim.pressures, ds.pressures):
            raise InputError(f"{ds.path}: cannot rebuild its simulator '{name}' with the recorded parameters "
                             f"{self.attrs.get('simulator_params')} (got {sim.params})")
        return sim

    def _held_out(self):
        """(grids, curves, family labels) drawn once per family sampler and stored in WORKDIR."""
        path = self.workdir / "held_out.npz"
        if path.exists():
            with np.load(path) as f:
                return f["grids"], f["curves"], f["labels"]
        grids, labels = [], []
        for i, name in enumerate(self.st.held_out_samplers if self.st.held_out else ()):
            rng = np.random.default_rng([int(self.st.held_out_seed), i])
            grids.append(registry.create("sampler", name).sample(self.st.held_out, tuple(self.shape), rng))
            labels += [name] * self.st.held_out
        grids = np.concatenate(grids) if grids else np.zeros((0, *self.shape), np.uint8)
        curves = np.asarray(self.simulator.simulate(grids), np.float32) if len(grids) else \
            np.zeros((0, len(self.simulator.pressures)), np.float32)
        with open(path.with_name("held_out.part.npz"), "wb") as fh:
            np.savez(fh, grids=grids, curves=curves, labels=np.array(labels, dtype=str))
        path.with_name("held_out.part.npz").replace(path)
        return grids, curves, np.array(labels, dtype=str)

    def _store_hashes(self, ds, before: int) -> set:
        """Symmetry hashes of the store's rows [0, before), kept up to date between rounds."""
        from invtoolkit.core.symmetry import canonical_hash

        if before < self._hashed_upto:
            self._hashes, self._hashed_upto = set(), 0
        for start in range(self._hashed_upto, before, 100_000):
            grids, _ = ds.load(start, min(before, start + 100_000))
            self._hashes.update(canonical_hash(grids).tolist())
        self._hashed_upto = before
        return self._hashes

    def committee_specs(self) -> tuple[list[str], str]:
        """This round's committee and the model training starts from."""
        models = [str(m) for m in self.st.models]
        trained = next((r["trained_model"] for r in reversed(self.rounds) if r.get("trained_model")), None)
        if trained:
            return [trained, *models[1:]], trained
        return models, str(self.st.init or models[0])

    def run(self, rounds: int) -> list[dict]:
        """Rounds up to ``rounds`` (resuming after the last finished one); each is
        appended to rounds.json as soon as it ends."""
        from invtoolkit.core.progress import progress_bar

        todo = range(len(self.rounds) + 1, int(rounds) + 1)
        with progress_bar(total=len(todo), desc="acquire", unit="round", enabled=self.st.progress) as bar:
            for k in todo:
                if self.rounds and self.rounds[-1].get("stopped"):
                    self.log(f"stopped after round {self.rounds[-1]['round']}: no held-out family's worst "
                             f"case above {self.st.worst:g}")
                    break
                t0 = time.monotonic()
                entry = self._round(k)
                entry["seconds"] = round(time.monotonic() - t0, 1)
                self.rounds.append(entry)
                write_json(self.rounds_file, self.rounds, indent=1)
                self.log(round_message(entry))
                bar.update(1)
        return self.rounds

    def _round(self, k: int) -> dict:
        """Round k: pool, disagreement, take, label, append, record (and train)."""
        from invtoolkit.datasets.dataset import Dataset
        from invtoolkit.core.symmetry import canonical_hash

        st = self.st
        specs, init = self.committee_specs()
        committee = Committee(specs, store_params=self.attrs.get("simulator_params") or {}, grid_shape=self.shape,
                              normalization=self.simulator.normalization, threads=st.threads)
        ds = Dataset.open(self.data_path, mode="r+")
        before = self.rounds[-1]["data_length"] if self.rounds else self.initial_length
        rng = np.random.default_rng([int(st.seed), int(k)])
        pool, labels = draw_pool(st.sampler, st.pool, self.shape, rng)
        model_means, model_stds = committee.predict_models(pool, progress=st.progress)
        mean, std = pool_members(model_means, model_stds, committee.counts)
        if mean.shape[1] != len(self.simulator.pressures):
            raise InputError(f"{specs[0]}: predicts {mean.shape[1]} points, the store holds "
                             f"{len(self.simulator.pressures)}")
        scores = disagreement(std)
        hashes = canonical_hash(pool)
        exclude = self._store_hashes(ds, before) | set(canonical_hash(self.held_out[0]).tolist())
        taken, skipped = select_top(scores, hashes, exclude, st.take)
        if not len(taken):
            raise InputError(f"round {k}: every grid of the pool is already in the store or held out; "
                             f"use a larger --pool or another --sampler")
        if len(taken) < st.take:
            self.log(f"round {k}: only {len(taken)} grids of the pool differ from each other and the store")
        control = np.sort(rng.choice(len(pool), size=min(st.control_size, len(pool)), replace=False))
        need = np.union1d(taken, control)
        truth = np.full((len(pool), mean.shape[1]), np.nan)
        truth[need] = self.simulator.simulate(pool[need], progress=st.progress)
        if len(ds) == before:  # not yet appended (an interrupted round may have done it)
            ds.append(pool[taken], truth[taken].astype(np.float32))
        elif len(ds) != before + len(taken):
            raise InputError(f"{self.data_path}: holds {len(ds)} rows, round {k} expects {before} or "
                             f"{before + len(taken)}; was it written by something else?")
        np.savez(self.workdir / f"taken_{k}.npz", index=taken, score=scores[taken], control=control)
        err = mae(mean, truth)
        entry = {"round": k, "seed": [int(st.seed), k], "sampler": st.sampler, "committee": specs,
                 "members": committee.members, "pool": len(pool), "pool_distinct": len(set(hashes.tolist())),
                 "take": len(taken), "skipped": skipped, "control": len(control),
                 "score": {"pool_mean": float(scores.mean()), "taken_mean": float(scores[taken].mean()),
                           "control_mean": float(scores[control].mean()) if len(control) else None,
                           "taken_min": float(scores[taken].min())},
                 "committee_mae": {"taken": error_stats(err[taken], st.worst),
                                   "control": error_stats(err[control], st.worst)},
                 "model_mae": model_errors(specs, model_means, truth, taken, control, st.worst),
                 "score_error_spearman_control": spearman(scores[control], err[control]),
                 "porosity_bands": {"pool": porosity_counts(pool), "taken": porosity_counts(pool[taken])},
                 "data_length_before": before, "data_length": len(ds)}
        if labels is not None:
            entry["families"] = {"pool": label_counts(labels), "taken": label_counts(labels[taken])}
        entry.update(self._held_out_stats(committee))
        if st.train_minutes:
            entry.update(self._train(k, init, specs))
        return entry

    def _held_out_stats(self, committee) -> dict:
        grids, curves, labels = self.held_out
        if not len(grids):
            return {}
        mean, _ = committee.predict(grids)
        first = committee.models[0].simulate(grids)
        return {"held_out": {"committee_mean": per_family(mean, curves, labels, self.st.worst),
                             "first_model": per_family(first, curves, labels, self.st.worst)}}

    def _train(self, k: int, init: str, specs: list[str]) -> dict:
        """Fine-tune ``init`` on the working store into round_k/ (a finished one is reused)."""
        import shlex
        import sys

        from invtoolkit.learning.loaders import load_surrogate
        from invtoolkit.core.roles import Trainable

        config = modelio.read_config(init)
        factory = registry.registry().entry("surrogate", config["plugin"]).factory
        if not (isinstance(factory, type) and issubclass(factory, Trainable)):
            raise InputError(f"{init}: its plugin '{config['plugin']}' cannot be trained (not Trainable)")
        out = self.workdir / f"round_{k}"
        if (out / modelio.CONFIG_NAME).exists():  # trained before an interruption: the same model
            summary = modelio.read_config(out).get("training", {})
        else:
            options = {"time_limit": float(self.st.train_minutes), "seed": int(self.st.seed) + k, "init": init,
                       "ensemble": int(config.get("members", 1)), "resume": (out / "checkpoint.pt").exists(),
                       "progress": self.st.progress, "threads": self.st.threads,
                       "command": "invtoolkit " + " ".join(shlex.quote(a) for a in sys.argv[1:])}
            summary = factory.train(str(self.data_path), str(out), **options)
        entry = {"trained_model": str(out), "init": init,
                 "train": {key: summary.get(key) for key in ("val_mae", "val_mae_p95", "n_train", "n_val")}}
        grids, curves, labels = self.held_out
        if len(grids):
            table = per_family(load_surrogate(str(out)).simulate(grids), curves, labels, self.st.worst)
            entry["held_out_trained"] = table
            entry["stopped"] = all_within(table, self.st.worst)
        return entry


def check_committee(specs, params: dict, grid_shape) -> int:
    """Members of the committee's models (config only); InputError for a missing or
    incompatible model, or fewer than 2 members in all."""
    counts = []
    for spec in specs:
        config = modelio.read_config(spec)
        modelio.check_compatible(config, spec, params=params, grid_shape=grid_shape)
        counts.append(int(config.get("members", 1)))
    if sum(counts) < 2:
        raise InputError(f"{specs[0]}: a single model with 1 member cannot disagree with itself; "
                         f"give an ensemble (train surrogate --ensemble 2) or several --model")
    return sum(counts)


def _check_settings(st: AcquisitionSettings) -> None:
    if not st.models:
        raise InputError("no committee: give --model DIR at least once")
    if st.pool < 1 or st.take < 1:
        raise InputError(f"--pool and --take must be >= 1, got {st.pool} and {st.take}")
    if st.take > st.pool:
        raise InputError(f"--take {st.take} is larger than the pool ({st.pool})")
    if st.control is not None and st.control < 0 or st.held_out < 0:
        raise InputError("--control and --held-out must be >= 0")
    if st.train_minutes is not None and st.train_minutes <= 0:
        raise InputError(f"--train-minutes must be > 0, got {st.train_minutes}")
    if not st.worst > 0:
        raise InputError(f"--worst must be > 0, got {st.worst}")
    if st.seed < 0:
        raise InputError(f"--seed must be >= 0, got {st.seed}")
    parse_sampler(st.sampler)


def round_message(entry: dict) -> str:
    """The one-line log of a finished round."""
    s, m = entry["score"], entry["committee_mae"]
    msg = (f"round {entry['round']}: took {entry['take']} of {entry['pool']} ({entry['pool_distinct']} distinct); "
           f"disagreement {s['taken_mean']:.4f} taken vs {s['pool_mean']:.4f} pool; committee MAE "
           f"{m['taken']['mean']:.4f} taken vs {m['control'].get('mean', float('nan')):.4f} control; "
           f"store {entry['data_length_before']} -> {entry['data_length']}")
    table = entry.get("held_out_trained") or (entry.get("held_out") or {}).get("committee_mean")
    if table:
        fam, row = max(table.items(), key=lambda kv: kv[1].get("worst", 0))
        which = "round model" if "held_out_trained" in entry else "committee"
        msg += f"; held-out worst ({which}) {row['worst']:.4f} ({fam})"
    return msg
