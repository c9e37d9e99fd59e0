"""The inversion benchmark: every chain, the same held-out targets, the same time each.

Targets are made on the fly: grids from every registered sampler (fixed seed, one
stream per target so a larger ``targets`` only adds targets), labelled by the
exact simulator; their adsorption branch (or full loop) is the target, so a
perfect answer exists. ``textbook=True`` adds smooth textbook shapes (type I, IV
with a hysteresis loop, V) that no grid matches exactly.

Every (chain, target) cell runs the chain with the same time limit and seed; the
exact simulator is wrapped so each of its calls records the best error so far
against the clock (a best-error-vs-time trace). Cells are cached in
``DIR/cells.json`` as they finish: an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from invtoolkit.plugin import (DEFAULT_CHAIN, DEFAULT_GRID_SHAPE, DEFAULT_SIMULATOR, InputError, InvToolkitError,
                               PressureSchedule, Simulator, create, mae, registered_names, write_text)

SINGLE_STAGE_CHAINS = ("random", "ga", "pso", "steepest", "deconv")
THRESHOLDS = (0.005, 0.01, 0.02)
REACH = 0.01  # "time to reach" threshold
TARGET_SEED_OFFSET = 7_000_003  # held out: far from the seeds datasets are drawn with
CACHE_NAME = "cells.json"


@dataclass
class BenchmarkConfig:
    """Everything that changes the cells' results (chains are keyed separately)."""

    targets: int = 20
    time_limit: float = 15.0
    seed: int = 0
    normalization: str = "pore"
    loop: bool = False
    textbook: bool = False
    grid_size: tuple[int, int] = DEFAULT_GRID_SHAPE
    steps: int = 40

    def key(self) -> dict:
        d = asdict(self)
        d["grid_size"] = list(self.grid_size)
        d.pop("textbook")  # adding textbook targets does not change the others
        d.pop("targets")  # more targets only add cells
        return d


@dataclass
class BenchTarget:
    id: str
    kind: str  # "sampled" or "textbook"
    source: str  # sampler name or textbook shape
    values: np.ndarray
    grid: np.ndarray | None = None


@dataclass
class ChainRow:
    chain: str
    label: str
    cells: list[dict] = field(default_factory=list)
    error: str | None = None


def default_chains() -> list[str]:
    """The single optimizers and the invert command's default chain."""
    default = default_chain()
    return [*SINGLE_STAGE_CHAINS, *([default] if default else [])]


def available(chain_text: str) -> str | None:
    """None if every stage of the chain is registered, else the reason it is not."""
    from invtoolkit.plugin import Chain

    try:
        Chain.parse(chain_text).validate()
    except InvToolkitError as exc:
        return str(exc)
    return None


# -- targets -------------------------------------------------------------------------


def make_targets(config: BenchmarkConfig, simulator: Simulator | None = None) -> list[BenchTarget]:
    """``config.targets`` sampled targets (round robin over samplers) plus textbook ones."""
    schedule = target_schedule(config)
    out = []
    if config.targets > 0:
        grids, sources = sample_grids(config)
        sim = simulator or create(
            "simulator", DEFAULT_SIMULATOR, normalization=config.normalization, steps=config.steps,
            adsorption_only=not config.loop,
        )
        curves = np.asarray(sim.simulate(grids))[:, : len(schedule)]
        for i, (grid, curve, src) in enumerate(zip(grids, curves, sources)):
            out.append(BenchTarget(f"t{i:03d}-{src}", "sampled", src, curve, grid))
    if config.textbook:
        scale = 0.5 if config.normalization == "site" else 1.0  # per site: a porosity-0.5 material
        for name, values in textbook_isotherms(schedule).items():
            out.append(BenchTarget(f"textbook-{name}", "textbook", name, values * scale))
    return out


