"""Surrogate plugin ``cnn-cond``: cnn-fast conditioned on the fluid and the wall (issue 31 part 2).

One model for any fluid T/TC in 0.40-0.80 and wall affinity y in 0.5-4 (the trained box;
outside it, an InputError), on any pressure path. The cnn-fast trunk with FiLM conditioning
on (T/TC, log y) (``network.py``); the same exact torus symmetry and loop guarantees
(adsorption non-decreasing, desorption between adsorption and the point above, all in
[0, 1]); anchored on the exact top point, lattice-dft at (T, TC, y) on the path RH 0 -> 1.

Paths: the network predicts the internal 2 x 40-step loop; the requested points are a
piecewise-linear interpolation of it (``paths.py``), the points below its first step
shaped by the anchor DFT; desorption from a turning point below 1 keeps a learned share of
the hysteresis gap (``turning.py``), capped at the adsorption value there.

Training: ``training/cond_data.sh``, ``training/cond.sh`` and ``training/cond_turn.sh``. Not the
default surrogate.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (InputError, PressurePath, PressureSchedule, Surrogate, check_grids, hookimpl, modelio,
                               option)
from invtoolkit_plugins.cnn_cond.training import PLUGIN

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "cnn-cond"
CHUNK = 65536  # grids per kernel call: bounds the memory of features and loops


@dataclass
class CNNCondOptions:
    """What ``cnn-cond`` accepts (``invtoolkit plugins --options cnn-cond``)."""

    model: str | None = option(None, "model directory (config.json + weights.pt); None: the shipped one")
    normalization: str = option("pore", "pore: filled fraction of pore cells; site: amount per lattice site")
    steps: int | None = option(None, "uniform schedule RH 0, 1/steps, ..., 1 and back (None: the model's 40)")
    adsorption_only: bool = option(False, "only the adsorption branch of the uniform schedule")
    path: PressurePath | None = option(None, "predict on this pressure path instead of the schedule")
    T: float = option(298.0, "temperature (K)")
    TC: float = option(647.0, "critical temperature of the fluid (K); T/TC must lie in the trained range")
    y: float = option(1.5, "wall/fluid interaction ratio; must lie in the trained range")
    device: str = option("cpu", "cpu: the fused numba kernel; cuda: the torch network on the GPU")
    threads: int | None = option(None, "CPU threads of the kernel and the anchor DFT (None: all cores)")


def check_condition(T, TC, y, config: dict) -> tuple[float, float]:
    """(t, y) after checking them against the model's trained box; InputError otherwise."""
    if not (isinstance(T, (int, float)) and isinstance(TC, (int, float)) and T > 0 and TC > 0):
        raise InputError(f"cnn-cond: T and TC must be positive temperatures in K, got T={T}, TC={TC}")
    if not isinstance(y, (int, float)) or not y > 0:
        raise InputError(f"cnn-cond: y must be a positive number, got {y}")
    (t_lo, t_hi), (y_lo, y_hi) = config["conditions"]["t"], config["conditions"]["y"]
    t = float(T) / float(TC)
    if not t_lo - 1e-9 <= t <= t_hi + 1e-9:
        raise InputError(f"cnn-cond: T/TC = {t:.3f} is outside the trained range {t_lo:.2f}-{t_hi:.2f}")
    if not y_lo - 1e-9 <= y <= y_hi + 1e-9:
        raise InputError(f"cnn-cond: y = {y:g} is outside the trained range {y_lo:g}-{y_hi:g}")
    return t, float(y)


