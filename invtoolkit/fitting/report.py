"""report.json of a measured inversion (one file or several of one material).

``fit`` holds the answer for the material (for one file also that file's numbers, so
single-file reports read as before), ``fits`` one object per file, ``grids`` the rows
of best.npy and ``ensemble`` the allowed solutions with their ranges in cells and nm.
"""

from __future__ import annotations


import numpy as np

from invtoolkit.results.report import json_safe

from .answer import FileFit, MaterialAnswer, grid_physical


def file_object(ff: FileFit, target_file) -> dict:
    m, s = ff.measured, ff.scale
    return {"file": str(target_file), "adsorbate": m.fluid.name, "T": m.T, "TC": m.fluid.TC, "y": ff.y,
            "y_interval": list(ff.y_interval), "y_determined": ff.y_determined, "capacity": ff.capacity,
            "unit": m.unit, "mae": ff.mae,
            "relative_mae": ff.relative_mae, "pore_volume_cm3_g": ff.pore_volume,
            "gurvich_volume_cm3_g": ff.gurvich_volume, "plateau_reached": ff.plateau_reached,
            "plateau": ff.plateau_reason, "lattice_spacing_nm": s.lattice_spacing_nm,
            "lattice_spacing_source": s.spacing_source, "liquid_molar_volume_cm3_mol": s.molar_volume_cm3_mol,
            "liquid_molar_volume_source": s.molar_volume_source, "loading_to_mmol_g": s.mmol_g_per_unit,
            "points": int(len(m.amounts)), "points_adsorption": int(m.n_adsorption), "p0_source": m.p0_source,
            "normalization": m.normalization, "notes": list(m.notes)}


def material_fit(answer: MaterialAnswer, fits: list[dict]) -> dict:
    """The material's answer: pore volume and its interval, surface area, how sure."""
    fit, summary = answer.fit, answer.summary
    undetermined = summary.get("undetermined", {})
    best = answer.ensemble.descriptors[0] if len(answer.ensemble) else None
    volume = None if "pore_volume" in undetermined else answer.pore_volume
    out = {"files": len(fits), "y_source": fit.y_source, "pore_volume_cm3_g": volume,
           "pore_volume_interval_cm3_g": summary.get("pore_volume_interval_cm3_g"),
           "pore_volume_note": undetermined.get("pore_volume"),
           "surface_area_m2_g": grid_physical(best, answer.scales, volume)["surface_area_m2_g"] if best else None,
           "lattice_spacing_nm": float(np.mean([s.lattice_spacing_nm for s in answer.scales])),
           "relative_mae": max(f["relative_mae"] for f in fits), "score": fit.solutions.best,
           "tolerance": fit.solutions.tolerance, "noise": fit.solutions.noise, "y_notes": fit.y_notes,
           "width_probes": width_probes(fit.probes, answer.scales),
           "budget": fit.budget, "evaluations": fit.evaluations, "time_capped": fit.time_capped,
           "screen": fit.screen}
    if len(fits) == 1:  # one file: its numbers are the fit's, as in every single-file report
        out = {**fits[0], **out, "pore_volume_cm3_g": volume}
    return out


def width_probes(probes, scales) -> list[dict]:
    """The fit's width probes (fitting.probes): each width in cells and nm, and whether
    the family it searched is among the allowed grids."""
    spacing = float(np.mean([s.lattice_spacing_nm for s in scales]))
    return [{"dominant_width_cells": int(w), "dominant_width_nm": w * spacing, "allowed": bool(ok)} for w, ok in probes]


def grid_rows(answer: MaterialAnswer) -> list[dict]:
    """Per best.npy row: score, per-file errors and capacity, descriptors in cells and nm."""
    from invtoolkit.core.descriptors import grid_descriptors

    objective, rows = answer.fit.objective, []
    volumes, caps, maes = objective.file_errors(answer.curves)
    for i, grid in enumerate(answer.population.grids):
        d = grid_descriptors(grid)
        share = objective.pore_share(grid[None])[0]
        volume = answer.scales[0].pore_volume(caps[i, 0] * share)
        full = caps[i] * share  # the amount at complete pore filling, per file
        relative = [float(maes[i, k] / full[k]) if full[k] > 0 else float("inf") for k in range(caps.shape[1])]
        rows.append({"rank": i + 1, "score": float(answer.population.errors[i]), "relative_mae": max(relative),
                     "relative_mae_per_file": relative, "mae_per_file": maes[i].tolist(),
                     "capacity": caps[i].tolist(), "pore_volume_cm3_g": volume, "porosity": float(grid.mean()),
                     "shape": list(grid.shape), "descriptors": {**d, **grid_physical(d, answer.scales, volume)}})
    return rows


