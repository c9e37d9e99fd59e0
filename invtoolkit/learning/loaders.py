"""Load what the training and inverse commands name on the command line: a surrogate
(a plugin name or a model directory) and target curves (a dataset store or ``.npy``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from invtoolkit.hooks import registry
from invtoolkit.errors import InputError

_PLUGIN_KEYS = ("plugin", "surrogate", "kind", "name", "model")  # where a config.json names its plugin


def load_surrogate(spec: str, **options):
    """A surrogate by plugin name (its default model) or by model directory.

    A directory's config.json names its plugin under "plugin" (or "kind"/"name");
    the plugin's factory receives ``model=DIR``.
    """
    reg = registry.registry()
    names = reg.names("surrogate")
    path = Path(spec)
    if spec in names and not path.is_dir():
        return registry.create("surrogate", spec, **options)
    if not path.exists():
        raise InputError(f"{spec}: neither a surrogate model directory nor a surrogate name "
                         f"(available: {', '.join(names) or 'none'})")
    if not path.is_dir():
        raise InputError(f"{spec}: a surrogate model must be a directory")
    name = _plugin_of(path / "config.json", names)
    if name is None:
        if len(names) != 1:
            raise InputError(f"{path}: cannot tell which surrogate plugin reads this model (config.json has no 'plugin')")
        name = names[0]
    return registry.create("surrogate", name, model=str(path), **options)


def _plugin_of(cfg_file: Path, names: list[str]) -> str | None:
    if not cfg_file.exists():
        return None
    try:
        cfg = json.loads(cfg_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{cfg_file}: not valid JSON ({exc})") from None
    if not isinstance(cfg, dict):
        return None
    return next((cfg[key] for key in _PLUGIN_KEYS if cfg.get(key) in names), None)


def load_dataset(path) -> tuple[np.ndarray | None, np.ndarray]:
    """(grids, curves) of a dataset store; a ``.npy`` file is read as curves only (grids None)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such dataset")
    if path.suffix == ".npy" and path.is_file():
        try:
            curves = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(f"{path}: not a readable .npy array ({type(exc).__name__})") from None
        if curves.ndim != 2 or curves.dtype.kind not in "fiu":
            raise InputError(f"{path}: expected curves (N,P), got shape {curves.shape} dtype {curves.dtype}")
        return None, np.asarray(curves, dtype=np.float64)
    from invtoolkit.datasets.dataset import Dataset

    return Dataset.open(path).load()
