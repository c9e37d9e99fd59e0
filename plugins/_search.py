"""Shared machinery of the search plugins (pso, steepest, ga/nsga2, random).

* :class:`Objective`: batched, cached evaluation of grids on a Problem, with the
  stage deadline, a running best, a small archive and a tqdm progress bar.
* :func:`starting_grids`: the incoming population topped up with grids from a
  sampler plugin (default ``mixed``: slits, blobs, random cells...), whose porosity
  follows the target when the target carries it (site normalisation).
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from invtoolkit import plugins
from invtoolkit.errors import InputError
from invtoolkit.population import Population
from invtoolkit.pressure import ADSORPTION
from invtoolkit.progress import progress_bar

INVALID = np.inf  # score of an all-wall grid (nothing adsorbs: not a structure)


def combine_deadlines(*deadlines) -> float | None:
    given = [d for d in deadlines if d is not None]
    return min(given) if given else None


def porosity_guess(target) -> float | None:
    """Least pore fraction a site-normalised target implies (None for pore normalisation).

    Per lattice site, the amount at RH = 1 is the pore fraction times the filling.
    Narrow pores are full there, so for most grids this is the porosity itself;
    large pores can stay empty up to RH = 1 on adsorption, so it is a lower bound.
    """
    if target.normalization != "site":
        return None
    top = target.schedule.steps  # index of RH = 1 on the adsorption branch
    return float(np.clip(target.values[top], 0.0, 1.0))


def _porosities(n: int, rng, porosity):
    """Half near the guess, half anywhere above it (the guess is a lower bound)."""
    near = np.clip(rng.normal(porosity, 0.03, size=n), 0.01, 0.99)
    above = rng.uniform(min(porosity, 0.95), 0.95, size=n)
    return np.where(np.arange(n) % 2 == 0, near, above)


def random_grids(n: int, shape, rng: np.random.Generator, porosity=None, spread=(0.1, 0.9)) -> np.ndarray:
    """``n`` random grids; porosity uniform in ``spread``, or from a porosity guess."""
    if n <= 0:
        return np.zeros((0, *shape), np.uint8)
    if porosity is None:
        p = rng.uniform(spread[0], spread[1], size=(n, 1, 1))
    else:
        p = _porosities(n, rng, porosity).reshape(n, 1, 1)
    return Population.random(n, tuple(shape), rng, porosity=p).grids


def sampled_grids(n: int, shape, rng: np.random.Generator, porosity=None, sampler: str | None = "mixed") -> np.ndarray:
    """``n`` grids from a registered sampler (structured pores: slits, blobs, ...), those
    closest to ``porosity`` out of 8n when it is given; random cells without the sampler."""
    if n <= 0:
        return np.zeros((0, *shape), np.uint8)
    if sampler not in (None, "cells"):
        if sampler not in plugins.registry().names("sampler"):
            if sampler == "mixed":  # the default, when the samplers plugin is not installed
                return random_grids(n, shape, rng, porosity=porosity)
            known = ", ".join(plugins.registry().names("sampler"))
            raise InputError(f"unknown sampler '{sampler}' (available: cells, {known})")
        draw = plugins.create("sampler", sampler)
        if porosity is None:
            return draw.sample(n, tuple(shape), rng)
        pool = draw.sample(8 * n, tuple(shape), rng)
        have = pool.reshape(len(pool), -1).mean(1)
        chosen = []
        for want in _porosities(n, rng, porosity):  # the pool grid closest to each wanted porosity
            gap = np.abs(have - want)
            gap[chosen] = np.inf
            chosen.append(int(np.argmin(gap)))
        return pool[np.array(chosen)]
    return random_grids(n, shape, rng, porosity=porosity)


def starting_grids(problem, population: Population, n: int, rng: np.random.Generator,
                   sampler: str | None = "mixed") -> np.ndarray:
    """The ``n`` best incoming grids (distinct), topped up with sampled ones."""
    shape = problem.search_shape(population)
    seeds = population.sorted().unique().grids[:n]
    extra = sampled_grids(n - len(seeds), shape, rng, porosity=porosity_guess(problem.target), sampler=sampler)
    return np.concatenate([seeds, extra]) if len(extra) else seeds


@contextlib.contextmanager
def seeded_global_numpy(seed: int):
    """Seed numpy's legacy global RNG (used inside pyswarms) and restore it afterwards."""
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        yield
    finally:
        np.random.set_state(state)


