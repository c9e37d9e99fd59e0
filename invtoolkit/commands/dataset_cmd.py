"""``invtoolkit dataset generate | info | plot``: labelled grid datasets in zarr stores."""

from __future__ import annotations

import json

import click

from invtoolkit.errors import InputError


def parse_grid(value: str) -> tuple[int, int]:
    try:
        h, w = (int(x) for x in value.lower().split("x"))
    except ValueError:
        raise InputError(f"--grid '{value}': expected HxW, e.g. 20x20") from None
    if h < 3 or w < 3:
        raise InputError(f"--grid '{value}': grids must be at least 3x3")
    return h, w


def _params(items) -> dict:
    from invtoolkit.commands.simulate_cmd import parse_params

    return parse_params(items)


def _sampler_params(items) -> dict:
    """KEY=VALUE with JSON values (lists, mappings) or plain words/numbers."""
    params = _params(items)
    for key, value in params.items():
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params


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
@click.option("--grid", default="20x20", show_default=True, help="Grid size HxW.")
@click.option("--simulator", default="lattice-dft", show_default=True, help="Simulator plugin that labels grids.")
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
    from invtoolkit.dataset import generate

    options = {"normalization": normalization, **_params(params)}
    ds = generate(
        output, n, sampler=sampler, sampler_options=_sampler_params(sampler_params), seed=seed, shape=parse_grid(grid),
        simulator=simulator, simulator_options=options, chunk_size=chunk_size, unique=not allow_duplicates,
        workers=workers, scheduler=scheduler, progress=progress, log=lambda m: click.echo(m, err=True),
    )
    h, w = ds.shape
    click.echo(f"{output}: {len(ds)} grids {h}x{w}, {len(ds.pressures)} points per isotherm", err=True)


