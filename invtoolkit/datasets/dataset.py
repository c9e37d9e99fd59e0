"""Labelled grid datasets in zarr stores: create, open, append, resumable generation.

Layout (docs/guide.md, "Datasets"): a zarr group with arrays ``grids`` (N,H,W) uint8,
``curves`` (N,P) float32, ``pressures`` (P,) float64 and attributes recording the
simulator, its parameters, the sampler, the seed and the grid shape.

Commit protocol (what makes a kill at any moment harmless): rows are written first
(array resize, then data; zarr's local store writes every file atomically), and only
then the group attribute ``length`` is raised. ``length`` alone defines the dataset;
rows past it are an unfinished tail, truncated when the store is next opened for writing.

Generation is deterministic per chunk: chunk ``k`` holds rows ``[k*C, (k+1)*C)`` and
is drawn with ``SeedSequence([seed, k])`` (with ``unique``, also dropping grids that are
symmetry-equivalent to an earlier one, which only depends on earlier chunks). So the
content is the same whatever the interruptions, the number of workers or the target N.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from collections import deque
from pathlib import Path

import numpy as np

from invtoolkit.core.defaults import DEFAULT_SIMULATOR, DEFAULT_GRID_SHAPE
from invtoolkit.errors import InputError
from invtoolkit.core.space import GridSpace, as_space

FORMAT = "invtoolkit-dataset"
FORMAT_VERSION = 1
DEFAULT_CHUNK = 10_000


def _zarr():
    import zarr  # heavy: imported on use only

    return zarr


class Dataset:
    """An open dataset store. ``len(ds)`` counts committed rows only."""

    def __init__(self, group, path: Path, mode: str):
        self._group = group
        self.path = Path(path)
        self.mode = mode

    # -- opening and creating ------------------------------------------------------
    @classmethod
    def create(
        cls,
        path,
        *,
        shape,
        simulator_name: str,
        simulator_params: dict,
        pressures,
        sampler: str | None = None,
        seed: int | None = None,
        sampler_options: dict | None = None,
        simulator_options: dict | None = None,
        chunk_size: int = DEFAULT_CHUNK,
        unique: bool = False,
        extra: dict | None = None,
    ) -> "Dataset":
        """A new, empty store at ``path`` (which must not exist).

        Built in a temporary directory and renamed into place, so a kill during
        creation never leaves a half-made store at ``path``.
        """
        zarr = _zarr()
        path = Path(path)
        if path.exists():
            raise InputError(f"{path}: already exists")
        if not path.parent.exists():
            raise InputError(f"{path.parent}: directory does not exist")
        shape = as_space(shape).shape
        pressures = np.asarray(pressures, dtype=np.float64)
        chunk_size = int(chunk_size)
        if chunk_size < 1:
            raise InputError(f"chunk size must be >= 1, got {chunk_size}")
        attrs = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "grid_shape": list(shape),
            "simulator": simulator_name,
            "simulator_params": dict(simulator_params),
            "simulator_options": dict(simulator_options or {}),
            "sampler": sampler,
            "sampler_options": dict(sampler_options or {}),
            "seed": None if seed is None else int(seed),
            "chunk_size": chunk_size,
            "unique": bool(unique),
            "length": 0,  # committed rows
            "generated": 0,  # committed rows that came from generation (a prefix)
            "chunks_done": 0,
            **(extra or {}),
        }
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.creating")
        try:
            group = zarr.open_group(store=str(tmp), mode="w-", zarr_format=3)
            group.create_array("grids", shape=(0, *shape), chunks=(chunk_size, *shape), dtype="uint8")
            group.create_array("curves", shape=(0, len(pressures)), chunks=(chunk_size, len(pressures)),
                               dtype="float32")
            group.create_array("pressures", data=pressures)
            group.update_attributes(attrs)  # one metadata write (attrs.update writes once per key)
            os.rename(tmp, path)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return cls.open(path, mode="r+")

    @classmethod
    def open(cls, path, mode: str = "r") -> "Dataset":
        """Open an existing store; ``mode`` "r" (read) or "r+" (append).

        Missing, foreign or corrupt stores raise :class:`InputError`; nothing is changed
        unless the store is valid and ``mode="r+"``.
        """
        if mode not in ("r", "r+"):
            raise ValueError(f"mode must be 'r' or 'r+', got {mode!r}")
        zarr = _zarr()
        path = Path(path)
        if not path.exists():
            raise InputError(f"{path}: no such dataset")
        if not path.is_dir():
            raise InputError(f"{path}: is a file, not a zarr dataset (a directory)")
        try:
            group = zarr.open_group(store=str(path), mode="r")
            attrs = dict(group.attrs)
        except Exception as exc:
            raise InputError(f"{path}: not a readable zarr store ({type(exc).__name__})") from None
        if attrs.get("format") != FORMAT:
            raise InputError(f"{path}: a zarr store but not an invtoolkit dataset (no format marker)")
        if int(attrs.get("format_version", 0)) > FORMAT_VERSION:
            raise InputError(f"{path}: dataset format {attrs.get('format_version')} is newer than this invtoolkit")
        _check_layout(group, attrs, path)
        if mode == "r+":
            group = zarr.open_group(store=str(path), mode="r+")
        ds = cls(group, path, mode)
        if mode == "r+":
            ds._drop_uncommitted_tail()
        return ds

    def _drop_uncommitted_tail(self) -> None:
        n = len(self)
        for name in ("grids", "curves"):
            arr = self._group[name]
            if arr.shape[0] != n:
                arr.resize((n, *arr.shape[1:]))
        for partial in self.path.rglob("*.partial"):  # temp files of a killed write
            partial.unlink(missing_ok=True)

    # -- reading --------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self._group.attrs["length"])

    @property
    def attrs(self) -> dict:
        return dict(self._group.attrs)

    @property
    def grids(self):
        """zarr array (rows, H, W) uint8; rows past ``len(self)`` are uncommitted."""
        return self._group["grids"]

    @property
    def curves(self):
        """zarr array (rows, P) float32; rows past ``len(self)`` are uncommitted."""
        return self._group["curves"]

    @property
    def pressures(self) -> np.ndarray:
        return np.asarray(self._group["pressures"][:], dtype=np.float64)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(x) for x in self._group.attrs["grid_shape"])

    @property
    def space(self) -> GridSpace:
        return GridSpace(self.shape)

    def load(self, start: int = 0, stop: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Committed rows [start, stop): (grids uint8 (n,H,W), curves float32 (n,P))."""
        n = len(self)
        start, stop, _ = slice(start, stop).indices(n)
        stop = max(stop, start)
        return (np.asarray(self.grids[start:stop], dtype=np.uint8),
                np.asarray(self.curves[start:stop], dtype=np.float32))

    def iter_blocks(self, block: int | None = None):
        """Yield (start, grids, curves) over the committed rows, ``block`` rows at a time."""
        block = int(block or self._group.attrs["chunk_size"])
        for start in range(0, len(self), block):
            g, c = self.load(start, start + block)
            yield start, g, c

    # -- writing --------------------------------------------------------------------
    def append(self, grids: np.ndarray, curves: np.ndarray) -> None:
        """Append labelled rows (committed when this returns)."""
        self._write(len(self), grids, curves, generated=False)

    def _write(self, start: int, grids, curves, *, generated: bool) -> None:
        if self.mode != "r+":
            raise InputError(f"{self.path}: opened read-only")
        grids = np.ascontiguousarray(grids, dtype=np.uint8)
        curves = np.ascontiguousarray(curves, dtype=np.float32)
        space = self.space
        p = len(self.pressures)
        if grids.ndim != space.batch_ndim or grids.shape[1:] != space.shape:
            raise InputError(f"{self.path}: grids of shape {grids.shape[1:]} do not fit this {space} dataset")
        if curves.shape != (len(grids), p):
            raise InputError(f"{self.path}: curves must be ({len(grids)}, {p}), got {curves.shape}")
        if start != len(self):
            raise RuntimeError("rows must be written right after the committed ones")
        stop = start + len(grids)
        # 1. data (rows past `length` are invisible until the commit below)
        for name, data in (("grids", grids), ("curves", curves)):
            arr = self._group[name]
            if arr.shape[0] != stop:
                arr.resize((stop, *arr.shape[1:]))
            arr[start:stop] = data
        # 2. commit: one atomic metadata write (group.attrs.update would write once per key)
        attrs = {"length": stop}
        if generated:
            attrs["generated"] = stop
            attrs["chunks_done"] = stop // int(self._group.attrs["chunk_size"])
        self._group = self._group.update_attributes(attrs)