class Objective:
    """Batched, cached evaluation of grids for one search stage.

    ``score(grids, diffs)`` turns the absolute differences to the target (n, P)
    into objective columns (n, k); column 0 must be the total MAE. Grids seen
    before are not re-evaluated. ``fits(n)`` says whether a batch of ``n`` new
    grids is expected to finish before the deadline (measured speed).
    """

    def __init__(self, problem, *, deadline=None, progress=False, desc="search", score=None, n_obj=1, archive=16):
        self.problem = problem
        self.deadline = combine_deadlines(deadline, problem.deadline)
        self._single = score is None
        self.n_obj = 1 if score is None else int(n_obj)
        self.score = score or (lambda grids, diffs: diffs.mean(1, keepdims=True))
        self.cache: dict[bytes, np.ndarray] = {}
        self.evaluations = 0
        self.seconds = 0.0
        self.archive_size = archive
        self.archive = None  # Population of the best distinct grids seen (by total MAE)
        self._bar_cm = progress_bar(desc=desc, unit="grid", enabled=progress)
        self.bar = self._bar_cm.__enter__()

    # -- timing ------------------------------------------------------------------
    def time_left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def expired(self) -> bool:
        return self.time_left() <= 0

    def fits(self, n: int) -> bool:
        """True if ``n`` new evaluations should end before the deadline."""
        left = self.time_left()
        if left <= 0:
            return False
        if self.deadline is None or self.evaluations == 0:
            return True
        return n * self.seconds / self.evaluations <= left

    # -- evaluation ----------------------------------------------------------------
    def prime(self, population: Population) -> None:
        """Remember grids already scored by this evaluator (single-objective only)."""
        if self._single and population.scored and len(population):
            for g, e in zip(population.grids, population.errors):
                self.cache.setdefault(g.tobytes(), np.array([e]))
            self._update_archive(population.grids, population.errors)

    def evaluate(self, grids: np.ndarray) -> np.ndarray:
        """Objective columns (N, k) of grids (N,H,W), one evaluator call for the new ones."""
        grids = np.ascontiguousarray(grids, dtype=np.uint8)
        keys = [g.tobytes() for g in grids]
        new_index: dict[bytes, int] = {}
        for i, k in enumerate(keys):
            if k not in self.cache and k not in new_index:
                new_index[k] = i
        if new_index:
            rows = np.fromiter(new_index.values(), dtype=np.int64)
            scores = self._score_new(grids[rows])
            for k, s in zip(new_index, scores):
                self.cache[k] = s
            self._update_archive(grids[rows], scores[:, 0])
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, 1))

    def errors(self, grids: np.ndarray) -> np.ndarray:
        return self.evaluate(grids)[:, 0]

    def _score_new(self, grids: np.ndarray) -> np.ndarray:
        t0 = time.monotonic()
        valid = grids.reshape(len(grids), -1).any(axis=1)
        if valid.any():
            curves = self.problem.curves(grids[valid])
            diffs = np.abs(curves - self.problem.target.values[None])
            cols = np.asarray(self.score(grids[valid], diffs), dtype=np.float64)
            out = np.full((len(grids), cols.shape[1]), INVALID)
            out[valid] = cols
        else:
            out = np.full((len(grids), self.n_obj), INVALID)
        self.seconds += time.monotonic() - t0
        self.evaluations += int(valid.sum())
        self.bar.update(len(grids))
        self.bar.set_postfix(best=f"{self.best_error:.5f}", refresh=False)
        return out

    def _update_archive(self, grids: np.ndarray, errors: np.ndarray) -> None:
        batch = Population(grids, errors)
        merged = batch if self.archive is None else self.archive.concat(batch)
        self.archive = merged.sorted()[: self.archive_size]

    @property
    def best_error(self) -> float:
        return float("inf") if self.archive is None or not len(self.archive) else float(self.archive.errors[0])

    def close(self) -> None:
        self._bar_cm.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def branch_masks(target) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the adsorption and desorption points of a target."""
    ads = target.schedule.branches == ADSORPTION
    return ads, ~ads


def finish(objective: Objective, *populations: Population, keep: int | None = None) -> Population:
    """Merge populations and the objective's archive, score by total MAE, best first, distinct."""
    merged = objective.archive if objective.archive is not None else None
    for pop in populations:
        if pop is None or not len(pop):
            continue
        scored = pop if pop.scored else Population(pop.grids, objective.errors(pop.grids))
        merged = scored if merged is None else merged.concat(scored)
    if merged is None:  # the deadline passed before anything was evaluated
        return Population.empty(tuple(objective.problem.grid_shape))
    out = merged.sorted().unique()
    return out[:keep] if keep else out
