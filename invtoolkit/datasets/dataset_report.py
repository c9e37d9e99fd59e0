"""What ``invtoolkit dataset info`` and ``dataset plot`` show about a dataset store:
size, provenance and isotherm-shape coverage, and one example per isotherm shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invtoolkit.datasets.dataset import Dataset, isotherm_features, shape_classes
from invtoolkit.errors import InputError


def info_report(store, *, distinct: bool = False) -> tuple[dict, float]:
    """(report, low pressure used for the steep-uptake class) of a dataset store."""
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
        from invtoolkit.core.symmetry import canonical_hash

        hashes = set()
        for _, grids, _ in ds.iter_blocks(100_000):
            hashes.update(canonical_hash(grids).tolist())
        report["distinct_up_to_symmetry"] = len(hashes)
    return report, (low[0] if low else 0.1)


def _porosity(ds, grids):
    """Per-grid pore fraction when curves are per site (None when per pore)."""
    if (ds.attrs.get("simulator_params") or {}).get("normalization") != "site":
        return None
    return grids.reshape(len(grids), -1).mean(1)


def _bar(frac: float, width: int = 30) -> str:
    return "#" * int(round(frac * width))


def print_report(r: dict, low_pressure: float, echo=print) -> None:
    """The report as text, one line per ``echo`` call."""
    n = max(r["grids"], 1)
    h, w = r["grid_shape"]
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


def plot_examples(store, output, *, seed: int = 0) -> int:
    """Example grids of ``store`` with their isotherms, one per common isotherm shape,
    saved as ``output``; the number of examples."""
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
    return cols
