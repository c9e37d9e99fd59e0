"""Width probes: the structure families next to the allowed ones, searched on purpose.

A chain run ends in one basin: the grids it keeps share one dominant pore width. On
DUT-67 methanol seed 0 found only a 1-cell family and seed 1 only a 2-cell one, at
scores 0.0062 and 0.0067, so the widths a fit allowed depended on where its runs
happened to start, and another seed's best fell outside them. After the restarts the
fit therefore probes the widths just outside the allowed ones: a run restricted to
grids of dominant width w (:class:`WidthObjective`), seeded from the pooled grids
closest to that family, at the end of the y interval where such pores fill at the
measured pressures (narrower pores need a weaker wall: the lowest allowed y; wider ones
the highest). A probe whose grids are allowed widens the range and the width beyond it
is probed next; a side stops at its first probe that is not, or after ``PROBES_PER_SIDE``.
"""

from __future__ import annotations

import numpy as np

from invtoolkit.core.descriptors import batch_width_shares, dominant_widths
from invtoolkit.core.objective import Objective, PointErrors
from invtoolkit.core.population import Population
from invtoolkit.core.symmetry import dedupe

from .solutions import solutions

PROBE_SHARE = 0.3  # of the budget, reserved for the probes
PROBES_PER_SIDE = 2
FIRST_SHARE = 2 / 3  # of a side's budget, for its first probe (the one that matters most)
WIDTH_PENALTY = 10.0  # above any relative score: a grid outside the family ranks after every one in it
PROBE_SEEDS = 64  # pooled grids a probe starts from
PROBE_POOL = 24  # best grids a probe adds to the table


def width_penalty(grids: np.ndarray, width: int) -> np.ndarray:
    """0 for grids of dominant width ``width``; else WIDTH_PENALTY plus how far the share
    of pore cells at ``width`` is below the dominant share (a slope towards the family)."""
    shares = batch_width_shares(np.asarray(grids))
    width = min(int(width), shares.shape[1] - 1)
    inside = dominant_widths(shares) == width
    return np.where(inside, 0.0, WIDTH_PENALTY + shares.max(axis=1) - shares[:, width])


class WidthObjective(Objective, PointErrors):
    """``base`` restricted to one family: its score plus :func:`width_penalty`."""

    name = "measured, one dominant width"

    def __init__(self, base, width: int):
        self.base, self.width = base, int(width)
        self.path, self.normalization, self.target = base.path, base.normalization, None

    def simulator(self, ys):
        return self.base.simulator(ys)

    def scores(self, curves: np.ndarray, grids: np.ndarray) -> np.ndarray:
        return self.base.scores(curves, grids) + width_penalty(grids, self.width)

    @property
    def point_pressures(self) -> np.ndarray:
        return self.base.point_pressures

    def point_errors(self, curves: np.ndarray, grids: np.ndarray | None = None) -> np.ndarray:
        # the penalty on every point keeps the row means equal to the scores
        return self.base.point_errors(curves, grids) + width_penalty(grids, self.width)[:, None]


def allowed_widths(table, found) -> np.ndarray:
    """Dominant widths of the grids a fit allows (its Solutions over this table)."""
    grids = table.grids[found.grid_rows]
    return dominant_widths(batch_width_shares(grids)) if len(grids) else np.zeros(0, int)


class ProbePlan:
    """Which width to probe next, with how much of the budget: half per side (narrower,
    wider); a side's first probe gets ``FIRST_SHARE`` of its half, its second the rest; a
    side that is done (closed, at the edge of the widths, or probed twice) passes what it
    has left to the other side."""

    def __init__(self, budget: int, side: int):
        self.side, self.budgets = side, {-1: budget // 2, 1: budget - budget // 2}
        self.probes, self.done = {-1: 0, 1: 0}, set()

    def next(self, widths: np.ndarray) -> tuple[int, int, int] | None:
        """(direction, width, evaluations) of the next probe, None when both sides are done."""
        targets = {-1: int(widths.min()) - 1, 1: int(widths.max()) + 1}
        for d, width in targets.items():
            if not 1 <= width <= self.side or self.probes[d] >= PROBES_PER_SIDE:
                self.finish(d)
        open_sides = [d for d in (-1, 1) if d not in self.done]
        if not open_sides:
            return None
        d = min(open_sides, key=lambda d: (self.probes[d], d))
        last = self.probes[d] == PROBES_PER_SIDE - 1
        share = self.budgets[d] if last else int(self.budgets[d] * FIRST_SHARE)
        self.budgets[d] -= share
        self.probes[d] += 1
        return d, targets[d], share

    def finish(self, d: int) -> None:
        if d in self.done:
            return
        self.done.add(d)
        if -d not in self.done:
            self.budgets[-d] += self.budgets[d]
        self.budgets[d] = 0


def probe_widths(run, table, ys, values, noise: float, given, budget: int):
    """Probe past the allowed widths (see module); ``run(objective, point, budget, seeds,
    label)`` is a chain run returning its kept grids, best first. Grows ``table``; returns
    the widths probed, each with whether its family was allowed."""
    plan, outcome = ProbePlan(budget, min(table.grids.shape[1:])), []
    while True:
        ys = table.best_ys(ys, values)  # a probe may have found a better pair
        found = solutions(table, ys, values, noise, given)
        step = plan.next(allowed_widths(table, found))
        if step is None:
            return outcome
        direction, width, share = step
        point = [lo if direction < 0 else hi for lo, hi in found.y_intervals]
        order = np.argsort(table.scores(point) + width_penalty(table.grids, width), kind="stable")
        grids = run(WidthObjective(table.objective, width), point, share, Population(table.grids[order[:PROBE_SEEDS]]),
                    f"probe width {width} at y = {', '.join(f'{y:.3g}' for y in point)}")
        merged, index = dedupe(np.concatenate([table.grids, grids[:PROBE_POOL]]), return_index=True)
        table.add(merged[index >= len(table.grids)])
        allowed = width in allowed_widths(table, solutions(table, table.best_ys(ys, values), values, noise, given))
        outcome.append((width, bool(allowed)))
        if not allowed:
            plan.finish(direction)