def sample_grids(config: BenchmarkConfig) -> tuple[np.ndarray, list[str]]:
    """One grid per target; target i comes from sampler i mod (number of samplers)."""
    names = registered_names("sampler")
    grids, sources = [], []
    for i in range(config.targets):
        rng = np.random.default_rng([TARGET_SEED_OFFSET, config.seed, i])
        if names:
            name = names[i % len(names)]
            grid = create("sampler", name).sample(1, tuple(config.grid_size), rng)[0]
        else:  # no sampler plugin installed: independent random cells
            from invtoolkit.plugin import Population

            name = "uniform"
            grid = Population.random(1, tuple(config.grid_size), rng).grids[0]
        grids.append(grid)
        sources.append(name)
    return np.asarray(grids, np.uint8), sources


def target_schedule(config: BenchmarkConfig) -> PressureSchedule:
    return PressureSchedule(config.steps, adsorption_only=not config.loop)


def textbook_isotherms(schedule: PressureSchedule) -> dict[str, np.ndarray]:
    """IUPAC textbook shapes as filled fractions on ``schedule`` (0 at p/p0 = 0, 1 at 1).

    * type I: Langmuir-like, a micropore filled at low pressure, reversible;
    * type IV: a monolayer knee, then capillary condensation at p/p0 ~ 0.65 and
      evaporation at ~ 0.5 (an H1 hysteresis loop);
    * type V: weak uptake (repulsive wall), then condensation at ~ 0.45 and
      evaporation at ~ 0.38.
    """
    p = schedule.pressures
    ads = schedule.branches == 0

    def langmuir(x, k):
        return (1 + k) * x / (1 + k * x)

    def step(x, centre, width):
        s = lambda v: 1.0 / (1.0 + np.exp(-(v - centre) / width))  # noqa: E731
        return (s(x) - s(0.0)) / (s(1.0) - s(0.0))

    type_i = langmuir(p, 40.0)
    type_iv = np.where(ads, 0.3 * langmuir(p, 15.0) + 0.7 * step(p, 0.65, 0.025),
                       0.3 * langmuir(p, 15.0) + 0.7 * step(p, 0.50, 0.025))
    type_v = np.where(ads, 0.12 * p**2 + 0.88 * step(p, 0.45, 0.03), 0.12 * p**2 + 0.88 * step(p, 0.38, 0.03))
    return {name: np.clip(v, 0.0, 1.0) for name, v in
            (("type-I", type_i), ("type-IV", type_iv), ("type-V", type_v))}


# -- tracing the exact simulator -----------------------------------------------------------


class ErrorClock:
    """Best DFT-verified error so far against time, over every traced simulator call."""

    def __init__(self, target_values: np.ndarray):
        self.values = np.asarray(target_values, dtype=np.float64)
        self.start = time.monotonic()
        self.best = math.inf
        self.calls = 0
        self.trace: list[tuple[float, float]] = []

    def record(self, curves: np.ndarray) -> None:
        curves = np.asarray(curves)
        if not len(curves):
            return
        self.calls += len(curves)
        err = float(mae(curves[:, : len(self.values)], self.values).min())
        if err < self.best:
            self.best = err
            self.trace.append((time.monotonic() - self.start, err))

    def time_to(self, threshold: float) -> float | None:
        return next((t for t, e in self.trace if e <= threshold), None)


class TracedSimulator(Simulator):
    """A simulator that reports every batch of curves to an :class:`ErrorClock`."""

    def __init__(self, inner: Simulator, clock: ErrorClock):
        self.inner = inner
        self.clock = clock
        self.name = inner.name
        self.schedule = inner.schedule
        self.normalization = inner.normalization
        self.grid_shape = inner.grid_shape

    @property
    def params(self) -> dict:
        return self.inner.params

    def simulate(self, grids, *, progress: bool = False):
        curves = self.inner.simulate(grids, progress=progress)
        self.clock.record(curves)
        return curves

    def with_options(self, **options):
        return TracedSimulator(self.inner.with_options(**options), self.clock)

    def __getattr__(self, name):  # anything else (T, precision, ...) from the wrapped simulator
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


