"""``invtoolkit generate``: grids for a target isotherm from a learned generator,
with their surrogate-predicted and DFT-verified isotherms (see :mod:`invtoolkit.learning.generation`)."""

from __future__ import annotations

import click

from invtoolkit.errors import InputError
from invtoolkit.hooks import registry


@click.command("generate")
@click.option("--target", "target_file", required=True, type=click.Path(dir_okay=False),
              help="Target isotherm: .npy (41 adsorption or 81 loop points) or .csv pressure,amount[,branch].")
@click.option("-n", "n", type=int, default=16, show_default=True, help="Grids (latent codes) per target.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latent codes.")
@click.option("--generator", default=registry.RoleDefault("generator"), type=str, show_default=True,
              help="Generator plugin.")
@click.option("--model", type=click.Path(file_okay=False), default=None,
              help="Generator model directory (default: the shipped model).")
@click.option("--surrogate", "surrogate_spec", default=registry.RoleDefault("surrogate"), type=str,
              show_default=True,
              help="Surrogate for the predicted isotherms: plugin name or model directory ('none' to skip).")
def generate_command(target_file, n, output, seed, generator, model, surrogate_spec):
    """Generate N grids for a target isotherm and check them with the lattice DFT.

    Writes OUTPUT/grids.npy (N,H,W), predicted.npy (surrogate isotherms),
    verified.npy (lattice-DFT isotherms), report.json (per grid: predicted and
    DFT-verified MAE against the target, plus diversity up to symmetry) and
    isotherms.png. The generator reads the adsorption branch of the target.

    \b
    Example:
      invtoolkit generate --target target.npy -n 16 -o out/ --seed 1
    """
    from invtoolkit.learning.generation import generate_for_target
    from invtoolkit.parsing.targets import read_target

    if n < 1:
        raise InputError(f"-n must be >= 1, got {n}")
    report = generate_for_target(read_target(target_file), target_file, n=n, output=output, seed=seed,
                                 generator=generator, model=model, surrogate_spec=surrogate_spec)
    click.echo(
        f"{n} grids -> {output}: best DFT MAE {report['best_dft_mae']:.4f} (#{report['best']}), median "
        f"{report['median_dft_mae']:.4f}, {report['distinct_up_to_symmetry']} distinct up to symmetry",
        err=True,
    )


def register(cli):
    cli.add_command(generate_command)
