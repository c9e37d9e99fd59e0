"""``invtoolkit generate``: grids for a target isotherm from a learned generator,
with their surrogate-predicted and DFT-verified isotherms."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np

from invtoolkit import plugins
from invtoolkit.errors import InputError


def mean_symmetric_hamming(grids: np.ndarray) -> float:
    """Mean over pairs of the Hamming distance minimised over all torus symmetries.

    For two 0/1 grids a, b: |a xor T b| = |a| + |b| - 2 <a, T b>; the overlaps for
    all translations T come from one FFT cross-correlation per point-group element.
    """
    from invtoolkit.symmetry import point_group_size, point_transform

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
    from invtoolkit.symmetry import distinct_up_to_symmetry

    return {"distinct_up_to_symmetry": distinct_up_to_symmetry(grids),
            "mean_hamming_up_to_symmetry": round(mean_symmetric_hamming(grids), 3)}


def plot_generated(path, target, pressures, verified, predicted, grids, order, k: int = 4) -> None:
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


@click.command("generate")
@click.option("--target", "target_file", required=True, type=click.Path(dir_okay=False),
              help="Target isotherm: .npy (41 adsorption or 81 loop points) or .csv pressure,amount[,branch].")
@click.option("-n", "n", type=int, default=16, show_default=True, help="Grids (latent codes) per target.")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False), help="Output directory.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the latent codes.")
@click.option("--generator", default="deconv", show_default=True, help="Generator plugin.")
@click.option("--model", type=click.Path(file_okay=False), default=None,
              help="Generator model directory (default: the shipped model).")
@click.option("--surrogate", "surrogate_spec", default="cnn", show_default=True,
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
    from invtoolkit.commands.train_generator_cmd import load_surrogate
    from invtoolkit.targets import read_target

    if n < 1:
        raise InputError(f"-n must be >= 1, got {n}")
    target = read_target(target_file)
    values = target.values
    options = {} if model is None else {"model": model}
    gen = plugins.create("generator", generator, **options)
    out = Path(output)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    grids = gen.generate(values[None], n, seed=seed)[0]
    m = len(values)
    simulator = plugins.create("simulator", "lattice-dft", normalization=target.normalization,
                               steps=target.schedule.steps)
    verified = simulator.simulate(grids)
    dft_mae = np.abs(verified[:, :m] - values[None]).mean(1)
    predicted = pred_mae = None
    if surrogate_spec.lower() != "none":
        sur = load_surrogate(surrogate_spec, normalization=target.normalization, steps=target.schedule.steps)
        predicted = np.asarray(sur.simulate(grids), dtype=np.float64)
        pred_mae = np.abs(predicted[:, :m] - values[None]).mean(1)
    order = np.argsort(dft_mae, kind="stable")
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "grids.npy", grids)
    np.save(out / "verified.npy", verified)
    if predicted is not None:
        np.save(out / "predicted.npy", predicted)
    report = {
        "target": str(target_file),
        "points": m,
        "generator": generator,
        "model": model or "default",
        "surrogate": None if predicted is None else surrogate_spec,
        "seed": seed,
        "n": n,
        "best": int(order[0]),
        "best_dft_mae": float(dft_mae[order[0]]),
        "median_dft_mae": float(np.median(dft_mae)),
        **diversity(grids),
        "grids": [
            {"index": i, "porosity": float(grids[i].mean()), "dft_mae": float(dft_mae[i]),
             "predicted_mae": None if pred_mae is None else float(pred_mae[i])}
            for i in range(n)
        ],
    }
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    plot_generated(out / "isotherms.png", values, simulator.pressures, verified, predicted, grids, order)
    click.echo(
        f"{n} grids -> {out}: best DFT MAE {report['best_dft_mae']:.4f} (#{report['best']}), median "
        f"{report['median_dft_mae']:.4f}, {report['distinct_up_to_symmetry']} distinct up to symmetry",
        err=True,
    )


def register(cli):
    cli.add_command(generate_command)