# -- running ---------------------------------------------------------------------------------


def run_cell(chain_text: str, target: BenchTarget, config: BenchmarkConfig, seed: int) -> dict:
    """Run one chain on one target with the benchmark's time limit; a JSON-ready record."""
    from invtoolkit.plugin import Chain, make_evaluator
    from invtoolkit.plugin import Population
    from invtoolkit.plugin import Target

    tgt = Target(target.values, target_schedule(config), config.normalization)
    full = make_evaluator(DEFAULT_SIMULATOR, tgt, full=True)
    staged = make_evaluator(DEFAULT_SIMULATOR, tgt)
    chain = Chain.parse(chain_text)
    clock = ErrorClock(tgt.values)
    result = chain.run(
        tgt, time_limit=config.time_limit, seed=seed,
        simulator=TracedSimulator(full, clock), evaluators={full.name: TracedSimulator(staged, clock)},
        population=Population.empty(tuple(config.grid_size)), keep=1,
    )
    best = result.population
    mae = float(best.errors[0]) if len(best) else math.inf
    curve = result.curves[0][: len(tgt.values)] if len(best) else None
    return {
        "chain": chain_text,
        "target": target.id,
        "kind": target.kind,
        "mae": mae,
        "seconds": round(result.seconds, 3),
        "dft_calls": clock.calls,
        "time_to_reach": clock.time_to(REACH),
        "trace": [[round(t, 3), float(e)] for t, e in clock.trace],
        "stages": [{"stage": s.stage, "evaluations": s.evaluations, "seconds": round(s.seconds, 3),
                    "best_error": s.best_error} for s in result.stages],
        "best_grid": ["".join(map(str, row)) for row in best.grids[0]] if len(best) else None,
        "best_curve": [round(float(v), 6) for v in curve] if curve is not None else None,
    }


class CellCache:
    """``DIR/cells.json``: finished cells keyed by chain and target, written atomically."""

    def __init__(self, directory: Path, config: BenchmarkConfig, fresh: bool = False):
        self.path = Path(directory) / CACHE_NAME
        self.config = config.key()
        self.cells: dict[str, dict] = {}
        if self.path.exists() and not fresh:
            try:
                data = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise InputError(f"{self.path}: unreadable benchmark cache ({exc}); use --fresh") from None
            if data.get("config") != self.config:
                raise InputError(
                    f"{self.path}: made with other settings {data.get('config')}; use another -o DIR or --fresh"
                )
            self.cells = data.get("cells", {})

    @staticmethod
    def key(chain: str, target_id: str) -> str:
        return f"{chain} @ {target_id}"

    def get(self, chain: str, target_id: str) -> dict | None:
        return self.cells.get(self.key(chain, target_id))

    def put(self, record: dict) -> None:
        self.cells[self.key(record["chain"], record["target"])] = record
        write_text(self.path, json.dumps({"config": self.config, "cells": self.cells}, indent=1,
                                         default=_json_default))


