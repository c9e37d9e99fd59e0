"""A new user's first hour, as a test: every command's ``--help`` (enumerated from the
click group, so a new command is covered automatically) and a tiny real job of every
long command with ``--no-progress``, each exiting 0 and writing the files it promises.
Sizes are the smallest that still exercise the real path (tiny grids, 2-3 s limits)."""

import json
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from invtoolkit.hooks import registry
from invtoolkit.cli import build_cli, main

ROOT = Path(__file__).resolve().parents[2]
MEASURED = ROOT / "examples/data/measured/DUT-67_DUT67_1_Garching_MeOH_298K.aif"
SPEC = ROOT / "examples/specs/issue_example.toml"
INVERT_FILES = ("best.npy", "ensemble.npy", "best.aif", "report.json", "isotherms.png", "grids.png", "psd.png",
                "clusters.png")


def command_paths(group: click.Group, prefix=()) -> list[tuple[str, ...]]:
    """Every command and subcommand of ``group``, as argument prefixes."""
    paths = []
    for name, command in sorted(group.commands.items()):
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
    return paths


PATHS = command_paths(build_cli())


def test_the_enumeration_finds_nested_commands():
    assert {("invert",), ("design",), ("dataset", "generate"), ("train", "surrogate")} <= set(PATHS)


