"""``invtoolkit invert``: target isotherm(s) -> best grids, by a chain of search stages."""

from __future__ import annotations

import os
from pathlib import Path

import click

from invtoolkit.defaults import DEFAULT_CHAIN
from invtoolkit.inversion import MEASURED_CHAIN, MEASURED_TIME_LIMIT, MODEL_TIME_LIMIT, InvertSettings


@click.command("invert")
@click.option("--target", "target_spec", required=True, metavar="PATH",
              help="Target isotherm: .npy (41 or 81 values), .csv pressure,amount[,branch], AIF .aif or pyGAPS "
                   ".json/.csv; or a directory or a quoted glob ('data/*.aif') for a batch.")
@click.option("--chain", "chain_text", default=None,
              help=f"Stages left to right, options in brackets, e.g. 'ga[pop_size=64] | steepest'. "
                   f"Default: '{DEFAULT_CHAIN}' for model targets, '{MEASURED_CHAIN}' for measured files.")
@click.option("--time-limit", type=float, default=None,
              help=f"Seconds of search per target. Default: {MODEL_TIME_LIMIT:g} (model targets), "
                   f"{MEASURED_TIME_LIMIT:g} (measured files: y scan + search).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed; in a batch each target's seed comes from this and the target's name.")
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True,
              help="How a model target's amounts are normalised: per pore cell or per lattice site.")
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
@click.option("--loading-unit", default=None, metavar="UNIT",
              help="Measured files: the amounts' unit (e.g. mmol/g, 'cm3(STP)/g', mg/g) when the file gives none "
                   "or a wrong one (overrides the file's).")
@click.option("--y", "y_fixed", type=float, default=None, help="Measured files: fix the wall affinity y (default: fitted).")
@click.option("--y-range", type=float, nargs=2, default=None,
              help="Measured files: LOW HIGH range of the fitted y (default 0.5 3.5).")
@click.option("--capacity", type=float, default=None,
              help="Measured files: fix the capacity (uptake at complete pore filling, file's unit; default: fitted).")
@click.option("--log-pressure", is_flag=True, help="Measured files: log pressure axis in isotherms.png.")
@click.option("--ensemble", "ensemble_tolerance", type=float, default=None,
              help="Ensemble of solutions: distinct grids with MAE <= best + this (default: the measured "
              "tolerance, written to report.json; see docs/what-the-isotherm-determines.md).")
@click.option("--workers", type=int, default=None,
              help="Batch: local worker processes (default: all cores); each loads the models once.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Batch: run the targets on a dask.distributed cluster (e.g. tcp://host:8786).")
def invert_command(target_spec, chain_text, time_limit, seed, normalization, keep, grid_size, steps, output,
                   progress, p0, tc, y_fixed, y_range, capacity, log_pressure, ensemble_tolerance, workers,
                   scheduler, loading_unit):
    """Find grids whose simulated isotherm matches TARGET.

    Writes OUTPUT/best.npy (K,H,W), OUTPUT/report.json (DFT-verified errors per
    grid, evaluations and time per stage, descriptors, the ensemble; for measured
    files the fitted T, TC, y and capacity), OUTPUT/isotherms.png, grids.png and
    best.aif. A directory or glob inverts every target file in it: one
    sub-directory per target plus summary.csv, summary.md and summary.png;
    run it again to resume after an interruption.

    \b
    Examples:
      invtoolkit invert --target iso.npy -o out
      invtoolkit invert --target measured.aif -o out            # fits y and capacity
      invtoolkit invert --target 'archive/*.aif' --workers 2 --time-limit 10 -o runs
    """
    from invtoolkit.errors import InputError

    settings = InvertSettings(
        chain=chain_text, time_limit=time_limit, normalization=normalization, keep=keep, grid_size=grid_size,
        steps=steps, progress=progress, p0=p0, tc=tc, y=y_fixed, y_range=tuple(y_range) if y_range else None,
        capacity=capacity, log_pressure=log_pressure, ensemble_tolerance=ensemble_tolerance,
        loading_unit=loading_unit).check()
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    if Path(target_spec).is_file():
        from invtoolkit.inversion import invert_file

        invert_file(target_spec, output, settings, seed, echo=click.echo)
        return
    _invert_batch(target_spec, Path(output), settings, seed, workers or os.cpu_count() or 1, scheduler)


def _invert_batch(target_spec, out: Path, settings, seed, workers, scheduler):
    from functools import partial

    from invtoolkit import batch
    from invtoolkit.batch_summary import SUMMARY_FILES, counts_line, run_and_summarise
    from invtoolkit.inversion import batch_invert

    jobs = batch.plan_jobs(batch.expand_targets(target_spec), out, seed)
    out.mkdir(parents=True, exist_ok=True)
    counts, rows = run_and_summarise(jobs, partial(batch_invert, settings=settings), out, workers=workers,
                                     scheduler=scheduler, progress=settings.progress)
    click.echo(f"{counts['skipped']} targets already complete, {counts['ok']} inverted, "
               f"{counts['failed']} failed", err=True)
    click.echo(counts_line(rows))
    click.echo("wrote " + ", ".join(str(out / name) for name in SUMMARY_FILES))


def register(cli):
    cli.add_command(invert_command)
