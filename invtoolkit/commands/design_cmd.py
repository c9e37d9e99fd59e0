"""``invtoolkit design``: a spec of wanted isotherm properties -> designed grids."""

from __future__ import annotations

import click


@click.command("design")
@click.option("--spec", "spec_file", required=True, type=click.Path(dir_okay=False),
              help="TOML spec: [[constraint]] (property, options, min/max) and [[objective]] (goal = min/max).")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--budget", type=int, default=40_000, show_default=True, metavar="GRIDS",  # = design.DEFAULT_BUDGET
              help="Exact simulations the search may spend: the same seed gives the same designs on any machine.")
@click.option("--time-limit", type=float, default=None,
              help="Optional wall-clock cap in seconds (report.json's search.time_capped says if it bit).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--keep", type=int, default=16, show_default=True, help="Best distinct designs in best.npy.")
@click.option("--pop-size", type=int, default=100, show_default=True, help="Population of the GA / NSGA-II.")
@click.option("--chain", "chain_text", default="cnn | auto", show_default=True,  # = design.DEFAULT_CHAIN
              help="[SURROGATE |] ALGORITHM: a surrogate that pre-ranks 8x more offspring per generation "
              "(the exact DFT evaluates what it keeps), then ga, nsga2 or auto (GA for one objective, "
              "else NSGA-II). 'auto' alone: DFT only.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def design_command(spec_file, output, budget, time_limit, seed, keep, pop_size, chain_text, progress):
    """Find grids whose isotherm meets SPEC's constraints and optimises its objectives.

    Every design is simulated by the exact lattice DFT (and re-verified in float64).
    Writes OUTPUT/best.npy (feasible first, best first by the first objective),
    pareto.npy, report.json, isotherms.png, grids.png and pareto.png.

    \b
    Example:
      invtoolkit design --spec examples/specs/heat_pump.toml -o out --budget 40000
    """
    from invtoolkit.design import design, parse_chain, read_spec, write_results
    from invtoolkit.errors import InputError

    if pop_size < 4:
        raise InputError(f"--pop-size must be >= 4, got {pop_size}")
    screen, algorithm = parse_chain(chain_text)
    spec = read_spec(spec_file)  # errors before any work
    result = design(spec, budget=budget, time_limit=time_limit, seed=seed, keep=keep, pop_size=pop_size, screen=screen,
                    algorithm=algorithm, progress=progress)
    names = write_results(output, result)
    s = result.search
    click.echo(f"{s['algorithm']}: {s['simulated']} grids simulated in {s['seconds']:.1f} s, "
               f"{s['generations']} generations{' (cut short by --time-limit)' if s['time_capped'] else ''}")
    n_ok = int(result.best.feasible.sum())
    click.echo(f"{n_ok} of {len(result.best)} best designs feasible (verified); "
               f"{len(result.pareto)} on the Pareto front")
    if result.best_value is not None:
        first = spec.objectives[0]
        click.echo(f"best {first.label} = {result.best_value:.4f} ({first.goal})")
    else:
        click.echo("no feasible design found: best.npy holds the least infeasible ones")
    click.echo(f"wrote {output}/" + ", ".join(names))


def register(cli):
    cli.add_command(design_command)
