import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def training_module(name: str):
    """Import training/NAME.py (a script, not a package) with training/ on the path."""
    sys.path.insert(0, str(ROOT / "training"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "training" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def square_pore(n=20, size=12):
    g = np.zeros((n, n), np.uint8)
    a = (n - size) // 2
    g[a : a + size, a : a + size] = 1
    return g


def labelled_dataset(path, n, seed):
    """A small zarr dataset of n random 20x20 grids (pore fractions 0.4-0.9) labelled by lattice-dft."""
    from invtoolkit.hooks import registry
    from invtoolkit.datasets.dataset import Dataset

    rng = np.random.default_rng(seed)
    grids = (rng.random((n, 20, 20)) < rng.uniform(0.4, 0.9, (n, 1, 1))).astype(np.uint8)
    dft = registry.create("simulator", "lattice-dft")
    ds = Dataset.create(path, shape=(20, 20), simulator_name="lattice-dft",
                        simulator_params=dft.params, pressures=dft.pressures)
    ds.append(grids, dft.simulate(grids))
    return ds


@pytest.fixture(autouse=True)
def _denormals_restored():
    """Training flushes denormals process-wide (invtoolkit.learning.training.flush_denormals), which a
    command does once per process; here many tests share one process, and hypothesis refuses
    to draw floats once subnormals are flushed. Restore IEEE behaviour after every test."""
    yield
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_flush_denormal(False)


# -- tests grouped in folders (group_tests.py): a few test modules import helpers from a test
# module in another folder (from test_cnn import make_model); every folder is importable.
for _folder in sorted(Path(__file__).resolve().parent.iterdir()):
    if _folder.is_dir() and _folder.name not in ("data", "__pycache__") and not _folder.name.startswith("."):
        if str(_folder) not in sys.path:
            sys.path.append(str(_folder))