def build_material_report(answer: MaterialAnswer, *, target_files, chain: str, seed: int, time_limit,
                          note: str | None) -> dict:
    fits = [file_object(ff, f) for ff, f in zip(answer.files, target_files)]
    first = answer.files[0].measured
    target = {"file": str(target_files[0]) if len(fits) == 1 else [str(f) for f in target_files],
              "points": int(sum(len(ff.measured.amounts) for ff in answer.files)),
              "branches": "loop" if first.has_desorption else "adsorption", "normalization": first.normalization,
              "steps": None, "kind": "measured", "material": first.material,
              "notes": [n for ff in answer.files for n in ff.measured.notes]}
    return json_safe({"target": target, "fit": material_fit(answer, fits), "fits": fits, "chain": chain,
                    "chain_note": note, "seed": int(seed), "time_limit": time_limit, "budget": answer.fit.budget,
                    "evaluations": answer.fit.evaluations, "time_capped": answer.fit.time_capped,
                    "total_seconds": answer.fit.seconds, "grids": grid_rows(answer), "ensemble": answer.summary})


def fit_summary_lines(report: dict) -> list[str]:
    """The terminal's account of the fit: one line per file, one for the material. Numbers
    that JSON stores as null (a zero or undefined capacity, issue 29) print as 'undefined'."""
    from invtoolkit.results.plotting import fmt

    lines = []
    for f in report["fits"]:
        lo, hi = f["y_interval"]
        undetermined = "" if f.get("y_determined", True) else ", undetermined"
        lines.append(f"fit    {f['adsorbate']} at T = {fmt(f['T'])} K (TC {fmt(f['TC'])} K): y = {fmt(f['y'], '.3g')} "
                     f"[{fmt(lo, '.3g')}-{fmt(hi, '.3g')}{undetermined}], "
                     f"capacity {fmt(f['capacity'], '.5g', 'undefined')} "
                     f"{f['unit'] or ''}, relative MAE {fmt(f['relative_mae'], '.4f', 'undefined')} over "
                     f"{f['points']} points; lattice spacing {fmt(f['lattice_spacing_nm'], '.3f')} nm")
    fit, ens = report["fit"], report["ensemble"]
    volume = "undetermined" if fit["pore_volume_cm3_g"] is None else f"{fmt(fit['pore_volume_cm3_g'], '.3g')} cm3/g"
    interval = fit.get("pore_volume_interval_cm3_g")
    if interval and fit["pore_volume_cm3_g"] is not None:
        volume += f" [{fmt(interval[0], '.3g')}-{fmt(interval[1], '.3g')}]"
    width = ens["descriptors"]["dominant_width_nm"]
    capped = " (cut short by --time-limit)" if fit["time_capped"] else ""
    lines.append(f"answer pore volume {volume}; dominant pore width {fmt(width['min'], '.2f')}-"
                 f"{fmt(width['max'], '.2f')} nm{'' if width['determined'] else ' (undetermined)'}; "
                 f"{ens['count']} allowed grids within +{fmt(fit['tolerance'], '.4f')} of the best score "
                 f"{fmt(fit['score'], '.5f')}; {fit['evaluations']} evaluations{capped}")
    family = ens.get("one_family_note")
    probes = ", ".join(f"{fmt(p['dominant_width_nm'], '.2f')} nm {'allowed' if p['allowed'] else 'not allowed'}"
                       for p in fit.get("width_probes") or [])
    if probes:
        lines.append(f"probes runs restricted to the widths next to the allowed ones: {probes}")
    return lines + [f"note   {n}" for n in (fit["y_notes"] or [])] + ([f"note   {family}"] if family else []) + \
        ([f"note   pore volume: {fit['pore_volume_note']}"] if fit.get("pore_volume_note") else [])
