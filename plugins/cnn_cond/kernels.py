"""Fused CPU inference of :class:`~invtoolkit_plugins.cnn_cond.network.CondCNN` (numba).

The cnn-fast kernel (one grid at a time, grids in parallel, a BLAS product per block) with
the per-grid FiLM affine map after the stem and after each block; the FiLM MLP, the head
MLP (batched GEMMs) and the loop head (cnn-fast's) run outside the trunk.
"""

from __future__ import annotations

import functools

import numba
import numpy as np

from invtoolkit_plugins.cnn_fast.kernels import exact_order, head, neighbour_table


@numba.njit(fastmath=True, boundscheck=False)
def film(h, scale, shift):
    """FiLM in place: every cell's channels h[p] <- h[p] * scale + shift."""
    for p in range(h.shape[0]):
        hp = h[p]
        for o in range(h.shape[1]):
            hp[o] = hp[o] * scale[o] + shift[o]


@functools.lru_cache(maxsize=8)
def trunk_kernel(c: int, e: int):
    """The conditioned trunk compiled for C channels and E embeddings."""
    zero = np.float32(0.0)

    @numba.njit(fastmath=True, boundscheck=False)
    def stem(g, stem_nb, tables, stem_b, h):
        for p in range(h.shape[0]):
            hp = h[p]
            for o in range(c):
                hp[o] = stem_b[o]
            for t in range(stem_nb.shape[0]):
                code = 0
                for k in range(9):
                    code |= np.int32(g[stem_nb[t, p, k]]) << k
                row = tables[t, code]
                for o in range(c):
                    hp[o] += row[o]
            for o in range(c):
                hp[o] = max(hp[o], zero)

    @numba.njit(fastmath=True, boundscheck=False)
    def gather(h, nb, x):
        for p in range(h.shape[0]):
            xr, a = x[p], h[p]
            e0, e1, e2, e3 = h[nb[p, 1]], h[nb[p, 3]], h[nb[p, 5]], h[nb[p, 7]]
            k0, k1, k2, k3 = h[nb[p, 0]], h[nb[p, 2]], h[nb[p, 6]], h[nb[p, 8]]
            for i in range(c):
                xr[i] = a[i]
                xr[c + i] = e0[i] + e1[i] + e2[i] + e3[i]
                xr[2 * c + i] = k0[i] + k1[i] + k2[i] + k3[i]

    @numba.njit(fastmath=True, boundscheck=False)
    def residual(h, y, b):
        for p in range(h.shape[0]):
            hp, yp = h[p], y[p]
            for o in range(c):
                hp[o] += max(yp[o] + b[o], zero)

    @numba.njit(fastmath=True, boundscheck=False)
    def pool(g, y, emb_b, feats):
        acc_all = np.zeros(e, np.float32)
        acc_pore = np.zeros(e, np.float32)
        pores = 0
        for p in range(y.shape[0]):
            pore = np.float32(g[p] != 0)
            pores += g[p] != 0
            yp = y[p]
            for o in range(e):
                v = max(yp[o] + emb_b[o], zero)
                acc_all[o] += v
                acc_pore[o] += pore * v
        n_cells = y.shape[0]
        porosity = np.float32(pores / n_cells)
        for o in range(e):
            feats[o] = acc_all[o] / n_cells
            feats[e + o] = acc_pore[o] / (n_cells * max(porosity, np.float32(1e-6)))
        feats[2 * e] = porosity

    @numba.njit(parallel=True, fastmath=True)
    def trunk(grids, tops, films, stem_nb, tables, stem_b, block_nb, block_w, block_b, emb_w, emb_b, feats):
        """grids (N, P) uint8, tops (N,), films (N, L, 2, C) = (1 + gamma, beta) -> feats[:, :2E+2]."""
        n_cells = grids.shape[1]
        for n in numba.prange(grids.shape[0]):
            g = grids[n]
            h = np.empty((n_cells, c), np.float32)
            x = np.empty((n_cells, 3 * c), np.float32)
            stem(g, stem_nb, tables, stem_b, h)
            film(h, films[n, 0, 0], films[n, 0, 1])
            for layer in range(block_w.shape[0]):
                gather(h, block_nb[layer], x)
                residual(h, np.dot(x, block_w[layer]), block_b[layer])
                film(h, films[n, layer + 1, 0], films[n, layer + 1, 1])
            pool(g, np.dot(h, emb_w), emb_b, feats[n])
            feats[n, 2 * e + 1] = tops[n]

    return trunk


def _mlp(layers, z):
    """Dense layers (W^T, b, activation) on the rows of z; the activation between layers."""
    for k, (w, b, act) in enumerate(layers):
        z = z @ w
        z += b
        if k < len(layers) - 1:
            if act == "tanh":
                np.tanh(z, out=z)
            else:
                np.maximum(z, 0.0, out=z)
    return z


def kernel_args(net, grid_shape) -> dict:
    """The arrays of a CondCNN for :func:`predict`, float32 contiguous."""
    import torch

    h, w = grid_shape
    f32 = lambda t: np.ascontiguousarray(t.detach().cpu().numpy(), np.float32)  # noqa: E731
    with torch.no_grad():
        block_nb = [neighbour_table(h, w, d) for d in net.dilations]
        return {
            "steps": int(net.head.steps),
            "trunk": (np.stack([neighbour_table(h, w, d) for d in net.stem_dilations]),
                      f32(net.tables[:, net.orbit]), f32(net.stem_bias),
                      np.stack(block_nb) if block_nb else np.zeros((0, h * w, 9), np.int32),
                      f32(net.block_w), f32(net.block_b), f32(net.embed.weight.T), f32(net.embed.bias)),
            "film": [(f32(m.weight.T), f32(m.bias), "tanh") for m in net.film if hasattr(m, "weight")],
            "mlp": [(f32(m.weight.T), f32(m.bias), "relu") for m in net.mlp if hasattr(m, "weight")],
            "n_film": int(net.n_film),
            "widths": (int(net.stem_bias.shape[0]), int(net.embed.out_features)),
        }


def predict(args: dict, grids: np.ndarray, tops: np.ndarray, uv: np.ndarray) -> np.ndarray:
    """float32 (N, 2*steps+1) loops of 0/1 grids (N,H,W), tops (N,) and normalized conditions (N, 2)."""
    c, e = args["widths"]
    flat = np.ascontiguousarray(grids.reshape(len(grids), -1), np.uint8)
    tops = np.ascontiguousarray(tops, np.float32)
    uv = np.ascontiguousarray(uv, np.float32)
    films = _mlp(args["film"], uv.copy()).reshape(len(grids), args["n_film"], 2, c)
    films[:, :, 0] += 1.0  # scale = 1 + gamma
    feats = np.empty((len(grids), 2 * e + 4), np.float32)
    trunk_kernel(c, e)(flat, tops, np.ascontiguousarray(films), *args["trunk"], feats)
    feats[:, 2 * e + 2:] = uv
    z = _mlp(args["mlp"], feats)
    out = np.empty((len(grids), 2 * args["steps"] + 1), np.float32)
    head(np.ascontiguousarray(z), tops, args["steps"], out)
    return exact_order(out, args["steps"])