def _check_layout(group, attrs: dict, path: Path) -> None:
    try:
        grids, curves, pressures = group["grids"], group["curves"], group["pressures"]
    except KeyError as exc:
        raise InputError(f"{path}: corrupt dataset: array {exc} is missing") from None
    except Exception as exc:
        raise InputError(f"{path}: corrupt dataset ({type(exc).__name__}: {exc})") from None
    try:
        shape = tuple(int(x) for x in attrs["grid_shape"])
        length = int(attrs["length"])
        int(attrs["chunk_size"])
    except Exception:
        raise InputError(f"{path}: corrupt dataset: attributes grid_shape/length/chunk_size missing") from None
    if tuple(grids.shape[1:]) != shape or str(grids.dtype) != "uint8":
        raise InputError(f"{path}: corrupt dataset: grids array is {grids.shape} {grids.dtype}")
    if curves.ndim != 2 or curves.shape[1] != pressures.shape[0]:
        raise InputError(f"{path}: corrupt dataset: curves {curves.shape} do not match {pressures.shape[0]} pressures")
    if grids.shape[0] < length or curves.shape[0] < length:
        raise InputError(f"{path}: corrupt dataset: {length} rows committed but arrays hold "
                         f"{grids.shape[0]} grids / {curves.shape[0]} curves")