def run_benchmark(
    config: BenchmarkConfig,
    chains: list[str],
    out_dir,
    *,
    fresh: bool = False,
    progress: bool = True,
    log=None,
) -> dict:
    """Run (or resume) every cell, then write the tables and plots to ``out_dir``.

    Returns the summary (also written as ``benchmark.json``). A chain whose stages
    are not installed is reported as unavailable, not run.
    """
    from invtoolkit.plugin import progress_bar

    if config.time_limit <= 0:
        raise InputError(f"--time-limit must be > 0, got {config.time_limit:g}")
    if config.targets < 0:
        raise InputError(f"--targets must be >= 0, got {config.targets}")
    if config.normalization not in ("pore", "site"):
        raise InputError(f"normalization must be pore or site, got '{config.normalization}'")
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    cache = CellCache(out, config, fresh=fresh)
    targets = make_targets(config)
    if not targets:
        raise InputError("no targets: give --targets N > 0 or --textbook")
    np.savez_compressed(out / "targets.npz", ids=np.array([t.id for t in targets]),
                        values=np.stack([t.values for t in targets]))
    default = default_chain()
    rows = [ChainRow(c, f"{c} (default)" if c == default else c, error=available(c)) for c in dict.fromkeys(chains)]
    todo = [(r, t, k) for r in rows if r.error is None for k, t in enumerate(targets)
            if cache.get(r.chain, t.id) is None]
    with progress_bar(total=len(todo), desc="benchmark cells", unit="cell", enabled=progress) as bar:
        for row, target, k in todo:
            if row.error is not None:  # failed on an earlier target
                bar.update(1)
                continue
            bar.set_postfix_str(f"{row.chain[:30]} on {target.id}", refresh=True)
            try:
                record = run_cell(row.chain, target, config, seed=config.seed * 100_003 + k)
            except InvToolkitError as exc:
                row.error = f"failed: {exc}"
                bar.update(1)
                continue
            cache.put(record)
            if log is not None:
                log(record)
            bar.update(1)
    for row in rows:
        if row.error is None:
            row.cells = [cache.get(row.chain, t.id) for t in targets]
    summary = summarise(rows, targets, config)
    write_outputs(summary, rows, targets, config, out)
    return summary


def default_chain() -> str:
    """The invert command's default chain."""
    return DEFAULT_CHAIN


# -- summary ----------------------------------------------------------------------------------


def summarise(rows: list[ChainRow], targets: list[BenchTarget], config: BenchmarkConfig) -> dict:
    sampled = [t.id for t in targets if t.kind == "sampled"]
    textbook = [t for t in targets if t.kind == "textbook"]
    chains = []
    for row in rows:
        entry = {"chain": row.chain, "label": row.label, "error": row.error}
        if row.error is None:
            cells = {c["target"]: c for c in row.cells}
            entry.update(_stats([cells[i] for i in sampled], config.time_limit))
            entry.update(_porosity_stats([cells[t.id] for t in targets if t.kind == "sampled"],
                                         [t.grid for t in targets if t.kind == "sampled"]))
            entry["textbook"] = {t.source: cells[t.id]["mae"] for t in textbook}
        chains.append(entry)
    return {
        "config": {**asdict(config), "grid_size": list(config.grid_size)},
        "thresholds": list(THRESHOLDS),
        "reach": REACH,
        "targets": {"sampled": len(sampled), "textbook": [t.source for t in textbook],
                    "samplers": sorted({t.source for t in targets if t.kind == "sampled"})},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "chains": chains,
    }


def _stats(cells: list[dict], time_limit: float) -> dict:
    if not cells:
        return {"n": 0}
    mae = np.array([c["mae"] for c in cells], dtype=np.float64)
    reach = np.array([c["time_to_reach"] if c["time_to_reach"] is not None else np.inf for c in cells])
    med_reach = float(np.median(reach))
    return {
        "n": len(cells),
        "success": {f"{t:g}": float(np.mean(mae <= t)) for t in THRESHOLDS},
        "median_mae": float(np.median(mae)),
        "p90_mae": float(np.percentile(mae, 90)),
        "median_time_to_reach": med_reach if np.isfinite(med_reach) else None,
        "mean_dft_calls": float(np.mean([c["dft_calls"] for c in cells])),
        "mean_seconds": float(np.mean([c["seconds"] for c in cells])),
    }


POROSITY_TOLERANCE = 0.02


