"""Leave-one-family-out (LOFO) measurement of the cnn surrogate (issue 17).

1. ``label``: one store of N grids per structure family (fam-* of plugins/families.py),
   20 x 20, lattice-dft with its default parameters, full 81-point loop, seed 3131 + k for
   the k-th family (chunk j drawn from SeedSequence([3131 + k, j])), duplicates kept so
   every family weighs N rows (slits have only 19 grids up to symmetry);
2. ``train``: union stores ALL (7 families) and ALL-minus-F (6 families), each trained
   from scratch with the shipped cnn architecture and the same budget (wall-time
   limit, 1 thread, seed 3131); a finished model directory is skipped;
3. ``eval``: held-out draws of every family (training/eval_families.py's draws, seed
   20261717, labelled once), per model and family the mean / p95 / worst MAE over the
   loop; for F: ALL-minus-F (F unseen) vs ALL (F seen) vs the shipped cnn. Also the
   share of held-out F grids equal up to symmetry to a grid of ALL-minus-F's training
   store (families overlap: fam-union and fam-dense contain slits and rectangles).

    python training/lofo.py all --root /work/runs/lofo17 --json training/lofo_results.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from invtoolkit_plugins.benchmarking.families import FAMILIES, error_summary

HERE = Path(__file__).resolve().parent

LABEL_SEED = 3131
TRAIN_SEED = 3131
REFERENCE = "all-seed3132"  # ALL again with training seed 3132: the seed-to-seed spread
REFERENCE_SEED = 3132
EVAL_SEED = 20261717
SHIPPED = HERE.parent / "plugins" / "models" / "cnn"
COMPATIBLE_KEYS = ("grid_shape", "simulator", "simulator_params", "simulator_options")


def store_path(root: Path, family: str) -> Path:
    return Path(root) / "stores" / f"{family}.zarr"


def model_names(reference: bool = False) -> list[str]:
    """'all' and 'minus-<family>' for every family (and the seed reference)."""
    return ["all"] + [f"minus-{f}" for f in FAMILIES] + ([REFERENCE] if reference else [])


def kept_families(model: str) -> list[str]:
    if model in ("all", REFERENCE):
        return list(FAMILIES)
    left_out = model.removeprefix("minus-")
    if left_out not in FAMILIES or not model.startswith("minus-"):
        raise ValueError(f"unknown LOFO model {model!r}")
    return [f for f in FAMILIES if f != left_out]


def label(root: Path, n: int, workers: int) -> None:
    """One store per family (``invtoolkit dataset generate`` resumes / skips complete ones)."""
    (Path(root) / "stores").mkdir(parents=True, exist_ok=True)
    for k, family in enumerate(FAMILIES):
        cmd = ["nice", "-n", "10", str(HERE.parent / ".venv/bin/invtoolkit"), "dataset", "generate",
               "-o", str(store_path(root, family)), "--n", str(n), "--sampler", family,
               "--seed", str(LABEL_SEED + k), "--chunk-size", "4000", "--workers", str(workers),
               "--allow-duplicates", "--no-progress"]
        subprocess.run(cmd, check=True)


def build_union(parts, out, *, block: int = 20_000):
    """Write the rows of the stores ``parts`` one after the other into a new store ``out``.

    The parts must agree on grid shape, simulator, parameters and pressures. Built under a
    temporary name and renamed, so ``out`` is either complete or absent; an existing
    complete ``out`` with the same parts is left as it is. Returns the open store.
    """
    from invtoolkit.datasets.dataset import Dataset
    from invtoolkit.errors import InputError

    out, parts = Path(out), [Dataset.open(p) for p in parts]
    if not parts:
        raise InputError("union of no stores")
    first = parts[0].attrs
    for ds in parts[1:]:
        bad = [k for k in COMPATIBLE_KEYS if ds.attrs.get(k) != first.get(k)]
        if bad or not np.array_equal(ds.pressures, parts[0].pressures):
            raise InputError(f"{ds.path}: differs from {parts[0].path} in {bad or ['pressures']}")
    record = [{"path": str(ds.path), "sampler": ds.attrs.get("sampler"), "seed": ds.attrs.get("seed"),
               "rows": len(ds)} for ds in parts]
    if out.exists():
        have = Dataset.open(out)
        if have.attrs.get("union_of") == record and len(have) == sum(r["rows"] for r in record):
            return have
        raise InputError(f"{out}: exists and is not the union of these stores; remove it")
    tmp = out.with_name(f".{out.name}.building")
    if tmp.exists():
        shutil.rmtree(tmp)
    ds = Dataset.create(tmp, shape=first["grid_shape"], simulator_name=first["simulator"],
                        simulator_params=first["simulator_params"], pressures=parts[0].pressures,
                        sampler="+".join(str(r["sampler"]) for r in record), seed=None,
                        simulator_options=first.get("simulator_options"), chunk_size=block,
                        extra={"union_of": record})
    for part in parts:
        for _, grids, curves in part.iter_blocks(block):
            ds.append(grids, curves)
    tmp.rename(out)
    return Dataset.open(out)


def train_command(store: Path, out: Path, minutes: float, threads: int, seed: int = TRAIN_SEED) -> list[str]:
    """``invtoolkit train surrogate`` from scratch with the shipped cnn's architecture."""
    arch = json.loads((SHIPPED / "config.json").read_text())["architecture"]
    cmd = ["nice", "-n", "10", str(HERE.parent / ".venv/bin/invtoolkit"), "train", "surrogate", str(store),
           "-o", str(out), "--epochs", "100", "--time-limit", str(minutes), "--batch-size", "256",
           "--lr", "2e-3", "--patience", "8", "--seed", str(seed), "--threads", str(threads),
           "--no-progress"]
    for key, value in arch.items():
        text = ",".join(map(str, value)) if isinstance(value, list) else str(value)
        cmd += ["--arch", f"{key}={text}"]
    if (out / "checkpoint.pt").exists():
        cmd.append("--resume")
    return cmd


