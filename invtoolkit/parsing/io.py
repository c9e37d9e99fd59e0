"""Reading grids and targets, writing isotherms. Every failure is an InputError."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.core.fileio import atomic_path


def require_file(path) -> Path:
    """The path of an existing regular file, or an InputError naming it."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a file")
    return path


def read_grids(path) -> np.ndarray:
    """Grids from ``.npy`` (H,W) or (N,H,W), or a text file of 0/1 rows.

    In text files grids are separated by blank lines; characters other than 0/1
    (spaces, commas) between digits are ignored. Returns uint8 (N,H,W).
    """
    path = require_file(path)
    if path.suffix == ".npy":
        try:
            a = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(f"{path}: not a readable .npy array ({type(exc).__name__})") from None
    else:
        a = _read_text_grids(path)
    return check_grids(a, source=str(path))


def _read_text_grids(path: Path) -> np.ndarray:
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file of 0/1 rows (or use .npy)") from None
    blocks, rows = [], []
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("#"):
            continue
        if not stripped:
            if rows:
                blocks.append(rows)
                rows = []
            continue
        cells = stripped.replace(",", " ").split()
        if len(cells) == 1:
            cells = list(cells[0])
        bad = [c for c in cells if c not in ("0", "1")]
        if bad:
            raise InputError(f"{path}: line {lineno}: value '{bad[0]}' is not 0 or 1")
        rows.append([int(c) for c in cells])
    if rows:
        blocks.append(rows)
    if not blocks:
        raise InputError(f"{path}: no grid rows found")
    shapes = {(len(b), len(b[0])) for b in blocks}
    for b in blocks:
        if len({len(r) for r in b}) != 1:
            raise InputError(f"{path}: rows of a grid differ in length")
    if len(shapes) != 1:
        raise InputError(f"{path}: grids differ in shape {sorted(shapes)}")
    return np.array(blocks, dtype=np.uint8)


def check_grids(a, source: str = "grids", *, allow_empty: bool = False, space=None) -> np.ndarray:
    """uint8 (N, *shape) of 0/1 with every axis >= 3 and a pore cell in every grid, or an
    InputError. ``space`` (a GridSpace) fixes the shape; without it an array is one 2-D
    grid (H,W), a batch (N,H,W) of 2-D grids or a batch (N,D,H,W) of 3-D grids."""
    a = np.asarray(a)
    if a.dtype == object or a.dtype.kind not in "biuf":
        raise InputError(f"{source}: grid values must be numbers 0/1, got dtype {a.dtype}")
    rank = 2 if space is None else space.rank
    if a.ndim == rank:
        a = a[None]
    ranks = (3, 4) if space is None else (rank + 1,)
    if a.ndim not in ranks or (space is not None and tuple(a.shape[1:]) != space.shape):
        want = "(H,W), (N,H,W) or (N,D,H,W)" if space is None else f"{space} (or a batch of them)"
        raise InputError(f"{source}: grids must have shape {want}, got {a.shape}")
    if len(a) == 0 and not allow_empty:
        raise InputError(f"{source}: contains no grids")
    if min(a.shape[1:]) < 3:
        raise InputError(f"{source}: grids of shape {'x'.join(map(str, a.shape[1:]))}: every axis must be >= 3 "
                         "(at least 3x3)")
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        raise InputError(f"{source}: grids contain NaN or infinite values")
    # unsigned: one pass for max <= 1 (no temporaries; `simulate` of 50,000 grids checks twice)
    binary = (a.size == 0 or a.max() <= 1) if a.dtype.kind in "bu" else np.all((a == 0) | (a == 1))
    if not binary:
        bad = a[(a != 0) & (a != 1)].flat[0]
        raise InputError(f"{source}: grids must be binary (0 wall, 1 pore), found value {bad}")
    a = np.ascontiguousarray(a, dtype=np.uint8)
    empty = np.flatnonzero(~a.reshape(len(a), int(np.prod(a.shape[1:]))).any(1))  # an empty batch too
    if empty.size:
        raise InputError(f"{source}: grid {empty[0]} has no pore cell (all walls)")
    return a


def write_curves(path, curves: np.ndarray, pressures: np.ndarray) -> None:
    """``.npy`` (N,P) or ``.csv`` with a header row of pressures; written atomically."""
    path = Path(path)
    if path.suffix not in (".npy", ".csv"):
        raise InputError(f"{path}: output must end in .npy or .csv")
    if path.parent and not path.parent.exists():
        raise InputError(f"{path.parent}: output directory does not exist")
    with atomic_path(path) as tmp:
        if path.suffix == ".npy":
            with open(tmp, "wb") as fh:
                np.save(fh, np.asarray(curves, dtype=np.float64))
        else:
            header = ",".join(f"{p:.6g}" for p in pressures)
            np.savetxt(tmp, curves, delimiter=",", header=header, comments="", fmt="%.8g")
