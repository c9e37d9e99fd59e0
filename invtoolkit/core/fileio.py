"""Safe writes: write to ``NAME.part`` beside the target, then rename over it.

A reader never sees a half-written file, and a run killed mid-write leaves the
previous version (or nothing) in place. Every writer of results, checkpoints, models,
plots and caches uses these helpers instead of its own ``.part`` + ``os.replace``.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

PART = ".part"


def part_path(path, *, keep_suffix: bool = False) -> Path:
    """The temporary sibling of ``path``: ``NAME.part`` (or ``STEM.part.EXT`` with
    ``keep_suffix``, for writers such as matplotlib that read the format from it)."""
    path = Path(path)
    if keep_suffix and path.suffix:
        return path.with_name(path.stem + PART + path.suffix)
    return path.with_name(path.name + PART)


@contextmanager
def atomic_path(path, *, keep_suffix: bool = False, mkdir: bool = False):
    """Yield a temporary path to write (a file or a directory); it replaces ``path``
    only if the block succeeds, and is removed otherwise."""
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = part_path(path, keep_suffix=keep_suffix)
    _remove(tmp)  # a leftover of a killed run
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def write_text(path, text: str, *, mkdir: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path, mkdir=mkdir) as tmp:
        tmp.write_text(text)
    return Path(path)


def write_json(path, data, *, indent: int | None = 2, sort_keys: bool = False, default=None,
               mkdir: bool = False) -> Path:
    """Write ``data`` as JSON (with a final newline) to ``path`` atomically."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, default=default) + "\n"
    return write_text(path, text, mkdir=mkdir)


def torch_save(path, obj, *, mkdir: bool = True) -> Path:
    """``torch.save(obj)`` to ``path`` atomically (a kill mid-write keeps the old file)."""
    import torch

    with atomic_path(path, mkdir=mkdir) as tmp:
        torch.save(obj, tmp)
    return Path(path)


def copytree(src, dst) -> Path:
    """Copy directory ``src`` to ``dst`` so that ``dst`` appears complete or not at all."""
    with atomic_path(dst) as tmp:
        shutil.copytree(src, tmp)
    return Path(dst)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    elif path.exists() or path.is_symlink():
        path.unlink()
