"""``invtoolkit invert``: target isotherm -> best grids, by a chain of search stages."""

from __future__ import annotations

from pathlib import Path

import click

from invtoolkit.errors import InputError

# The one place the default chain is chosen, by docs/benchmarks.md (20 targets, 20 s):
# 16 generator proposals seeding a DFT-evaluated GA, then a steepest-descent polish,
# succeeded (MAE <= 0.005) on more targets than any single optimizer; the generator
# start mends the GA's hard cases (correlated pores). For grid sizes the generator was
# not trained for, its stage proposes nothing and the GA starts from sampled grids.
DEFAULT_CHAIN = "deconv[n=16] | ga[time=2] | steepest"


def _grid_size(text: str) -> tuple[int, int]:
    parts = text.lower().replace("x", " ").split()
    try:
        h, w = (int(parts[0]), int(parts[0])) if len(parts) == 1 else (int(parts[0]), int(parts[1]))
    except (ValueError, IndexError):
        raise InputError(f"--grid-size '{text}': expected N or HxW, e.g. 20 or 20x20") from None
    if h < 3 or w < 3 or len(parts) > 2:
        raise InputError(f"--grid-size '{text}': grids must be at least 3x3")
    return h, w


@click.command("invert")
@click.option("--target", "target_file", required=True, type=click.Path(dir_okay=False),
              help="Target isotherm: .npy (41 or 81 values), .csv pressure,amount[,branch], AIF .aif, or pyGAPS .json/.csv.")
@click.option("--chain", "chain_text", default=DEFAULT_CHAIN, show_default=True,
              help="Stages left to right, options in brackets, e.g. 'ga[pop_size=64] | steepest'.")
@click.option("--time-limit", type=float, default=20.0, show_default=True, help="Seconds for the whole chain.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True,
              help="How the target's amounts are normalised: per pore cell or per lattice site.")
@click.option("--keep", type=int, default=8, show_default=True, help="Best distinct grids to return.")
@click.option("--grid-size", default="20", show_default=True, help="Grid size N or HxW of the search.")
@click.option("--steps", type=int, default=40, show_default=True, help="Pressure steps of the simulator axis.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--progress/--no-progress", default=True, show_default=True)
@click.option("--scale", default=None, help="Measured uptakes (.aif/.json/.csv): 'max' divides by the largest "
              "amount (the saturation uptake), a number divides by that number.")
@click.option("--p0", type=float, default=None, help="Saturation pressure, for absolute pressures in a file without it.")
@click.option("--ensemble", "ensemble_tolerance", type=float, default=None,
              help="Ensemble of solutions: distinct grids with MAE <= best + this (default: the measured "
              "tolerance, written to report.json; see docs/what-the-isotherm-determines.md).")
def invert_command(target_file, chain_text, time_limit, seed, normalization, keep, grid_size, steps, output,
                   progress, scale=None, p0=None, ensemble_tolerance=None):
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

    if not time_limit > 0:
        raise InputError(f"--time-limit must be > 0, got {time_limit:g}")
    if keep < 1:
        raise InputError(f"--keep must be >= 1, got {keep}")
    if ensemble_tolerance is not None and not ensemble_tolerance >= 0:
        raise InputError(f"--ensemble must be >= 0, got {ensemble_tolerance:g}")
    if steps < 1:
        raise InputError(f"--steps must be >= 1, got {steps}")
    shape = _grid_size(grid_size)
    chain = Chain.parse(chain_text)
    chain.validate()
    target = read_target(target_file, steps=steps, normalization=normalization, scale=scale, p0=p0)
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)

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


def register(cli):
    cli.add_command(invert_command)
