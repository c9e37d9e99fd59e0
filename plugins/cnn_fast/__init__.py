"""Surrogate plugin ``cnn-fast``: a slim anchored CNN with a fused CPU kernel (issue 31).

Same contract as ``cnn`` (grid -> full adsorption/desorption loop in pore normalization,
exact torus symmetry, adsorption non-decreasing, desorption between adsorption and the
point above, anchored on the exact top point computed by the model's simulator on the
path RH 0 -> 1), at a fraction of the cost: a 3x3-patch lookup stem, isotropic 3x3 blocks
as (centre, edge sum, corner sum) matrix products, 8 channels (``network.py``). On CPU
``simulate`` runs the numba kernel of ``kernels.py`` (grids in parallel, one thread per
core); ``forward_torch`` and any other device run the torch network (the same function
to float rounding). ``model=None`` loads the shipped model in ``models/cnn-fast/``.

Training: ``training/cnn_fast.sh`` (:func:`invtoolkit_plugins.cnn_fast.training.train_fast`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from invtoolkit.plugin import InputError, PressureSchedule, Surrogate, check_grids, hookimpl, modelio, option
from invtoolkit_plugins.cnn_fast.training import PLUGIN

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "cnn-fast"
CHUNK = 65536  # grids per kernel call: bounds the memory of features and loops


@dataclass
class CNNFastOptions:
    """What ``cnn-fast`` accepts (``invtoolkit plugins --options cnn-fast``)."""

    model: str | None = option(None, "model directory (config.json + weights.pt); None: the shipped one")
    normalization: str = option("pore", "pore: filled fraction of pore cells; site: amount per lattice site")
    steps: int | None = option(None, "pressure steps per branch; must equal the trained ones (None: those)")
    adsorption_only: bool = option(False, "only the adsorption branch (steps + 1 points)")
    T: float | None = option(None, "temperature (K), checked against the model's")
    TC: float | None = option(None, "critical temperature (K), checked against the model's")
    y: float | None = option(None, "wall/fluid interaction ratio, checked against the model's")
    device: str = option("cpu", "cpu: the fused numba kernel; cuda: the torch network on the GPU")
    threads: int | None = option(None, "CPU threads of the kernel and the anchor DFT (None: all cores)")


def read_fast_model(path, params: dict) -> tuple[dict, dict]:
    """(config, state dict) of a cnn-fast model directory; InputError if it is another
    plugin's model, another simulator's parameters or not one member."""
    config, states = modelio.load_model(path)
    if config.get("plugin") != PLUGIN:
        raise InputError(f"{path}: a '{config.get('plugin')}' model, not a cnn-fast model")
    modelio.check_compatible(config, path, params=params)
    if len(states) != 1:
        raise InputError(f"{path}: cnn-fast models hold one member, found {len(states)}")
    return config, states[0]


class CNNFastSurrogate(Surrogate):
    """Learned lattice-DFT loops at several times the DFT's rate; options in :class:`CNNFastOptions`."""

    name = PLUGIN
    Options = CNNFastOptions

    def __init__(self, model=None, **options):
        from invtoolkit_plugins.cnn_fast.network import FastCNN

        o = CNNFastOptions(model=model, **options)
        if o.normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{o.normalization}'")
        if o.device not in ("cpu", "cuda"):
            raise InputError(f"device must be 'cpu' or 'cuda', got '{o.device}'")
        if o.model is None and not (DEFAULT_MODEL / modelio.CONFIG_NAME).exists():
            raise InputError(f"no cnn-fast model shipped in {DEFAULT_MODEL}; train one with training/cnn_fast.sh")
        self.model_path = modelio.model_dir(o.model if o.model is not None else DEFAULT_MODEL)
        self.config, state = read_fast_model(self.model_path, {"T": o.T, "TC": o.TC, "y": o.y, "steps": o.steps})
        steps = int(self.config["simulator_params"]["steps"])
        self.net = FastCNN({**self.config["architecture"], "steps": steps})
        modelio.load_state(self.net, state, self.model_path / modelio.WEIGHTS_NAME)
        self.net.eval().requires_grad_(False)
        self.device, self.threads = o.device, o.threads
        if o.device != "cpu":
            self.net.to(o.device)
        self.grid_shape = tuple(int(v) for v in self.config["grid_shape"])
        self.schedule = PressureSchedule(steps, bool(o.adsorption_only))
        self.normalization = o.normalization
        self._kernel_args = None  # the float32 arrays of the numba kernel, made on first use
        self._anchor_sim = None

    @property
    def params(self) -> dict:
        p = self.config["simulator_params"]
        return {"T": p.get("T"), "TC": p.get("TC"), "y": p.get("y"), "steps": self.schedule.steps,
                "normalization": self.normalization}

    def with_options(self, **options) -> "CNNFastSurrogate":
        """A copy sharing the network, with other normalization / adsorption_only / threads."""
        modelio.check_compatible(self.config, self.model_path, params={"steps": options.pop("steps", None), **{
            k: options.pop(k) for k in ("T", "TC", "y") if k in options}})
        other = copy.copy(self)
        other.normalization = options.pop("normalization", self.normalization)
        if other.normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{other.normalization}'")
        other.schedule = PressureSchedule(self.schedule.steps, bool(options.pop("adsorption_only",
                                                                                self.schedule.adsorption_only)))
        if "threads" in options:
            other.threads, other._anchor_sim = options.pop("threads"), None
        if options:
            raise InputError(f"cnn-fast: unknown options {sorted(options)}")
        return other

    def _check_shape(self, shape) -> None:
        if tuple(shape[-2:]) != self.grid_shape or len(shape) != 3:
            h, w = self.grid_shape
            raise InputError(f"{self.model_path}: model was trained on {h}x{w} grids, not "
                             f"{'x'.join(str(s) for s in shape[1:])}")

    def top_points(self, grids: np.ndarray, progress: bool = False) -> np.ndarray:
        """float32 (N,) exact pore-normalized adsorption at p/p0 = 1 (lattice DFT on the
        path RH 0 -> 1; branch values are path-independent); 0 for all-wall grids."""
        if self._anchor_sim is None:
            from invtoolkit.plugin import create
            from invtoolkit.plugin import PressurePath

            p = self.config["simulator_params"]
            self._anchor_sim = create("simulator", self.config.get("simulator", "lattice-dft"),
                                               T=p["T"], TC=p["TC"], y=p["y"], threads=self.threads,
                                               path=PressurePath([0.0, 1.0]))
        return np.nan_to_num(self._anchor_sim.simulate(grids, progress=progress)[:, -1]).astype(np.float32)

    def _finish(self, loops, porosity):
        out = loops[:, : len(self.schedule)]
        return out * porosity[:, None] if self.normalization == "site" else out

    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        """float64 (N,P) predicted isotherms of uint8 grids (N,H,W)."""
        grids = check_grids(grids)
        self._check_shape(grids.shape)
        tops = self.top_points(grids, progress)
        if self.device != "cpu":
            torch = _torch()
            with torch.inference_mode():
                x = torch.from_numpy(grids).to(self.device, torch.float32)
                loops = self.net(x, torch.from_numpy(tops).to(self.device)).cpu().numpy()
        else:
            loops = self._predict_cpu(grids, tops)
        porosity = grids.reshape(len(grids), -1).mean(1)
        return self._finish(loops.astype(np.float64), porosity)

    def _predict_cpu(self, grids, tops) -> np.ndarray:
        import numba

        from invtoolkit_plugins.cnn_fast import kernels

        if self._kernel_args is None:
            self._kernel_args = kernels.kernel_args(self.net, self.grid_shape)
        before = numba.get_num_threads()
        if self.threads:
            numba.set_num_threads(min(int(self.threads), numba.config.NUMBA_NUM_THREADS))
        try:
            return np.concatenate([kernels.predict(self._kernel_args, grids[s:s + CHUNK], tops[s:s + CHUNK])
                                   for s in range(0, max(len(grids), 1), CHUNK)])
        finally:
            numba.set_num_threads(before)

    def forward_torch(self, grids):
        """torch (N,H,W) in [0,1] -> (N,P), differentiable through the cell features (the
        patch codes and the top point are those of the rounded grids, held constant)."""
        torch = _torch()
        self._check_shape(grids.shape)
        binary = (grids.detach() > 0.5).to("cpu", torch.uint8).numpy()
        top = torch.from_numpy(self.top_points(binary)).to(grids.device, grids.dtype)
        return self._finish(self.net(grids, top), grids.mean((-2, -1)))

    def save(self, path) -> None:
        modelio.save_model(path, {k: v for k, v in self.config.items() if k not in ("format", "format_version",
                                                                                     "members")},
                           [self.net.state_dict()])


def _torch():
    import torch

    return torch


@hookimpl
def register_surrogates(register):
    register(PLUGIN, CNNFastSurrogate, "Slim anchored CNN of lattice-dft with a fused CPU kernel: "
             "several times the DFT's rate, exact torus symmetry")
