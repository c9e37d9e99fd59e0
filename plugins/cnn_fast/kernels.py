"""Fused CPU inference of :class:`~invtoolkit_plugins.cnn_fast.network.FastCNN` (numba).

One grid at a time from input to loop, every intermediate in L1/L2 cache, grids in
parallel (prange). The same arithmetic as the torch network in float32 (sums in another
order: equal to float rounding, ~1e-6), so ``tests/test_cnn_fast.py`` compares them.
"""

from __future__ import annotations

import numba
import numpy as np


def neighbour_table(h: int, w: int, d: int) -> np.ndarray:
    """(H*W, 9) flat index of cell p + ((i-1)d, (j-1)d) at column 3*i+j, circular."""
    r, c = np.divmod(np.arange(h * w), w)
    cols = [((r + (i - 1) * d) % h) * w + (c + (j - 1) * d) % w for i in range(3) for j in range(3)]
    return np.stack(cols, 1).astype(np.int32)


@numba.njit(fastmath=True, cache=True)
def _block(h, out, nb, w, b):
    """out = h + relu([h, edge sums, corner sums] @ w + b) for one grid (P, C)."""
    n_cells, c = h.shape
    acc = np.empty(c, np.float32)
    for p in range(n_cells):
        acc[:] = b
        for i in range(c):
            x0 = h[p, i]
            xe = h[nb[p, 1], i] + h[nb[p, 3], i] + h[nb[p, 5], i] + h[nb[p, 7], i]
            xk = h[nb[p, 0], i] + h[nb[p, 2], i] + h[nb[p, 6], i] + h[nb[p, 8], i]
            for o in range(c):
                acc[o] += x0 * w[i, o] + xe * w[c + i, o] + xk * w[2 * c + i, o]
        for o in range(c):
            out[p, o] = h[p, o] + max(acc[o], np.float32(0.0))


@numba.njit(fastmath=True, cache=True)
def _dense(x, w, b, out, relu):
    for o in range(len(b)):
        out[o] = b[o]
    for i in range(len(x)):
        xi = x[i]
        for o in range(len(b)):
            out[o] += xi * w[i, o]
    if relu:
        for o in range(len(b)):
            out[o] = max(out[o], np.float32(0.0))


@numba.njit(fastmath=True, cache=True)
def _features(g, top, stem_nb, tables, stem_b, block_nb, block_w, block_b, emb_w, emb_b, feats):
    """Pooled features (2E+2,) of one flat 0/1 grid g (P,)."""
    n_cells, c = g.shape[0], stem_b.shape[0]
    e = emb_b.shape[0]
    h = np.empty((n_cells, c), np.float32)
    h2 = np.empty((n_cells, c), np.float32)
    for p in range(n_cells):
        h[p, :] = stem_b
        for t in range(stem_nb.shape[0]):
            code = 0
            for k in range(9):
                code |= np.int32(g[stem_nb[t, p, k]]) << k
            for o in range(c):
                h[p, o] += tables[t, code, o]
        for o in range(c):
            h[p, o] = max(h[p, o], np.float32(0.0))
    for layer in range(block_w.shape[0]):
        _block(h, h2, block_nb[layer], block_w[layer], block_b[layer])
        h, h2 = h2, h
    feats[:] = 0.0
    emb = np.empty(e, np.float32)
    pores = 0
    for p in range(n_cells):
        _dense(h[p], emb_w, emb_b, emb, True)
        for o in range(e):
            feats[o] += emb[o]
        if g[p]:
            pores += 1
            for o in range(e):
                feats[e + o] += emb[o]
    porosity = np.float32(pores / n_cells)
    for o in range(e):
        feats[o] /= n_cells
        feats[e + o] /= n_cells * max(porosity, np.float32(1e-6))
    feats[2 * e] = porosity
    feats[2 * e + 1] = top


@numba.njit(fastmath=True, cache=True)
def _head(z, top, steps, out):
    """LoopHead of the cnn for one grid: logits z -> loop (2*steps+1,)."""
    s = steps
    m = z[0]
    for k in range(1, s + 1):
        m = max(m, z[k])
    tot = np.float32(0.0)
    for k in range(s + 1):
        out[k] = np.exp(z[k] - m)
        tot += out[k]
    run = np.float32(0.0)
    for k in range(s + 1):
        run += out[k]
        out[k] = run / tot * top
    prev = out[s]
    for k in range(s - 1, 0, -1):
        keep = np.float32(1.0) / (np.float32(1.0) + np.exp(-z[s + 2 + k - 1]))
        a = out[k]
        prev = a + keep * (prev - a)
        out[2 * s - k] = prev
    out[2 * s] = out[0]
    for k in range(2 * s + 1):
        out[k] = min(max(out[k], np.float32(0.0)), np.float32(1.0))


@numba.njit(parallel=True, fastmath=True, cache=True)
def forward(grids, tops, steps, stem_nb, tables, stem_b, block_nb, block_w, block_b, emb_w, emb_b,
            w1, b1, w2, b2, w3, b3, out):
    """grids (N, P) uint8, tops (N,) float32 -> out (N, 2*steps+1) float32."""
    n_feat = 2 * emb_b.shape[0] + 2
    for n in numba.prange(grids.shape[0]):
        feats = np.empty(n_feat, np.float32)
        z1 = np.empty(b1.shape[0], np.float32)
        z2 = np.empty(b2.shape[0], np.float32)
        z3 = np.empty(b3.shape[0], np.float32)
        _features(grids[n], tops[n], stem_nb, tables, stem_b, block_nb, block_w, block_b, emb_w, emb_b, feats)
        _dense(feats, w1, b1, z1, True)
        _dense(z1, w2, b2, z2, True)
        _dense(z2, w3, b3, z3, False)
        _head(z3, tops[n], steps, out[n])


def kernel_args(net, grid_shape) -> tuple:
    """The numba arguments (after grids, tops) of a FastCNN, float32 contiguous."""
    import torch

    h, w = grid_shape
    with torch.no_grad():
        f32 = lambda t: np.ascontiguousarray(t.detach().cpu().numpy(), np.float32)  # noqa: E731
        tables = f32(net.tables[:, net.orbit])  # (S, 512, C): orbit lookup folded in
        stem_nb = np.stack([neighbour_table(h, w, d) for d in net.stem_dilations])
        block_nb = np.stack([neighbour_table(h, w, d) for d in net.dilations]) if net.dilations else \
            np.zeros((0, h * w, 9), np.int32)
        lin = [m for m in net.mlp if hasattr(m, "weight")]
        return (int(net.head.steps), stem_nb, tables, f32(net.stem_bias), block_nb, f32(net.block_w),
                f32(net.block_b), f32(net.embed.weight.T), f32(net.embed.bias),
                f32(lin[0].weight.T), f32(lin[0].bias), f32(lin[1].weight.T), f32(lin[1].bias),
                f32(lin[2].weight.T), f32(lin[2].bias))


def predict(args, grids: np.ndarray, tops: np.ndarray) -> np.ndarray:
    """float32 (N, 2*steps+1) loops of uint8 grids (N,H,W) and float32 tops (N,)."""
    flat = np.ascontiguousarray(grids.reshape(len(grids), -1), np.uint8)
    out = np.empty((len(grids), 2 * args[0] + 1), np.float32)
    forward(flat, np.ascontiguousarray(tops, np.float32), *args, out)
    return out