def _porosity_stats(cells: list[dict], grids: list) -> dict:
    """Found vs true porosity (pore fraction) of the sampled targets' best grids."""
    diffs = []
    for cell, grid in zip(cells, grids):
        if cell.get("best_grid") is None or grid is None:
            diffs.append(math.inf)
            continue
        found = np.array([[int(ch) for ch in row] for row in cell["best_grid"]], dtype=np.float64)
        diffs.append(abs(float(found.mean()) - float(np.mean(grid))))
    if not diffs:
        return {}
    diffs = np.array(diffs)
    return {"porosity": {"within": float(np.mean(diffs <= POROSITY_TOLERANCE)),
                         "median_abs_error": float(np.median(diffs)), "tolerance": POROSITY_TOLERANCE}}


def markdown_tables(summary: dict) -> str:
    """The results as Markdown: the main table, then textbook shapes if any."""
    cfg = summary["config"]
    tgt = summary["targets"]
    site = cfg["normalization"] == "site"  # the isotherm carries the pore volume: report porosity
    lines = [
        f"{tgt['sampled']} held-out targets ({', '.join(tgt['samplers']) or 'none'} samplers; "
        f"{'full loop' if cfg['loop'] else 'adsorption branch'}, {cfg['normalization']} normalisation, "
        f"{cfg['grid_size'][0]}x{cfg['grid_size'][1]} grids), {cfg['time_limit']:g} s per chain and target, "
        f"seed {cfg['seed']}; {summary['machine']['cpus']} CPU(s). MAE verified by lattice-dft.",
        "",
        "| chain | success MAE<=0.005 | <=0.01 | <=0.02 | median MAE | 90th pct MAE | median time to 0.01 (s) "
        "| DFT calls (mean) |" + (" porosity within 0.02 | median porosity error |" if site else ""),
        "|---|---|---|---|---|---|---|---|" + ("---|---|" if site else ""),
    ]
    for c in summary["chains"]:
        name = f"`{c['label']}`"
        if c["error"] is not None:
            lines.append(f"| {name} | {_md_escape(c['error'])} | | | | | | |")
            continue
        if not c.get("n"):
            lines.append(f"| {name} | no sampled targets | | | | | | |")
            continue
        s = c["success"]
        reach = c["median_time_to_reach"]
        lines.append(
            f"| {name} | {s['0.005']:.0%} | {s['0.01']:.0%} | {s['0.02']:.0%} | {c['median_mae']:.4f} | "
            f"{c['p90_mae']:.4f} | {'not reached' if reach is None else f'{reach:.1f}'} | "
            f"{c['mean_dft_calls']:.0f} |"
            + (f" {c['porosity']['within']:.0%} | {c['porosity']['median_abs_error']:.3f} |"
               if site and "porosity" in c else "")
        )
    if tgt["textbook"]:
        shapes = tgt["textbook"]
        lines += ["", "Textbook shapes (no grid matches them exactly): best DFT-verified MAE per chain.", "",
                  "| chain | " + " | ".join(shapes) + " |", "|---|" + "---|" * len(shapes)]
        for c in summary["chains"]:
            if c["error"] is None:
                lines.append(f"| `{c['label']}` | " + " | ".join(f"{c['textbook'][s]:.4f}" for s in shapes) + " |")
    return "\n".join(lines) + "\n"


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# -- outputs ----------------------------------------------------------------------------------


def write_outputs(summary: dict, rows: list[ChainRow], targets: list[BenchTarget], config: BenchmarkConfig,
                  out: Path) -> None:
    (out / "benchmark.json").write_text(json.dumps(summary, indent=2, default=_json_default))
    (out / "benchmark.md").write_text("# Inversion benchmark\n\n" + markdown_tables(summary))
    plot_error_vs_time(out / "error_vs_time.png", rows, targets, config)
    plot_success(out / "success_rates.png", summary)
    if any(t.kind == "textbook" for t in targets):
        plot_textbook(out / "textbook.png", rows, targets, config)