def wait_for_lock(path) -> None:
    """Wait while another process holds the flock on ``path`` (a benchmark that wants
    the machine quiet), so that no model starts its wall-time budget during one."""
    import fcntl

    with open(path, "a") as fh:
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fh, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                time.sleep(10)


def train(root: Path, minutes: float, threads: int, models=None, wait_lock=None) -> None:
    """Union store and training for every model; finished model directories are skipped."""
    root = Path(root)
    for model in models or model_names():
        out = root / "models" / model
        if (out / "weights.pt").exists() and (out / "config.json").exists():
            print(f"{model}: done, skipped", flush=True)
            continue
        union = root / "unions" / f"{'all' if model == REFERENCE else model}.zarr"
        union.parent.mkdir(parents=True, exist_ok=True)
        build_union([store_path(root, f) for f in kept_families(model)], union)
        if wait_lock:
            wait_for_lock(wait_lock)
        t = time.monotonic()
        print(f"{model}: training ({time.strftime('%H:%M:%S')})", flush=True)
        with open(root / f"train_{model}.log", "a") as log:
            seed = REFERENCE_SEED if model == REFERENCE else TRAIN_SEED
            subprocess.run(train_command(union, out, minutes, threads, seed), check=True, stdout=log, stderr=log)
        print(f"{model}: trained in {time.monotonic() - t:.0f} s", flush=True)


def held_out(n: int, seed: int, threads: int):
    """eval_families.py's held-out draws (rng [seed, k] for family k), labelled once."""
    from invtoolkit.hooks import registry

    dft = registry.create("simulator", "lattice-dft", threads=threads)
    draws = {}
    for k, family in enumerate(FAMILIES):
        grids = registry.create("sampler", family).sample(n, (20, 20), np.random.default_rng([seed, k]))
        draws[family] = (grids, dft.simulate(grids))
    return draws


def store_hashes(root: Path) -> dict:
    """Per family, the symmetry hashes of every grid of its training store."""
    from invtoolkit.datasets.dataset import Dataset
    from invtoolkit.core.symmetry import canonical_hash

    hashes = {}
    for family in FAMILIES:
        hashes[family] = set()
        for _, grids, _ in Dataset.open(store_path(root, family)).iter_blocks():
            hashes[family].update(canonical_hash(grids).tolist())
    return hashes


def model_record(model_dir: Path) -> dict:
    """Training facts of a model directory (rows, epochs, steps, seconds, validation MAE)."""
    training = json.loads((Path(model_dir) / "config.json").read_text())["training"]
    member = training["members"][0]
    return {"dataset_rows": training["dataset_rows"], "time_limit_min": training["time_limit_min"],
            "seed": training["seed"], "command": training["command"],
            **{k: member[k] for k in ("epochs_run", "best_epoch", "steps", "seconds", "stopped_by", "val_mae")}}


