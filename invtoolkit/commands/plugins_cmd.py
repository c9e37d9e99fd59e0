"""``invtoolkit plugins``: what is registered, by which package, what failed, and
(``--options NAME``) which options an implementation takes."""

from __future__ import annotations

import json

import click

from invtoolkit.hooks import registry
from invtoolkit.hooks.options import REQUIRED


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--options", "options_of", metavar="NAME", default=None,
              help="List the options of the implementation NAME, with defaults and help.")
def plugins_command(as_json, options_of):
    """List registered simulators, surrogates, generators, optimizers and samplers.

    Plugins come from the 'invtoolkit' entry-point group; set
    INVTOOLKIT_LOAD_PLUGINS=name1,name2 to load only those. A plugin that fails to
    import is listed with its error and does not affect the others.
    """
    if options_of is not None:
        _echo_options(options_of, as_json)
        return
    rows = registry.describe()
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


def _echo_options(name: str, as_json: bool) -> None:
    found = registry.options(name)
    if as_json:
        click.echo(json.dumps([{"role": role, "name": name, "options": [
            {"name": o.name, "required": o.default is REQUIRED,
             "default": None if o.default is REQUIRED else o.default, "help": o.help} for o in opts]}
            for role, opts in found], indent=2, default=repr))
        return
    for role, opts in found:
        click.echo(f"{name} ({role}):" + ("" if opts else " no options"))
        width = max((len(o.name) for o in opts), default=0)
        for o in opts:
            default = "(required)" if o.default is REQUIRED else f"= {o.default!r}"
            click.echo(f"  {o.name:<{width}}  {default}" + (f"  {o.help}" if o.help else ""))


def register(cli):
    cli.add_command(plugins_command)
