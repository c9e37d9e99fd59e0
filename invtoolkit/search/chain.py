"""Chains of stages: ``"deconv[n=64] | pso[evaluator=cnn] | steepest"``.

Each stage takes a population and returns one; a stage is an optimizer, or a
generator (which proposes grids for the target and ignores its input). The final
population is verified by the exact simulator and reported with its true error.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.core.defaults import DEFAULT_SIMULATOR, DEFAULT_GRID_SHAPE
from invtoolkit.errors import InputError
from invtoolkit.hooks.options import format_value, parse_options, split_top_level
from invtoolkit.core.population import Population
from invtoolkit.core.problem import Problem, Target
from invtoolkit.core.termination import MaxEvaluations, Termination, TimeLimit, any_of
from invtoolkit.core.space import GridSpace, as_space

__all__ = ["Chain", "ChainResult", "DEFAULT_SIMULATOR", "StageReport", "StageSpec", "make_evaluator",
           "parse_stages", "verify"]
_STAGE_RE = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[(.*)\])?\s*$", re.S)
# Options the chain itself consumes; the rest go to the stage's factory.
CHAIN_OPTIONS = ("evaluator", "time")
VERIFY_RESERVE = 0.05  # fraction of the time limit kept for verifying the result


@dataclass
class StageSpec:
    name: str
    options: dict = field(default_factory=dict)

    def __str__(self):
        if not self.options:
            return self.name
        inner = ",".join(f"{k}={format_value(v)}" for k, v in self.options.items())
        return f"{self.name}[{inner}]"


@dataclass
class StageReport:
    stage: str
    evaluator: str
    evaluations: int
    seconds: float
    best_error: float  # by the stage's own evaluator
    population: int
    note: str | None = None  # e.g. why a generator stage proposed nothing


@dataclass
class ChainResult:
    population: Population  # verified by the simulator, sorted, best first
    curves: np.ndarray  # simulator curves of the population (full schedule of the simulator)
    stages: list[StageReport]
    target: Target
    seconds: float  # stages and verification, i.e. the time the limit applies to
    startup_seconds: float = 0.0  # building stages (model loading) and warming up evaluators
    verified_by: str = DEFAULT_SIMULATOR  # name of the simulator that verified the population
    capacities: np.ndarray | None = None  # measured targets: the fitted capacity per verified grid
    budget: int | None = None  # evaluations the stages were allowed (None: no budget)
    time_capped: bool = False  # True if the wall-clock cap, not the budget, ended some stage

    @property
    def evaluations(self) -> int:
        return int(sum(s.evaluations for s in self.stages))

    @property
    def best_error(self) -> float:
        return self.population.best_error


def parse_stages(text: str) -> list[StageSpec]:
    """``"a | b[k=3,w=[0.2,0.8]]"`` -> stages with options parsed by :mod:`invtoolkit.hooks.options`."""
    if not isinstance(text, str) or not text.strip():
        raise InputError("empty chain: give stages like 'ga | steepest'")
    parts = split_top_level(text, "|", what="chain")
    if any(not p.strip() for p in parts):
        raise InputError(f"malformed chain '{text.strip()}': empty stage")
    specs = []
    for part in parts:
        m = _STAGE_RE.match(part)
        if not m:
            raise InputError(f"malformed chain stage '{part.strip()}' (expected name or name[key=value,...])")
        name, inner = m.group(1), m.group(2)
        items = split_top_level(inner, ",", what=f"options of stage '{name}'") if inner and inner.strip() else []
        specs.append(StageSpec(name, parse_options(items, flag=f"stage '{name}' option")))
    return specs


def _mismatch(generator, target) -> str | None:
    """Why the generator cannot read this target (None if it can): a learned inverse
    knows only the pressure path and normalization it was trained on."""
    if not generator.schedule.starts(target.schedule):
        return (f"skipped: the generator reads isotherms on {generator.schedule!r}, "
                f"the target is on {target.schedule!r}")
    if generator.normalization != target.normalization:
        return (f"skipped: the generator was trained on {generator.normalization}-normalised "
                f"isotherms, the target is {target.normalization}-normalised")
    return None


class GeneratorStage:
    """Adapts a Generator to the stage contract: propose ``n`` grids for the target."""

    def __init__(self, generator, n: int = 64):
        self.generator = generator
        self.n = int(n)
        self.note = None

    def run(self, problem: Problem, population: Population, *, rng, termination=None, progress=False):
        # A learned generator serves the grid space and pressure axis it was trained
        # for; for any other problem it proposes nothing and the next stages search alone.
        self.note = None
        seed = int(rng.integers(2**31))
        wanted = population.space
        made = self.generator.space
        if made != wanted:
            self.note = f"skipped: the generator makes {made} grids, the search is {wanted}"
            return population
        if problem.target is None:
            self.note = "skipped: the objective has no model isotherm to generate for"
            return population
        self.note = _mismatch(self.generator, problem.target)
        if self.note:
            return population
        try:
            grids = self.generator.generate(problem.target.values[None], self.n, seed=seed)[0]
        except InputError as exc:
            self.note = f"skipped: {exc}"
            return population
        new = Population(grids, problem.errors(grids))
        return new.concat(population) if population.scored else new


class Chain:
    """Stages run left to right; the result is verified by the exact simulator."""

    def __init__(self, stages: list[StageSpec]):
        if not stages:
            raise InputError("a chain needs at least one stage")
        self.stages = stages

    @classmethod
    def parse(cls, text: str) -> "Chain":
        chain = cls(parse_stages(text))
        chain.resolve_roles()
        return chain

    def __str__(self):
        return " | ".join(str(s) for s in self.stages)

    def resolve_roles(self) -> list[str]:
        """'optimizer' or 'generator' per stage; unknown names raise PluginError."""
        reg = registry.registry()
        roles = []
        for spec in self.stages:
            if spec.name in reg.names("optimizer"):
                roles.append("optimizer")
            elif spec.name in reg.names("generator"):
                roles.append("generator")
            else:
                known = ", ".join(reg.names("optimizer") + reg.names("generator")) or "none"
                raise registry.PluginError(f"unknown stage '{spec.name}' (available: {known})")
        return roles

    def validate(self) -> None:
        """Fail before any work on an unknown stage, option, evaluator or time weight."""
        self._build_all(generators=False)

    def _build_all(self, generators: bool = True) -> list:
        """Check every stage, then build it (optimizer constructors check their options)."""
        roles = self.resolve_roles()
        reg = registry.registry()
        evaluators = reg.names("simulator") + reg.names("surrogate")
        for spec in self.stages:
            weight = spec.options.get("time", 1.0)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
                raise InputError(f"stage '{spec.name}': time= must be a positive number, got '{weight}'")
            ev = spec.options.get("evaluator")
            if ev is not None and ev not in evaluators:
                raise registry.PluginError(
                    f"stage '{spec.name}': unknown evaluator '{ev}' (available: {', '.join(evaluators) or 'none'})"
                )
        return [self._build(spec, role) if generators or role == "optimizer" else None
                for spec, role in zip(self.stages, roles)]

    def _build(self, spec: StageSpec, role: str):
        options = {k: v for k, v in spec.options.items() if k not in CHAIN_OPTIONS}
        if role == "optimizer":
            return registry.create("optimizer", spec.name, **options)
        n = options.pop("n", 64)
        return GeneratorStage(registry.create("generator", spec.name, **options), n=n)


    def run(
        self,
        target: Target,
        *,
        time_limit: float | None = None,
        budget: int | None = None,
        seed: int = 0,
        simulator=None,
        evaluators: dict | None = None,
        population: Population | None = None,
        space: GridSpace | None = None,
        keep: int = 8,
        progress: bool = False,
        log=None,
    ) -> ChainResult:
        """Run every stage, then verify the final population with ``simulator``.

        ``budget`` (evaluations) is shared among stages: each gets what is left divided
        by the stages left (weighted by a stage's ``time=`` option), so the same seed
        gives the same result under any load. ``time_limit`` (s) is a wall-clock cap,
        shared the same way; ``ChainResult.time_capped`` says whether it cut a stage
        short. The grid space is ``space``, else the population's, else the
        simulator's, else 20x20.
        """
        if time_limit is not None and not time_limit > 0:
            raise InputError(f"time limit must be > 0, got {time_limit}")
        if budget is not None and (isinstance(budget, bool) or not int(budget) >= 1):
            raise InputError(f"evaluation budget must be >= 1, got {budget}")
        # One-off start-up is not search time: building the stages (loading learned
        # models) and the simulator's first call (numba compiles its kernel on a cold
        # cache, ~20 s after an install) happen before the clock starts.
        setup = time.monotonic()
        rng = np.random.default_rng(seed)
        built = self._build_all()
        simulator, cache, default_name = self._evaluators(target, simulator, evaluators)
        space = search_space_of(space, population, simulator)
        pop = population if population is not None else Population.empty(space)
        for warm in {id(e): e for e in (simulator, cache[default_name])}.values():
            warm.simulate(np.ones((1, *space.shape), np.uint8))
        from invtoolkit.core.symmetry import canonical_keys  # numba: not imported at CLI start-up

        canonical_keys(np.ones((1, *space.shape), np.uint8))  # the archives' kernel loads (~0.5 s) here, not in a stage
        start = time.monotonic()
        # The stages share the limit less a small reserve for the final verification.
        deadline = None if time_limit is None else start + time_limit * (1.0 - VERIFY_RESERVE)
        limits = StageLimits(deadline, None if budget is None else int(budget))
        pop, reports = self._run_stages(target, built, pop, space, cache, default_name, rng, limits, progress, log)
        verified, curves = verify(Problem(target, simulator, space=space), pop, keep)
        return ChainResult(verified, curves, reports, target, time.monotonic() - start, start - setup,
                           verified_by=simulator.name, budget=limits.budget, time_capped=limits.capped)

    @staticmethod
    def _evaluators(target, simulator, evaluators):
        """(verifying simulator, evaluators by name, the stages' default evaluator name)."""
        if simulator is None:
            simulator = make_evaluator(DEFAULT_SIMULATOR, target, full=True)
            # Stages only need the target's points: an adsorption target halves DFT cost.
            default_evaluator = make_evaluator(DEFAULT_SIMULATOR, target)
        else:
            default_evaluator = simulator
        default_name = simulator.name
        return simulator, {default_name: default_evaluator, **(evaluators or {})}, default_name

    def _run_stages(self, target, built, pop, space, cache, default_name, rng, limits, progress, log):
        """Every stage in turn, each with its share of the time left; their reports."""
        reports = []
        weights = [float(s.options.get("time", 1.0)) for s in self.stages]
        for i, (spec, stage) in enumerate(zip(self.stages, built)):
            ev_name = spec.options.get("evaluator") or default_name
            if ev_name not in cache:
                cache[ev_name] = make_evaluator(ev_name, target)
            problem = Problem(target, cache[ev_name], space=space)
            termination = limits.stage(weights[i] / sum(weights[i:]))
            same_evaluator = i > 0 and spec.options.get("evaluator") == self.stages[i - 1].options.get("evaluator")
            if len(pop) and (not pop.scored or not same_evaluator):
                pop = Population(pop.grids, problem.errors(pop.grids))  # rescore under this evaluator
            t0 = time.monotonic()
            pop = stage.run(problem, pop, rng=rng, termination=termination, progress=progress)
            if not pop.scored:
                pop = Population(pop.grids, problem.errors(pop.grids))
            limits.spent += problem.n_evals
            reports.append(StageReport(
                stage=str(spec), evaluator=problem.evaluator.name,
                evaluations=problem.n_evals, seconds=time.monotonic() - t0, best_error=pop.best_error,
                population=len(pop), note=stage.note,
            ))
            if log is not None:
                log(reports[-1])
        return pop, reports


class StageLimits:
    """What the stages of one run may spend: a budget of evaluations and a deadline.

    Each stage gets ``share`` of what is left of both; evaluations a stage did not use
    pass to the stages after it. Budget shares count work, so they do not depend on the
    machine's load; the deadline is a cap, and :attr:`capped` records that it bit.
    """

    def __init__(self, deadline: float | None, budget: int | None):
        self.deadline, self.budget, self.spent = deadline, budget, 0
        self.clocks: list[TimeLimit] = []

    def stage(self, share: float) -> Termination:
        parts = []
        if self.budget is not None:
            parts.append(MaxEvaluations(max(int((self.budget - self.spent) * share), 0)))
        if self.deadline is not None:
            now = time.monotonic()
            self.clocks.append(TimeLimit(deadline=now + max(self.deadline - now, 0.0) * share))
            parts.append(self.clocks[-1])
        return any_of(*parts)

    @property
    def capped(self) -> bool:
        return any(clock.hit for clock in self.clocks)


def search_space_of(space, population: Population | None, simulator) -> GridSpace:
    """The chain's grid space: given, else the population's, else the simulator's, else 20x20."""
    if space is not None:
        space = as_space(space)
        if population is not None and population.space != space:
            raise InputError(f"the population's grids are {population.space}, the search space is {space}")
        return space
    if population is not None:
        return population.space
    return simulator.space or GridSpace(DEFAULT_GRID_SHAPE)


def verify(problem, pop: Population, keep: int) -> tuple[Population, np.ndarray]:
    """The ``keep`` best grids re-scored by the exact simulator (the reported error is
    always the true one), with its full curves.

    ``problem``: its evaluator is the exact simulator, ``path`` the pressures its scores
    read and ``scores(curves, grids)`` orders grids (a chain's Problem; a design spec's,
    feasibility first); ``pop`` is scored by the search's evaluator."""
    final = verification_candidates(pop, keep)
    n_path = len(problem.path)
    if not len(final):
        return final, np.zeros((0, n_path))
    curves = np.asarray(problem.evaluator.simulate(final.grids))
    errors = problem.scores(curves[:, :n_path], final.grids)
    order = np.argsort(errors, kind="stable")[:keep]
    return Population(final.grids[order], errors[order]), curves[order]


def verification_candidates(pop: Population, keep: int) -> Population:
    """The best grids distinct up to torus symmetry by the last stage's error (a few times
    ``keep``, so the exact simulator can reorder them), without all-wall grids."""
    if not len(pop):
        return pop
    from invtoolkit.core.symmetry import canonical_keys

    pop = pop[pop.grids.reshape(len(pop), -1).any(1)].sorted()
    return pop.unique(canonical_keys, limit=max(4 * keep, 32))


def make_evaluator(name: str, target: Target, full: bool = False):
    """Build a simulator or surrogate by name, matching the target's normalization.

    Simulator and surrogate factories accept ``normalization``, ``steps`` and
    ``adsorption_only``; ``full`` asks for the whole loop even for an adsorption target.
    """
    reg = registry.registry()
    if name in reg.names("simulator"):
        role = "simulator"
    elif name in reg.names("surrogate"):
        role = "surrogate"
    else:
        known = ", ".join(reg.names("simulator") + reg.names("surrogate")) or "none"
        raise registry.PluginError(f"unknown evaluator '{name}' (available: {known})")
    return registry.create(
        role,
        name,
        normalization=target.normalization,
        steps=target.schedule.steps,
        adsorption_only=target.schedule.adsorption_only and not full,
    )