# ---------------------------------------------------------------------- generation

_worker_simulators: dict = {}


def _init_worker(threads: int) -> None:
    """Process-pool initializer: cap the threads of numba/torch/BLAS per worker."""
    for var in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)


def label_chunk(simulator_name: str, simulator_options: dict, grids: np.ndarray) -> np.ndarray:
    """Label grids with a simulator plugin (cached per process): float32 (n,P)."""
    from invtoolkit.hooks import registry

    key = (simulator_name, tuple(sorted(simulator_options.items())))
    sim = _worker_simulators.get(key)
    if sim is None:
        sim = registry.create("simulator", simulator_name, **simulator_options)
        _worker_simulators.clear()
        _worker_simulators[key] = sim
    return np.asarray(sim.simulate(grids), dtype=np.float32)


def chunk_rng(seed: int, k: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(k)]))


def sample_chunk(sampler, k: int, size: int, shape, seed: int, seen: set | None, *, max_rounds: int = 50):
    """Chunk ``k``: ``size`` grids from ``SeedSequence([seed, k])``.

    With ``seen`` (a set of symmetry hashes of all earlier chunks), grids equivalent to
    an earlier one (or to one earlier in this chunk) are dropped and more are drawn
    from the same stream; ``seen`` is updated.
    """
    rng = chunk_rng(seed, k)
    if seen is None:
        return sampler.sample(size, tuple(shape), rng)
    from invtoolkit.core.symmetry import canonical_hash

    parts, have = [], 0
    for _ in range(max_rounds):
        batch = sampler.sample(max(size - have, 64), tuple(shape), rng)
        keep = []
        for i, h in enumerate(canonical_hash(batch).tolist()):
            if h not in seen and have < size:
                seen.add(h)
                keep.append(i)
                have += 1
        parts.append(batch[keep])
        if have == size:
            return np.concatenate(parts)
    raise InputError(
        f"sampler '{sampler.name}' gives too few grids that differ up to symmetry "
        f"({len(seen)} so far); use --allow-duplicates, a larger grid or a smaller --n"
    )


