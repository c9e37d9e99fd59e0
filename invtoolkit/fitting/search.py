"""The measured fit: structure, wall affinity y and pore volume, on a budget of work.

One procedure for one file and for several files of one material (K >= 1):

1. **Scan.** Per adsorbate group (files of one fluid share y), one short chain run at
   each of a few y values (``SCAN_STEP`` apart): independent starts, seeded apart.
2. **y from the table.** The pooled grids are scored at every y of a fine grid
   (:mod:`.table`); a best y on the edge of the default range extends it (up to
   ``Y_LIMITS``) and scans there too.
3. **Restarts.** ``RESTARTS`` chain runs at the best y, from the pool, other seeds.
4. **Width probes.** Runs restricted to the pore widths just outside the allowed ones,
   so that the width range does not depend on which basin the runs fell into
   (:mod:`.probes`; ``PROBE_SHARE`` of the budget).
5. **Solutions.** The final table gives the fit and every (grid, y) pair the data
   allow (:mod:`.solutions`).

Every run stops on its share of the evaluation budget, so the same seed gives the same
answer under any load; a wall-clock cap (``time_limit``) only cuts runs short, and the
fit records that it did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.population import Population
from invtoolkit.core.symmetry import dedupe

from .objective import MaterialObjective
from .probes import PROBE_SHARE, probe_widths
from .solutions import Solutions, data_noise, solutions, tolerance
from .table import ScoreTable, y_grid

MEASURED_BUDGET = 120_000  # evaluations: about 40-70 s on a 2-core VM (load decides)
Y_RANGE = (0.5, 3.5)  # default y range (1.5 is water's default)
Y_LIMITS = (0.2, 6.0)  # how far an edge result may extend the default range
SCAN_STEP = 0.5
SCAN_SHARE = 0.35  # of the budget, spent on the scan
RESTARTS = 2  # runs at the best y (independent starts)
MAX_RESTARTS = 5  # with runs at the ends and middle of the plausible y values
PLAUSIBLE = 1.5  # tolerances (solutions.tolerance) within which a y gets its own restart
SCAN_POOL = 12  # best grids each scan run adds to the pool
RESTART_POOL = 24  # best grids each restart adds (the score table's cost grows with the pool)
KEEP = 64  # verified grids per chain run


@dataclass
class FitSettings:
    """How to fit: budget (evaluations), an optional wall-clock cap (s), seed, and y."""

    budget: int = MEASURED_BUDGET
    time_limit: float | None = None
    seed: int = 0
    y: float | None = None  # fixed y for every file
    y_range: tuple[float, float] | None = None  # None: the default, extended at an edge
    tolerance: float | None = None  # of the solutions' scores; None: from the data (solutions.py)
    screen: object = None  # a starts.Screen: surrogate-screened starts for the scan runs
    progress: bool = False
    log: object = None

    def check(self) -> "FitSettings":
        if isinstance(self.budget, bool) or not int(self.budget) >= 100:
            raise InputError(f"--budget must be >= 100 evaluations, got {self.budget}")
        if self.y_range is not None and not 0 < self.y_range[0] <= self.y_range[1]:
            raise InputError(f"--y-range must be two numbers 0 < LOW <= HIGH, got {self.y_range}")
        if self.y is not None and not self.y > 0:
            raise InputError(f"--y must be positive, got {self.y:g}")
        return self


@dataclass
class Runner:
    """Chain runs with seeds drawn in order, work counted and the wall-clock cap shared."""

    chain: object
    settings: FitSettings
    space: object
    evaluations: int = 0  # by the chain runs: what the budget counts
    table_evaluations: int = 0  # scoring pooled grids on the y grid (reported, not budgeted)
    runs: int = 0
    time_capped: bool = False
    started: float = field(default_factory=time.monotonic)

    def run(self, objective, ys, budget: int, population=None, label: str = ""):
        seed = self._seed()
        self.runs += 1
        cap = self._cap()
        result = self.chain.run(objective, budget=max(int(budget), 1), time_limit=cap, seed=seed,
                                simulator=objective.simulator(ys), keep=KEEP, progress=self.settings.progress,
                                population=population if population is not None else Population.empty(self.space))
        self.evaluations += result.evaluations
        self.time_capped |= result.time_capped or cap == CAP_SPENT
        if self.settings.log is not None:
            self.settings.log(f"{label}: score {result.best_error:.5f} ({result.evaluations} evaluations)")
        return result

    def start(self, objective, ys):
        """Screened starting grids for the next run at ``ys`` (None without a screen)."""
        if self.settings.screen is None:
            return None
        return self.settings.screen.starts(objective, ys, self.space, self._seed(1))

    def _seed(self, *stream: int) -> int:
        """The seed of the next run (or of one of its side ``stream``s), from the fit's seed and the run count."""
        return int(np.random.SeedSequence([self.settings.seed, self.runs, *stream]).generate_state(1)[0] % 2**31)

    def _cap(self):
        if self.settings.time_limit is None:
            return None
        left = self.settings.time_limit - (time.monotonic() - self.started)
        return left if left > CAP_SPENT else CAP_SPENT


