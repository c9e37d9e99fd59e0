"""Safe model files: a directory with ``config.json`` and ``weights.pt``.

``weights.pt`` holds only tensors (``{"members": [state_dict, ...]}``), written with
``torch.save`` and read with ``torch.load(weights_only=True)``: loading never unpickles
arbitrary objects. ``config.json`` names the plugin, the architecture, the simulator
and its parameters the model was trained for, the grid shape and how it was trained.

Every problem a user can cause (missing, corrupt or foreign files, a model made for
other simulator parameters or another grid size) is an :class:`InputError` naming the
file and the problem.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from invtoolkit.errors import InputError
from invtoolkit.core.fileio import torch_save, write_json

FORMAT = "invtoolkit-model"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.pt"
PHYSICS_KEYS = ("T", "TC", "y")  # simulator parameters that change the answer


def model_dir(path) -> Path:
    """A model directory, given itself or its config.json."""
    path = Path(path)
    if path.is_file() and path.name == CONFIG_NAME:
        path = path.parent
    if not path.exists():
        raise InputError(f"{path}: no such model directory")
    if not path.is_dir():
        raise InputError(f"{path}: a model is a directory holding {CONFIG_NAME} and {WEIGHTS_NAME}")
    return path


def save_model(path, config: dict, members: list[dict]) -> Path:
    """Write ``config`` and the members' state dicts into directory ``path`` (atomically per file)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    weights = {"members": [{k: v.detach().cpu().contiguous() for k, v in sd.items()} for sd in members]}
    torch_save(path / WEIGHTS_NAME, weights)
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, **config, "members": len(members)}
    write_json(path / CONFIG_NAME, config, sort_keys=True)
    return path


def read_config(path) -> dict:
    path = model_dir(path)
    file = path / CONFIG_NAME
    if not file.exists():
        raise InputError(f"{path}: not a model directory (no {CONFIG_NAME})")
    try:
        config = json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{file}: not valid JSON ({exc})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise InputError(f"{file}: not an invtoolkit model config (no format marker)")
    if int(config.get("format_version", 0)) > FORMAT_VERSION:
        raise InputError(f"{file}: model format {config.get('format_version')} is newer than this invtoolkit")
    for key in ("plugin", "architecture", "simulator_params", "grid_shape"):
        if key not in config:
            raise InputError(f"{file}: missing '{key}'")
    return config


def load_model(path) -> tuple[dict, list[dict]]:
    """(config, member state dicts) of a model directory; tensors only, never pickled objects."""
    import torch

    path = model_dir(path)
    config = read_config(path)
    file = path / WEIGHTS_NAME
    if not file.exists():
        raise InputError(f"{file}: missing weights file")
    try:
        weights = torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated, corrupt, or holding non-tensor objects
        reason = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{file}: corrupt or unsafe weights file ({reason})") from None
    members = weights.get("members") if isinstance(weights, dict) else None
    if not isinstance(members, list) or not members or not all(isinstance(m, dict) for m in members):
        raise InputError(f"{file}: no model members in weights file")
    if int(config.get("members", len(members))) != len(members):
        raise InputError(f"{file}: holds {len(members)} members, {CONFIG_NAME} says {config.get('members')}")
    return config, members


def load_state(module, state: dict, source) -> None:
    """``module.load_state_dict(state)`` with a one-line InputError on any mismatch."""
    try:
        module.load_state_dict(state, strict=True)
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()
        detail = first[1].strip() if len(first) > 1 else (first[0] if first else type(exc).__name__)
        raise InputError(f"{source}: weights do not fit the architecture in {CONFIG_NAME} ({detail[:160]})") from None


def check_compatible(config: dict, source, *, params: dict | None = None, grid_shape=None,
                     simulator: str | None = None) -> None:
    """Refuse a model trained for other simulator parameters, steps or grid size.

    ``params`` may hold T, TC, y and steps (None values are not checked);
    normalization is not checked (a pore-normalized model converts exactly to site).
    """
    trained = config.get("simulator_params", {})
    if simulator is not None and config.get("simulator") not in (None, simulator):
        raise InputError(f"{source}: model was trained on simulator '{config.get('simulator')}', not '{simulator}'")
    for key, value in (params or {}).items():
        if value is None or key not in (*PHYSICS_KEYS, "steps"):
            continue
        have = trained.get(key)
        if have is None:
            continue
        same = int(have) == int(value) if key == "steps" else math.isclose(float(have), float(value), rel_tol=1e-9)
        if not same:
            raise InputError(f"{source}: model was trained for {key}={have}, not {key}={value}; "
                             f"train one for these parameters with 'invtoolkit train surrogate'")
    if grid_shape is not None:
        want = [int(grid_shape[0]), int(grid_shape[1])]
        have = [int(v) for v in config.get("grid_shape", want)]
        if have != want:
            raise InputError(f"{source}: model was trained on {have[0]}x{have[1]} grids, "
                             f"not {want[0]}x{want[1]}")
