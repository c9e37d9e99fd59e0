"""Design by properties: constraints and objectives on isotherm properties -> grids.

``design(spec)`` reads a spec (a TOML file, see :mod:`invtoolkit.design.spec`),
searches with the exact simulator (the optimizer plugins ``ga`` or ``nsga2`` from the
registry, feasibility first: :mod:`invtoolkit.design.search`), verifies the best designs
and the front again with the exact simulator in float64 (the chain's verify), and returns a :class:`~invtoolkit.design.results.DesignResult`;
:func:`~invtoolkit.design.results.write_results` writes it to a directory.
"""

from __future__ import annotations

from invtoolkit.hooks import registry
from invtoolkit.core.defaults import DEFAULT_SIMULATOR, DEFAULT_GRID_SHAPE
from invtoolkit.design.problem import DesignProblem
from invtoolkit.design.results import MAX_FRONT, DesignResult, candidates, front_only, verify, write_results
from invtoolkit.design.search import DEFAULT_POP, run_search
from invtoolkit.design.spec import DesignSpec, read_spec
from invtoolkit.errors import InputError

__all__ = ["DEFAULT_CHAIN", "DEFAULT_SCREEN", "parse_chain", "design", "read_spec", "write_results", "DesignSpec", "DesignResult", "DesignProblem"]

DEFAULT_BUDGET = 40_000  # grids simulated: about 60 s on a 2-core VM before the DFT speed-up
SIMULATOR = DEFAULT_SIMULATOR  # the exact simulator that evaluates and verifies every design
ALGORITHMS = ("auto", "ga", "nsga2")
DEFAULT_CHAIN = "cnn | auto"  # a pre-screen surrogate (optional), then the algorithm
DEFAULT_SCREEN = "cnn"  # pre-screen of offspring: won on the heat-pump spec (docs/design.md)


def design(spec, *, budget: int = DEFAULT_BUDGET, time_limit: float | None = None, seed: int = 0, keep: int = 16,
           shape=DEFAULT_GRID_SHAPE, pop_size: int = DEFAULT_POP, steps: int = 40,
           screen: str | None = DEFAULT_SCREEN, algorithm: str = "auto", progress: bool = False) -> DesignResult:
    """Search for grids meeting ``spec`` (a path or a DesignSpec) with ``budget`` exact simulations
    (``time_limit``: an optional wall-clock cap in seconds, reported when it bites).

    ``screen`` names a surrogate that pre-ranks offspring before the exact simulator
    evaluates the best of them (None: every offspring goes to the exact simulator).
    ``progress``: show a progress bar of the search.
    """
    if time_limit is not None and not time_limit > 0:
        raise InputError(f"time limit must be > 0, got {time_limit:g}")
    if isinstance(budget, bool) or not int(budget) >= 1:
        raise InputError(f"budget must be >= 1 grid, got {budget}")
    if algorithm not in ALGORITHMS:
        raise InputError(f"unknown design algorithm '{algorithm}' ({', '.join(ALGORITHMS)})")
    if keep < 1:
        raise InputError(f"keep must be >= 1, got {keep}")
    fast = registry.create("simulator", SIMULATOR, steps=steps, normalization="pore")
    if not isinstance(spec, DesignSpec):
        spec = read_spec(spec, schedule=fast.schedule)
    if algorithm == "ga" and len(spec.objectives) > 1:
        raise InputError(f"{spec.source}: 'ga' takes one objective, the spec has {len(spec.objectives)} (use nsga2)")
    fast = fast.with_options(normalization=spec.normalization)
    exact = fast.with_options(precision="float64")
    problem = DesignProblem(spec, fast, shape)
    cap = None if time_limit is None else time_limit - min(5.0, 0.1 * time_limit)  # verification and writing
    surrogate = _screen(screen, spec.normalization, tuple(shape))
    stats = run_search(problem, budget=int(budget), seconds=cap, seed=seed, pop_size=pop_size, screen=surrogate,
                       algorithm=algorithm, progress=progress)
    seen, front = candidates(problem, keep)
    checker = DesignProblem(spec, exact, shape)
    best, curves = verify(checker, seen, keep)
    pareto = front_only(verify(checker, front, MAX_FRONT)[0])
    return DesignResult(spec, best, pareto, search=stats, curves=curves if len(best) else None,
                        pressures=exact.pressures)


def _screen(name: str | None, normalization: str, shape: tuple):
    """The pre-screen surrogate, or None when not asked for or not trained for this grid shape."""
    if not name:
        return None
    surrogate = registry.create("surrogate", name).with_options(normalization=normalization)
    trained = surrogate.space  # None: any grid space
    return None if trained is not None and trained.shape != tuple(shape) else surrogate


def parse_chain(text: str) -> tuple[str | None, str]:
    """'cnn | auto' -> (screen surrogate or None, algorithm); 'nsga2' alone is DFT only."""
    stages = [part.strip() for part in str(text).split("|") if part.strip()]
    if not stages or len(stages) > 2 or stages[-1] not in ALGORITHMS:
        raise InputError(f"design chain '{text}': expected [SURROGATE |] ALGORITHM, "
                         f"ALGORITHM one of {', '.join(ALGORITHMS)} (e.g. '{DEFAULT_CHAIN}')")
    screen = stages[0] if len(stages) == 2 else None
    if screen is not None and screen not in registry.registry().names("surrogate"):
        known = ", ".join(registry.registry().names("surrogate")) or "none"
        raise InputError(f"design chain '{text}': unknown surrogate '{screen}' (available: {known})")
    return screen, stages[-1]