CAP_SPENT = 0.01  # s: a run started after the cap has passed still returns its seeds, verified


def adsorbate_groups(files) -> list[list[int]]:
    """Indices of the files per adsorbate (one wall affinity per adsorbate), in file order."""
    names: dict[str, list[int]] = {}
    for k, m in enumerate(files):
        names.setdefault(m.fluid.name, []).append(k)
    return list(names.values())


@dataclass
class MaterialFit:
    """What the fit found: the table, the allowed solutions and how much work it took."""

    objective: MaterialObjective
    groups: list[list[int]]
    table: ScoreTable
    solutions: Solutions
    y_source: str
    y_notes: list[str]
    evaluations: int  # chain runs and the score tables
    budget: int
    time_capped: bool
    seconds: float
    probes: list = field(default_factory=list)  # (dominant width, allowed) of each width probe
    screen: dict | None = None  # the screened starts (starts.Screen.describe), None without

    def file_ys(self, ys=None) -> list[float]:
        return per_file(self.solutions.ys if ys is None else ys, self.groups)


def per_file(group_ys, groups) -> list[float]:
    out = [0.0] * sum(len(g) for g in groups)
    for y, members in zip(group_ys, groups):
        for k in members:
            out[k] = float(y)
    return out


def fit_material(files, chain, settings: FitSettings, *, space, ratios=None, capacity=None) -> MaterialFit:
    """Fit structure, y per adsorbate and the shared pore volume to ``files`` (see module)."""
    settings.check()
    objective = MaterialObjective(files, ratios, fixed_volume=capacity, bounded=True)
    groups = adsorbate_groups(files)
    runner = Runner(chain, settings, space)
    ranges = [(settings.y, settings.y)] * len(groups) if settings.y is not None else \
        [tuple(settings.y_range or Y_RANGE)] * len(groups)
    per_run = _scan_budget(settings, ranges)
    pool = _scan(runner, objective, groups, ranges, per_run)
    ys, ranges, pool = _choose_y(runner, objective, groups, ranges, pool, per_run, extend=settings.y_range is None
                                 and settings.y is None)
    pool = _restarts(runner, objective, groups, ys, ranges, pool, int(settings.budget * (1 - PROBE_SHARE)))
    table = ScoreTable(objective, pool, groups)
    values = [y_grid(lo, hi) for lo, hi in ranges]
    noise = data_noise(files)
    probed = probe_widths(_probe_run(runner, groups), table, table.best_ys(ys, values), values, noise,
                          settings.tolerance, settings.budget - runner.evaluations)
    ys = table.best_ys(ys, values)
    found = solutions(table, ys, values, noise, settings.tolerance)
    return MaterialFit(objective, groups, table, found, "given" if settings.y is not None else "fitted",
                       _y_notes(found, ranges, settings),
                       runner.evaluations + runner.table_evaluations + table.evaluations,
                       int(settings.budget), runner.time_capped, time.monotonic() - runner.started, probed,
                       settings.screen.describe() if settings.screen is not None else None)


def _probe_run(runner, groups):
    """A chain run at one y per group for the width probes: its kept grids."""
    def run(objective, point, budget, seeds, label):
        return runner.run(objective, per_file(point, groups), budget, population=seeds, label=label).population.grids
    return run


def _scan_budget(settings: FitSettings, ranges) -> int:
    runs = sum(len(y_grid(lo, hi, SCAN_STEP)) for lo, hi in ranges)
    return 0 if settings.y is not None else max(int(SCAN_SHARE * settings.budget / runs), 1)


def _scan(runner, objective, groups, ranges, per_run, values=None) -> np.ndarray:
    """Short runs per group at each scan value (a group's files share y): the pool."""
    if not per_run:
        return np.zeros((0, *runner.space.shape), np.uint8)
    found = []
    for g, members in enumerate(groups):
        sub = MaterialObjective([objective.files[k] for k in members], objective.ratios[members],
                                fixed_volume=objective.fixed_volume, bounded=True)
        for v in (values[g] if values is not None else y_grid(*ranges[g], SCAN_STEP)):
            result = runner.run(sub, [v] * len(members), per_run, population=runner.start(sub, [v] * len(members)),
                                label=f"scan {sub.files[0].fluid.name} y = {v:.3g}")
            found.append(result.population.grids[:SCAN_POOL])
    return dedupe(np.concatenate(found)) if found else np.zeros((0, *runner.space.shape), np.uint8)


