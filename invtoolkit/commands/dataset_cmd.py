"""``invtoolkit dataset generate | info | plot``: labelled grid datasets in zarr stores."""

from __future__ import annotations

import json

import click

from invtoolkit.core.defaults import DEFAULT_SIMULATOR
from invtoolkit.errors import InputError
from invtoolkit.hooks.options import parse_options


def parse_grid(value: str) -> tuple[int, ...]:
    """'20x20' or '8x8x8' (the grid space's one parser) -> a shape."""
    from invtoolkit.core.space import GridSpace

    try:
        return GridSpace.parse(value).shape
    except InputError as err:
        raise InputError(f"--grid '{value}': {err}") from None


@click.group("dataset")
def dataset_group():
    """Labelled datasets of grids and isotherms (zarr stores)."""


@dataset_group.command("generate")
@click.option("-o", "--output", required=True, type=click.Path(), help="Dataset store (a .zarr directory).")
@click.option("--n", "n", required=True, type=click.IntRange(min=1), help="Total number of grids wanted.")
@click.option("--sampler", default="mixed", show_default=True, help="Sampler plugin (see 'invtoolkit plugins').")
@click.option("--sampler-param", "sampler_params", multiple=True, metavar="KEY=VALUE",
              help='Sampler option (JSON values), e.g. porosity=[0.2,0.8] or weights=\'{"slit":0.5}\'. Repeatable.')
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--grid", "--grid-size", "grid", default="20x20", show_default=True, help="Grid size HxW or DxHxW.")
@click.option("--simulator", default=DEFAULT_SIMULATOR, show_default=True, help="Simulator plugin that labels grids.")
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Simulator option, e.g. T=298, y=1.5, steps=40, precision=float64. Repeatable.")
@click.option("--chunk-size", type=click.IntRange(min=1), default=None,
              help="Grids per chunk (commit unit) [default: the store's, or 10000].")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Local labelling processes (0 or 1: this process, all cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="dask.distributed scheduler address: its workers label the chunks.")
@click.option("--allow-duplicates", is_flag=True,
              help="Keep grids equivalent under a torus symmetry to an earlier one (default: drop them).")
@click.option("--progress/--no-progress", default=True, show_default=True)
def generate_command(output, n, sampler, sampler_params, seed, grid, simulator, normalization, params, chunk_size,
                     workers, scheduler, allow_duplicates, progress):
    """Sample N grids, label them with the simulator and store them in OUTPUT.

    Writes in chunks; killing the command and running it again with the same options
    continues where it stopped (nothing lost, duplicated or half-written). Running it
    again with a larger --n extends the store with the same grids a single run would
    have made. A store written with other options is never appended to.

    \b
    Example:
      invtoolkit dataset generate -o data.zarr --n 1000000 --seed 0 --workers 2
    """
    from invtoolkit.datasets.dataset import generate

    options = {"normalization": normalization, **parse_options(params)}
    ds = generate(
        output, n, sampler=sampler, sampler_options=parse_options(sampler_params, flag="--sampler-param"), seed=seed, shape=parse_grid(grid),
        simulator=simulator, simulator_options=options, chunk_size=chunk_size, unique=not allow_duplicates,
        workers=workers, scheduler=scheduler, progress=progress, log=lambda m: click.echo(m, err=True),
    )
    size = "x".join(map(str, ds.shape))
    click.echo(f"{output}: {len(ds)} grids {size}, {len(ds.pressures)} points per isotherm", err=True)


@dataset_group.command("info")
@click.argument("store", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--distinct", is_flag=True, help="Also count grids distinct up to symmetry (reads all grids).")
def info_command(store, as_json, distinct):
    """Size, provenance and isotherm-shape coverage of a dataset STORE."""
    from invtoolkit.datasets.dataset_report import info_report, print_report

    report, low = info_report(store, distinct=distinct)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    print_report(report, low, echo=click.echo)


@dataset_group.command("plot")
@click.argument("store", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Figure file (.png, .pdf, .svg).")
@click.option("--seed", default=0, show_default=True, help="Which examples to pick.")
def plot_command(store, output, seed):
    """Example grids of STORE with their isotherms, one per common isotherm shape."""
    from invtoolkit.datasets.dataset_report import plot_examples

    cols = plot_examples(store, output, seed=seed)
    click.echo(f"{output}: {cols} examples", err=True)


def register(cli):
    cli.add_command(dataset_group)
