"""Generate grids for one target with a learned generator, verify them with the exact
simulator, and describe their diversity up to torus symmetry (the library side of
``invtoolkit generate``; :func:`mean_symmetric_hamming` is also used by evaluations)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.core.defaults import DEFAULT_SIMULATOR
from invtoolkit.errors import InputError
from invtoolkit.core.fileio import write_json
from invtoolkit.core.objective import mae


def mean_symmetric_hamming(grids: np.ndarray) -> float:
    """Mean over pairs of the Hamming distance minimised over all torus symmetries.

    For two 0/1 grids a, b: |a xor T b| = |a| + |b| - 2 <a, T b>; the overlaps for
    all translations T come from one FFT cross-correlation per point-group element.
    """
    from invtoolkit.core.symmetry import point_group_size, point_transform

    g = np.asarray(grids, dtype=np.float64)
    n = len(g)
    if n < 2:
        return 0.0
    f = np.fft.rfft2(g)
    overlap = np.zeros((n, n))
    for d in range(point_group_size(g.shape)):
        fd = np.fft.rfft2(np.ascontiguousarray(point_transform(g, d)))
        corr = np.fft.irfft2(f[:, None] * np.conj(fd[None]), s=g.shape[1:])
        overlap = np.maximum(overlap, corr.reshape(n, n, -1).max(2))
    count = g.reshape(n, -1).sum(1)
    dist = np.rint(count[:, None] + count[None] - 2 * overlap)
    return float(dist[np.triu_indices(n, 1)].mean())


def diversity(grids: np.ndarray) -> dict:
    """Distinct grids up to symmetry and their mean Hamming distance up to symmetry."""
    from invtoolkit.core.symmetry import distinct_up_to_symmetry

    return {"distinct_up_to_symmetry": distinct_up_to_symmetry(grids),
            "mean_hamming_up_to_symmetry": round(mean_symmetric_hamming(grids), 3)}


def plot_generated(path, target, pressures, verified, predicted, grids, order, k: int = 4) -> None:
    """The target beside the DFT (solid) and surrogate (dashed) isotherms of the ``k``
    best grids, and those grids."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = min(k, len(order))
    fig = plt.figure(figsize=(3 * max(k, 2), 6.4))
    ax = fig.add_subplot(2, 1, 1)
    n_ads = (len(pressures) + 1) // 2  # the simulator gives the full loop
    ads = slice(0, n_ads)
    ax.plot(pressures[ads], target[:n_ads], "k-", lw=2.5, label="target")
    if len(target) > n_ads:  # a loop target: its desorption branch for reference
        ax.plot(pressures[n_ads - 1:len(target)], target[n_ads - 1:], "k:", lw=1.5, label="target desorption")
    for rank, i in enumerate(order[:k]):
        line, = ax.plot(pressures[ads], verified[i, ads], "-", lw=1.2, label=f"#{i} DFT")
        if predicted is not None:
            ax.plot(pressures[ads], predicted[i, ads], "--", lw=1, color=line.get_color())
    ax.set_xlabel("relative pressure")
    ax.set_ylabel("fraction filled")
    ax.set_title("target vs best generated grids (solid DFT, dashed surrogate; adsorption)")
    ax.legend(fontsize=7, ncol=2)
    for rank, i in enumerate(order[:k]):
        gax = fig.add_subplot(2, max(k, 2), max(k, 2) + rank + 1)
        gax.imshow(grids[i], cmap="gray_r", vmin=0, vmax=1, interpolation="nearest")
        gax.set_title(f"#{i} (black = pore)", fontsize=8)
        gax.set_xticks([])
        gax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def generate_for_target(target, target_file, *, n: int, output, seed: int, generator: str, model,
                        surrogate_spec: str) -> dict:
    """Generate ``n`` grids for ``target`` (a model Target), verify them with the default
    simulator (and predict them with ``surrogate_spec`` unless 'none'); write grids.npy,
    verified.npy, predicted.npy, report.json and isotherms.png into ``output``; return the report."""
    from invtoolkit.learning.loaders import load_surrogate

    values = target.values
    gen = registry.create("generator", generator, **({} if model is None else {"model": model}))
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    grids = gen.generate(values[None], n, seed=seed)[0]
    m = len(values)
    simulator = registry.create("simulator", DEFAULT_SIMULATOR, normalization=target.normalization,
                                steps=target.schedule.steps)
    verified = simulator.simulate(grids)
    dft_mae = mae(verified[:, :m], values)
    predicted = pred_mae = None
    if surrogate_spec.lower() != "none":
        sur = load_surrogate(surrogate_spec, normalization=target.normalization, steps=target.schedule.steps)
        predicted = np.asarray(sur.simulate(grids), dtype=np.float64)
        pred_mae = mae(predicted[:, :m], values)
    order = np.argsort(dft_mae, kind="stable")
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "grids.npy", grids)
    np.save(out / "verified.npy", verified)
    if predicted is not None:
        np.save(out / "predicted.npy", predicted)
    report = {
        "target": str(target_file), "points": m, "generator": generator, "model": model or "default",
        "surrogate": None if predicted is None else surrogate_spec, "seed": seed, "n": n,
        "best": int(order[0]), "best_dft_mae": float(dft_mae[order[0]]), "median_dft_mae": float(np.median(dft_mae)),
        **diversity(grids),
        "grids": [{"index": i, "porosity": float(grids[i].mean()), "dft_mae": float(dft_mae[i]),
                   "predicted_mae": None if pred_mae is None else float(pred_mae[i])} for i in range(n)],
    }
    write_json(out / "report.json", report, indent=1)
    plot_generated(out / "isotherms.png", values, simulator.pressures, verified, predicted, grids, order)
    return report
