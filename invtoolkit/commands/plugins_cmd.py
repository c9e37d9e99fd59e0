"""``invtoolkit plugins``: what is registered, by which package, and what failed."""

from __future__ import annotations

import json

import click

from invtoolkit import plugins


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def plugins_command(as_json):
    """List registered simulators, surrogates, generators, optimizers and samplers.

    Plugins come from the 'invtoolkit' entry-point group; set
    INVTOOLKIT_LOAD_PLUGINS=name1,name2 to load only those. A plugin that fails to
    import is listed with its error and does not affect the others.
    """
    rows = plugins.describe()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no plugins registered")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        if r["error"]:
            click.echo(f"{r['name']:<{width}}  {'FAILED':<10} {r['package']}: {r['error']}")
        else:
            desc = f"  {r['description']}" if r["description"] else ""
            click.echo(f"{r['name']:<{width}}  {r['role']:<10} {r['package']} ({r['plugin']}){desc}")


def register(cli):
    cli.add_command(plugins_command)