def model_errors(model_dir: Path, draws: dict, threads: int) -> dict:
    """Per-grid loop MAE of one cnn model directory on the held-out draws, by family."""
    from invtoolkit.hooks import registry

    sur = registry.create("surrogate", "cnn", model=str(model_dir), threads=threads)
    return {family: np.abs(sur.simulate(grids) - truth).mean(1) for family, (grids, truth) in draws.items()}


def summaries(errs: dict) -> dict:
    return {**{family: error_summary(e) for family, e in errs.items()},
            "overall": error_summary(np.concatenate(list(errs.values())))}


def lofo_row(family: str, errors: dict, hashes: list, seen_other: set, seen_all: set) -> dict:
    """F's row: unseen / seen / shipped errors, the overlap of F's held-out grids with
    the training stores, and the unseen error on the held-out grids in no other family."""
    in_other = np.array([h in seen_other for h in hashes])
    unseen = errors[f"minus-{family}"][family]
    reference = error_summary(errors[REFERENCE][family]) if REFERENCE in errors else None
    others = [float(errors[f"minus-{g}"][family].mean()) for g in FAMILIES if g != family]
    return {"family": family, "seen_seed3132": reference,
            "seen_by_other_lofo_models": {"mean_of_means": float(np.mean(others)), "min": min(others),
                                          "max": max(others)}, "unseen": error_summary(unseen), "seen": error_summary(errors["all"][family]),
            "shipped": error_summary(errors["shipped"][family]),
            "held_out_in_other_families": float(in_other.mean()),
            "held_out_in_all": float(np.mean([h in seen_all for h in hashes])),
            "unseen_novel": error_summary(unseen[~in_other]) if (~in_other).any() else None,
            "seen_novel": error_summary(errors["all"][family][~in_other]) if (~in_other).any() else None}


def evaluate(root: Path, n: int, threads: int) -> dict:
    """The LOFO table: per family F, ALL-minus-F (unseen) vs ALL (seen) vs shipped."""
    import torch

    from invtoolkit.core.symmetry import canonical_hash

    torch.set_num_threads(threads)
    root = Path(root)
    draws = held_out(n, EVAL_SEED, threads)
    models = {name: root / "models" / name for name in model_names(reference=True)}
    if not (models[REFERENCE] / "config.json").exists():  # the seed reference is optional
        del models[REFERENCE]
    errors = {name: model_errors(path, draws, threads) for name, path in models.items()}
    errors["shipped"] = model_errors(SHIPPED, draws, threads)
    hashes = store_hashes(root)
    seen_all = set().union(*hashes.values())
    rows = [lofo_row(family, errors, canonical_hash(draws[family][0]).tolist(),
                     set().union(*(hashes[f] for f in kept_families(f"minus-{family}"))), seen_all)
            for family in FAMILIES]
    return {"issue": 17, "eval_seed": EVAL_SEED, "eval_n_per_family": n, "label_seed": f"{LABEL_SEED} + family index",
            "train_seed": TRAIN_SEED, "families": list(FAMILIES), "lofo": rows,
            "distinct_training_grids": {family: len(h) for family, h in hashes.items()},
            "models": {name: model_record(path) for name, path in models.items()},
            "per_model_per_family": {name: summaries(e) for name, e in errors.items()},
            "command": " ".join(["python", "training/lofo.py", *sys.argv[1:]])}


def print_table(result: dict) -> None:
    """One row per family: unseen (ALL-minus-F), seen (ALL), shipped -- mean / p95 / worst;
    the share of F's held-out grids found in the other families' stores and, on the rest,
    the unseen and seen mean MAE; the range of F's mean MAE over the 6 ALL-minus-G models
    (G != F), which all see F."""
    print(f"LOFO, held-out seed {result['eval_seed']}, {result['eval_n_per_family']} grids per family "
          "(MAE over the 81-point loop: mean / p95 / worst)")
    print(f"{'family':<12}{'ALL-minus-F (unseen)':>24}{'ALL (seen)':>24}{'shipped cnn':>24}"
          f"{'in other':>9}{'novel: unseen':>15}{'seen':>8}{'ALL seed 3132':>15}{'6 others (seen)':>17}")
    for r in result["lofo"]:
        cells = "".join(f"{r[k]['mae_mean']:>9.4f}{r[k]['mae_p95']:>8.4f}{r[k]['mae_worst']:>8.4f}"
                        for k in ("unseen", "seen", "shipped"))
        novel = (f"{r['unseen_novel']['mae_mean']:>15.4f}{r['seen_novel']['mae_mean']:>8.4f}"
                 if r["unseen_novel"] else f"{'-':>15}{'-':>8}")
        ref = f"{r['seen_seed3132']['mae_mean']:>15.4f}" if r.get("seen_seed3132") else f"{'-':>15}"
        o = r["seen_by_other_lofo_models"]
        print(f"{r['family']:<12}{cells}{r['held_out_in_other_families']:>9.2f}{novel}{ref}"
              f"{o['min']:>9.4f}-{o['max']:.4f}")
    for name, errs in result["per_model_per_family"].items():
        o = errs["overall"]
        print(f"{name:<18} overall mean {o['mae_mean']:.4f}  p95 {o['mae_p95']:.4f}  worst {o['mae_worst']:.3f}")


