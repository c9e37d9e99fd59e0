"""pyGAPS and invtoolkit side by side on real N2 and Ar AIF files (issue 32, part 5b).

For each file, in one run: pyGAPS reads the AIF and gives its BET area, a total pore
volume (loading at p/p0 = 0.95 as liquid volume: the Gurvich rule, with pyGAPS' own p0 and
liquid density) and the peaks of two pore size distributions, its DFT kernel (the only
one it ships: N2 at 77 K in carbon slits) and Horvath-Kawazoe (carbon slit); each step
that fails records its reason. Beside it: ``invtoolkit invert --target FILE`` as a user
runs it (subprocess, seed 0, ``--budget N`` when the CLI has it, else ``--time-limit``),
read from the report.json it writes. Fields it does not (yet) write print as '-'.

    NUMBA_NUM_THREADS=1 python benchmarks/pygaps_compare.py            # needs the 'bench' extra
    python benchmarks/pygaps_compare.py --docs docs/benchmarks.md      # also refresh the docs table

Writes benchmarks/results/pygaps_compare.md and .json (machine and versions included).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "isotherms"
RESULTS = ROOT / "benchmarks" / "results"
FILES = (  # (file, adsorbate as the table names it): every N2 and Ar file of the shared set
    ("examples_NK_DUT-6_LP_N2_114PKT.aif", "N2"),
    ("micromeritics_Sample_A.aif", "N2"),
    ("micromeritics_Sample_C.aif", "N2"),
    ("micromeritics_Sample_D.aif", "N2"),
    ("DUT-23_NK_CU_BIPY__BTB__10-11_DMF-ETOH_CO2_84PKT_N2_N2__Raw_Analysis_Data_.aif", "N2"),
    ("Ar_test_1.aif", "Ar"),
    ("NIST_10.1021Jp400480q.Isotherm2.aif", "Ar"),
)
DFT_KERNEL = "DFT-N2-77K-carbon-slit"
GURVICH_P = 0.95
MARK_BEGIN, MARK_END = "<!-- pygaps_compare:begin -->", "<!-- pygaps_compare:end -->"
COLUMNS = (
    ("file", "file"), ("adsorbate", "adsorbate"),
    ("pyGAPS BET m2/g", "pg_bet"), ("pyGAPS total pore volume cm3/g", "pg_volume"),
    ("pyGAPS DFT PSD peak nm", "pg_dft_peak"), ("pyGAPS HK peak nm", "pg_hk_peak"),
    ("pyGAPS could not", "pg_could_not"),
    ("ours: pore volume cm3/g (interval)", "our_volume_text"), ("ours: surface m2/g", "our_surface"),
    ("ours: dominant width nm", "our_width"), ("ours: relative MAE", "our_rel_mae"),
    ("ours could not", "our_could_not"),
)


# -- pure helpers (tested without pyGAPS) -----------------------------------------------------


def psd_peak(widths, distribution) -> float | None:
    """Width at the maximum of a pore size distribution; None if there is no positive peak."""
    w = np.asarray(widths, dtype=np.float64).reshape(-1)
    d = np.asarray(distribution, dtype=np.float64).reshape(-1)
    if w.size == 0 or w.size != d.size:
        return None
    d = np.where(np.isfinite(d), d, -np.inf)
    i = int(np.argmax(d))
    return float(w[i]) if d[i] > 0 and np.isfinite(w[i]) else None


def reason(exc: BaseException, limit: int = 110) -> str:
    """An exception as one short line: its type and the first line of its message."""
    text = (str(exc).strip().splitlines() or [""])[0].strip()
    line = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."


def fmt(value, digits: int = 3) -> str:
    """A number with ``digits`` significant digits; '-' for a missing value."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "-"
    if isinstance(value, str):
        return value
    rounded = float(f"{float(value):.{digits}g}")
    return f"{rounded:.0f}" if abs(rounded) >= 10 ** (digits - 1) else f"{rounded:g}"  # 4930, not 4.93e+03


def short_name(name: str, limit: int = 40) -> str:
    """A long file name cut in the middle so the table stays readable."""
    return name if len(name) <= limit else f"{name[: limit // 3]}...{name[-(limit - limit // 3 - 3):]}"


def fmt_range(stats) -> str:
    """A {min, max, mean} descriptor range as 'min-max' (one value if they agree); '-' if absent."""
    if not isinstance(stats, dict) or stats.get("min") is None or stats.get("max") is None:
        return "-"
    lo, hi = fmt(stats["min"]), fmt(stats["max"])
    return lo if lo == hi else f"{lo}-{hi}"


