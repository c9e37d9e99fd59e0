"""Surrogate plugin ``cnn``: a convolutional network standing in for the lattice DFT.

Grid -> full adsorption/desorption loop (pore normalization), exactly invariant under
the torus symmetries (circular stride-1 convolutions, D4-symmetric kernels, pooled
means), adsorption non-decreasing and desorption never below it by construction (see
``invtoolkit_plugins.cnn.network``). ``normalization="site"`` multiplies by the porosity (exact);
``adsorption_only`` keeps the first ``steps + 1`` points; only the trained ``steps``
is accepted. An anchored model (architecture ``anchor: top``) computes the exact top
adsorption point of every grid with the model's simulator (one pressure point after
RH = 0) and builds the loop on it; its gradients treat that point as a constant.

A model is a directory (``invtoolkit.learning.modelio``): config.json + weights.pt with one or
more ensemble members. ``model=None`` loads the shipped default from
``models/cnn/`` beside this file. Ensembles give a per-point standard deviation
(:meth:`CNNSurrogate.predict_with_uncertainty`).

Training: :meth:`CNNSurrogate.train` (used by ``invtoolkit train surrogate``), in
:mod:`invtoolkit_plugins.cnn.training`.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (InputError, PressureSchedule, Surrogate, Trainable, WithUncertainty,
                               check_grids, hookimpl, modelio, option)
from invtoolkit_plugins.cnn.training import DEFAULT_ARCH, PLUGIN, read_model, train_cnn  # noqa: F401 (public here)

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "cnn"  # package data of invtoolkit_plugins
JIT_MIN_GRIDS = 2048  # below this, tracing costs more than it saves


def _torch():
    import torch

    return torch


@dataclass
class CNNOptions:
    """What ``cnn`` accepts (``invtoolkit plugins --options cnn``)."""

    model: str | None = option(None, "model directory (config.json + weights.pt); None: the shipped one")
    normalization: str = option("pore", "pore: filled fraction of pore cells; site: amount per lattice site")
    steps: int | None = option(None, "pressure steps per branch; must equal the trained ones (None: those)")
    adsorption_only: bool = option(False, "only the adsorption branch (steps + 1 points)")
    T: float | None = option(None, "temperature (K), checked against the model's")
    TC: float | None = option(None, "critical temperature (K), checked against the model's")
    y: float | None = option(None, "wall/fluid interaction ratio, checked against the model's")
    device: str = option("cpu", "torch device: cpu or cuda")
    threads: int | None = option(None, "torch CPU threads (None: all cores)")
    batch_size: int | None = option(None, "inference batch (None: 64 on CPU, 8192 on GPU)")


class CNNSurrogate(Surrogate, Trainable, WithUncertainty):
    """Learned lattice-DFT isotherms, options in :class:`CNNOptions`."""

    name = PLUGIN
    Options = CNNOptions

    def __init__(self, model=None, **options):
        from invtoolkit_plugins.cnn.network import Ensemble, IsothermCNN

        o = CNNOptions(model=model, **options)
        normalization, steps, device, batch_size = o.normalization, o.steps, o.device, o.batch_size
        T, TC, y, model = o.T, o.TC, o.y, o.model
        if normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{normalization}'")
        if model is None:
            if not (DEFAULT_MODEL / modelio.CONFIG_NAME).exists():
                raise InputError(f"no default cnn model shipped in {DEFAULT_MODEL}; train one with "
                                 f"'invtoolkit train surrogate DATA.zarr -o DIR' and pass model=DIR")
            model = DEFAULT_MODEL
        self.model_path = modelio.model_dir(model)
        self.config, states = read_model(self.model_path, params={"T": T, "TC": TC, "y": y, "steps": steps})
        trained_steps = int(self.config["simulator_params"]["steps"])
        members = []
        for i, state in enumerate(states):
            net = IsothermCNN({**self.config["architecture"], "steps": trained_steps})
            modelio.load_state(net, state, self.model_path / modelio.WEIGHTS_NAME)
            members.append(net)
        self.net = Ensemble(members).eval().requires_grad_(False)
        self.device = device
        if device != "cpu":
            self.net.to(device)
        self.threads = o.threads
        self._frozen = None  # the traced CPU network, made on first use (see _frozen_net)
        # Small CPU batches keep the 20x20 activations in cache: measured ~10x faster per
        # grid at 64 than at 4096 (the convolutions are memory-bound at 16-64 channels).
        self.batch_size = int(batch_size or (64 if device == "cpu" else 8192))
        self.grid_shape = tuple(int(v) for v in self.config["grid_shape"])
        self.schedule = PressureSchedule(trained_steps, bool(o.adsorption_only))
        self.normalization = normalization
        self._anchor_sim = None  # the simulator of the top point, made on first use (see top_points)

    # -- role interface -------------------------------------------------------------
    @property
    def params(self) -> dict:
        p = self.config["simulator_params"]
        return {"T": p.get("T"), "TC": p.get("TC"), "y": p.get("y"), "steps": self.schedule.steps,
                "normalization": self.normalization}

    @property
    def n_members(self) -> int:
        return len(self.net.members)

    def with_options(self, **options) -> "CNNSurrogate":
        """A copy sharing the network, with other normalization / adsorption_only."""
        steps = options.pop("steps", None)
        modelio.check_compatible(self.config, self.model_path, params={"steps": steps, **{
            k: options.pop(k) for k in ("T", "TC", "y") if k in options}})
        other = copy.copy(self)  # shares the network (and its frozen copy)
        normalization = options.pop("normalization", self.normalization)
        if normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{normalization}'")
        other.normalization = normalization
        other.schedule = PressureSchedule(self.schedule.steps, bool(options.pop("adsorption_only",
                                                                                self.schedule.adsorption_only)))
        for key in ("threads", "batch_size"):
            if key in options:
                setattr(other, key, options.pop(key))
        if options:
            raise InputError(f"cnn: unknown options {sorted(options)}")
        return other

    def _check_shape(self, shape) -> None:
        if tuple(shape[-2:]) != self.grid_shape:
            h, w = self.grid_shape
            raise InputError(f"{self.model_path}: model was trained on {h}x{w} grids, "
                             f"not {shape[-2]}x{shape[-1]}")

    def _finish(self, loop, grids):
        """Pore-normalized full loops (torch) -> this surrogate's points and normalization."""
        out = loop[:, : len(self.schedule)]
        if self.normalization == "site":
            out = out * grids.mean((-2, -1)).unsqueeze(1)
        return out

    def forward_torch(self, grids):
        """torch (N,H,W) float in [0,1] -> (N,P), differentiable with respect to ``grids``
        (an anchored model's top point is that of the rounded grids, held constant)."""
        self._check_shape(grids.shape)
        top = None
        if self.net.anchor is not None:
            binary = (grids.detach() > 0.5).to("cpu", _torch().uint8).numpy()
            top = _torch().from_numpy(self.top_points(binary)).to(grids.device, grids.dtype)
        return self._finish(self.net(grids, top), grids)

    def top_points(self, grids: np.ndarray, progress: bool = False) -> np.ndarray | None:
        """float32 (N,) exact pore-normalized adsorption at the top point (p/p0 = 1) of
        every grid for an anchored model; None for an unanchored one. Branch values are
        path-independent, so the path RH = 0 -> 1 gives the top of the full ramp."""
        if self.net.anchor is None:
            return None
        if self._anchor_sim is None:
            from invtoolkit.plugin import create
            from invtoolkit.plugin import PressurePath

            p = self.config["simulator_params"]
            self._anchor_sim = create("simulator", self.config.get("simulator", "lattice-dft"),
                                               T=p["T"], TC=p["TC"], y=p["y"], threads=self.threads,
                                               path=PressurePath([0.0, 1.0]))
        tops = self._anchor_sim.simulate(grids, progress=progress)[:, -1]
        return np.nan_to_num(tops).astype(np.float32)  # all-wall grids: nothing to fill

    def _batches(self, grids, fn, progress: bool):
        torch = _torch()
        from invtoolkit.plugin import progress_bar

        grids = check_grids(grids)
        self._check_shape(grids.shape)
        tops = self.top_points(grids, progress)
        if self.threads:
            torch.set_num_threads(int(self.threads))
        bs = self.batch_size
        workers = self._workers(len(grids))
        with progress_bar(total=len(grids), desc="cnn", unit="grid", enabled=progress) as bar:
            lock = threading.Lock()

            def run(start):
                with torch.inference_mode():  # thread-local: each worker enters it
                    x = torch.from_numpy(grids[start:start + bs]).to(self.device, torch.float32)
                    args = (x,) if tops is None else (x, torch.from_numpy(tops[start:start + bs]).to(self.device))
                    out = [t.cpu().numpy().astype(np.float64) for t in fn(*args)]
                with lock:
                    bar.update(len(x))
                return out

            starts = range(0, len(grids), bs)
            if workers == 1:
                outs = [run(s) for s in starts]
            else:
                outs = self._in_parallel(run, starts, workers)
        return [np.concatenate(parts) for parts in zip(*outs)]

    def _workers(self, n: int) -> int:
        """Batch-parallel workers for CPU inference: one torch thread per batch beats
        intra-op threads on the small cache-resident batches (measured 11.2k vs 7.6k
        grids/s on 2 cores), but only pays when every worker gets several batches."""
        if self.device != "cpu":
            return 1
        workers = int(self.threads or _torch().get_num_threads())
        return workers if workers > 1 and n >= 4 * workers * self.batch_size else 1

    @staticmethod
    def _in_parallel(run, starts, workers: int):
        from concurrent.futures import ThreadPoolExecutor

        torch = _torch()
        before = torch.get_num_threads()
        torch.set_num_threads(1)  # process-wide: restored below
        try:
            with ThreadPoolExecutor(workers) as pool:
                return list(pool.map(run, starts))
        finally:
            torch.set_num_threads(before)

    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        """float64 (N,P) predicted isotherms of uint8 grids (N,H,W)."""
        net = self._frozen_net() if len(grids) >= JIT_MIN_GRIDS else self.net
        (curves,) = self._batches(grids, lambda x, *top: (self._finish(net(x, *top), x),), progress)
        return curves

    def _frozen_net(self):
        """The network traced, frozen and optimized for CPU inference (conv+relu fusion,
        oneDNN layouts; measured ~1.5-2x faster than eager). Same numbers to float
        rounding; the eager network stays for gradients and small batches."""
        if self.device != "cpu":
            return self.net
        if self._frozen is None:
            torch = _torch()
            import warnings

            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    example = torch.zeros(64, *self.grid_shape)
                    example[:, ::2, ::3] = 1.0
                    inputs = (example,) if self.net.anchor is None else (example, torch.full((64,), 0.5))
                    traced = torch.jit.trace(self.net, inputs, check_trace=False)
                    self._frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
            except Exception:  # no TorchScript in this torch build: eager is still correct
                self._frozen = self.net
        return self._frozen

    def predict_with_uncertainty(self, grids: np.ndarray, *, progress: bool = False):
        """(mean, std) float64 (N,P): ensemble mean and per-point standard deviation
        (all zeros for a single model)."""

        def both(x, *top):
            mean, std = self.net.mean_std(x, *top)
            return self._finish(mean, x), self._finish(std, x)

        return tuple(self._batches(grids, both, progress))

    def save(self, path) -> None:
        modelio.save_model(path, {k: v for k, v in self.config.items() if k not in ("format", "format_version",
                                                                                     "members")},
                           [m.state_dict() for m in self.net.members])

    # -- training ---------------------------------------------------------------------
    @classmethod
    def train(cls, data, output, **options) -> dict:
        """Train a model (K members) on dataset ``data`` into directory ``output``; see :func:`train_cnn`."""
        return train_cnn(data, output, **options)


@hookimpl
def register_surrogates(register):
    register(PLUGIN, CNNSurrogate, "CNN surrogate of lattice-dft: full loop, exact torus symmetry, ensembles",
             default=True)