def _factory_accepts(role: str, name: str, option: str) -> bool:
    import inspect

    from invtoolkit.hooks import registry

    try:
        params = inspect.signature(registry.registry().entry(role, name).factory).parameters
    except (TypeError, ValueError):
        return False
    return option in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _compatible_or_raise(ds: Dataset, wanted: dict) -> None:
    attrs = ds.attrs
    labels = {
        "grid_shape": "grid size",
        "simulator": "simulator",
        "simulator_params": "simulator parameters",
        "sampler": "sampler",
        "sampler_options": "sampler options",
        "seed": "seed",
        "chunk_size": "chunk size",
        "unique": "duplicate removal (unique)",
    }
    for key, label in labels.items():
        if _jsonish(attrs.get(key)) != _jsonish(wanted[key]):
            raise InputError(
                f"{ds.path}: was written with {label} {_show(attrs.get(key))}, this run asks for "
                f"{_show(wanted[key])}; refusing to append (use another output path or the same options)"
            )
    if not np.array_equal(ds.pressures, wanted["pressures"]):
        raise InputError(f"{ds.path}: was written on another pressure axis ({len(ds.pressures)} points); "
                         "refusing to append")
    if int(attrs.get("generated", 0)) != len(ds):
        raise InputError(f"{ds.path}: holds rows appended outside generation; cannot continue generating into it")


def _jsonish(value):
    import json

    return json.loads(json.dumps(value))


def _show(value) -> str:
    if isinstance(value, list) and len(value) in (2, 3) and all(isinstance(v, int) for v in value):
        return "x".join(str(v) for v in value)
    return repr(value)


def generate(
    path,
    n: int,
    *,
    sampler: str = "mixed",
    sampler_options: dict | None = None,
    seed: int = 0,
    shape=DEFAULT_GRID_SHAPE,
    simulator: str = DEFAULT_SIMULATOR,
    simulator_options: dict | None = None,
    chunk_size: int | None = None,
    unique: bool = True,
    workers: int = 0,
    scheduler=None,
    progress: bool = False,
    log=None,
) -> Dataset:
    """Create or continue the dataset at ``path`` until it holds ``n`` labelled grids.

    ``workers`` > 1: a local process pool labels chunks; ``scheduler``: a dask
    ``Client`` or scheduler address labels them. Either way this process samples,
    writes in chunk order and commits; the content does not depend on either.
    """
    from invtoolkit.hooks import registry

    n = int(n)
    if n < 1:
        raise InputError(f"--n must be >= 1, got {n}")
    if seed is None or int(seed) < 0:
        raise InputError(f"seed must be an integer >= 0, got {seed}")
    space = as_space(shape)  # InputError for a rank other than 2, 3 or an axis < 3
    sampler_options = dict(sampler_options or {})
    simulator_options = dict(simulator_options or {})
    sim = registry.create("simulator", simulator, **simulator_options)
    if sim.space not in (None, space):
        raise InputError(f"simulator '{simulator}' only takes {sim.space} grids")
    samp = registry.create("sampler", sampler, **sampler_options)
    path = Path(path)

    if path.exists():
        ds = Dataset.open(path, mode="r+")
        chunk_size = int(chunk_size or ds.attrs["chunk_size"])
    else:
        ds = None
        chunk_size = int(chunk_size or DEFAULT_CHUNK)
    wanted = {
        "grid_shape": list(space.shape),
        "simulator": simulator,
        "simulator_params": sim.params,
        "sampler": sampler,
        "sampler_options": sampler_options,
        "seed": int(seed),
        "chunk_size": chunk_size,
        "unique": bool(unique),
        "pressures": np.asarray(sim.pressures, dtype=np.float64),
    }
    if ds is None:
        ds = Dataset.create(
            path, shape=space.shape, simulator_name=simulator, simulator_params=sim.params, pressures=sim.pressures,
            sampler=sampler, seed=int(seed), sampler_options=sampler_options,
            simulator_options=simulator_options, chunk_size=chunk_size, unique=unique,
        )
    else:
        _compatible_or_raise(ds, wanted)
    done = len(ds)
    if done >= n:
        if log:
            log(f"{path}: already holds {done} grids (>= {n}); nothing to do")
        return ds

    _fill(ds, samp, n, done, chunk_size, space.shape, seed, unique,
          _Labeller(simulator, simulator_options, workers, scheduler), progress)
    return ds