class CNNCondSurrogate(Surrogate):
    """Learned lattice-DFT loops at any (T/TC, y) of the trained box and any pressure path."""

    name = PLUGIN
    Options = CNNCondOptions

    def __init__(self, model=None, **options):
        from invtoolkit_plugins.cnn_cond.network import CondCNN

        o = _options(model=model, **options)
        if o.model is None and not (DEFAULT_MODEL / modelio.CONFIG_NAME).exists():
            raise InputError(f"no cnn-cond model shipped in {DEFAULT_MODEL}; train one with training/cond.sh")
        self.model_path = modelio.model_dir(o.model if o.model is not None else DEFAULT_MODEL)
        self.config, states = modelio.load_model(self.model_path)
        if self.config.get("plugin") != PLUGIN or len(states) != 1:
            raise InputError(f"{self.model_path}: a '{self.config.get('plugin')}' model, not a cnn-cond model")
        self.steps_internal = int(self.config["simulator_params"]["steps"])
        self.net = CondCNN({**self.config["architecture"], "steps": self.steps_internal})
        modelio.load_state(self.net, states[0], self.model_path / modelio.WEIGHTS_NAME)
        self.net.eval().requires_grad_(False)
        self.grid_shape = tuple(int(v) for v in self.config["grid_shape"])
        self._kernel_args = None  # the float32 arrays of the numba kernel, made on first use
        self._configure(o)

    def _configure(self, o: CNNCondOptions) -> None:
        """Condition, path, normalization, device and threads of this instance."""
        from invtoolkit_plugins.cnn_cond.paths import path_maps

        if o.normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{o.normalization}'")
        if o.device not in ("cpu", "cuda"):
            raise InputError(f"device must be 'cpu' or 'cuda', got '{o.device}'")
        if o.path is not None and not isinstance(o.path, PressurePath):
            raise InputError(f"path must be a PressurePath, got {type(o.path).__name__}")
        if o.steps is not None and (not isinstance(o.steps, int) or o.steps < 1):
            raise InputError(f"steps must be a positive int, got {o.steps}")
        self.t, self.y = check_condition(o.T, o.TC, o.y, self.config)
        self.options = o
        self.T, self.TC = float(o.T), float(o.TC)
        self.schedule = o.path if o.path is not None else PressureSchedule(o.steps or self.steps_internal,
                                                                            bool(o.adsorption_only))
        self._maps = path_maps(self.schedule, self.steps_internal)
        self.normalization, self.device, self.threads = o.normalization, o.device, o.threads
        if o.device != "cpu":
            self.net.to(o.device)
        self._anchor_sim = None

    @property
    def params(self) -> dict:
        return {"T": self.T, "TC": self.TC, "y": self.y, "steps": self.schedule.steps,
                "normalization": self.normalization}

    def with_options(self, **options) -> "CNNCondSurrogate":
        """A copy sharing the network, with other options (any of :class:`CNNCondOptions` but model)."""
        if "model" in options:
            raise InputError("cnn-cond: with_options cannot change the model")
        merged = {**dataclasses.asdict(self.options), **options}
        if "path" in options and "steps" not in options:
            merged["steps"] = None
        other = copy.copy(self)
        other._configure(_options(**merged))
        return other

    def _check_shape(self, shape) -> None:
        if tuple(shape[-2:]) != self.grid_shape or len(shape) != 3:
            h, w = self.grid_shape
            raise InputError(f"{self.model_path}: model was trained on {h}x{w} grids, not "
                             f"{'x'.join(str(s) for s in shape[1:])}")

    def anchor(self, grids: np.ndarray, progress: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """(tops, low ratios) from lattice-dft at this (T, TC, y) on the anchor path (``paths.py``):
        float32 (N,) exact pore-normalized adsorption at p/p0 = 1 (0 for all-wall grids), and
        (N, n_low) the exact shape below the first step, None without such path points."""
        from invtoolkit_plugins.cnn_cond.paths import anchor_pressures, low_ratio

        if self._anchor_sim is None:
            from invtoolkit.plugin import create

            self._anchor_sim = create("simulator", self.config.get("simulator", "lattice-dft"), T=self.T,
                                      TC=self.TC, y=self.y, threads=self.threads,
                                      path=PressurePath(anchor_pressures(self._maps)))
        values = np.nan_to_num(self._anchor_sim.simulate(grids, progress=progress))
        ratio = low_ratio(values, self._maps) if len(self._maps["low"]) else None
        return values[:, -1].astype(np.float32), ratio

    def top_points(self, grids: np.ndarray, progress: bool = False) -> np.ndarray:
        """float32 (N,) exact pore-normalized adsorption at p/p0 = 1 at this (T, TC, y)."""
        return self.anchor(grids, progress)[0]

    def conditions(self, n: int) -> np.ndarray:
        """float32 (n, 2) raw conditions (t, y) of this instance."""
        return np.tile(np.float32([self.t, self.y]), (n, 1))

    def internal_loops(self, grids: np.ndarray, tops: np.ndarray | None = None) -> np.ndarray:
        """float32 (N, 2*steps+1) pore loops on the internal path (uint8 grids, checked)."""
        tops = self.top_points(grids) if tops is None else tops
        if self.device != "cpu":
            torch = _torch()
            with torch.inference_mode():
                x = torch.from_numpy(grids).to(self.device, torch.float32)
                return self.net(x, torch.from_numpy(tops).to(self.device),
                                torch.from_numpy(self.conditions(len(grids))).to(self.device)).cpu().numpy()
        return self._predict_cpu(grids, tops)

    def turning_shares(self, loops):
        """phi (N, S) of the turning-point head for this path, torch or numpy like ``loops``;
        None when the path does not turn below 1 or the model has no head (``turning.py``)."""
        from invtoolkit_plugins.cnn_cond.paths import needs_head

        if self.net.turn is None or not needs_head(self._maps):
            return None
        torch = _torch()
        from invtoolkit_plugins.cnn_cond.network import normalize_conditions

        x = loops if isinstance(loops, torch.Tensor) else torch.from_numpy(np.asarray(loops, np.float32))
        uv = normalize_conditions(torch.from_numpy(self.conditions(len(x))).to(x.device, x.dtype))
        pt = torch.full((len(x),), self._maps["turn"], dtype=x.dtype, device=x.device)
        if isinstance(loops, torch.Tensor):
            return self.net.turn(x, uv, pt)
        with torch.inference_mode():
            return self.net.turn(x.to(self.device), uv.to(self.device), pt.to(self.device)).cpu().double().numpy()

    def _finish(self, loops, porosity, ratio):
        from invtoolkit_plugins.cnn_cond.paths import apply_maps

        out = apply_maps(loops, self._maps, ratio, self.turning_shares(loops))
        return out * porosity[:, None] if self.normalization == "site" else out

    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        """float64 (N,P) predicted isotherms of uint8 grids (N,H,W) on this instance's path."""
        grids = check_grids(grids)
        self._check_shape(grids.shape)
        tops, ratio = self.anchor(grids, progress)
        loops = self.internal_loops(grids, tops)
        porosity = grids.reshape(len(grids), -1).mean(1)
        return self._finish(loops.astype(np.float64), porosity, ratio)

    def _predict_cpu(self, grids, tops) -> np.ndarray:
        import numba
        import torch

        from invtoolkit_plugins.cnn_cond import kernels
        from invtoolkit_plugins.cnn_cond.network import normalize_conditions

        if self._kernel_args is None:
            self._kernel_args = kernels.kernel_args(self.net, self.grid_shape)
        uv = normalize_conditions(torch.from_numpy(self.conditions(len(grids)))).numpy()
        before = numba.get_num_threads()
        if self.threads:
            numba.set_num_threads(min(int(self.threads), numba.config.NUMBA_NUM_THREADS))
        try:
            return np.concatenate([kernels.predict(self._kernel_args, grids[s:s + CHUNK], tops[s:s + CHUNK],
                                                   uv[s:s + CHUNK]) for s in range(0, max(len(grids), 1), CHUNK)])
        finally:
            numba.set_num_threads(before)

    def forward_torch(self, grids):
        """torch (N,H,W) in [0,1] -> (N,P), differentiable through the cell features (the
        patch codes and the top point are those of the rounded grids, held constant)."""
        torch = _torch()
        self._check_shape(grids.shape)
        binary = (grids.detach() > 0.5).to("cpu", torch.uint8).numpy()
        tops, ratio = self.anchor(binary)
        top = torch.from_numpy(tops).to(grids.device, grids.dtype)
        cond = torch.from_numpy(self.conditions(len(grids))).to(grids.device, grids.dtype)
        return self._finish(self.net(grids, top, cond), grids.mean((-2, -1)), ratio)

    def save(self, path) -> None:
        modelio.save_model(path, {k: v for k, v in self.config.items() if k not in ("format", "format_version",
                                                                                     "members")},
                           [self.net.state_dict()])


def _options(**options) -> CNNCondOptions:
    try:
        return CNNCondOptions(**options)
    except TypeError as exc:
        raise InputError(f"cnn-cond: {str(exc).split('__init__() ')[-1]}") from None


def _torch():
    import torch

    return torch


@hookimpl
def register_surrogates(register):
    register(PLUGIN, CNNCondSurrogate, "cnn-fast conditioned on T/TC (0.40-0.80) and y (0.5-4) with FiLM, "
             "on any pressure path; anchored on the exact top point")
