"""Optimizer plugin ``steepest``: steepest descent over single-cell flips.

Every step evaluates all H*W one-cell flips of the current grid in ONE evaluator
call and moves to the best, until no flip improves (a local minimum) or the
deadline. With ``rank=NAME`` a surrogate ranks the flips first (by its gradient
d error / d cell, or by its own error) and only the ``top`` best-ranked flips go
to the stage's evaluator; when none of them improves, all flips are checked, so
the end point is still a true local minimum of the stage's evaluator.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.hookspecs import hookimpl
from invtoolkit.population import Population
from invtoolkit.roles import Optimizer

from invtoolkit_plugins._search import Objective, finish, starting_grids

IMPROVEMENT = 1e-12  # smaller changes are rounding, not progress (stops cycling)


def single_flips(grid: np.ndarray) -> np.ndarray:
    """All H*W grids that differ from ``grid`` in exactly one cell, flip k = cell k (row-major)."""
    h, w = grid.shape
    flips = np.repeat(grid.reshape(1, -1), h * w, axis=0)
    idx = np.arange(h * w)
    flips[idx, idx] ^= 1
    return flips.reshape(h * w, h, w)


class SteepestDescent(Optimizer):
    """Polish the ``candidates`` best incoming grids by best-improvement single flips.

    Options: ``candidates`` (grids polished, best first), ``max_steps`` per
    candidate (default: until a local minimum), ``rank`` (surrogate or simulator
    name ranking the flips), ``rank_by`` ("gradient" or "error"), ``top`` (flips
    sent to the evaluator per ranked step), ``fallback`` (check all flips when the
    ranked ones fail; default true), ``restarts`` (kicks after the polish: flip
    ``kick`` random cells of the best and descend again; default: while time is
    left, none without a deadline), ``sampler`` for starts when no grid comes in.
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
        self.candidates = int(candidates)
        self.max_steps = None if max_steps is None else int(max_steps)
        self.rank, self.rank_by, self.top, self.fallback = rank, rank_by, int(top), bool(fallback)
        if restarts is not None and int(restarts) < 0:
            raise InputError("steepest: restarts must be >= 0")
        if int(kick) < 1:
            raise InputError("steepest: kick must be >= 1")
        self.restarts = None if restarts is None else int(restarts)
        self.kick = int(kick)
        self.sampler = sampler
        self.local_minima: list[bool] = []  # per polished candidate, after run()
        self.steps: list[int] = []

    def run(self, problem, population, *, rng, deadline=None, progress=False) -> Population:
        ranker = FlipRanker(self.rank, problem, self.rank_by) if self.rank else None
        self.local_minima, self.steps = [], []
        with Objective(problem, deadline=deadline, progress=progress, desc="steepest", archive=self.candidates) as obj:
            obj.prime(population)
            starts = starting_grids(problem, population, self.candidates, rng, self.sampler)
            if not obj.fits(len(starts)):
                return finish(obj, population)
            start_errors = obj.errors(starts)
            polished = []
            for grid, error in zip(starts, start_errors):
                grid, error, steps, at_minimum = self._descend(obj, grid.copy(), float(error), ranker)
                polished.append((grid, error))
                self.steps.append(steps)
                self.local_minima.append(at_minimum)
                if obj.expired():
                    break
            polished += self._kicks(obj, polished, rng, ranker)
            done = Population(np.stack([g for g, _ in polished]), np.array([e for _, e in polished]))
            return finish(obj, done, population)

    def _kicks(self, obj: Objective, polished: list, rng, ranker) -> list:
        """Iterated local search with the time left: flip ``kick`` random cells of the
        best local minimum and descend again; keep the result when it is better."""
        restarts = self.restarts
        if restarts is None:
            restarts = 0 if obj.deadline is None else 10**9
        best_grid, best_error = min(polished, key=lambda ge: ge[1])
        found = []
        for _ in range(restarts):
            if obj.expired() or best_error <= IMPROVEMENT:  # nothing left to gain
                break
            grid = best_grid.copy().reshape(-1)
            cells = rng.choice(grid.size, size=min(self.kick, grid.size), replace=False)
            grid[cells] ^= 1
            grid = grid.reshape(best_grid.shape)
            if not obj.fits(1):
                break
            if not grid.any():
                continue
            error = float(obj.errors(grid[None])[0])
            grid, error, steps, at_minimum = self._descend(obj, grid, error, ranker)
            found.append((grid, error))
            if error < best_error - IMPROVEMENT:
                best_grid, best_error = grid, error
        return found

    def _descend(self, obj: Objective, grid: np.ndarray, error: float, ranker):
        steps = 0
        while self.max_steps is None or steps < self.max_steps:
            flips = single_flips(grid)
            tried = np.zeros(len(flips), bool)
            if ranker is not None:
                tried[ranker.best_flips(grid, self.top)] = True
                moved = self._try(obj, flips, tried, error)
                if moved is None:
                    return grid, error, steps, False
                if moved[1] < error - IMPROVEMENT:
                    grid, error, steps = moved[0], moved[1], steps + 1
                    continue
                if not self.fallback:
                    return grid, error, steps, False
            moved = self._try(obj, flips, ~tried, error)
            if moved is None:  # out of time
                return grid, error, steps, False
            if not moved[1] < error - IMPROVEMENT:
                return grid, error, steps, True
            grid, error, steps = moved[0], moved[1], steps + 1
        return grid, error, steps, False

    @staticmethod
    def _try(obj: Objective, flips: np.ndarray, mask: np.ndarray, error: float):
        """Best of the masked flips as (grid, error); None if the batch does not fit in time."""
        batch = flips[mask]
        if not len(batch):
            return flips[0], np.inf
        if not obj.fits(len(batch)):
            return None
        errors = obj.errors(batch)
        j = int(np.argmin(errors))
        return batch[j].copy(), float(errors[j])


class FlipRanker:
    """Ranks single flips of a grid with a (surrogate) model, best first."""

    def __init__(self, name: str, problem, rank_by: str):
        from invtoolkit.chain import make_evaluator

        self.model = make_evaluator(str(name), problem.target)
        self.problem = problem
        self.rank_by = rank_by
        if rank_by == "gradient" and not hasattr(self.model, "forward_torch"):
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
        flips = single_flips(grid)
        scores = np.full(len(flips), np.inf)
        valid = flips.reshape(len(flips), -1).any(1)
        curves = np.asarray(self.model.simulate(flips[valid]))[:, : len(self.problem.target.values)]
        scores[valid] = np.abs(curves - self.problem.target.values[None]).mean(1)
        return scores


@hookimpl
def register_optimizers(register):
    register("steepest", SteepestDescent, "Steepest descent over single-cell flips (optionally surrogate-ranked)")
