"""`invtoolkit simulate` end to end, and one-line errors with exit code 2."""

import subprocess
import sys

import numpy as np
import pytest

from invtoolkit_plugins.lattice_dft import LatticeDFT


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "invtoolkit.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


def test_simulate_npy_and_csv(tmp_path, rng):
    grids = (rng.random((3, 6, 6)) < 0.6).astype(np.uint8)
    grids[:, 0, 0] = 1
    np.save(tmp_path / "g.npy", grids)
    out = cli("simulate", tmp_path / "g.npy", "-o", tmp_path / "c.npy", "--precision", "float64")
    assert out.returncode == 0, out.stderr
    curves = np.load(tmp_path / "c.npy")
    assert curves.shape == (3, 81)
    assert np.allclose(curves, LatticeDFT(precision="float64", solver="reference").simulate(grids), atol=1e-6)
    out = cli("simulate", tmp_path / "g.npy", "-o", tmp_path / "c.csv", "--adsorption-only")
    assert out.returncode == 0, out.stderr
    header = (tmp_path / "c.csv").read_text().splitlines()[0].split(",")
    assert [float(h) for h in header] == pytest.approx(np.arange(41) / 40)
    csv = np.loadtxt(tmp_path / "c.csv", delimiter=",", skiprows=1)
    assert np.allclose(csv, curves[:, :41], atol=2e-5)


def test_text_grid_file(tmp_path):
    (tmp_path / "g.txt").write_text("1 1 0\n1 0 0\n0 0 1\n\n0,1,1\n1,1,1\n0,0,0\n")
    out = cli("simulate", tmp_path / "g.txt", "-o", tmp_path / "c.npy")
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "c.npy").shape == (2, 81)


def bad_inputs(tmp_path):
    np.save(tmp_path / "rank4.npy", np.ones((1, 1, 4, 4), np.uint8))
    np.save(tmp_path / "values.npy", np.full((4, 4), 3, np.uint8))
    np.save(tmp_path / "walls.npy", np.zeros((2, 4, 4), np.uint8))
    np.save(tmp_path / "nan.npy", np.full((4, 4), np.nan))
    (tmp_path / "letters.txt").write_text("1 0 x\n0 1 1\n1 1 1\n")
    (tmp_path / "garbage.npy").write_bytes(b"not numpy at all")
    return {
        "missing": ("simulate", tmp_path / "nothere.npy", "-o", tmp_path / "o.npy"),
        "rank": ("simulate", tmp_path / "rank4.npy", "-o", tmp_path / "o.npy"),
        "values": ("simulate", tmp_path / "values.npy", "-o", tmp_path / "o.npy"),
        "no pore": ("simulate", tmp_path / "walls.npy", "-o", tmp_path / "o.npy"),
        "nan": ("simulate", tmp_path / "nan.npy", "-o", tmp_path / "o.npy"),
        "text": ("simulate", tmp_path / "letters.txt", "-o", tmp_path / "o.npy"),
        "corrupt": ("simulate", tmp_path / "garbage.npy", "-o", tmp_path / "o.npy"),
        "plugin": ("simulate", tmp_path / "values.npy", "-o", tmp_path / "o.npy", "--simulator", "nope"),
        "suffix": ("simulate", tmp_path / "walls.npy", "-o", tmp_path / "o.txt"),
    }


def test_bad_input_is_one_line_exit_2(tmp_path):
    for label, args in bad_inputs(tmp_path).items():
        out = cli(*args)
        assert out.returncode == 2, (label, out.stderr)
        lines = [l for l in out.stderr.splitlines() if l.strip()]
        assert len(lines) == 1 and "Traceback" not in out.stderr, (label, out.stderr)
        assert not (tmp_path / "o.npy").exists()


def test_existing_output_survives_a_failed_run(tmp_path):
    np.save(tmp_path / "o.npy", np.arange(3.0))
    np.save(tmp_path / "walls.npy", np.zeros((2, 4, 4), np.uint8))
    assert cli("simulate", tmp_path / "walls.npy", "-o", tmp_path / "o.npy").returncode == 2
    assert np.array_equal(np.load(tmp_path / "o.npy"), np.arange(3.0))


def test_help_teaches():
    out = cli("simulate", "--help")
    assert out.returncode == 0 and "pore" in out.stdout and "--precision" in out.stdout