def markdown_table(result: dict) -> str:
    """The LOFO tables for docs/surrogate-notes.md: errors (mean / p95 / worst per cell),
    then the controls (seed spread, the other LOFO models, overlap of the families)."""
    def cell(e):
        return f"{e['mae_mean']:.4f} / {e['mae_p95']:.4f} / {e['mae_worst']:.4f}" if e else "-"

    main = ["| family F | ALL-minus-F on F (unseen) | ALL on F (seen) | shipped cnn |", "|---|---|---|---|"]
    controls = ["| family F | ALL, training seed 3132 | 6 ALL-minus-G models (G != F, F seen) | "
                "held-out F grids in the other families' stores | unseen / seen on the rest |", "|---|---|---|---|---|"]
    for r in result["lofo"]:
        main.append(f"| {r['family']} | {cell(r['unseen'])} | {cell(r['seen'])} | {cell(r['shipped'])} |")
        o, ref = r["seen_by_other_lofo_models"], r.get("seen_seed3132")
        rest = (f"{r['unseen_novel']['mae_mean']:.4f} / {r['seen_novel']['mae_mean']:.4f}"
                if r["unseen_novel"] else "- (none left)")
        controls.append(f"| {r['family']} | {ref['mae_mean']:.4f} | {o['min']:.4f} - {o['max']:.4f} | "
                        f"{r['held_out_in_other_families']:.0%} | {rest} |" if ref else
                        f"| {r['family']} | - | {o['min']:.4f} - {o['max']:.4f} | "
                        f"{r['held_out_in_other_families']:.0%} | {rest} |")
    return "\n".join(main) + "\n\n" + "\n".join(controls)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["label", "train", "eval", "all", "markdown"])
    ap.add_argument("--root", default="/work/runs/lofo17", help="stores, unions and models (not in the repo)")
    ap.add_argument("--n", type=int, default=24_000, help="training grids per family")
    ap.add_argument("--workers", type=int, default=2, help="labelling processes")
    ap.add_argument("--minutes", type=float, default=11.0, help="wall-time budget per model (same for all)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (training and evaluation)")
    ap.add_argument("--models", default=None,
                    help="comma-separated subset of " + ",".join(model_names(reference=True)))
    ap.add_argument("--reference", action="store_true", help=f"also train {REFERENCE} (ALL, another seed)")
    ap.add_argument("--wait-lock", default=None, help="before each training, wait while this flock is held")
    ap.add_argument("--eval-n", type=int, default=500, help="held-out grids per family")
    ap.add_argument("--json", default=str(HERE / "lofo_results.json"), help="results file")
    args = ap.parse_args(argv)
    models = args.models.split(",") if args.models else None
    bad = sorted(set(models or []) - set(model_names(reference=True)))
    if bad or args.n < 10 or args.minutes <= 0 or args.eval_n < 1:
        sys.exit(f"error: bad option ({'unknown models ' + ', '.join(bad) if bad else 'n, minutes or eval-n'})")
    if args.step == "markdown":  # the table of an existing results file
        try:
            print(markdown_table(json.loads(Path(args.json).read_text())))
        except (OSError, ValueError, KeyError) as exc:
            sys.exit(f"error: {args.json}: not a LOFO results file ({type(exc).__name__})")
        return
    if args.step in ("label", "all"):
        label(args.root, args.n, args.workers)
    if args.step in ("train", "all"):
        train(args.root, args.minutes, args.threads, models or model_names(args.reference), args.wait_lock)
    if args.step in ("eval", "all"):
        result = evaluate(args.root, args.eval_n, args.threads)
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
        print_table(result)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