@dataset_group.command("info")
@click.argument("store", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--distinct", is_flag=True, help="Also count grids distinct up to symmetry (reads all grids).")
def info_command(store, as_json, distinct):
    """Size, provenance and isotherm-shape coverage of a dataset STORE."""
    import numpy as np

    from invtoolkit.dataset import Dataset, isotherm_features, shape_classes

    ds = Dataset.open(store)
    attrs = ds.attrs
    n = len(ds)
    counts = {}
    steps_hist = np.zeros(10, np.int64)
    n_steps = np.zeros(4, np.int64)
    low = []
    for _, grids, curves in ds.iter_blocks(50_000):
        feats = isotherm_features(curves, ds.pressures, _porosity(ds, grids))
        for name, mask in shape_classes(feats).items():
            counts[name] = counts.get(name, 0) + int(mask.sum())
        sp = feats["step_pressure"]
        sp = sp[~np.isnan(sp)]
        steps_hist += np.histogram(sp, bins=10, range=(0, 1))[0]
        n_steps += np.bincount(np.minimum(feats["n_steps"], 3), minlength=4)
        low.append(feats["low_pressure"])
    report = {
        "path": str(store),
        "grids": n,
        "grid_shape": attrs["grid_shape"],
        "points": len(ds.pressures),
        "simulator": attrs.get("simulator"),
        "simulator_params": attrs.get("simulator_params"),
        "sampler": attrs.get("sampler"),
        "sampler_options": attrs.get("sampler_options"),
        "seed": attrs.get("seed"),
        "chunk_size": attrs.get("chunk_size"),
        "chunks_done": attrs.get("chunks_done"),
        "unique_up_to_symmetry": attrs.get("unique"),
        "shape_classes": counts,
        "step_position_histogram": steps_hist.tolist(),
        "steps_count": {"0": int(n_steps[0]), "1": int(n_steps[1]), "2": int(n_steps[2]), "3+": int(n_steps[3])},
    }
    if distinct:
        from invtoolkit.symmetry import canonical_hash

        hashes = set()
        for _, grids, _ in ds.iter_blocks(100_000):
            hashes.update(canonical_hash(grids).tolist())
        report["distinct_up_to_symmetry"] = len(hashes)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print_report(report, low[0] if low else 0.1)


def _porosity(ds, grids):
    """Per-grid pore fraction when curves are per site (None when per pore)."""
    if (ds.attrs.get("simulator_params") or {}).get("normalization") != "site":
        return None
    return grids.reshape(len(grids), -1).mean(1)


def _bar(frac: float, width: int = 30) -> str:
    return "#" * int(round(frac * width))


def _print_report(r: dict, low_pressure: float) -> None:
    n = max(r["grids"], 1)
    h, w = r["grid_shape"]
    echo = click.echo
    echo(f"{r['path']}: {r['grids']} grids {h}x{w}, {r['points']} points per isotherm")
    params = ", ".join(f"{k}={v}" for k, v in (r["simulator_params"] or {}).items())
    echo(f"simulator:  {r['simulator']} ({params})")
    opts = ", ".join(f"{k}={v}" for k, v in (r["sampler_options"] or {}).items())
    echo(f"sampler:    {r['sampler']}{f' ({opts})' if opts else ''}, seed {r['seed']}, "
         f"chunks of {r['chunk_size']} ({r['chunks_done']} full chunks committed)")
    echo(f"duplicates: {'removed up to torus symmetry' if r['unique_up_to_symmetry'] else 'kept'}"
         + (f"; {r['distinct_up_to_symmetry']} distinct up to symmetry" if "distinct_up_to_symmetry" in r else ""))
    if not r["grids"]:
        return
    echo("\nisotherm shapes (adsorption branch; a step = rise of the filled fraction >= 0.10 between points):")
    for name, count in r["shape_classes"].items():
        if name == "steep low-pressure uptake":
            name = f"{name} (>=0.5 at RH={low_pressure:.3g})"
        echo(f"  {name:<44} {count / n * 100:5.1f}%  {_bar(count / n)}")
    echo("\nposition of the largest step (RH):")
    hist = r["step_position_histogram"]
    for i, count in enumerate(hist):
        echo(f"  {i / 10:.1f}-{(i + 1) / 10:.1f}  {count / n * 100:5.1f}%  {_bar(count / n, 60)}")
    sc = r["steps_count"]
    echo("\nnumber of steps: " + ", ".join(f"{k}: {v / n * 100:.1f}%" for k, v in sc.items()))


@dataset_group.command("plot")
@click.argument("store", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Figure file (.png, .pdf, .svg).")
@click.option("--seed", default=0, show_default=True, help="Which examples to pick.")
def plot_command(store, output, seed):
    """Example grids of STORE with their isotherms, one per common isotherm shape."""
    from pathlib import Path

    import numpy as np

    from invtoolkit.dataset import Dataset, isotherm_features, shape_classes

    ds = Dataset.open(store)
    if len(ds) == 0:
        raise InputError(f"{store}: dataset is empty")
    out = Path(output)
    if not out.parent.exists():
        raise InputError(f"{out.parent}: output directory does not exist")
    rng = np.random.default_rng(seed)
    stop = min(len(ds), 50_000)
    start = int(rng.integers(0, len(ds) - stop + 1))
    grids, curves = ds.load(start, start + stop)
    classes = shape_classes(isotherm_features(curves, ds.pressures, _porosity(ds, grids)))
    picks = []
    for name, mask in classes.items():
        idx = np.flatnonzero(mask)
        idx = idx[~np.isin(idx, [i for _, i in picks])]
        if idx.size:
            picks.append((name, int(rng.choice(idx))))
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pressures = ds.pressures
    top = int(np.argmax(pressures))
    cols = len(picks)
    fig, axes = plt.subplots(2, cols, figsize=(2.2 * cols, 4.6), squeeze=False)
    for c, (name, i) in enumerate(picks):
        axes[0, c].imshow(grids[i], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[0, c].set_title(f"#{start + i}\n{name}", fontsize=7)
        axes[0, c].set_xticks([])
        axes[0, c].set_yticks([])
        ax = axes[1, c]
        ax.plot(pressures[: top + 1], curves[i, : top + 1], "-", color="C0", lw=1.2, label="adsorption")
        if len(pressures) > top + 1:
            ax.plot(pressures[top:], curves[i, top:], "--", color="C3", lw=1.2, label="desorption")
        ax.set_ylim(-0.03, 1.03)
        ax.set_xlabel("RH", fontsize=7)
        ax.tick_params(labelsize=6)
        if c == 0:
            norm = (ds.attrs.get("simulator_params") or {}).get("normalization", "pore")
            ax.set_ylabel("filled fraction of pores" if norm == "pore" else "amount per site", fontsize=7)
            ax.legend(fontsize=6, loc="upper left")
    fig.suptitle(f"{store}: examples (black = wall, white = pore)", fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=130)
    plt.close(fig)
    click.echo(f"{out}: {cols} examples", err=True)


def register(cli):
    cli.add_command(dataset_group)