def write_docs_page(summary: dict, path, out: Path, command: str) -> Path:
    """``docs/benchmarks.md``: the regenerating command, the tables, the plots (copied next to it)."""
    import shutil

    path = Path(path)
    img_dir = path.parent / "img"
    img_dir.mkdir(parents=True, exist_ok=True)
    images = []
    for name, caption in (("success_rates.png", "Success rate per chain"),
                          ("error_vs_time.png", "Median best DFT-verified error against time"),
                          ("textbook.png", "Textbook shapes and the closest isotherms found")):
        if (out / name).exists():
            shutil.copyfile(out / name, img_dir / f"benchmark_{name}")
            images.append(f"![{caption}](img/benchmark_{name})")
    text = "\n".join([
        "# Benchmarks",
        "",
        "Regenerate this page (results, tables and plots) with:",
        "",
        "```bash",
        command,
        "```",
        "",
        "Each chain gets the same targets, the same seed and the same time per target; success",
        "means a DFT-verified mean absolute error (MAE) at or below the threshold. The time to",
        "reach 0.01 comes from a trace of every exact-simulator call (best error so far against",
        "the clock); 'not reached' means fewer than half the targets got there. A killed run",
        "resumes from the cells cached in the output directory.",
        "",
        markdown_tables(summary),
        *[line for img in images for line in (img, "")],
    ])
    path.write_text(text)
    return path


def _median_trace(cells: list[dict], times: np.ndarray) -> np.ndarray:
    curves = []
    for c in cells:
        trace = np.array(c["trace"], dtype=np.float64).reshape(-1, 2)
        best = np.full(len(times), np.inf)
        for t, e in trace:
            best[times >= t] = np.minimum(best[times >= t], e)
        curves.append(best)
    med = np.median(np.array(curves), axis=0)
    return np.where(np.isfinite(med), med, np.nan)


def plot_error_vs_time(path, rows, targets, config) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sampled = {t.id for t in targets if t.kind == "sampled"}
    times = np.linspace(0, config.time_limit * 1.15, 200)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for row in rows:
        cells = [c for c in row.cells if c["target"] in sampled] if row.error is None else []
        if cells:
            ax.plot(times, _median_trace(cells, times), label=row.label, lw=1.6)
    for t in THRESHOLDS:
        ax.axhline(t, color="grey", lw=0.6, ls=":")
    ax.set_yscale("log")
    ax.set_xlabel("seconds")
    ax.set_ylabel("median best DFT-verified MAE")
    ax.set_title(f"Error against time ({len(sampled)} targets)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_success(path, summary) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chains = [c for c in summary["chains"] if c["error"] is None and c.get("n")]
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(chains) + 2), 4.5))
    width = 0.8 / len(THRESHOLDS)
    x = np.arange(len(chains))
    for j, t in enumerate(THRESHOLDS):
        ax.bar(x + (j - 1) * width, [c["success"][f"{t:g}"] for c in chains], width, label=f"MAE <= {t:g}")
    ax.set_xticks(x, [_short(c["label"]) for c in chains], rotation=20, ha="right", fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_ylabel("success rate")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_textbook(path, rows, targets, config) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    books = [t for t in targets if t.kind == "textbook"]
    schedule = target_schedule(config)
    fig, axes = plt.subplots(1, len(books), figsize=(4.2 * len(books), 3.8), squeeze=False)
    for ax, t in zip(axes[0], books):
        ax.plot(schedule.pressures, t.values, "k-", lw=2.5, alpha=0.5, label="target")
        for row in rows:
            cell = next((c for c in row.cells if c["target"] == t.id), None) if row.error is None else None
            if cell and cell["best_curve"]:
                ax.plot(schedule.pressures, cell["best_curve"], lw=1, label=f"{_short(row.label)} {cell['mae']:.3f}")
        ax.set_title(t.source)
        ax.set_xlabel("p/p0")
        ax.legend(fontsize=6)
    axes[0][0].set_ylabel("filled fraction" if config.normalization == "pore" else "amount per site")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _short(label: str, n: int = 28) -> str:
    return label if len(label) <= n else label[: n - 1] + "…"


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
