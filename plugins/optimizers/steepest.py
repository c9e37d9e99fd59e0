"""Optimizer plugin ``steepest``: steepest descent over single-cell flips.

Every step evaluates all one-cell flips of the current grid in ONE evaluator call
and moves to the best, until no flip improves (a local minimum) or the time is up.
With ``rank=NAME`` a surrogate ranks the flips first (by its gradient d error /
d cell, or by its own error) and only the ``top`` best-ranked flips go to the
stage's evaluator; when none of them improves, all flips are checked, so the end
point is still a true local minimum of the stage's evaluator.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.plugin import (Algorithm, GridSpace, InputError, Population, Surrogate, hookimpl,
                               starting_grids)

IMPROVEMENT = 1e-12  # smaller changes are rounding, not progress (stops cycling)


def single_flips(grid: np.ndarray) -> np.ndarray:
    """All grids that differ from ``grid`` in exactly one cell, flip k = cell k (row-major)."""
    return GridSpace(grid.shape).neighbours(grid)


class SteepestDescent(Algorithm):
    """Polish the ``candidates`` best incoming grids by best-improvement single flips.

    Options: ``candidates`` (grids polished, best first), ``max_steps`` per
    candidate (default: until a local minimum), ``rank`` (surrogate or simulator
    name ranking the flips), ``rank_by`` ("gradient" or "error"), ``top`` (flips
    sent to the evaluator per ranked step), ``fallback`` (check all flips when the
    ranked ones fail; default true), ``restarts`` (kicks after the polish: flip
    ``kick`` random cells of the best and descend again; default: while time is
    left, none without a time limit), ``sampler`` for starts when no grid comes in.
    """

    name = "steepest"

    def __init__(self, candidates: int = 4, max_steps: int | None = None, rank: str | None = None,
                 rank_by: str = "gradient", top: int = 32, fallback: bool = True,
                 restarts: int | None = None, kick: int = 3, sampler: str | None = "mixed"):
        if int(candidates) < 1:
            raise InputError("steepest: candidates must be >= 1")
        if max_steps is not None and int(max_steps) < 0:
            raise InputError("steepest: max_steps must be >= 0")
        if rank_by not in ("gradient", "error"):
            raise InputError(f"steepest: rank_by must be 'gradient' or 'error', got '{rank_by}'")
        if int(top) < 1:
            raise InputError("steepest: top must be >= 1")
        if restarts is not None and int(restarts) < 0:
            raise InputError("steepest: restarts must be >= 0")
        if int(kick) < 1:
            raise InputError("steepest: kick must be >= 1")
        self.candidates = self.archive_size = int(candidates)
        self.max_steps = None if max_steps is None else int(max_steps)
        self.rank, self.rank_by, self.top, self.fallback = rank, rank_by, int(top), bool(fallback)
        self.restarts = None if restarts is None else int(restarts)
        self.kick = int(kick)
        self.sampler = sampler
        self.local_minima: list[bool] = []  # per polished candidate, after run()
        self.steps: list[int] = []

    # -- the template's steps -----------------------------------------------------------
    def start(self, evaluator, population, rng):
        self.ranker = FlipRanker(self.rank, evaluator.problem, self.rank_by) if self.rank else None
        self.local_minima, self.steps, self.done = [], [], []
        self.current = None
        starts = starting_grids(evaluator.problem, population, self.candidates, rng, self.sampler)
        self.queue = []
        if evaluator.fits(len(starts)):
            self.queue = list(zip(starts, evaluator.errors(starts)))
        self.kicks_left = None  # set when the polish of the starts is over
        self.best = None

    def propose(self, evaluator, rng):
        while True:
            if self.current is None and not self._next(evaluator, rng):
                return None
            grid, error, steps, phase, tried = self.current
            if self.max_steps is not None and steps >= self.max_steps:
                self._settle(False)
                continue
            if phase == "ranked":
                self.current[4] = np.zeros(self.space.cells, bool)
                self.current[4][self.ranker.best_flips(grid, self.top)] = True
                return self.space.neighbours(grid)[self.current[4]]
            batch = self.space.neighbours(grid)[~tried]
            if len(batch):
                return batch
            self._settle(True)  # every flip was ranked and none improved

    def tell(self, evaluator, grids, scores, rng):
        grid, error, steps, phase, tried = self.current
        j = int(np.argmin(scores[:, 0]))
        if scores[j, 0] < error - IMPROVEMENT:
            self.current = self._state(grids[j].copy(), float(scores[j, 0]), steps + 1)
        elif phase == "ranked" and self.fallback:
            self.current[3] = "all"  # check the flips the ranker left out
        else:
            self._settle(phase != "ranked")

    def result(self):
        if self.current is not None:  # interrupted by the time limit
            self._settle(False)
        if not self.done:
            return []
        return [Population(np.stack([g for g, _ in self.done]), np.array([e for _, e in self.done]))]

    # -- state --------------------------------------------------------------------------
    def _state(self, grid, error, steps):
        phase = "ranked" if self.ranker is not None else "all"
        return [grid, error, steps, phase, np.zeros(self.space.cells, bool)]

    def _settle(self, at_minimum: bool):
        """The current descent ends: record it (and, during restarts, keep the better)."""
        grid, error, steps = self.current[:3]
        self.current = None
        self.done.append((grid, error))
        if self.kicks_left is None:
            self.steps.append(steps)
            self.local_minima.append(at_minimum)
        elif error < self.best[1] - IMPROVEMENT:
            self.best = (grid, error)

    def _next(self, evaluator, rng) -> bool:
        """Start the next descent: the next starting grid, else a kick of the best."""
        if self.queue:
            grid, error = self.queue.pop(0)
            self.current = self._state(grid.copy(), float(error), 0)
            return True
        if self.kicks_left is None:  # iterated local search with the time left
            if not self.done:
                return False
            self.kicks_left = self.restarts
            if self.kicks_left is None:
                self.kicks_left = 10**9 if evaluator.termination.bounded else 0
            self.best = min(self.done, key=lambda ge: ge[1])
        while self.kicks_left > 0 and not evaluator.expired() and self.best[1] > IMPROVEMENT:
            self.kicks_left -= 1
            grid = self.best[0].copy().reshape(-1)
            grid[rng.choice(grid.size, size=min(self.kick, grid.size), replace=False)] ^= 1
            grid = grid.reshape(self.best[0].shape)
            if not evaluator.fits(1):
                return False
            if grid.any():
                self.current = self._state(grid, float(evaluator.errors(grid[None])[0]), 0)
                return True
        return False


class FlipRanker:
    """Ranks single flips of a grid with a (surrogate) model, best first."""

    def __init__(self, name: str, problem, rank_by: str):
        from invtoolkit.plugin import make_evaluator

        if problem.target is None:
            raise InputError("steepest: rank= needs a model-isotherm target")
        self.model = make_evaluator(str(name), problem.target)
        self.problem = problem
        self.rank_by = rank_by
        if rank_by == "gradient" and not isinstance(self.model, Surrogate):
            raise InputError(f"steepest: rank={name} has no gradient (not a surrogate); use rank_by=error")

    def best_flips(self, grid: np.ndarray, top: int) -> np.ndarray:
        scores = self.gradient_scores(grid) if self.rank_by == "gradient" else self.error_scores(grid)
        return np.argsort(scores, kind="stable")[:top]

    def gradient_scores(self, grid: np.ndarray) -> np.ndarray:
        """First-order change of the model's error when each cell flips (lower = better)."""
        import torch

        x = torch.tensor(grid[None], dtype=torch.float32, requires_grad=True)
        target = torch.as_tensor(self.problem.target.values, dtype=torch.float32)
        pred = self.model.forward_torch(x)[:, : len(target)]
        (pred - target).abs().mean().backward()
        grad = x.grad[0].detach().numpy().astype(np.float64)
        return (grad * (1.0 - 2.0 * grid)).reshape(-1)  # 0->1 adds +grad, 1->0 adds -grad

    def error_scores(self, grid: np.ndarray) -> np.ndarray:
        from invtoolkit.plugin import mae

        flips = single_flips(grid)
        scores = np.full(len(flips), np.inf)
        valid = flips.reshape(len(flips), -1).any(1)
        curves = np.asarray(self.model.simulate(flips[valid]))[:, : len(self.problem.target.values)]
        scores[valid] = mae(curves, self.problem.target.values)
        return scores


@hookimpl
def register_optimizers(register):
    register("steepest", SteepestDescent, "Steepest descent over single-cell flips (optionally surrogate-ranked)")