def lookup(report: dict, dotted: str):
    """``report["a"]["b"]`` for "a.b"; None where any level is missing."""
    node = report
    for key in dotted.split("."):
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def find_field(section, exact: str, *parts: str):
    """(key, value) of ``exact`` in ``section``, else of the first key containing every one
    of ``parts`` (the report's field names may still change); (None, None) if none."""
    if not isinstance(section, dict):
        return None, None
    if exact in section:
        return exact, section[exact]
    for key, value in section.items():
        if all(p in key.lower() for p in parts) and not isinstance(value, (dict, list, str)):
            return key, value
    return None, None


def ours_from_report(report: dict) -> dict:
    """Our fields from a report.json; what is missing or left unset goes to 'could_not'."""
    fit = report.get("fit") or ((report.get("fits") or [None])[0]) or {}
    out, missing = {}, []
    for name, exact, parts in (("our_volume", "pore_volume_cm3_g", ("pore_volume", "cm3")),
                               ("our_surface", "surface_area_m2_g", ("surface", "m2")),
                               ("our_spacing", "lattice_spacing_nm", ("lattice_spacing",))):
        key, value = find_field(fit, exact, *parts)
        out[name] = value
        if value is None:
            missing.append(why_missing(fit, parts[0], key, out))
    interval = fit.get("pore_volume_interval_cm3_g")
    out["our_volume_interval"] = interval
    out["our_volume_text"] = fmt(out["our_volume"])
    if out["our_volume"] is not None and isinstance(interval, list) and len(interval) == 2:
        out["our_volume_text"] += f" ({fmt(interval[0])}-{fmt(interval[1])})"
    width = lookup(report, "ensemble.descriptors.dominant_width_nm")
    out["our_width_stats"] = width if isinstance(width, dict) else None
    out["our_width"] = fmt_range(width)
    if out["our_width"] == "-":
        missing.append("dominant_width_nm not in report")
    out["our_rel_mae"] = fit.get("relative_mae")
    out["our_could_not"] = missing
    return out


def why_missing(fit: dict, field: str, key, found: dict) -> str:
    """Why the report has no value for ``field``: its own note, else what the fit lacks."""
    why = next((v for k, v in fit.items() if isinstance(v, str) and field in k
                and any(w in k for w in ("note", "reason", "why"))), None)
    if why:
        return f"{field}: {why}"
    if key is None:
        return f"{field} not in report"
    if field == "surface" and found.get("our_volume") is None:
        return "surface: needs the pore volume"
    if field == "pore_volume" and "loading_to_mmol_g" in fit and fit["loading_to_mmol_g"] is None:
        return f"pore_volume: loading unit '{fit.get('unit')}' is not per gram"
    return f"{field} not given"


def markdown_table(rows: list[dict]) -> str:
    """The side-by-side table; numbers to 3 significant digits, lists of failures joined."""
    head = "| " + " | ".join(title for title, _ in COLUMNS) + " |"
    lines = [head, "|" + "---|" * len(COLUMNS)]
    for row in rows:
        cells = []
        for _, key in COLUMNS:
            value = row.get(key)
            if key == "file":
                value = short_name(str(value))
            if isinstance(value, list):
                value = "; ".join(value) or "-"
            text = value if isinstance(value, str) else fmt(value, 2 if key == "our_rel_mae" else 3)
            cells.append(str(text).replace("|", "\\|").replace("\n", " "))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def replace_between_markers(text: str, block: str) -> str:
    """``text`` with what lies between the begin/end markers replaced by ``block``."""
    if MARK_BEGIN not in text or MARK_END not in text:
        raise ValueError(f"markers {MARK_BEGIN} ... {MARK_END} not found")
    head, rest = text.split(MARK_BEGIN, 1)
    _, tail = rest.split(MARK_END, 1)
    return f"{head}{MARK_BEGIN}\n{block.strip()}\n{MARK_END}{tail}"


# -- pyGAPS -----------------------------------------------------------------------------------


def pygaps_row(path: Path, adsorbate: str) -> dict:
    """pyGAPS' answers for one file; each step wrapped so a failure records its reason."""
    import pygaps.characterisation as pgc
    import pygaps.parsing as pgp

    row = {"pg_bet": None, "pg_volume": None, "pg_dft_peak": None, "pg_hk_peak": None, "pg_could_not": []}
    with PygapsLog() as log:
        try:
            iso = pgp.isotherm_from_aif(str(path))
        except Exception as exc:  # noqa: BLE001 - any reader failure is a result here
            row["pg_could_not"].append(f"read AIF: {reason(exc)}")
            return row
        _pygaps_steps(pgc, iso, adsorbate, row, log)
    return row


