"""The bank's files: ``config.json`` + ``bank.npz`` (plain arrays, never pickles).

Grids are stored as ``np.packbits`` rows (one row of ceil(H*W/8) bytes per grid).
Curves are quantised to uint16 (round(curve * 65535); error <= 7.7e-6) and, so that
zlib finds the repetition in them, stored per pressure point (transposed) as
differences modulo 2**16: the adsorption branch as steps from the previous point, the
desorption branch as its excess over the adsorption value at the same pressure
(zero wherever there is no hysteresis). Decoding is exact (uint16 cumsum wraps).
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from invtoolkit.plugin import InputError

CONFIG_NAME = "config.json"
DATA_NAME = "bank.npz"
FORMAT = "invtoolkit-bank"
FORMAT_VERSION = 1
SCALE = 65535


def encode_curves(curves: np.ndarray, steps: int) -> np.ndarray:
    """(N, P) curves in [0, 1] on the loop of ``steps`` -> uint16 (P, N) codes."""
    q = np.round(np.clip(curves, 0.0, 1.0) * SCALE).astype(np.int64)
    ads = q[:, : steps + 1]
    codes = np.diff(ads, axis=1, prepend=0)
    if q.shape[1] > steps + 1:  # desorption point k sits at the pressure of adsorption point steps-1-k
        excess = q[:, steps + 1:] - ads[:, steps - 1::-1][:, : q.shape[1] - steps - 1]
        codes = np.concatenate([codes, excess], axis=1)
    return np.ascontiguousarray((codes % 2**16).astype(np.uint16).T)


def decode_curves(codes: np.ndarray, steps: int) -> np.ndarray:
    """Inverse of :func:`encode_curves`: uint16 (P, N) -> float64 (N, P)."""
    codes = codes.T
    ads = np.cumsum(codes[:, : steps + 1], axis=1, dtype=np.uint16)
    des = codes[:, steps + 1:] + ads[:, steps - 1::-1][:, : codes.shape[1] - steps - 1]  # wraps mod 2**16
    return np.concatenate([ads, des], axis=1).astype(np.float64) / SCALE


def save_bank(path, grids: np.ndarray, curves: np.ndarray, config: dict) -> None:
    """Write ``grids`` (N, H, W) uint8 and ``curves`` (N, P) with ``config`` into ``path``."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    steps = int(config["steps"])
    flat = np.asarray(grids, dtype=np.uint8).reshape(len(grids), -1)
    np.savez_compressed(path / DATA_NAME, grids=np.packbits(flat, axis=1), curves=encode_curves(curves, steps))
    full = {"format": FORMAT, "format_version": FORMAT_VERSION, **config, "n": int(len(grids)),
            "curve_encoding": "uint16 round(curve*65535), per point, adsorption steps / desorption excess mod 2**16"}
    (path / CONFIG_NAME).write_text(json.dumps(full, indent=2) + "\n")


def read_config(path: Path) -> dict:
    """config.json of a bank directory; InputError naming the file if missing or malformed."""
    file = path / CONFIG_NAME
    try:
        config = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{file}: cannot read the bank config ({type(exc).__name__})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT or config.get("plugin") != "bank":
        raise InputError(f"{file}: not an {FORMAT} config of plugin 'bank'")
    for key in ("grid_shape", "steps", "n", "simulator_params"):
        if key not in config:
            raise InputError(f"{file}: lacks '{key}'")
    return config


def load_bank(path) -> tuple[dict, np.ndarray, np.ndarray]:
    """(config, packed grids (N, bytes), curves float64 (N, 2*steps+1)) of a bank directory."""
    path = Path(path)
    config = read_config(path)
    file = path / DATA_NAME
    try:
        with np.load(file, allow_pickle=False) as data:
            packed, codes = data["grids"], data["curves"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise InputError(f"{file}: cannot read the bank data ({type(exc).__name__})") from None
    n, steps = int(config["n"]), int(config["steps"])
    cells = int(np.prod(config["grid_shape"]))
    if packed.shape != (n, (cells + 7) // 8) or codes.shape != (2 * steps + 1, n) or codes.dtype != np.uint16:
        raise InputError(f"{file}: arrays {packed.shape}/{codes.shape} do not match the config (n={n}, steps={steps})")
    return config, packed, decode_curves(codes, steps)


def unpack_grids(packed: np.ndarray, grid_shape) -> np.ndarray:
    """Packed rows (K, bytes) -> uint8 grids (K, *grid_shape)."""
    cells = int(np.prod(grid_shape))
    return np.unpackbits(packed, axis=1, count=cells).reshape(len(packed), *grid_shape)
