"""`invtoolkit simulate` imports only what simulating needs (issue 30: its start-up is
part of every call's wall clock). Checked on ``sys.modules`` of a fresh interpreter, not
by timing."""

import json
import subprocess
import sys

import numpy as np

from invtoolkit_plugins.lattice_dft import LatticeDFT

SCRIPT = """
import json, sys
from invtoolkit.cli import main
try:
    main(["simulate", sys.argv[1], "-o", sys.argv[2], *sys.argv[3:]])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

# never needed to simulate: the learning stack, the search, other plugins, scipy.linalg
# (numba asks for it only to find a BLAS; the kernels use none)
HEAVY = ("torch", "zarr", "matplotlib", "pandas", "dask", "pymoo", "pyswarms", "gemmi", "pint", "chemicals",
         "scipy.linalg", "invtoolkit.search", "invtoolkit.learning", "invtoolkit.datasets", "invtoolkit.fitting",
         "invtoolkit.design", "invtoolkit.workflows", "invtoolkit_plugins.cnn", "invtoolkit_plugins.cnn_fast",
         "invtoolkit_plugins.cnn_cond", "invtoolkit_plugins.optimizers", "invtoolkit_plugins.deconv", "invtoolkit_plugins.readers",
         "invtoolkit_plugins.bank", "invtoolkit_plugins.samplers", "invtoolkit_plugins.benchmarking")


def simulate_modules(tmp_path, grids, *args):
    np.save(tmp_path / "g.npy", grids)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "g.npy"), str(tmp_path / "c.npy"), *args],
                         capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["code"] == 0, out.stderr
    return set(result["modules"]), np.load(tmp_path / "c.npy")


def loaded_heavy(modules):
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_simulate_2d_imports_no_learning_search_or_other_plugins(tmp_path):
    grids = np.zeros((2, 5, 5), np.uint8)
    grids[:, 1:4, 1:3] = 1
    modules, curves = simulate_modules(tmp_path, grids)
    assert loaded_heavy(modules) == []
    assert "invtoolkit_plugins.lattice_dft._dft_numba" in modules  # it did run the kernel
    assert np.allclose(curves, LatticeDFT().simulate(grids), atol=1e-12)


def test_simulate_3d_imports_no_learning_search_or_other_plugins(tmp_path):
    grids = np.zeros((1, 4, 4, 4), np.uint8)
    grids[:, :2, :2, :2] = 1
    modules, curves = simulate_modules(tmp_path, grids)
    assert loaded_heavy(modules) == []
    assert "invtoolkit_plugins.dft3d.numba3d" in modules
    assert np.allclose(curves, LatticeDFT().simulate(grids), atol=1e-12)


def test_main_called_with_arguments_leaves_the_callers_garbage_collector_alone(tmp_path):
    import gc

    from invtoolkit.cli import main

    grids = np.ones((1, 3, 3), np.uint8)
    np.save(tmp_path / "g.npy", grids)
    before = gc.get_freeze_count()
    try:
        main(["simulate", str(tmp_path / "g.npy"), "-o", str(tmp_path / "c.npy")])
    except SystemExit as exc:
        assert exc.code == 0
    assert gc.get_freeze_count() == before and gc.isenabled()
