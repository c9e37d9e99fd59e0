"""``invtoolkit predict``: grids -> isotherms with a learned surrogate (fast, approximate)."""

from __future__ import annotations

import click

from invtoolkit.hooks import registry
from invtoolkit.hooks.options import parse_options
from invtoolkit.parsing.io import read_grids, write_curves
from invtoolkit.core.roles import WithUncertainty


@click.command("predict")
@click.argument("grids", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output .npy (N,P) or .csv (header row of pressures).")
@click.option("--surrogate", default=registry.RoleDefault("surrogate"), type=str, show_default=True,
              help="Surrogate plugin name.")
@click.option("--model", type=click.Path(), default=None,
              help="Model directory (config.json + weights.pt); default: the one shipped with the plugin.")
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True,
              help="pore: filled fraction of pore cells; site: amount per lattice site.")
@click.option("--adsorption-only", is_flag=True, help="Only the adsorption branch (steps+1 points).")
@click.option("--uncertainty", type=click.Path(dir_okay=False), default=None,
              help="Also write the ensemble's per-point standard deviation here (.npy/.csv).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Surrogate option, e.g. for cnn-cond T=298, TC=512.6, y=2 (`invtoolkit plugins --options "
                   "NAME` lists them). Repeatable.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def predict_command(grids, output, surrogate, model, normalization, adsorption_only, uncertainty, device, threads,
                    params, progress):
    """Predict the sorption isotherms of GRIDS with a surrogate (default: the CNN).

    Same input and output as 'simulate': GRIDS is a .npy array (H,W) or (N,H,W) of
    0 = wall, 1 = pore, or a text file of 0/1 rows; the output holds one isotherm per
    grid on the 81-point loop (or the 41-point adsorption branch). Check the
    surrogate against the exact simulator with 'simulate' when it matters.

    \b
    Examples:
      invtoolkit predict grids.npy -o predicted.csv
      invtoolkit predict grids.npy --surrogate cnn-cond --param T=298 --param TC=512.6 --param y=2 -o meoh.csv
    """
    options = dict(normalization=normalization, adsorption_only=adsorption_only, device=device, threads=threads)
    options.update(parse_options(params))
    if model is not None:
        options["model"] = model
    sur = registry.create("surrogate", surrogate, **options)
    arr = read_grids(grids)
    show = progress and len(arr) >= 50_000
    if uncertainty is not None:
        if not isinstance(sur, WithUncertainty):
            raise click.UsageError(f"surrogate '{surrogate}' gives no uncertainty")
        curves, std = sur.predict_with_uncertainty(arr, progress=show)
        write_curves(uncertainty, std, sur.pressures)
    else:
        curves = sur.simulate(arr, progress=show)
    write_curves(output, curves, sur.pressures)
    click.echo(f"{len(arr)} grid(s) {arr.shape[1]}x{arr.shape[2]} -> {output} ({curves.shape[1]} points, "
               f"{surrogate})", err=True)


def register(cli):
    cli.add_command(predict_command)
