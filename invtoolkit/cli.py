"""The ``invtoolkit`` command line. Core commands live in ``invtoolkit.commands``;
plugins add theirs through the ``register_commands(cli)`` hook."""

from __future__ import annotations

import os
import sys

import click

from invtoolkit.hooks import registry
from invtoolkit.errors import InvToolkitError

EXIT_BAD_INPUT = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="invtoolkit")
def cli():
    """invtoolkit: find pore structures whose sorption isotherm matches a target.

    \b
    Forward:  simulate (exact lattice DFT), predict (CNN surrogate)
    Inverse:  invert (chains such as 'deconv | pso | steepest'), generate
    Design:   design (a TOML spec of wanted isotherm properties -> grids)
    Data:     dataset generate/info/plot, train surrogate/generator
    Plugins:  plugins (what is installed, and what failed to load)

    Grids are 0/1 arrays, 1 = pore, periodic; isotherms are filled fractions at
    relative pressures 0, 1/40, ..., 1 (adsorption) and back (desorption).
    """


# core commands that stand alone: when one is named first on the command line, only its
# module is imported, and no plugin's commands (`simulate` starts sooner; issue 30)
_STANDALONE = {"simulate": "invtoolkit.commands.simulate_cmd"}


def build_cli(args=None) -> click.Group:
    """The CLI group; ``args`` (the command line) may let it import one command only."""
    import importlib

    from invtoolkit import commands

    name = args[0] if args else None
    if name in _STANDALONE:
        if name not in cli.commands:
            importlib.import_module(_STANDALONE[name]).register(cli)
        return cli
    commands.add_core_commands(cli)
    registry.add_commands(cli)
    return cli


def main(argv=None) -> None:
    debug = bool(os.environ.get("INVTOOLKIT_DEBUG"))
    try:
        args = sys.argv[1:] if argv is None else list(argv)
        group = build_cli(args)
        group.main(args=args, prog_name="invtoolkit", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted: work written so far is kept.", err=True)
        sys.exit(130)
    except InvToolkitError as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except (OSError, MemoryError) as exc:
        if debug:
            raise
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # a bug: still one line, with the way to see more
        if debug:
            raise
        click.echo(f"Internal error: {type(exc).__name__}: {exc} (set INVTOOLKIT_DEBUG=1 for a traceback)", err=True)
        sys.exit(1)
    if argv is None:  # the process's own command line: it ends now (not a caller's main([...]))
        _quick_exit()
    sys.exit(0)


def _quick_exit() -> None:
    """Spare the interpreter's shutdown its garbage-collection passes over every object
    numba and the plugins built (0.2-0.3 s of CPU after the JIT has loaded, issue 30):
    the process is ending, so cyclic garbage need not be collected. Files are flushed and
    closed, weakref finalizers and atexit handlers still run."""
    import gc

    gc.collect(1)  # the young garbage (the command's own) still gets its finalizers
    gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
