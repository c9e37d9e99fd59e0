"""Measured file(s) -> the output directory: best.npy, ensemble.npy, best.aif, report.json
and the figures, the way ``invtoolkit invert`` writes them for model targets."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from invtoolkit.core.fileio import write_json

from .api import answer_files
from .search import MEASURED_BUDGET, FitSettings
from .starts import Screen

MEASURED_NOTE = ("DFT-only chain: the learned stages (deconv, cnn) were trained for water at 298 K, y = 1.5 "
                 "on the 41/81-point axis, not for this fluid, T, y and these pressures")


def invert_measured(files, chain, out: Path, *, target_files, seed, settings, echo) -> dict:
    """Fit, answer, write: the whole measured inversion of one material."""
    s = settings
    for m in files:
        for note in m.notes:
            echo(f"  note: {m.source}: {note}", err=True)
    fit_settings = FitSettings(budget=s.budget or MEASURED_BUDGET, time_limit=s.time_limit, seed=seed, y=s.y,
                               y_range=tuple(s.y_range) if s.y_range else None, tolerance=s.ensemble_tolerance,
                               progress=s.progress, log=lambda line: echo(f"  {line}", err=True),
                               screen=Screen(s.screen, s.screen_candidates) if s.screen else None)
    answer = answer_files(files, chain, fit_settings, space=s.space(), lattice_spacing=s.lattice_spacing,
                          capacity=s.capacity, keep=s.keep)
    return write_outputs(answer, out, target_files=target_files, chain=chain, seed=seed, settings=s, echo=echo)


def write_outputs(answer, out: Path, *, target_files, chain, seed, settings, echo) -> dict:
    from invtoolkit.results import report as rep
    from invtoolkit.results.ensemble_plots import plot_clusters, plot_width_distribution

    from .figures import draw_file, plot_material
    from .report import build_material_report, fit_summary_lines

    np.save(out / "best.npy", answer.population.grids)
    np.save(out / "ensemble.npy", answer.ensemble.grids)
    aifs = _write_aifs(answer, out, chain)
    report = build_material_report(answer, target_files=target_files, chain=str(chain), seed=seed,
                                   time_limit=settings.time_limit, note=MEASURED_NOTE if settings.chain is None else None)
    shown = SimpleNamespace(population=answer.population)
    plot_material(out / "isotherms.png", answer, log_pressure=settings.log_pressure)
    rep.plot_grids(out / "grids.png", shown)
    plot_width_distribution(out / "psd.png", answer.summary, report["grids"][0]["descriptors"],
                            spacing_nm=answer.scales[0].lattice_spacing_nm)
    plot_clusters(out / "clusters.png", shown, answer.summary, draw_isotherms=lambda ax, rows, labels: draw_file(
        ax, answer, 0, rows, labels, log_pressure=settings.log_pressure))
    write_json(out / "report.json", report)  # last: its presence marks a complete result
    for line in fit_summary_lines(report):
        echo(line)
    echo(f"wrote {out}/best.npy, ensemble.npy, {', '.join(aifs)}, report.json, isotherms.png, grids.png, psd.png, "
         "clusters.png")
    return report


def _write_aifs(answer, out: Path, chain) -> list[str]:
    """best.aif (one file) or best_1.aif, best_2.aif, ... (one per file, in --target order)."""
    names = ["best.aif"] if len(answer.files) == 1 else [f"best_{k + 1}.aif" for k in range(len(answer.files))]
    for k, name in enumerate(names):
        write_answer_aif(out / name, answer, k, chain=chain)
    return names


def write_answer_aif(path, answer, k: int = 0, *, chain=None) -> Path:
    """File k's fitted model (the best grid, capacity x DFT curve) at its measured pressures, as AIF."""
    from invtoolkit.parsing.formats import write_result_aif

    part = answer.fit.objective.split(answer.curves)[k]
    curves = np.hstack([np.zeros((len(part), 1)), part])  # the writer skips the RH = 0 start
    shown = SimpleNamespace(population=answer.population, curves=curves)
    return write_result_aif(path, shown, chain=None if chain is None else str(chain), fit=answer.files[k])
