"""Target file(s) -> an output directory of grids, report and pictures.

The library side of ``invtoolkit invert``: the command parses options into
:class:`InvertSettings` and calls :func:`invert_file` (one target),
:func:`invert_files` (several measured files of one material, fitted jointly) or
hands them to :mod:`invtoolkit.workflows.batch` (many independent targets). Model isotherms are
matched by the chain; measured files also fit the wall affinity y and the pore volume
(:mod:`invtoolkit.fitting`). Every search stops on a budget of evaluations, so the same
seed gives the same answer under any load; ``time_limit`` is only a cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from invtoolkit.results import report as rep
from invtoolkit.core.defaults import DEFAULT_CHAIN
from invtoolkit.errors import InputError
from invtoolkit.core.fileio import write_json
from invtoolkit.fitting.starts import SCREEN_CANDIDATES, check_candidates

# Measured isotherms: the learned stages were trained for water at 298 K, y = 1.5 on the
# 41/81-point axis, so a measured file (any fluid, T, y, pressures) is searched by DFT alone.
MEASURED_CHAIN = "ga | steepest"
MODEL_BUDGET = 40_000  # evaluations of the default chain: about 20 s on a 2-core VM
MEASURED_NOTE = ("DFT-only chain: the learned stages (deconv, cnn) were trained for water at 298 K, y = 1.5 "
                 "on the 41/81-point axis, not for this fluid, T, y and these pressures")


@dataclass(frozen=True)
class InvertSettings:
    """Everything ``invert`` needs besides the target file, the output and the seed."""

    chain: str | None = None  # None: the default for the kind of target
    time_limit: float | None = None  # a wall-clock cap (s); None: no cap
    budget: int | None = None  # evaluations; None: the default for the kind of target
    lattice_spacing: float | None = None  # nm; None: from the adsorbate's liquid molar volume
    normalization: str = "pore"
    keep: int = 8
    grid_size: str = "20"
    steps: int = 40
    progress: bool = True
    p0: float | None = None
    tc: float | None = None
    y: float | None = None
    y_range: tuple[float, float] | None = None
    capacity: float | None = None
    log_pressure: bool = False
    ensemble_tolerance: float | None = None
    loading_unit: str | None = None  # measured files: the amounts' unit when the file gives none or overrides it
    screen: str | None = None  # measured files: a fluid-conditioned surrogate that picks the scan runs' starts
    screen_candidates: int = SCREEN_CANDIDATES  # grids it predicts per scan run

    def check(self) -> "InvertSettings":
        """One-line errors for values no target can use."""
        if self.time_limit is not None and not self.time_limit > 0:
            raise InputError(f"--time-limit must be > 0, got {self.time_limit:g}")
        if self.budget is not None and not self.budget >= 100:
            raise InputError(f"--budget must be >= 100 evaluations, got {self.budget}")
        if self.lattice_spacing is not None and not self.lattice_spacing > 0:
            raise InputError(f"--lattice-spacing must be > 0 nm, got {self.lattice_spacing:g}")
        if self.keep < 1:
            raise InputError(f"--keep must be >= 1, got {self.keep}")
        if self.ensemble_tolerance is not None and not self.ensemble_tolerance >= 0:
            raise InputError(f"--ensemble must be >= 0, got {self.ensemble_tolerance:g}")
        if self.steps < 1:
            raise InputError(f"--steps must be >= 1, got {self.steps}")
        self.space()
        self._check_screen()
        if self.chain is not None:
            _chain(self.chain)
        return self

    def _check_screen(self) -> None:
        check_candidates(self.screen_candidates)
        if self.screen is None:
            return
        from invtoolkit.hooks import registry

        known = registry.registry().names("surrogate")
        if self.screen not in known:
            raise InputError(f"--screen: unknown surrogate '{self.screen}' (installed: {', '.join(known)})")

    def space(self):
        from invtoolkit.core.space import GridSpace

        try:
            return GridSpace.parse(self.grid_size)
        except InputError as exc:
            raise InputError(f"--grid-size: {exc}") from None


def _chain(text: str):
    from invtoolkit.search.chain import Chain

    chain = Chain.parse(text)
    chain.validate()
    return chain


def _quiet(_line: str, err: bool = False) -> None:
    pass


def invert_file(target_file, out, settings: InvertSettings, seed: int = 0,
                echo: Callable[..., None] = _quiet) -> dict:
    """Invert one target file into ``out``; returns the report (also written, last, as report.json)."""
    return invert_files([target_file], out, settings, seed, echo)


def invert_files(target_files, out, settings: InvertSettings, seed: int = 0,
                 echo: Callable[..., None] = _quiet) -> dict:
    """One model target, or measured files of one material fitted jointly (one structure)."""
    from invtoolkit.parsing.measured import MeasuredIsotherm

    s = settings
    targets = [read_measured_or_model(f, s) for f in target_files]
    measured = [isinstance(t, MeasuredIsotherm) for t in targets]
    if len(targets) > 1 and not all(measured):
        raise InputError("several --target files are fitted jointly: all must be measured files (AIF, pyGAPS, CSV "
                         "with units), not model isotherms")
    if not measured[0] and any(v is not None for v in (s.y, s.y_range, s.capacity, s.lattice_spacing)):
        raise InputError("--y, --y-range, --capacity and --lattice-spacing apply to measured files (AIF, pyGAPS), "
                         "not to model targets")
    chain = _chain(s.chain or (MEASURED_CHAIN if measured[0] else DEFAULT_CHAIN))
    out = _output_dir(out)
    if measured[0]:
        from invtoolkit.fitting.outputs import invert_measured

        return invert_measured(targets, chain, out, target_files=target_files, seed=seed, settings=s, echo=echo)
    return _invert_model(targets[0], chain, out, target_file=target_files[0], seed=seed, settings=s, echo=echo)


def read_measured_or_model(path, s: InvertSettings):
    from invtoolkit.parsing.targets import read_target

    return read_target(path, steps=s.steps, normalization=s.normalization, tc=s.tc, p0=s.p0,
                       loading_unit=s.loading_unit)


def _output_dir(out) -> Path:
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").unlink(missing_ok=True)  # complete again only when this run has finished
    return out


def batch_invert(target_file, out, seed: int, *, settings: InvertSettings) -> None:
    """The batch worker's call: quiet, no progress bar (picklable with functools.partial)."""
    from dataclasses import replace

    invert_file(target_file, out, replace(settings, progress=False), seed)


