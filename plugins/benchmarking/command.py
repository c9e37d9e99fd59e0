"""``invtoolkit benchmark inversion``: every chain on the same held-out targets, equal time.

Added to the CLI by the benchmarking plugin's ``register_commands`` hook."""

from __future__ import annotations

import shlex
import sys

import click

DOCS_COMMAND = ("invtoolkit benchmark inversion --targets 24 --time-limit 15 --textbook "
                "-o benchmark-inversion --docs docs/benchmarks.md")


@click.group("benchmark")
def benchmark_group():
    """Benchmarks of the toolkit itself (results as Markdown, JSON and plots)."""


@benchmark_group.command("inversion")
@click.option("--targets", type=int, default=24, show_default=True,
              help="Held-out targets, drawn round robin from every registered sampler.")
@click.option("--time-limit", type=float, default=15.0, show_default=True,
              help="Seconds per chain and target (the same for every chain).")
@click.option("--chains", "chains", multiple=True, metavar="CHAINS",
              help="Chains to compare, ';'-separated or repeated "
                   "(default: random, ga, pso, steepest, deconv and the invert default chain).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the targets and of every chain.")
@click.option("--normalization", type=click.Choice(["pore", "site"]), default="pore", show_default=True)
@click.option("--loop", is_flag=True, help="Targets are full adsorption-desorption loops (default: adsorption).")
@click.option("--textbook", is_flag=True, help="Add textbook shapes (type I, IV with hysteresis, V).")
@click.option("--grid-size", type=int, default=20, show_default=True, help="Grid side of targets and searches.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Output directory (cells.json cache, benchmark.md/.json, plots).")
@click.option("--docs", "docs_page", type=click.Path(dir_okay=False), default=None,
              help="Also write this Markdown page (e.g. docs/benchmarks.md), plots copied to its img/.")
@click.option("--fresh", is_flag=True, help="Ignore cached cells in OUTPUT and start again.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def inversion_command(targets, time_limit, chains, seed, normalization, loop, textbook, grid_size, output,
                      docs_page, fresh, progress):
    """Compare inversion chains at equal time on held-out targets.

    Targets are grids drawn from every sampler plugin (fixed seed), labelled by
    lattice-dft; a chain succeeds on a target when its DFT-verified MAE is at or
    below 0.005 / 0.01 / 0.02. Finished (chain, target) cells are cached in
    OUTPUT/cells.json, so a stopped run resumes where it was.

    \b
    Examples:
      invtoolkit benchmark inversion --targets 6 --time-limit 3 -o bench
      invtoolkit benchmark inversion --chains "ga;ga | steepest" --loop -o bench-loop
    """
    from pathlib import Path

    from invtoolkit_plugins.benchmarking import inversion as bm

    chain_list = [c.strip() for text in chains for c in text.split(";") if c.strip()] or bm.default_chains()
    config = bm.BenchmarkConfig(targets=targets, time_limit=time_limit, seed=seed, normalization=normalization,
                                loop=loop, textbook=textbook, grid_size=(grid_size, grid_size))

    def log(cell):
        if not progress:
            click.echo(f"  {cell['chain']} on {cell['target']}: MAE {cell['mae']:.4f} in {cell['seconds']:.1f} s",
                       err=True)

    summary = bm.run_benchmark(config, chain_list, output, fresh=fresh, progress=progress, log=log)
    click.echo(bm.markdown_tables(summary))
    out = Path(output)
    click.echo(f"wrote {out}/benchmark.md, benchmark.json, error_vs_time.png, success_rates.png"
               f"{', textbook.png' if textbook else ''}", err=True)
    if docs_page:
        command = "invtoolkit " + " ".join(shlex.quote(a) for a in _argv_after_program())
        page = bm.write_docs_page(summary, docs_page, out, command)
        click.echo(f"wrote {page}", err=True)


def _argv_after_program() -> list[str]:
    """The command line as typed (after the program name), for the docs page."""
    args = sys.argv[1:]
    if "benchmark" in args:
        return args[args.index("benchmark"):]
    return DOCS_COMMAND.split()[1:]


def register(cli):
    existing = cli.commands.get("benchmark")
    if isinstance(existing, click.Group):  # another module made the group first: join it
        existing.add_command(inversion_command)
    else:
        cli.add_command(benchmark_group)
