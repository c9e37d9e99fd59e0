"""The summary of a batch: one row per target, rebuilt from the target directories."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

from typing import Callable

from invtoolkit.workflows.batch import FAILED, REPORT, BatchJob, run_batch
from invtoolkit.core.fileio import write_text

SUMMARY_FILES = ("summary.csv", "summary.md", "summary.png")
COLUMNS = ("target", "file", "status", "error", "relative_mae", "y", "capacity", "unit", "pore_volume_cm3_g",
           "dominant_width_nm", "seconds", "reason")


def job_row(job: BatchJob) -> dict:
    """What a target's directory says: ok (with its error and fit), failed (why) or missing."""
    row = dict.fromkeys(COLUMNS, "")
    row.update(target=job.name, file=str(job.path))
    report_path, failed_path = job.out_dir / REPORT, job.out_dir / FAILED
    if report_path.exists():
        report = json.loads(report_path.read_text())
        fit = report.get("fit") or {}
        grids = report.get("grids") or [{}]
        width = ((report.get("ensemble") or {}).get("descriptors") or {}).get("dominant_width_nm") or {}
        row.update(status="ok", error=grids[0].get("mae", grids[0].get("score", "")),
                   seconds=report.get("total_seconds", ""), relative_mae=fit.get("relative_mae", ""),
                   y=fit.get("y", ""), capacity=fit.get("capacity", ""), unit=fit.get("unit", ""),
                   pore_volume_cm3_g=fit.get("pore_volume_cm3_g", ""),
                   dominant_width_nm=f"{width['min']:.2f}-{width['max']:.2f}" if "min" in width else "")
    elif failed_path.exists():
        failed = json.loads(failed_path.read_text())
        row.update(status="failed", reason=failed.get("reason", ""), seconds=failed.get("seconds", ""))
    else:
        row.update(status="missing", reason="not run yet (or interrupted)")
    return row


def summary_rows(jobs: list[BatchJob]) -> list[dict]:
    return [job_row(job) for job in jobs]


def run_and_summarise(jobs: list[BatchJob], invert: Callable, out: Path, **options) -> tuple[dict, list[dict]]:
    """:func:`invtoolkit.workflows.batch.run_batch` (``options``: workers, scheduler, progress), then the
    summary of what is on disk in ``out`` -- written also when the run is interrupted
    (Ctrl-C, SIGTERM), before the interruption goes on to the caller. (counts, rows)."""
    try:
        counts = run_batch(jobs, invert, **options)
    finally:
        rows = summary_rows(jobs)
        write_summary(out, rows)
    return counts, rows


def score_of(row: dict) -> float:
    """The error a row is ranked by: relative MAE for measured targets, else the MAE;
    NaN when neither is a number (a report.json may hold null for them)."""
    for value in (row.get("relative_mae"), row.get("error")):
        if value not in ("", None):
            try:
                return float(value)
            except (TypeError, ValueError):
                return math.nan
    return math.nan


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.5g}"
    return str(value)


def write_summary(out: Path, rows: list[dict]) -> list[Path]:
    """summary.csv, summary.md and summary.png in ``out``; returns the paths."""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(rows)
    csv_path, md_path, png_path = (out / name for name in SUMMARY_FILES)
    write_text(csv_path, text.getvalue())
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(_fmt(r[c]).replace("|", "/") for c in COLUMNS) + " |" for r in rows]
    write_text(md_path, "\n".join(lines) + "\n")
    plot_summary(png_path, rows)
    return [csv_path, md_path, png_path]


def plot_summary(path: Path, rows: list[dict]) -> None:
    """Error per target, sorted (failed targets and targets without a finite error are
    left out of the bars and counted in the title)."""
    from invtoolkit.results.plotting import pyplot

    plt = pyplot()
    scored = sorted((score_of(r), str(r["target"])) for r in rows
                    if r["status"] == "ok" and math.isfinite(score_of(r)))
    failed = sum(r["status"] != "ok" for r in rows)
    unscored = sum(r["status"] == "ok" for r in rows) - len(scored)
    fig, ax = plt.subplots(figsize=(min(max(4.0, 0.25 * len(scored) + 2), 60.0), 3.2))
    ax.bar(range(len(scored)), [s for s, _ in scored], color="tab:blue")
    ax.set_xticks(range(len(scored)), [n for _, n in scored], rotation=90, fontsize=6)
    ax.set_ylabel("DFT-verified error (MAE)")
    extra = f", {unscored} without an error" if unscored else ""
    ax.set_title(f"{len(scored)} targets inverted, {failed} failed or missing{extra}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def counts_line(rows: list[dict], threshold: float = 0.01) -> str:
    ok = [r for r in rows if r["status"] == "ok"]
    good = sum(score_of(r) <= threshold for r in ok)
    return (f"{len(rows)} targets: {len(ok)} inverted ({good} within {threshold:g}), "
            f"{sum(r['status'] == 'failed' for r in rows)} failed, {sum(r['status'] == 'missing' for r in rows)} missing")