def _choose_y(runner, objective, groups, ranges, pool, per_run, *, extend: bool):
    """The pool's best y per group; an edge result of the default range extends it."""
    if not len(pool):
        return [lo for lo, _ in ranges], ranges, pool
    ranges = list(ranges)
    for _ in range(3):
        table = ScoreTable(objective, pool, groups)
        ys = table.best_ys([lo for lo, _ in ranges], [y_grid(lo, hi) for lo, hi in ranges])
        runner.table_evaluations += table.evaluations
        wider = [_extended(y, r) if extend else r for y, r in zip(ys, ranges)]
        if wider == ranges:
            return ys, ranges, pool
        new_values = [np.setdiff1d(y_grid(*w, SCAN_STEP), y_grid(*r, SCAN_STEP)) for w, r in zip(wider, ranges)]
        pool = dedupe(np.concatenate([pool, _scan(runner, objective, groups, wider, per_run, new_values)]))
        ranges = wider
    return ys, ranges, pool


def _extended(y: float, r: tuple[float, float]) -> tuple[float, float]:
    lo, hi = r
    if np.isclose(y, hi) and hi < Y_LIMITS[1]:
        return lo, min(hi + 1.0, Y_LIMITS[1])
    if np.isclose(y, lo) and lo > Y_LIMITS[0]:
        return max(lo - 1.0, Y_LIMITS[0]), hi
    return r


def _restarts(runner, objective, groups, ys, ranges, pool, budget: int) -> np.ndarray:
    """Independent runs from the pool's best grids at every y the pool leaves plausible
    (:func:`restart_points`), so each allowed y gets structures optimised for it; the pool grows."""
    left = max(budget - runner.evaluations, budget // 10)
    points = [list(ys)] * RESTARTS
    found = [pool]
    if len(pool):
        table = ScoreTable(objective, pool, groups)
        points = restart_points(table, ys, [y_grid(lo, hi) for lo, hi in ranges], data_noise(objective.files))
        runner.table_evaluations += table.evaluations
    for r, point in enumerate(points):
        seeds = None
        if len(pool):
            order = np.argsort(table.scores(point), kind="stable")[:KEEP]
            seeds = Population(pool[order])
        result = runner.run(objective, per_file(point, groups), left // len(points), population=seeds,
                            label=f"search {r + 1}/{len(points)} at y = {', '.join(f'{y:.3g}' for y in point)}")
        found.append(result.population.grids[:RESTART_POOL])
    pool = dedupe(np.concatenate(found))
    if not len(pool):
        raise InputError("no grid was evaluated: raise --budget (or --time-limit)")
    return pool


def restart_points(table, ys, y_values, noise: float) -> list[list[float]]:
    """The best ys, then per group the ends (and middle) of the y values whose best pooled
    score is within ``PLAUSIBLE`` tolerances of the best; at least ``RESTARTS`` points."""
    points = [list(ys)] * RESTARTS
    for g, values in enumerate(y_values):
        scores = table.profile(ys, g, values)[0].min(axis=1)
        best = float(scores.min())
        ok = values[scores <= best + PLAUSIBLE * tolerance(best, noise)]
        for y in (ok.min(), ok.max(), float(np.round((ok.min() + ok.max()) / 2 / SCAN_STEP) * SCAN_STEP)):
            point = list(ys)
            point[g] = float(y)
            if point not in points and ok.min() <= y <= ok.max():
                points.append(point)
    return points[:MAX_RESTARTS] if len(points) > RESTARTS else points


def _y_notes(found: Solutions, ranges, settings: FitSettings) -> list[str]:
    notes = []
    for (lo, hi), (a, b), y, determined in zip(ranges, found.y_intervals, found.ys, found.y_determined):
        if lo == hi:
            continue
        if not determined:
            notes.append(f"y is not determined: the allowed y span {a:g}-{b:g}, most of the searched {lo:g}-{hi:g}; "
                         "the structure compensates the wall affinity, so the data fit about as well at any of them")
        where = "the best y" if np.isclose(y, lo) or np.isclose(y, hi) else "the allowed y"
        if np.isclose(a, lo) or np.isclose(b, hi):
            notes.append(f"{where} reach the edge of the searched range {lo:g}-{hi:g}: the data may allow y "
                         f"beyond it ({'--y-range' if settings.y_range else 'the limit of the default range'})")
    return notes
