"""Optimizer plugin ``pso``: binary particle swarm (pyswarms' BinaryPSO update rules).

The loop is driven here, one iteration per evaluator call, so the deadline is
honoured between iterations and the whole swarm is evaluated in one batch. It
uses pyswarms' backend (swarm creation with ``init_pos``, ring topology for the
neighbourhood best, velocity update and clamp) and BinaryPSO's sigmoid position
rule, drawn per particle and cell (BinaryPSO 1.3 draws one random vector shared
by all particles).
"""

from __future__ import annotations

import contextlib
import logging.config

import numpy as np

from invtoolkit.errors import InputError
from invtoolkit.hookspecs import hookimpl
from invtoolkit.population import Population
from invtoolkit.roles import Optimizer

from invtoolkit_plugins._search import Objective, finish, seeded_global_numpy, starting_grids

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


class BinaryPSOSearch(Optimizer):
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

    def run(self, problem, population, *, rng, deadline=None, progress=False):
        with quiet_pyswarms():
            from pyswarms.backend.generators import create_swarm
            from pyswarms.backend.handlers import VelocityHandler
            from pyswarms.backend.operators import compute_pbest
            from pyswarms.backend.topology import Ring

            shape = problem.search_shape(population)
            n = self.particles
            start = starting_grids(problem, population, n, rng, self.sampler).reshape(n, -1).astype(np.int64)
            clamp = (-self.vmax, self.vmax)
            with Objective(problem, deadline=deadline, progress=progress, desc="pso") as obj, \
                    seeded_global_numpy(int(rng.integers(2**31))):
                obj.prime(population)
                swarm = create_swarm(n, start.shape[1], discrete=True, binary=True, options=dict(self.options),
                                     init_pos=start, clamp=clamp)
                # Velocities that keep the seeded positions likely (pyswarms draws them at random).
                swarm.velocity = (2.0 * start - 1.0) * self.vmax
                swarm.pbest_pos = start.copy()
                swarm.pbest_cost = np.full(n, np.inf)
                # Neighbours are found here (numpy), not by pyswarms' cKDTree query, which
                # segfaulted in CI on integer positions; static=True makes Ring reuse them.
                ring = Ring(static=True)
                handler = VelocityHandler(strategy="unmodified")
                for _ in range(self.iters):
                    if not obj.fits(n):
                        break
                    swarm.current_cost = obj.errors(swarm.position.reshape(n, *shape).astype(np.uint8))
                    swarm.pbest_pos, swarm.pbest_cost = compute_pbest(swarm)
                    ring.neighbor_idx = nearest_neighbours(swarm.position, self.options["k"], self.options["p"])
                    swarm.best_pos, swarm.best_cost = ring.compute_gbest(swarm, p=self.options["p"], k=self.options["k"])
                    swarm.velocity = ring.compute_velocity(swarm, clamp, handler)
                    keep_one = rng.random(swarm.velocity.shape) < 1.0 / (1.0 + np.exp(-swarm.velocity))
                    swarm.position = keep_one.astype(np.int64)
                best = Population(swarm.pbest_pos.reshape(n, *shape).astype(np.uint8), swarm.pbest_cost)
                best = best[np.isfinite(best.errors)] if np.isfinite(best.errors).any() else best[:0]
                return finish(obj, best, population)


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