@pytest.mark.parametrize("path", [()] + PATHS, ids=lambda p: " ".join(p) or "invtoolkit")
def test_help(path):
    result = CliRunner().invoke(build_cli(), [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


def run(args, capsys) -> str:
    """``invtoolkit ARGS`` in this process (as tests/workflows/test_invert.py does): exit 0, stdout."""
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    captured = capsys.readouterr()
    assert exit_info.value.code == 0, captured.err
    return captured.out


def nonempty(folder: Path, names) -> None:
    missing = [n for n in names if not (folder / n).is_file() or not (folder / n).stat().st_size]
    assert not missing, f"{folder}: missing {missing}"


@pytest.fixture(scope="module")
def model_target(tmp_path_factory):
    """A full-loop DFT isotherm of a 20x20 slit on the default axis (the learned chain's)."""
    grid = np.zeros((20, 20), np.uint8)
    grid[:6] = 1
    path = tmp_path_factory.mktemp("target") / "slit.npy"
    np.save(path, registry.create("simulator", "lattice-dft").simulate(grid[None])[0])
    return path


@pytest.fixture(scope="module")
def grids(tmp_path_factory):
    path = tmp_path_factory.mktemp("grids") / "grids.npy"
    g = (np.random.default_rng(0).random((3, 20, 20)) < 0.6).astype(np.uint8)
    g[:, 0, 0] = 1
    np.save(path, g)
    return path


def test_invert_model_target_default_chain(tmp_path, model_target, capsys):
    run(["invert", "--target", model_target, "--time-limit", 3, "--no-progress", "-o", tmp_path], capsys)
    nonempty(tmp_path, INVERT_FILES)


def test_invert_site_normalised_target(tmp_path, capsys):
    """Issue 33's crash: a site-normalised target whose ensemble had equal pore-width shares."""
    grid = np.zeros((6, 6), np.uint8)
    grid[:, :4] = 1
    target = tmp_path / "site.npy"
    np.save(target, registry.create("simulator", "lattice-dft", steps=10, normalization="site")
            .simulate(grid[None])[0])
    run(["invert", "--target", target, "--normalization", "site", "--time-limit", 2, "--steps", 10,
         "--grid-size", 6, "--chain", "ga | steepest", "--no-progress", "-o", tmp_path / "out"], capsys)
    nonempty(tmp_path / "out", INVERT_FILES)
    report = json.loads((tmp_path / "out/report.json").read_text())
    assert report["target"]["normalization"] == "site" and report["ensemble"]["count"] >= 1


def test_invert_measured_file(tmp_path, capsys):
    run(["invert", "--target", MEASURED, "--time-limit", 3, "--no-progress", "-o", tmp_path], capsys)
    nonempty(tmp_path, INVERT_FILES)
    assert json.loads((tmp_path / "report.json").read_text())["fit"]["adsorbate"] == "methanol"


def test_invert_measured_file_with_screened_starts(tmp_path, capsys):
    run(["invert", "--target", MEASURED, "--budget", 1500, "--y-range", 1.5, 2.5, "--screen", "cnn-cond",
         "--screen-candidates", 50, "--no-progress", "-o", tmp_path], capsys)
    screen = json.loads((tmp_path / "report.json").read_text())["fit"]["screen"]
    assert screen["surrogate"] == "cnn-cond" and screen["candidates"] == 50
    assert 0 < screen["surrogate_evaluations"] <= 3 * 50 and screen["skipped"] == []  # y 1.5, 2, 2.5: inside the box


def test_invert_batch_with_workers(tmp_path, capsys):
    targets = tmp_path / "targets"
    targets.mkdir()
    sim = registry.create("simulator", "lattice-dft", steps=10)
    for k in (1, 3):
        grid = np.zeros((6, 6), np.uint8)
        grid[:k] = 1
        np.save(targets / f"slit{k}.npy", sim.simulate(grid[None])[0])
    out = tmp_path / "out"
    run(["invert", "--target", targets, "--workers", 2, "--time-limit", 2, "--steps", 10, "--grid-size", 6,
         "--chain", "ga | steepest", "--no-progress", "-o", out], capsys)
    nonempty(out, ("summary.csv", "summary.md", "summary.png"))
    for k in (1, 3):
        nonempty(out / f"slit{k}", INVERT_FILES)


def test_simulate_and_predict(tmp_path, grids, capsys):
    run(["simulate", grids, "-o", tmp_path / "dft.npy", "--no-progress"], capsys)
    run(["predict", grids, "-o", tmp_path / "cnn.npy", "--no-progress"], capsys)
    dft, cnn = np.load(tmp_path / "dft.npy"), np.load(tmp_path / "cnn.npy")
    assert dft.shape == cnn.shape == (3, 81)
    assert np.abs(dft - cnn).mean() < 0.1  # the surrogate is a surrogate of this simulator


def test_predict_passes_surrogate_options_like_simulate(tmp_path, capsys):
    """--param reaches the surrogate: cnn-cond at methanol's T/TC and y = 2 tracks the DFT
    at that condition, and differs from its default (water at y = 1.5) on slit pores."""
    slits = np.zeros((2, 20, 20), np.uint8)
    slits[0, :, 3:9] = 1
    slits[1, :, 3:15] = 1
    path = tmp_path / "slits.npy"
    np.save(path, slits)
    methanol = ["--param", "T=298", "--param", "TC=512.6", "--param", "y=2"]
    run(["simulate", path, *methanol, "-o", tmp_path / "dft.npy", "--no-progress"], capsys)
    run(["predict", path, "--surrogate", "cnn-cond", *methanol, "-o", tmp_path / "cond.npy", "--no-progress"], capsys)
    run(["predict", path, "--surrogate", "cnn-cond", "-o", tmp_path / "water.npy", "--no-progress"], capsys)
    dft, cond, water = (np.load(tmp_path / f"{n}.npy") for n in ("dft", "cond", "water"))
    assert np.abs(cond - dft).mean() < 0.03
    assert np.abs(water - dft).mean() > 3 * np.abs(cond - dft).mean()


def test_generate(tmp_path, model_target, capsys):
    run(["generate", "--target", model_target, "-n", 4, "-o", tmp_path], capsys)
    nonempty(tmp_path, ("grids.npy", "predicted.npy", "verified.npy", "report.json", "isotherms.png"))
    assert np.load(tmp_path / "grids.npy").shape == (4, 20, 20)


def test_design(tmp_path, capsys):
    run(["design", "--spec", SPEC, "--budget", 200, "--pop-size", 8, "--keep", 4, "--no-progress",
         "-o", tmp_path], capsys)
    nonempty(tmp_path, ("best.npy", "pareto.npy", "report.json", "isotherms.png", "grids.png", "pareto.png"))


def test_dataset_generate_info_and_train_surrogate(tmp_path, capsys):
    store = tmp_path / "d.zarr"
    run(["dataset", "generate", "-o", store, "--n", 24, "--grid-size", "8x8", "--param", "steps=10",
         "--chunk-size", 12, "--no-progress"], capsys)
    info = json.loads(run(["dataset", "info", store, "--json"], capsys))
    assert (info["grids"], info["grid_shape"], info["points"]) == (24, [8, 8], 21)
    model = tmp_path / "model"
    run(["train", "surrogate", store, "-o", model, "--epochs", 1, "--batch-size", 8, "--val-fraction", 0.25,
         "--threads", 1, "--no-progress"], capsys)
    nonempty(model, ("config.json", "weights.pt", "learning_curve.png"))