def _fill(ds: Dataset, samp, n: int, done: int, chunk_size: int, shape, seed: int, unique: bool, labeller,
          progress: bool) -> None:
    """Sample, label and write chunks from row ``done`` up to ``n``, in chunk order,
    keeping ``labeller.in_flight`` chunks labelling at once."""
    from invtoolkit.core.progress import progress_bar

    first_chunk = done // chunk_size
    seen = _seen_hashes(ds, first_chunk * chunk_size) if unique else None
    try:
        with progress_bar(total=n, initial=done, desc="dataset", unit="grid", enabled=progress) as bar:
            pending: deque = deque()

            def write_oldest():
                start, future = pending.popleft()
                grids, curves = labeller.result(future)
                ds._write(start, grids, curves, generated=True)
                bar.update(len(grids))

            for k in range(first_chunk, math.ceil(n / chunk_size)):
                grids = sample_chunk(samp, k, chunk_size, shape, seed, seen)
                start = max(k * chunk_size, done)
                rows = grids[start - k * chunk_size: min(n, (k + 1) * chunk_size) - k * chunk_size]
                pending.append((start, labeller.submit(rows)))
                while len(pending) > labeller.in_flight:
                    write_oldest()
            while pending:
                write_oldest()
    finally:
        labeller.close()


def _seen_hashes(ds: Dataset, stop: int) -> set:
    from invtoolkit.core.symmetry import canonical_hash

    seen: set = set()
    for start in range(0, stop, 100_000):
        grids, _ = ds.load(start, min(stop, start + 100_000))
        seen.update(canonical_hash(grids).tolist())
    return seen


