"""Optimizer plugin ``pso``: binary particle swarm (pyswarms' BinaryPSO update rules).

One iteration per evaluator call (the whole swarm in one batch), so the termination
is honoured between iterations. It uses pyswarms' backend (swarm creation with
``init_pos``, ring topology for the neighbourhood best, velocity update and clamp)
and BinaryPSO's sigmoid position rule, drawn per particle and cell (BinaryPSO 1.3
draws one random vector shared by all particles).
"""

from __future__ import annotations

import contextlib
import logging.config

import numpy as np

from invtoolkit.plugin import Algorithm, InputError, Population, hookimpl, starting_grids

DEFAULT_ITERS = 100


@contextlib.contextmanager
def quiet_pyswarms():
    """pyswarms' Reporter calls logging.config.dictConfig on import and on every
    topology it builds, adding a report.log file in the working directory and an
    INFO handler on stderr. Keep the caller's logging as it was."""
    original = logging.config.dictConfig
    logging.config.dictConfig = lambda config: None
    try:
        yield
    finally:
        logging.config.dictConfig = original


class BinaryPSOSearch(Algorithm):
    """Binary PSO seeded from the incoming population.

    Options (pyswarms names): ``particles``, ``iters`` (max iterations; the
    deadline usually ends the run first), ``c1`` cognitive, ``c2`` social,
    ``w`` inertia, ``k`` neighbours in the ring, ``p`` Minkowski norm (1 or 2),
    ``vmax`` velocity clamp: a seeded cell keeps its value with probability
    sigmoid(vmax) at the first move; ``sampler`` tops up the seeds (default "mixed").
    """

    name = "pso"

    def __init__(self, particles: int = 32, iters: int = DEFAULT_ITERS, c1: float = 0.5, c2: float = 0.5,
                 w: float = 0.9, k: int = 5, p: int = 1, vmax: float = 4.0, sampler: str | None = "mixed"):
        if int(particles) < 2:
            raise InputError("pso: particles must be >= 2")
        if int(iters) < 1:
            raise InputError("pso: iters must be >= 1")
        if int(p) not in (1, 2):
            raise InputError(f"pso: p must be 1 or 2, got {p}")
        if int(k) < 1:
            raise InputError("pso: k must be >= 1")
        if not vmax > 0:
            raise InputError("pso: vmax must be > 0")
        self.particles, self.iters = int(particles), int(iters)
        self.options = {"c1": float(c1), "c2": float(c2), "w": float(w),
                        "k": min(int(k), int(particles)), "p": int(p)}
        self.vmax = float(vmax)
        self.sampler = sampler

    @contextlib.contextmanager
    def _pyswarms_numpy(self):
        """pyswarms draws from numpy's legacy global RNG: give it this run's own state
        (seeded from the run's rng) and restore the caller's afterwards."""
        outer = np.random.get_state()
        np.random.set_state(self._np_state)
        try:
            with quiet_pyswarms():
                yield
        finally:
            self._np_state = np.random.get_state()
            np.random.set_state(outer)

    def start(self, evaluator, population, rng):
        n = self.particles
        start = starting_grids(evaluator.problem, population, n, rng, self.sampler).reshape(n, -1).astype(np.int64)
        legacy = np.random.RandomState(int(rng.integers(2**31)) % 2**32)
        self._np_state = legacy.get_state()
        self.clamp = (-self.vmax, self.vmax)
        with self._pyswarms_numpy():
            from pyswarms.backend.generators import create_swarm
            from pyswarms.backend.handlers import VelocityHandler
            from pyswarms.backend.topology import Ring

            swarm = create_swarm(n, start.shape[1], discrete=True, binary=True, options=dict(self.options),
                                 init_pos=start, clamp=self.clamp)
            # Neighbours are found here (numpy), not by pyswarms' cKDTree query, which
            # segfaulted in CI on integer positions; static=True makes Ring reuse them.
            self.ring, self.handler = Ring(static=True), VelocityHandler(strategy="unmodified")
        # Velocities that keep the seeded positions likely (pyswarms draws them at random).
        swarm.velocity = (2.0 * start - 1.0) * self.vmax
        swarm.pbest_pos, swarm.pbest_cost = start.copy(), np.full(n, np.inf)
        self.swarm, self.iteration = swarm, 0

    def propose(self, evaluator, rng):
        if self.iteration >= self.iters:
            return None
        return self.swarm.position.reshape(self.particles, *self.space.shape).astype(np.uint8)

    def tell(self, evaluator, grids, scores, rng):
        from pyswarms.backend.operators import compute_pbest

        swarm, k, p = self.swarm, self.options["k"], self.options["p"]
        self.iteration += 1
        with self._pyswarms_numpy():
            swarm.current_cost = scores[:, 0]
            swarm.pbest_pos, swarm.pbest_cost = compute_pbest(swarm)
            self.ring.neighbor_idx = nearest_neighbours(swarm.position, k, p)
            swarm.best_pos, swarm.best_cost = self.ring.compute_gbest(swarm, p=p, k=k)
            swarm.velocity = self.ring.compute_velocity(swarm, self.clamp, self.handler)
        keep_one = rng.random(swarm.velocity.shape) < 1.0 / (1.0 + np.exp(-swarm.velocity))
        swarm.position = keep_one.astype(np.int64)

    def result(self):
        best = Population(self.swarm.pbest_pos.reshape(self.particles, *self.space.shape).astype(np.uint8),
                          self.swarm.pbest_cost)
        return [best[np.isfinite(best.errors)]]


def nearest_neighbours(position: np.ndarray, k: int, p: int) -> np.ndarray:
    """Indices of the k nearest particles (Minkowski p; itself first), as Ring expects."""
    pos = position.astype(np.float64)  # 0/1, so both norms are monotone in the Hamming distance
    dist = pos @ (1.0 - pos).T + (1.0 - pos) @ pos.T
    dist[np.arange(len(pos)), np.arange(len(pos))] = -1.0  # a particle is its own nearest
    idx = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return idx[:, 0] if k == 1 else idx


@hookimpl
def register_optimizers(register):
    register("pso", BinaryPSOSearch, "Binary particle swarm (pyswarms BinaryPSO), seeded from the population")
