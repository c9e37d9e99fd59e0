"""Screened starts for the measured fit: a fluid-conditioned surrogate picks where to begin.

Without a screen every scan run of the fit (:mod:`.search`) starts from sampled grids and
the structured seeds. With one, ``candidates`` grids from the ``mixed`` sampler are
predicted by a surrogate conditioned on the fluid, the wall and the path (``cnn-cond``:
each file's T, TC and measured path at the run's y), scored by the fit's own objective
(capacity fitted), and the ``keep`` best distinct grids join the run's start. The chain
then verifies everything with the exact DFT, so a poor prediction costs only its share
of the start, never a wrong answer.

Predictions are counted apart (``evaluations``): the budget counts exact evaluations.
A y, fluid or grid outside the surrogate's trained box gives no screened start for that
run (the reason is kept in ``skipped``), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from invtoolkit.core.population import Population
from invtoolkit.core.symmetry import dedupe
from invtoolkit.errors import InputError

SCREEN_CANDIDATES = 2000  # sampled grids predicted per screened run
SCREEN_KEEP = 64  # best distinct predictions that join the start


def check_candidates(n) -> int:
    """``n`` as a number of grids to predict per run; InputError unless it is >= 1."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"--screen-candidates must be >= 1, got {n}")
    return int(n)


@dataclass
class Screen:
    """A named surrogate that proposes starting grids; one model, loaded here (an unknown name
    is an InputError at once), re-conditioned per run."""

    surrogate: str
    candidates: int = SCREEN_CANDIDATES
    keep: int = SCREEN_KEEP
    evaluations: int = 0  # surrogate predictions (not budgeted)
    skipped: list[str] = field(default_factory=list)
    _model: object = field(default=None, init=False, repr=False)

    def __post_init__(self):
        from invtoolkit.hooks.registry import create

        self.candidates = check_candidates(self.candidates)
        self._model = create("surrogate", self.surrogate)

    def starts(self, objective, ys, space, seed: int) -> Population | None:
        """The ``keep`` best of ``candidates`` sampled grids by predicted score at ``ys``
        (one y per file), best first; None where the surrogate cannot serve this run."""
        from invtoolkit.search.seeding import sampled_grids

        grids = dedupe(sampled_grids(self.candidates, space, np.random.default_rng(seed)))
        try:
            curves = self._predictor(objective, ys)(grids)
        except InputError as e:
            if str(e) not in self.skipped:
                self.skipped.append(str(e))
            return None
        scores = np.nan_to_num(objective.scores(curves, grids), nan=np.inf)
        self.evaluations += len(grids)
        return Population(grids[np.argsort(scores, kind="stable")[: self.keep]])

    def _predictor(self, objective, ys):
        """grids -> the objective's curves (files side by side), predicted at ``ys``."""
        sims = [self._model.with_options(T=m.T, TC=m.fluid.TC, y=float(y), normalization=m.normalization,
                                             path=m.simulation_path) for m, y in zip(objective.files, ys)]
        return lambda grids: np.hstack([np.asarray(s.simulate(grids), np.float64) for s in sims])

    def describe(self) -> dict:
        return {"surrogate": self.surrogate, "candidates": self.candidates, "keep": int(self.keep),
                "surrogate_evaluations": int(self.evaluations), "skipped": list(self.skipped)}
