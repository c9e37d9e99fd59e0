"""Counted, cached, budgeted evaluation of grids for one search stage."""

from __future__ import annotations

import time

import numpy as np

from invtoolkit.core.population import Population
from invtoolkit.core.progress import progress_bar
from invtoolkit.core.termination import Termination, as_termination

INVALID = np.inf  # score of an all-wall grid (nothing adsorbs: not a structure)
INFEASIBLE = 1e9  # column 0 of an infeasible grid is this plus its violation: after every feasible one


def constrained(problem) -> bool:
    """A problem in pymoo's convention: ``n_obj`` objectives F to minimise and
    ``n_ieq_constr`` constraints G (feasible when every column <= 0), from
    ``evaluate(grids) -> (F, G)`` (a design spec's problem); the rest score one objective."""
    return hasattr(problem, "n_ieq_constr")


def constrained_columns(f: np.ndarray, g: np.ndarray) -> np.ndarray:
    """(n, 1 + objectives + constraints): column 0 orders feasible grids by the first
    objective and the infeasible ones after them by their total violation (pymoo's CV,
    feasibility first; violations below ~1e-7 tie), then F, then G."""
    cv = np.maximum(g, 0.0).sum(axis=1) if g.shape[1] else np.zeros(len(f))
    key = np.where(cv > 0, INFEASIBLE + cv, f[:, 0])
    return np.column_stack([key, f, g])


class Evaluator:
    """Scores grids on a Problem: one evaluator call per batch of new grids.

    * caches by grid bytes (a grid seen before is not simulated again);
    * counts evaluations (new, valid grids) and their time, so :meth:`fits` can say
      whether a batch ends before the termination's deadline or budget;
    * keeps an archive of the best grids, distinct up to torus symmetry;
    * shows a tqdm progress bar.

    ``score(grids, diffs)`` (optional) turns the objective's per-point errors (n, M)
    (:class:`invtoolkit.core.objective.PointErrors`) into objective columns (n, k) with column
    0 the total (multi-objective search); without it the only column is the objective.
    A :func:`constrained` problem scores its own columns (:func:`constrained_columns`).
    """

    def __init__(self, problem, termination: Termination | None = None, *, progress=False, desc="search",
                 score=None, n_obj=1, archive=16):
        self.problem = problem
        self.termination = as_termination(termination)
        self._constrained = constrained(problem)
        self._single = score is None and not self._constrained
        self.n_obj = 1 if self._single else int(n_obj)
        if self._constrained:
            self.n_obj = 1 + problem.n_obj + problem.n_ieq_constr
        self.score = score
        self.cache: dict[bytes, np.ndarray] = {}
        self.evaluations = 0
        self.seconds = 0.0
        self.started = time.monotonic()
        self.archive_size = int(archive)
        self.archive: Population | None = None  # the best distinct grids seen (by column 0)
        self._bar_cm = progress_bar(desc=desc, unit="grid", enabled=progress)
        self.bar = self._bar_cm.__enter__()

    # -- budget --------------------------------------------------------------------
    def time_left(self) -> float:
        return self.termination.time_left()

    def expired(self) -> bool:
        return self.termination.done(self.evaluations)

    def budget_left(self) -> float:
        """Evaluations the termination still allows (inf without a budget)."""
        return self.termination.evaluations_left(self.evaluations)

    def used_fraction(self) -> float:
        """How much of the time or budget is spent (0..1; the larger; 0 without limits),
        e.g. for a cooling schedule."""
        used = 0.0
        left = self.time_left()
        if left != float("inf"):
            spent = time.monotonic() - self.started
            used = spent / max(spent + left, 1e-9)
        budget = self.budget_left()
        if budget != float("inf"):
            used = max(used, self.evaluations / max(self.evaluations + budget, 1))
        return min(max(used, 0.0), 1.0)

    def fits(self, n: int) -> bool:
        """True if ``n`` new evaluations fit the budget and should end before the deadline."""
        if n > self.budget_left():
            return False
        left = self.time_left()
        if left <= 0:
            self.termination.note_time_stop()
            return False
        if not self.termination.has_time_limit or self.evaluations == 0:
            return True
        if n * self.seconds / self.evaluations <= left:
            return True
        self.termination.note_time_stop()  # the clock, not the budget, refused this batch
        return False

    # -- evaluation ----------------------------------------------------------------
    def prime(self, population: Population) -> None:
        """Remember grids already scored by this problem (single objective only)."""
        if self._single and population.scored and len(population):
            for g, e in zip(population.grids, population.errors):
                self.cache.setdefault(g.tobytes(), np.array([e]))
            self._update_archive(population.grids, population.errors)

    def evaluate(self, grids: np.ndarray) -> np.ndarray:
        """Objective columns (N, k) of grids (N, *shape), one evaluator call for the new ones."""
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
        return np.stack([self.cache[k] for k in keys]) if keys else np.zeros((0, self.n_obj))

    def errors(self, grids: np.ndarray) -> np.ndarray:
        """Column 0 (the problem's objective, or the total MAE) of every grid."""
        return self.evaluate(grids)[:, 0]

    @property
    def can_estimate(self) -> bool:
        """True when the problem offers a cheap estimate of its columns (see :meth:`estimate`)."""
        return self._constrained and getattr(self.problem, "estimate", None) is not None \
            and getattr(self.problem, "screen", True) is not None

    def estimate(self, grids: np.ndarray) -> np.ndarray | None:
        """Columns of grids by the problem's cheap estimate (a design's pre-screen
        surrogate), not counted, cached nor archived; None when the problem has none."""
        if not self.can_estimate:
            return None
        found = self.problem.estimate(np.ascontiguousarray(grids, dtype=np.uint8))
        return None if found is None else constrained_columns(*found)

    def _score_new(self, grids: np.ndarray) -> np.ndarray:
        t0 = time.monotonic()
        valid = grids.reshape(len(grids), -1).any(axis=1)
        out = np.full((len(grids), self.n_obj), INVALID)
        if valid.any() and self._constrained:
            out[valid] = constrained_columns(*self.problem.evaluate(grids[valid]))
        elif valid.any():
            curves = self.problem.curves(grids[valid])
            if self._single:  # the problem's objective (a target's MAE, measured points, ...)
                out[valid] = self.problem.scores(curves, grids[valid])[:, None]
            else:
                diffs = self.problem.objective.point_errors(curves, grids[valid])
                out[valid] = np.asarray(self.score(grids[valid], diffs), dtype=np.float64)
        self.seconds += time.monotonic() - t0
        self.evaluations += int(valid.sum())
        self.bar.update(len(grids))
        self.bar.set_postfix(best=f"{self.best_error:.5f}", refresh=False)
        return out

    def _update_archive(self, grids: np.ndarray, errors: np.ndarray) -> None:
        from invtoolkit.core.symmetry import canonical_keys

        batch = Population(grids, errors)
        if self.archive is not None and len(self.archive) >= self.archive_size:
            batch = batch[batch.errors < self.archive.errors[-1]]  # only these can enter
            if not len(batch):
                return
        merged = batch if self.archive is None else self.archive.concat(batch)
        self.archive = merged.sorted().unique(canonical_keys)[: self.archive_size]

    @property
    def best_error(self) -> float:
        return float("inf") if self.archive is None or not len(self.archive) else float(self.archive.errors[0])

    # -- context -------------------------------------------------------------------
    def close(self) -> None:
        self._bar_cm.__exit__(None, None, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
