"""Training the turning-point head of ``cnn-cond`` on frozen loops (``training/cond_turn.sh``).

The network's loops are computed once; only the small head learns, so a run takes
minutes. Seeded: the validation conditions and the batch order come from ``seed``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from invtoolkit.plugin import InputError, modelio

HIDDEN = 64
BATCH = 1024
TC_LABEL = 647.0  # the data's TC (training/cond_data.py): the model depends on T/TC only


def load_turning_data(folder) -> list[dict]:
    files = sorted(Path(folder).glob("turn[0-9][0-9][0-9][0-9].npz"))
    if not files:
        raise InputError(f"{folder}: no turn*.npz files (run training/cond_turn.py data first)")
    out = []
    for f in files:
        with np.load(f) as d:
            out.append({k: d[k] for k in ("grids", "t", "y", "pt", "labels", "top")})
    return out


def frozen_loops(sur, rows: list[dict]) -> np.ndarray:
    """(N, 2S+1) the model's internal loops on every row's grids at its condition."""
    return np.concatenate([sur.with_options(T=float(r["t"]) * TC_LABEL, TC=TC_LABEL, y=float(r["y"]), threads=1)
                           .internal_loops(r["grids"], r["top"]) for r in rows])


def node_terms(loops, pt, steps: int):
    """torch (A_k, capped gap_k) at the nodes k/S, k = 0..S-1: the old mapping is A + gap."""
    import torch

    ads = loops[:, :steps + 1]
    x = (pt * steps).clamp(max=steps - 1e-6)
    k = x.floor().long()
    cap = torch.lerp(ads.gather(1, k[:, None]), ads.gather(1, k[:, None] + 1), (x - k)[:, None])
    a = ads[:, :steps]
    d = loops.flip(1)[:, :steps]  # desorption at k/S: column 2S - k
    return a, (torch.minimum(d, cap) - a).clamp_min(0.0)


def _tensors(rows, loops):
    import torch

    from invtoolkit_plugins.cnn_cond.network import normalize_conditions

    size = [len(r["grids"]) for r in rows]
    cond = torch.from_numpy(np.concatenate([np.tile(np.float32([r["t"], r["y"]]), (n, 1)) for r, n in zip(rows, size)]))
    pt = torch.from_numpy(np.concatenate([np.full(n, r["pt"], np.float32) for r, n in zip(rows, size)]))
    labels = torch.from_numpy(np.concatenate([r["labels"] for r in rows]))
    return torch.from_numpy(loops.astype(np.float32)), normalize_conditions(cond), pt, labels


def _mae(head, data, idx, steps) -> tuple[float, float]:
    """(head, old mapping) mean |error| over the labelled nodes k >= 1 of rows ``idx``."""
    import torch

    loops, uv, pt, labels = (x[idx] for x in data)
    with torch.inference_mode():
        a, gap = node_terms(loops, pt, steps)
        phi = head(loops, uv, pt)
    ok = ~torch.isnan(labels)
    ok[:, 0] = False
    lab = torch.nan_to_num(labels)
    return (float(((a + phi * gap - lab).abs() * ok).sum() / ok.sum()),
            float(((a + gap - lab).abs() * ok).sum() / ok.sum()))


def fit_head(data_dir, model, out, *, epochs: int, seed: int, command: str = "", lr: float = 3e-3,
             batch: int = BATCH) -> dict:
    """Train the head on ``model``'s frozen loops; write ``model`` + head to ``out``."""
    import torch

    from invtoolkit_plugins.cnn_cond import CNNCondSurrogate
    from invtoolkit_plugins.cnn_cond.turning import TurningHead, gap_init_bias

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    sur = CNNCondSurrogate(model, threads=1)
    steps = sur.steps_internal
    rows = load_turning_data(data_dir)
    t0 = time.monotonic()
    data = _tensors(rows, frozen_loops(sur, rows))
    print(f"loops of {len(data[0])} rows: {time.monotonic() - t0:.0f} s", flush=True)
    rng = np.random.default_rng(seed)
    val_cond = set(rng.permutation(len(rows))[: max(1, len(rows) // 10)].tolist())
    which = np.concatenate([np.full(len(r["grids"]), i in val_cond) for i, r in enumerate(rows)])
    tr, va = np.flatnonzero(~which), np.flatnonzero(which)
    head = TurningHead(steps, HIDDEN)
    gap_init_bias(head)
    history = _train(head, data, tr, va, steps, epochs, lr, rng, batch)
    val, old = _mae(head, data, va, steps)
    print(f"validation node MAE: head {val:.5f}, old mapping {old:.5f}", flush=True)
    _save(sur, head, out, {"command": command, "rows": int(len(tr)), "val_rows": int(len(va)),
                           "val_node_mae": val, "val_node_mae_old_mapping": old, "epochs": epochs,
                           "seed": seed, "history": history})
    return {"val": val, "old": old}


def _train(head, data, tr, va, steps, epochs, lr, rng, batch) -> list:
    import torch

    opt = torch.optim.Adam(head.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    loops, uv, pt, labels = data
    ok_all = ~torch.isnan(labels)
    ok_all[:, 0] = False
    lab_all = torch.nan_to_num(labels)
    history = []
    for e in range(epochs):
        order = torch.from_numpy(rng.permutation(tr))
        for s in range(0, len(order), batch):
            b = order[s:s + batch]
            a, gap = node_terms(loops[b], pt[b], steps)
            err = (a + head(loops[b], uv[b], pt[b]) * gap - lab_all[b]).abs() * ok_all[b]
            loss = err.sum() / ok_all[b].sum().clamp_min(1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        history.append(round(_mae(head, data, va, steps)[0], 6))
        print(f"epoch {e + 1}: val node MAE {history[-1]:.5f}", flush=True)
    return history


def _save(sur, head, out, record: dict) -> None:
    config = {k: v for k, v in sur.config.items() if k not in ("format", "format_version", "members")}
    config["architecture"] = {**config["architecture"], "turning_hidden": HIDDEN}
    config["turning_training"] = record
    state = {**sur.net.state_dict(), **{f"turn.{k}": v for k, v in head.state_dict().items()}}
    modelio.save_model(out, config, [state])
