"""``invtoolkit invert``: target isotherm -> best grids, by a chain of search stages."""

from __future__ import annotations

from pathlib import Path

import click

from invtoolkit.defaults import DEFAULT_CHAIN  # re-exported here for now
from invtoolkit.errors import InputError
from invtoolkit.measured import MeasuredIsotherm

# The default chain (named once, in invtoolkit/defaults.py) was chosen by docs/benchmarks.md (20 targets, 20 s):
# 16 generator proposals seeding a DFT-evaluated GA, then a steepest-descent polish,
# succeeded (MAE <= 0.005) on more targets than any single optimizer; the generator
# start mends the GA's hard cases (correlated pores). For grid sizes the generator was
# not trained for, its stage proposes nothing and the GA starts from sampled grids.
# Measured isotherms: the learned stages were trained for water at 298 K, y = 1.5 on the
# 41/81-point axis, so a measured file (any fluid, T, y, pressures) is searched by DFT alone.
MEASURED_CHAIN = "ga | steepest"
MEASURED_TIME_LIMIT = 40.0  # s of search (the y scan included); start-up and output add < 15 s
MODEL_TIME_LIMIT = 20.0


def _grid_size(text: str):
    """The search's GridSpace from '20', '20x20' or '16x16x16'."""
    from invtoolkit.space import GridSpace

    try:
        return GridSpace.parse(text)
    except InputError as exc:
        raise InputError(f"--grid-size: {exc}") from None


@click.command("invert")
@click.option("--target", "target_file", required=True, type=click.Path(dir_okay=False),
              help="Target isotherm: .npy (41 or 81 values), .csv pressure,amount[,branch], AIF .aif, or pyGAPS .json/.csv.")
@click.option("--chain", "chain_text", default=None,
              help=f"Stages left to right, options in brackets, e.g. 'ga[pop_size=64] | steepest'. "
                   f"Default: '{DEFAULT_CHAIN}' for model targets, '{MEASURED_CHAIN}' for measured files.")
@click.option("--time-limit", type=float, default=None,
              help=f"Seconds for the whole search. Default: {MODEL_TIME_LIMIT:g} (model targets), "
                   f"{MEASURED_TIME_LIMIT:g} (measured files: y scan + search).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True,
              help="How the target's amounts are normalised: per pore cell or per lattice site.")
@click.option("--keep", type=int, default=8, show_default=True, help="Best distinct grids to return.")
@click.option("--grid-size", default="20", show_default=True, help="Grid space of the search: N, HxW or DxHxW.")
@click.option("--steps", type=int, default=40, show_default=True, help="Pressure steps of the simulator axis.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.option("--p0", type=float, default=None,
              help="Measured files: saturation pressure in the file's pressure unit (default: the file's p0 "
                   "column, else the fluid library at T).")
@click.option("--tc", type=float, default=None, help="Measured files: critical temperature (K) of the adsorbate "
              "(default: from the fluid library; needed for an adsorbate it does not know).")
@click.option("--y", "y_fixed", type=float, default=None, help="Measured files: fix the wall affinity y (default: fitted).")
@click.option("--y-range", type=float, nargs=2, default=None,
              help="Measured files: LOW HIGH range of the fitted y (default 0.5 3.5).")
@click.option("--capacity", type=float, default=None,
              help="Measured files: fix the capacity (uptake at complete pore filling, file's unit; default: fitted).")
@click.option("--log-pressure", is_flag=True, help="Measured files: log pressure axis in isotherms.png.")
@click.option("--ensemble", "ensemble_tolerance", type=float, default=None,
              help="Ensemble of solutions: distinct grids with MAE <= best + this (default: the measured "
              "tolerance, written to report.json; see docs/what-the-isotherm-determines.md).")
