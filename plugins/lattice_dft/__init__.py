"""Simulator plugin ``lattice-dft``: the lattice mean-field DFT of docs/physics.md."""

from __future__ import annotations

from functools import partial

import numpy as np

from invtoolkit.plugin import (InputError, PressurePath, PressureSchedule, Simulator, check_grids, hookimpl,
                               progress_bar)

KB = 0.0019872041  # kcal/(mol K)
MU_AT_ZERO = -90.0  # chemical potential used at RH = 0 (ln 0 is -inf)


class LatticeDFT(Simulator):
    """Exact lattice DFT. Batched over grids (N,H,W); any H, W >= 3.

    ``precision="float32"`` (default, error <= 1e-5) or ``"float64"`` (<= 1e-6).
    ``solver``: "auto" (numba on CPU, torch on CUDA), "numba", "torch", "reference".
    ``path``: a :class:`~invtoolkit.core.pressure.PressurePath` to simulate instead of the
    uniform schedule (e.g. RH = 0 then the measured pressures); branch values are
    path-independent, so the solver runs exactly at those pressures.
    """

    name = "lattice-dft"

    def __init__(
        self,
        T: float = 298.0,
        TC: float = 647.0,
        y: float = 1.5,
        steps: int = 40,
        normalization: str = "pore",
        adsorption_only: bool = False,
        precision: str = "float32",
        solver: str = "auto",
        device: str = "cpu",
        threads: int | None = None,
        chunk: int = 20_000,
        tol: float | None = None,
        path: PressurePath | None = None,
        boundary: str = "periodic",
        reservoir: int = 4,
    ):
        if normalization not in ("pore", "site"):
            raise InputError(f"normalization must be 'pore' or 'site', got '{normalization}'")
        if precision not in ("float32", "float64"):
            raise InputError(f"precision must be 'float32' or 'float64', got '{precision}'")
        if solver not in ("auto", "numba", "torch", "reference"):
            raise InputError(f"solver must be auto, numba, torch or reference, got '{solver}'")
        if not (T > 0 and TC > 0):
            raise InputError("T and TC must be positive")
        self.T, self.TC, self.y = float(T), float(TC), float(y)
        if path is not None and not isinstance(path, PressurePath):
            raise InputError(f"path must be a PressurePath, got {type(path).__name__}")
        self.schedule = path if path is not None else PressureSchedule(int(steps), bool(adsorption_only))
        self.normalization = normalization
        self.precision = precision
        self.solver = solver
        self.device = device
        self.threads = threads
        self.chunk = int(chunk)
        self.tol = tol
        if boundary not in ("periodic", "reservoir"):
            raise InputError(f"boundary must be 'periodic' or 'reservoir', got '{boundary}'")
        if int(reservoir) < 1:
            raise InputError(f"reservoir must be >= 1 layer, got {reservoir}")
        self.boundary, self.reservoir = boundary, int(reservoir)  # reservoir: bulk layers beyond axis 0

    # -- physics constants ---------------------------------------------------------
    @property
    def beta(self) -> float:
        return 1.0 / (KB * self.T)

    @property
    def mu_sat(self) -> float:
        return -2.0 * KB * self.TC

    @property
    def w_ff(self) -> float:
        return -2.0 * self.mu_sat / 4.0

    def chemical_potentials(self) -> np.ndarray:
        rh = self.schedule.pressures
        with np.errstate(divide="ignore"):
            mu = self.mu_sat + KB * self.T * np.log(rh)
        return np.where(rh > 0, mu, MU_AT_ZERO)

    @property
    def params(self) -> dict:
        return {
            "T": self.T,
            "TC": self.TC,
            "y": self.y,
            "steps": self.schedule.steps,  # None on a measured (non-uniform) path
            "normalization": self.normalization,
            # only when open, so periodic params (stores, models) stay as they were
            **({"boundary": self.boundary, "reservoir": self.reservoir} if self.boundary != "periodic" else {}),
        }

    def with_options(self, **options) -> "LatticeDFT":
        kwargs = dict(
            T=self.T, TC=self.TC, y=self.y, steps=self.schedule.steps, normalization=self.normalization,
            adsorption_only=self.schedule.adsorption_only, precision=self.precision, solver=self.solver,
            device=self.device, threads=self.threads, chunk=self.chunk, tol=self.tol,
            path=None if isinstance(self.schedule, PressureSchedule) else self.schedule,
            boundary=self.boundary, reservoir=self.reservoir,
        )
        kwargs.update(options)
        return LatticeDFT(**kwargs)

    # -- simulation ----------------------------------------------------------------
    def _solver(self):
        choice = self.solver
        if choice == "auto":
            choice = "torch" if str(self.device).startswith("cuda") else "numba"
        if choice == "numba":
            try:
                from invtoolkit_plugins.lattice_dft import _dft_numba, _jit_start

                _jit_start.init()
            except ImportError:  # numba missing: stay correct, just slower
                from invtoolkit_plugins.lattice_dft import _dft_reference

                return _dft_reference.solve
            return _streaming(partial(_dft_numba.solve, threads=self.threads))
        if choice == "torch":
            from invtoolkit_plugins.lattice_dft import _dft_torch

            return lambda *a, **k: _dft_torch.solve_torch(*a, device=self.device, **k)
        from invtoolkit_plugins.lattice_dft import _dft_reference

        return _dft_reference.solve

    def simulate(self, grids: np.ndarray, *, progress: bool = False) -> np.ndarray:
        grids = check_grids(grids, source="grids", allow_empty=True)
        n = len(grids)
        out = np.empty((n, len(self.schedule)))
        if n == 0:
            return out
        solve, w_ff = self._solver(), self.w_ff
        if grids.ndim == 4 or self.boundary == "reservoir":  # rank 3 or open: dft3d solvers
            solve, w_ff = self._dft3d_solver(), -2.0 * self.mu_sat / (2 * (grids.ndim - 1))  # c = 2 rank
        mus = self.chemical_potentials()
        denominators = self._denominators(grids)
        with progress_bar(total=n, desc="lattice-dft", unit="grid", enabled=progress) as bar:
            if getattr(solve, "streams", False):  # numba kernels: one call, chunked inside
                out = solve(grids, mus, self.beta, w_ff, self.y, dtype=self.precision, tol=self.tol,
                            progress=bar.update)
                out /= denominators[:, None]
            else:
                for start in range(0, n, self.chunk):
                    stop = min(start + self.chunk, n)
                    sums = solve(grids[start:stop], mus, self.beta, w_ff, self.y, dtype=self.precision,
                                 tol=self.tol)
                    out[start:stop] = sums / denominators[start:stop, None]
                    bar.update(stop - start)
        return np.clip(out, 0.0, 1.0, out=out)

    def _dft3d_solver(self):
        """The dft3d solver (rank 3, or a reservoir boundary of rank 2 or 3)."""
        from invtoolkit_plugins.dft3d import numba3d, reference
        from invtoolkit_plugins.dft3d.boundary import Boundary
        from invtoolkit_plugins.lattice_dft import _jit_start

        _jit_start.init()

        bnd = Boundary("reservoir", self.reservoir) if self.boundary == "reservoir" else Boundary()
        if self.solver == "reference":
            return partial(reference.solve, boundary=bnd)
        return _streaming(partial(numba3d.solve, threads=self.threads, boundary=bnd))

    def _denominators(self, grids: np.ndarray) -> np.ndarray:
        if self.normalization == "site":
            return np.full(len(grids), float(np.prod(grids.shape[1:])))  # cells, any rank
        return grids.reshape(len(grids), -1).sum(1).astype(np.float64)


def _streaming(solve):
    """Mark a solver that takes all grids in one call and reports progress(n) itself."""
    solve.streams = True
    return solve


@hookimpl
def register_simulators(register):
    register("lattice-dft", LatticeDFT, "Lattice mean-field DFT, adsorption + desorption (exact)")
