"""``invtoolkit invert``: target isotherm(s) -> best grids, by a chain of search stages."""

from __future__ import annotations

import os
from pathlib import Path

import click

from invtoolkit.core.defaults import DEFAULT_CHAIN
from invtoolkit.fitting.search import MEASURED_BUDGET
from invtoolkit.fitting.starts import SCREEN_CANDIDATES
from invtoolkit.workflows.inversion import MEASURED_CHAIN, MODEL_BUDGET, InvertSettings


@click.command("invert")
@click.option("--target", "target_specs", required=True, multiple=True, metavar="PATH",
              help="Target isotherm: .npy (41 or 81 values), .csv pressure,amount[,branch], AIF .aif or pyGAPS "
                   ".json/.csv; or a directory or a quoted glob ('data/*.aif') for a batch. Give --target "
                   "several times to fit measured files of ONE material jointly (one structure, one pore volume, "
                   "y per adsorbate).")
@click.option("--chain", "chain_text", default=None,
              help=f"Stages left to right, options in brackets, e.g. 'ga[pop_size=64] | steepest'. "
                   f"Default: '{DEFAULT_CHAIN}' for model targets, '{MEASURED_CHAIN}' for measured files.")
@click.option("--budget", type=int, default=None, metavar="EVALUATIONS",
              help=f"Work per target, in grids simulated: the search stops there, so the same seed gives the "
                   f"same answer on any machine and load. Default: {MODEL_BUDGET} (model targets), "
                   f"{MEASURED_BUDGET} (measured files: y scan, restarts and width probes; about 40-70 s on 2 cores).")
@click.option("--time-limit", type=float, default=None,
              help="Optional wall-clock cap in seconds per target; report.json says (time_capped) if it cut the "
                   "search short, and then the result depends on the machine's speed. Default: no cap.")
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
@click.option("--lattice-spacing", type=float, default=None, metavar="NM",
              help="Measured files: side of a lattice cell in nm (default: one molecule of the adsorbate's "
                   "liquid at T, (Vm/N_A)^(1/3), Vm from the chemicals library).")
@click.option("--log-pressure", is_flag=True, help="Measured files: log pressure axis in isotherms.png.")
@click.option("--ensemble", "ensemble_tolerance", type=float, default=None,
              help="Ensemble of solutions: distinct grids with error <= best + this (default: 0.002 for model "
              "targets; for measured files the data's own tolerance, max(2 x noise, best, 0.002) on the "
              "relative scale; see docs/what-the-isotherm-determines.md).")
@click.option("--screen", default=None, metavar="SURROGATE",
              help="Measured files: start each y-scan run from the best of --screen-candidates sampled grids as "
                   "predicted by this fluid-conditioned surrogate (cnn-cond) at the file's T, TC, path and that y; "
                   "the DFT still verifies every answer. Off by default (see docs/surrogate-notes.md for what it buys).")
@click.option("--screen-candidates", type=int, default=SCREEN_CANDIDATES, show_default=True, metavar="N",
              help="Measured files with --screen: grids predicted per scan run (not counted in --budget).")
@click.option("--workers", type=int, default=None,
              help="Batch: local worker processes (default: all cores); each loads the models once.")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Batch: run the targets on a dask.distributed cluster (e.g. tcp://host:8786).")
def invert_command(target_specs, chain_text, budget, time_limit, seed, normalization, keep, grid_size, steps,
                   output, progress, p0, tc, y_fixed, y_range, capacity, lattice_spacing, log_pressure,
                   ensemble_tolerance, screen, screen_candidates, workers, scheduler, loading_unit):
    """Find grids whose simulated isotherm matches TARGET.

    Writes OUTPUT/best.npy (K,H,W), OUTPUT/report.json (DFT-verified errors per
    grid, evaluations and time per stage, descriptors, the ensemble; for measured
    files the fitted y and its interval, capacity, pore volume in cm3/g, widths in
    nm and surface area in m2/g), OUTPUT/isotherms.png, grids.png and best.aif. A directory or glob inverts every target file in it: one
    sub-directory per target plus summary.csv, summary.md and summary.png;
    run it again to resume after an interruption.

    \b
    Examples:
      invtoolkit invert --target iso.npy -o out
      invtoolkit invert --target measured.aif -o out            # fits y and pore volume
      invtoolkit invert --target a_N2.aif --target a_Ar.aif -o out   # one material, jointly
      invtoolkit invert --target 'archive/*.aif' --workers 2 --budget 30000 -o runs
    """
    from invtoolkit.errors import InputError

    settings = InvertSettings(
        chain=chain_text, time_limit=time_limit, budget=budget, lattice_spacing=lattice_spacing,
        normalization=normalization, keep=keep, grid_size=grid_size,
        steps=steps, progress=progress, p0=p0, tc=tc, y=y_fixed, y_range=tuple(y_range) if y_range else None,
        capacity=capacity, log_pressure=log_pressure, ensemble_tolerance=ensemble_tolerance,
        loading_unit=loading_unit, screen=screen, screen_candidates=screen_candidates).check()
    if workers is not None and workers < 1:
        raise InputError(f"--workers must be >= 1, got {workers}")
    if len(target_specs) > 1 or Path(target_specs[0]).is_file():
        from invtoolkit.workflows.inversion import invert_files

        missing = [t for t in target_specs if not Path(t).is_file()]
        if missing:
            raise InputError(f"{missing[0]}: no such file (a joint fit takes files, not directories or globs)")
        invert_files(list(target_specs), output, settings, seed, echo=click.echo)
        return
    _invert_batch(target_specs[0], Path(output), settings, seed, workers or os.cpu_count() or 1, scheduler)


def _invert_batch(target_spec, out: Path, settings, seed, workers, scheduler):
    from functools import partial

    from invtoolkit.workflows import batch
    from invtoolkit.workflows.batch_summary import SUMMARY_FILES, counts_line, run_and_summarise
    from invtoolkit.workflows.inversion import batch_invert

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