def _pygaps_steps(pgc, iso, adsorbate, row, log) -> None:
    row["pg_adsorbate"] = str(iso.adsorbate)
    steps = (
        ("pg_bet", "BET", lambda: _bet(pgc, iso, row)),
        ("pg_volume", "total pore volume", lambda: float(iso.loading_at(
            GURVICH_P, pressure_mode="relative", loading_basis="volume_liquid", loading_unit="cm3"))),
        ("pg_dft_peak", "DFT PSD", lambda: _peak(pgc.psd_dft(iso, kernel=DFT_KERNEL), row, "pg_dft")),
        ("pg_hk_peak", "HK PSD", lambda: _peak(pgc.psd_microporous(iso, psd_model="HK"), row, "pg_hk")),
    )
    for key, label, step in steps:
        log.messages.clear()
        try:
            row[key] = step()
        except Exception as exc:  # noqa: BLE001
            row["pg_could_not"].append(f"{label}: {reason(exc)}")
        # a warning on a step that gave a number (e.g. BET outside the Rouquerol criteria) qualifies it
        row["pg_could_not"].extend(f"{label} warns: {m}" for m in dict.fromkeys(log.messages) if row[key] is not None)
    if row["pg_dft_peak"] is not None and adsorbate != "N2":
        row["pg_could_not"].append(f"DFT PSD: no {adsorbate} kernel (peak is from the N2 kernel)")


class PygapsLog(logging.Handler):
    """Collects pyGAPS' warnings (it prints them to stdout) while silencing its own handler."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(reason(Exception(record.getMessage()), 90).removeprefix("Exception: "))

    def __enter__(self):
        self.logger = logging.getLogger("pygaps")
        self.silenced = [(h, h.level) for h in self.logger.handlers]
        for h, _ in self.silenced:
            h.setLevel(logging.CRITICAL + 1)
        self.logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        self.logger.removeHandler(self)
        for h, level in self.silenced:
            h.setLevel(level)


def _bet(pgc, iso, row) -> float:
    result = pgc.area_BET(iso)  # pyGAPS picks the Rouquerol range itself
    row["pg_bet_c"] = float(result["c_const"])
    row["pg_bet_r"] = float(result["corr_coef"])
    return float(result["area"])


def _peak(result: dict, row: dict, prefix: str) -> float | None:
    cumulative = np.asarray(result.get("pore_volume_cumulative", []), dtype=np.float64)
    row[f"{prefix}_volume"] = float(cumulative[-1]) if cumulative.size else None
    peak = psd_peak(result["pore_widths"], result["pore_distribution"])
    if peak is None:
        raise ValueError("the distribution has no positive peak")
    return peak


# -- invtoolkit -----------------------------------------------------------------------------


def invtoolkit_command() -> list[str]:
    """The console script of this interpreter's environment (what a user runs)."""
    script = Path(sys.executable).parent / "invtoolkit"
    return [str(script)] if script.exists() else [shutil.which("invtoolkit") or "invtoolkit"]


def search_budget_options(budget: int | None, time_limit: float | None) -> list[str]:
    """``--budget N`` if given and the CLI has it (evaluations: machine-independent), and
    ``--time-limit`` if given; neither: the CLI's own defaults, as a user runs it."""
    options = []
    if budget is not None:
        help_text = subprocess.run([*invtoolkit_command(), "invert", "--help"], capture_output=True,
                                   text=True).stdout
        if "--budget" in help_text:
            options += ["--budget", str(budget)]
        elif time_limit is None:
            time_limit = 20.0  # an older CLI without --budget: a fixed time instead
    return options + (["--time-limit", str(time_limit)] if time_limit is not None else [])


def ours_row(path: Path, out: Path, options: list[str], timeout: float) -> dict:
    """Run ``invtoolkit invert`` on one file and read its report.json."""
    command = [*invtoolkit_command(), "invert", "--target", str(path), "-o", str(out), "--no-progress",
               "--seed", "0", *options]
    start = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"our_could_not": [f"invert: no answer within {timeout:g} s"], "our_seconds": timeout}
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr + "\n" + done.stdout).splitlines() if ln.strip()]
        why = lines[-1].strip() if lines else f"exit code {done.returncode}"
        return {"our_could_not": [f"invert (exit {done.returncode}): {why}"], "our_seconds": seconds}
    try:
        report = json.loads((out / "report.json").read_text())
    except (OSError, ValueError) as exc:
        return {"our_could_not": [f"report.json: {reason(exc)}"], "our_seconds": seconds}
    row = ours_from_report(report)
    row["our_seconds"] = seconds
    fit = report.get("fit") or {}
    row.update(our_evaluations=report.get("evaluations"), our_budget=report.get("budget"),
               our_time_capped=report.get("time_capped"), our_gurvich=fit.get("gurvich_volume_cm3_g"),
               our_plateau=fit.get("plateau"))
    return row


# -- the run ----------------------------------------------------------------------------------