def stage_logger(echo: Callable[..., None]) -> Callable:
    def log(stage):
        note = f"; {stage.note}" if stage.note else ""
        echo(f"  {stage.stage}: {stage.evaluations} evaluations, {stage.seconds:.1f} s, "
             f"best {stage.best_error:.5f} ({stage.evaluator}){note}", err=True)
    return log


def _invert_model(target, chain, out: Path, *, target_file, seed, settings, echo) -> dict:
    """A model isotherm: the chain, the ensemble of near-equal solutions, the outputs."""
    from invtoolkit.results.ensemble import ENSEMBLE_KEEP, ensemble_result, summary_text
    from invtoolkit.results.ensemble_plots import plot_clusters, plot_width_distribution
    from invtoolkit.parsing.formats import write_result_aif
    from invtoolkit.core.population import Population

    keep = settings.keep
    # Verify more candidates than best.npy keeps: the ensemble is drawn from them.
    time_limit = settings.time_limit
    result = chain.run(target, budget=settings.budget or MODEL_BUDGET, time_limit=time_limit, seed=seed,
                       keep=max(keep, ENSEMBLE_KEEP),
                       progress=settings.progress, population=Population.empty(settings.space()),
                       log=stage_logger(echo))
    if not len(result.population):
        raise InputError("no grid was evaluated: raise --budget (or --time-limit)")
    result, ensemble, summary = ensemble_result(result, settings.ensemble_tolerance, keep)
    np.save(out / "best.npy", result.population.grids)  # the best grid, then one per other family
    np.save(out / "ensemble.npy", ensemble.grids)
    write_result_aif(out / "best.aif", result, chain=str(chain))
    report = rep.build_report(result, target_file=target_file, chain=str(chain), seed=seed, time_limit=time_limit,
                              extra={"ensemble": summary, "budget": result.budget, "evaluations": result.evaluations,
                                     "time_capped": result.time_capped})
    rep.plot_isotherms(out / "isotherms.png", result)
    rep.plot_grids(out / "grids.png", result)
    plot_width_distribution(out / "psd.png", summary, report["grids"][0]["descriptors"])
    plot_clusters(out / "clusters.png", result, summary)
    write_json(out / "report.json", report)  # last: its presence marks a complete result
    for line in rep.summary_lines(report) + [summary_text(summary)]:
        echo(line)
    echo(f"wrote {out}/best.npy, ensemble.npy, best.aif, report.json, isotherms.png, grids.png, psd.png, "
         "clusters.png")
    return report