class _Labeller:
    """Runs :func:`label_chunk` in this process, a process pool or a dask cluster."""

    def __init__(self, simulator: str, options: dict, workers: int, scheduler):
        self.simulator, self.options = simulator, dict(options)
        self.pool = self.client = None
        self._own_client = False
        workers = int(workers or 0)
        if scheduler is not None:
            from distributed import Client

            if isinstance(scheduler, str):
                try:
                    self.client = Client(scheduler, timeout="20s")
                except Exception as exc:
                    raise InputError(f"cannot reach dask scheduler '{scheduler}': {exc}") from None
                self._own_client = True
            else:
                self.client = scheduler
            n_workers = max(1, len(self.client.scheduler_info().get("workers", {})))
            self.in_flight = 2 * n_workers
        elif workers > 1:
            from invtoolkit.datasets.workers import local_pool

            threads = max(1, (os.cpu_count() or 1) // workers)
            if _factory_accepts("simulator", simulator, "threads") and "threads" not in self.options:
                self.options["threads"] = threads
            # spawned workers that exit if this process is killed
            self.pool = local_pool(workers, initializer=_init_worker, initargs=(threads,))
            self.in_flight = 2 * workers
        else:
            self.in_flight = 0

    def submit(self, grids):
        if self.client is not None:
            return grids, self.client.submit(label_chunk, self.simulator, self.options, grids, pure=False)
        if self.pool is not None:
            return grids, self.pool.submit(label_chunk, self.simulator, self.options, grids)
        return grids, label_chunk(self.simulator, self.options, grids)

    @staticmethod
    def result(item):
        grids, future = item
        curves = future if isinstance(future, np.ndarray) else future.result()
        return grids, curves

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        if self.client is not None and self._own_client:
            self.client.close()


# ---------------------------------------------------------------------- isotherm shapes

STEP_JUMP = 0.10  # a rise of the filled fraction by >= 10 % between two points is a step
LOOP_GAP = 0.05  # desorption above adsorption by >= 5 % counts as inside a hysteresis loop


def isotherm_features(curves: np.ndarray, pressures: np.ndarray, porosity=None) -> dict:
    """Shape descriptors of isotherms (N,P) on ``pressures`` (adsorption, then desorption).

    Curves are filled fractions of the pores; pass ``porosity`` (N,) to convert
    "site"-normalised curves (amount per site) first. Returns arrays (N,):
    ``step_pressure`` (RH of the largest adsorption jump, NaN if no jump >= STEP_JUMP),
    ``largest_jump``, ``n_steps`` (separate rises >= STEP_JUMP), ``uptake_low``
    (filled fraction at RH ~ 0.1), ``loop_width`` (RH range where desorption lies
    >= LOOP_GAP above adsorption; NaN without a desorption branch), ``loop_area``.
    """
    curves = np.asarray(curves, dtype=np.float64)
    pressures = np.asarray(pressures, dtype=np.float64)
    top = int(np.argmax(pressures))
    ads = curves[:, : top + 1]
    p_ads = pressures[: top + 1]
    scale = np.ones((len(curves), 1)) if porosity is None else np.asarray(porosity, np.float64).reshape(-1, 1)
    ads = ads / scale
    jumps = np.diff(ads, axis=1)
    big = jumps >= STEP_JUMP
    # a run of consecutive big jumps is one step
    starts = big & ~np.concatenate([np.zeros((len(big), 1), bool), big[:, :-1]], axis=1)
    largest = jumps.max(1) if jumps.shape[1] else np.zeros(len(ads))
    mid = 0.5 * (p_ads[1:] + p_ads[:-1])
    step_pressure = np.where(largest >= STEP_JUMP, mid[np.argmax(jumps, axis=1)] if jumps.shape[1] else 0, np.nan)
    i_low = int(np.argmin(np.abs(p_ads - 0.1)))
    out = {
        "step_pressure": step_pressure,
        "largest_jump": largest,
        "n_steps": starts.sum(1),
        "uptake_low": ads[:, i_low],
        "low_pressure": float(p_ads[i_low]),
    }
    if curves.shape[1] > top + 1:
        des = curves[:, top:][:, ::-1] / scale  # desorption on the adsorption pressures
        p_des = pressures[top:][::-1]
        m = min(des.shape[1], ads.shape[1])
        if np.allclose(p_des[-m:], p_ads[-m:]):
            gap = des[:, -m:] - ads[:, -m:]
            dp = float(np.mean(np.diff(p_ads))) if len(p_ads) > 1 else 1.0
            out["loop_width"] = (gap >= LOOP_GAP).sum(1) * dp
            out["loop_area"] = np.clip(gap, 0, None).sum(1) * dp
    if "loop_width" not in out:
        out["loop_width"] = np.full(len(curves), np.nan)
        out["loop_area"] = np.full(len(curves), np.nan)
    return out


def shape_classes(features: dict) -> dict[str, np.ndarray]:
    """Boolean masks (N,) of the common isotherm shapes, for coverage reports and plots."""
    sp = features["step_pressure"]
    has_step = ~np.isnan(sp)
    width = features["loop_width"]
    return {
        "steep low-pressure uptake": features["uptake_low"] >= 0.5,
        "step at low RH (<1/3)": has_step & (sp < 1 / 3),
        "step at mid RH": has_step & (sp >= 1 / 3) & (sp < 2 / 3),
        "step at high RH (>=2/3)": has_step & (sp >= 2 / 3),
        "multiple steps": features["n_steps"] >= 2,
        "gradual (no step)": ~has_step,
        "no hysteresis": width == 0,
        "narrow hysteresis (<=0.1)": (width > 0) & (width <= 0.1),
        "wide hysteresis (>0.1)": width > 0.1,
    }
