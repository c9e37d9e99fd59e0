"""``invtoolkit simulate``: grids -> isotherms with an exact simulator plugin."""

from __future__ import annotations

import click

from invtoolkit.hooks import registry
from invtoolkit.core.defaults import DEFAULT_SIMULATOR
from invtoolkit.errors import InputError
from invtoolkit.parsing.io import read_grids, write_curves
from invtoolkit.hooks.options import declared_options, parse_options


@click.command("simulate")
@click.argument("grids", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Output .npy (N,P) or .csv (header row of pressures).")
@click.option("--simulator", default=DEFAULT_SIMULATOR, show_default=True, help="Simulator plugin name.")
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True,
              help="pore: filled fraction of pore cells; site: amount per lattice site.")
@click.option("--adsorption-only", is_flag=True, help="Only the adsorption branch (steps+1 points).")
@click.option("--precision", type=click.Choice(["float32", "float64"]), default="float32", show_default=True,
              help="float32: fast (error <= 1e-5); float64: exact mode (<= 1e-6).")
@click.option("--device", default="cpu", show_default=True, help="cpu or cuda.")
@click.option("--threads", type=int, default=None, help="CPU threads (default: all cores).")
@click.option("--boundary", type=click.Choice(["periodic", "reservoir"]), default=None,
              help="periodic (default) or reservoir: axis 0 open to bulk-fluid layers.")
@click.option("--reservoir", type=click.IntRange(min=1), default=None, help="Reservoir layers (default 4).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Simulator parameter, e.g. T=298, TC=647, y=1.5, steps=40. Repeatable.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def simulate_command(grids, output, simulator, normalization, adsorption_only, precision, device, threads,
                     boundary, reservoir, params, progress):
    """Simulate the sorption isotherms of GRIDS.

    GRIDS is a .npy array of shape (H,W) or (N,H,W) with 0 = wall and 1 = pore, or a
    text file of 0/1 rows (grids separated by blank lines). The default schedule is
    adsorption at RH = 0, 1/40, ..., 1 and desorption back to 0: 81 points.

    \b
    Example:
      invtoolkit simulate examples/data/slit.txt -o slit.csv
    """
    options = dict(normalization=normalization, adsorption_only=adsorption_only)
    options.update(parse_options(params))
    # precision, device and threads go to a simulator that declares them
    accepted = {o.name for o in declared_options(registry.entry("simulator", simulator).factory)}
    options.update({k: v for k, v in (("precision", precision), ("device", device), ("threads", threads))
                    if k in accepted})
    for key, value in (("boundary", boundary), ("reservoir", reservoir)):  # only when given
        if value is not None:
            if key not in accepted:
                raise InputError(f"--{key}: simulator '{simulator}' has no {key} option")
            options[key] = value
    sim = registry.create("simulator", simulator, **options)
    arr = read_grids(grids)
    curves = sim.simulate(arr, progress=progress and len(arr) >= 2000)
    write_curves(output, curves, sim.pressures)
    click.echo(f"{len(arr)} grid(s) {'x'.join(map(str, arr.shape[1:]))} -> {output} ({curves.shape[1]} points)", err=True)


def register(cli):
    cli.add_command(simulate_command)