def machine() -> dict:
    """CPU model and count (lscpu), OS, and the versions that made the numbers."""
    info = {"platform": platform.platform(), "python": platform.python_version()}
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)", "Thread(s) per core"):
                info[key.strip()] = value.strip()
    except OSError:
        info["Model name"] = platform.processor() or "unknown"
    for module in ("numpy", "pandas", "pygaps", "CoolProp", "torch"):
        try:
            info[module] = __import__(module).__version__
        except Exception:  # noqa: BLE001 - a missing package is a fact to record
            info[module] = None
    git = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    info["invtoolkit"] = git.stdout.strip() or None
    return info


def data_path(file) -> Path:
    """A file as given if it exists, else the file of that name in ../shared/isotherms."""
    return Path(file) if Path(file).exists() else DATA / file


def adsorbate_label(file) -> str:
    """N2 / Ar for a file of the shared set, else the adsorptive the AIF file names."""
    known = dict(FILES)
    if Path(file).name in known:
        return known[Path(file).name]
    from invtoolkit_plugins.readers.aif import parse_aif

    name = str(parse_aif(data_path(file)).metadata.get("adsorbate") or "?")
    return {"nitrogen": "N2", "argon": "Ar"}.get(name.strip().lower(), name)


def run(files, runs_dir: Path, options: list[str], timeout: float, skip_ours: bool) -> list[dict]:
    rows = []
    for name, adsorbate in files:
        path = data_path(name)
        row = {"file": path.name, "adsorbate": adsorbate}
        start = time.perf_counter()
        row.update(pygaps_row(path, adsorbate))
        row["pg_seconds"] = time.perf_counter() - start
        if skip_ours:
            row.update({"our_width": "-", "our_could_not": ["not run (--skip-ours)"]})
        else:
            row.update(ours_row(path, runs_dir / path.stem, options, timeout))
        rows.append(row)
        print(f"{path.name}: pyGAPS {row['pg_seconds']:.1f} s, ours {row.get('our_seconds', 0):.1f} s",
              file=sys.stderr, flush=True)
    return rows


def budgets(rows: list[dict]) -> str:
    """', budget N evaluations' as the reports give it (several values if they differ)."""
    values = sorted({r["our_budget"] for r in rows if r.get("our_budget") is not None})
    capped = sum(bool(r.get("our_time_capped")) for r in rows)
    text = f", budget {'/'.join(str(v) for v in values)} evaluations" if values else ""
    return text + (f", {capped} run(s) cut short by the time limit" if capped else "")


def render(rows: list[dict], info: dict, options: list[str]) -> str:
    cpu = f"{info.get('Model name', '?')}, {info.get('CPU(s)', '?')} CPU(s)"
    versions = ", ".join(f"{k} {info.get(k)}" for k in ("invtoolkit", "pygaps", "pandas", "numpy", "python"))
    return "\n".join([
        markdown_table(rows), "",
        f"One run of `benchmarks/pygaps_compare.py` on {cpu} ({info.get('platform')}); {versions}. "
        f"invtoolkit: `{' '.join(['invert --seed 0', *options])}` per file (default chain{budgets(rows)}); pyGAPS: "
        f"`area_BET` (its automatic Rouquerol range), total pore volume = loading at p/p0 = {GURVICH_P} "
        f"as liquid (Gurvich, pyGAPS' p0 and liquid density), `psd_dft` ({DFT_KERNEL}), "
        "`psd_microporous` (HK, carbon slit, its default p/p0 <= 0.2).",
    ])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", nargs="*", help="AIF files (default: the N2 and Ar files of ../shared/isotherms)")
    parser.add_argument("--budget", type=int, default=None,
                        help="invert --budget N, if the CLI has it (default: the CLI's own default)")
    parser.add_argument("--time-limit", type=float, default=None, help="invert --time-limit (default: none)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before one invert run is given up")
    parser.add_argument("--runs", type=Path, default=None, help="keep the invert outputs here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where pygaps_compare.md/.json go")
    parser.add_argument("--docs", type=Path, default=None, help="also replace the marked table in this page")
    parser.add_argument("--skip-ours", action="store_true", help="pyGAPS only (to check the pyGAPS side)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    files = [(f, adsorbate_label(f)) for f in args.files] if args.files else FILES
    options = [] if args.skip_ours else search_budget_options(args.budget, args.time_limit)
    with tempfile.TemporaryDirectory(prefix="pygaps_compare_") as tmp:
        rows = run(files, args.runs or Path(tmp), options, args.timeout, args.skip_ours)
    info = machine()
    text = render(rows, info, options)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "pygaps_compare.md").write_text(text + "\n")
    (args.out / "pygaps_compare.json").write_text(json.dumps({"machine": info, "invert_options": options,
                                                              "rows": rows}, indent=1, default=str) + "\n")
    if args.docs is not None:
        args.docs.write_text(replace_between_markers(args.docs.read_text(), text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