def invert_command(target_file, chain_text, time_limit, seed, normalization, keep, grid_size, steps, output,
                   progress, p0=None, tc=None, y_fixed=None, y_range=None, capacity=None, log_pressure=False,
                   ensemble_tolerance=None):
    """Find grids whose simulated isotherm matches TARGET.

    Writes OUTPUT/best.npy (K,H,W), OUTPUT/report.json (DFT-verified errors per
    grid, evaluations and time per stage, descriptors, the ensemble), OUTPUT/ensemble.npy,
    OUTPUT/isotherms.png, OUTPUT/grids.png, OUTPUT/psd.png and OUTPUT/clusters.png.

    \b
    Examples:
      invtoolkit invert --target iso.npy -o out
      invtoolkit invert --target iso.csv --chain "ga[pop_size=96] | steepest[candidates=2]" --time-limit 60 -o out
    """
    import numpy as np

    from invtoolkit import report as rep
    from invtoolkit.chain import Chain
    from invtoolkit.population import Population
    from invtoolkit.targets import read_target

    if time_limit is not None and not time_limit > 0:
        raise InputError(f"--time-limit must be > 0, got {time_limit:g}")
    if keep < 1:
        raise InputError(f"--keep must be >= 1, got {keep}")
    if ensemble_tolerance is not None and not ensemble_tolerance >= 0:
        raise InputError(f"--ensemble must be >= 0, got {ensemble_tolerance:g}")
    if steps < 1:
        raise InputError(f"--steps must be >= 1, got {steps}")
    shape = _grid_size(grid_size)
    target = read_target(target_file, steps=steps, normalization=normalization, tc=tc, p0=p0)
    measured = isinstance(target, MeasuredIsotherm)
    if not measured and any(v is not None for v in (y_fixed, y_range, capacity)):
        raise InputError("--y, --y-range and --capacity apply to measured files (AIF, pyGAPS), not to model targets")
    chain = Chain.parse(chain_text or (MEASURED_CHAIN if measured else DEFAULT_CHAIN))
    chain.validate()
    if time_limit is None:
        time_limit = MEASURED_TIME_LIMIT if measured else MODEL_TIME_LIMIT
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    if measured:
        _invert_measured(target, chain, out, target_file=target_file, time_limit=time_limit, seed=seed, keep=keep,
                         shape=shape, progress=progress, y=y_fixed, y_range=y_range, capacity=capacity,
                         log_pressure=log_pressure, default_chain=chain_text is None)
        return

    def log(stage):
        click.echo(f"  {stage.stage}: {stage.evaluations} evaluations, {stage.seconds:.1f} s, "
                   f"best {stage.best_error:.5f} ({stage.evaluator})" + (f"; {stage.note}" if stage.note else ""),
                   err=True)

    from invtoolkit.ensemble import ENSEMBLE_KEEP, ensemble_result, summary_text
    from invtoolkit.ensemble_plots import plot_clusters, plot_width_distribution

    # Verify more candidates than best.npy keeps: the ensemble is drawn from them.
    result = chain.run(target, time_limit=time_limit, seed=seed, keep=max(keep, ENSEMBLE_KEEP), progress=progress,
                       population=Population.empty(shape), log=log)
    if not len(result.population):
        raise InputError("no grid was evaluated within the time limit; raise --time-limit")
    result, ensemble, ensemble_summary = ensemble_result(result, ensemble_tolerance, keep)
    np.save(out / "best.npy", result.population.grids)  # the best grid, then one per other family
    np.save(out / "ensemble.npy", ensemble.grids)
    from invtoolkit.formats import write_result_aif  # best grid's isotherm as AIF, for other tools

    write_result_aif(out / "best.aif", result, chain=str(chain))
    report = rep.build_report(result, target_file=target_file, chain=str(chain), seed=seed, time_limit=time_limit,
                              extra={"ensemble": ensemble_summary})
    rep.write_json(out / "report.json", report)
    rep.plot_isotherms(out / "isotherms.png", result)
    rep.plot_grids(out / "grids.png", result)
    plot_width_distribution(out / "psd.png", ensemble_summary, report["grids"][0]["descriptors"])
    plot_clusters(out / "clusters.png", result, ensemble_summary)
    for line in rep.summary_lines(report):
        click.echo(line)
    click.echo(summary_text(ensemble_summary))
    click.echo(f"wrote {out}/best.npy, ensemble.npy, best.aif, report.json, isotherms.png, grids.png, psd.png, "
               "clusters.png")


def _invert_measured(measured, chain, out, *, target_file, time_limit, seed, keep, shape, progress, y, y_range,
                     capacity, log_pressure, default_chain):
    """Fit structure, y and capacity to a measured isotherm and write the outputs."""
    import numpy as np

    from invtoolkit import report as rep
    from invtoolkit.fit import Y_RANGE, MeasuredObjective, fit_measured
    from invtoolkit.formats import write_result_aif
    from invtoolkit.population import Population

    for note in measured.notes:
        click.echo(f"  note: {note}", err=True)
    result, fit = fit_measured(measured, chain, time_limit=time_limit, seed=seed, y=y,
                               y_range=tuple(y_range) if y_range else Y_RANGE, capacity=capacity, keep=keep,
                               population=Population.empty(shape), progress=progress,
                               log=lambda line: click.echo(f"  {line}", err=True))
    note = ("DFT-only chain: the learned stages (deconv, cnn) were trained for water at 298 K, y = 1.5 on the "
            "41/81-point axis, not for this fluid, T, y and these pressures") if default_chain else None
    np.save(out / "best.npy", result.population.grids)
    write_result_aif(out / "best.aif", result, chain=str(chain), fit=fit)
    objective = MeasuredObjective(measured, capacity)
    report = rep.build_measured_report(result, fit, objective, target_file=target_file, chain=str(chain), seed=seed,
                                       time_limit=time_limit, note=note)
    rep.write_json(out / "report.json", report)
    rep.plot_measured(out / "isotherms.png", result, fit, log_pressure=log_pressure)
    rep.plot_grids(out / "grids.png", result)
    for line in rep.fit_summary_lines(report) + rep.summary_lines(report):
        click.echo(line)
    click.echo(f"wrote {out}/best.npy, best.aif, report.json, isotherms.png, grids.png")


def register(cli):
    cli.add_command(invert_command)
