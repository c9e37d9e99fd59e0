"""Adsorbates: names -> critical temperature TC and saturation pressure p0(T).

The lattice model describes any subcritical fluid through T and TC alone
(docs/physics.md, "Model": ``mu_sat = -2 KB TC``, ``w_ff = -2 mu_sat / c``); the readers need
p0(T) to turn absolute pressures into p/p0 when a file has no p0 column. Both come
from the ``chemicals`` property library (critical constants; vapour-pressure
correlations: IAPWS for water, then Wagner and Antoine fits of the tables it ships,
Lee-Kesler from the critical point and acentric factor as the last resort), not from
a hand-written table. Only abbreviations the library does not know (MeOH, nC6, DCM,
C2H5OH, which it would read as dimethyl ether) are mapped here.

The physical scale of the lattice comes from the same library (docs/physics.md,
"Physical units"): the liquid molar volume Vm(T) of the adsorbate (DIPPR equation 105
of Perry's tables, IAPWS-95 for water, COSTALD from the critical point as the last
resort) turns a capacity in mmol/g into a pore volume (the Gurvich rule), and one
lattice cell holds one molecule of that liquid, so the lattice spacing is
``(Vm / N_A) ** (1/3)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from invtoolkit.errors import InputError

# Abbreviations and formulas found in instrument files -> a name the library resolves.
ALIASES = {
    "meoh": "methanol", "ch3oh": "methanol",
    "etoh": "ethanol", "c2h5oh": "ethanol", "c2h6o": "ethanol",
    "proh": "1-propanol", "n-proh": "1-propanol", "ipa": "isopropanol", "iproh": "isopropanol",
    "buoh": "1-butanol", "n-buoh": "1-butanol",
    "nc4": "n-butane", "n-c4": "n-butane", "c4h10": "n-butane", "nbutane": "n-butane",
    "nc5": "n-pentane", "n-c5": "n-pentane", "c5h12": "n-pentane",
    "nc6": "n-hexane", "n-c6": "n-hexane", "c6h14": "n-hexane", "nhexane": "n-hexane",
    "nc7": "n-heptane", "n-c7": "n-heptane", "nc8": "n-octane", "n-c8": "n-octane",
    "cc6": "cyclohexane", "c6h12": "cyclohexane",
    "dcm": "dichloromethane", "ch2cl2": "dichloromethane",
    "thf": "tetrahydrofuran", "dmf": "N,N-dimethylformamide", "mecn": "acetonitrile", "acn": "acetonitrile",
    "bz": "benzene", "c6h6": "benzene", "tol": "toluene",
    "water vapour": "water", "water vapor": "water", "h2o vapour": "water", "d2o": "deuterium oxide",
    "c3h8": "propane", "c3h6": "propylene", "c2h4": "ethylene", "c2h6": "ethane",
}


@dataclass(frozen=True)
class Fluid:
    """An adsorbate as the model needs it: its name, CAS number and critical point."""

    name: str
    cas: str | None
    TC: float  # K
    Pc: float | None = None  # Pa
    omega: float | None = None  # acentric factor

    def check_subcritical(self, T: float) -> None:
        """Refuse T >= TC: no condensation, so p0 and p/p0 do not exist."""
        if T >= self.TC:
            raise InputError(f"T = {T:.3g} K is above the critical temperature of {self.name}, {self.TC:.0f} K: "
                             "no condensation, p/p0 undefined")

    def liquid_molar_volume(self, T: float) -> tuple[float, str]:
        """Vm(T) of the saturated liquid in cm3/mol and the correlation it came from."""
        self.check_subcritical(T)
        found = _library_liquid_volume(self.cas, float(T), self.TC) if self.cas else None
        if found is None:
            raise InputError(f"no liquid density known for {self.name} at {T:.4g} K: give --lattice-spacing")
        return found

    def lattice_spacing_nm(self, T: float) -> float:
        """Side of a cube holding one molecule of the liquid at T (nm): (Vm / N_A)^(1/3)."""
        volume_cm3 = self.liquid_molar_volume(T)[0] / AVOGADRO
        return float((volume_cm3 * 1e21) ** (1.0 / 3.0))  # 1 cm3 = 1e21 nm3

    @property
    def molar_mass(self) -> float | None:
        """g/mol from the library (None for a fluid it does not know)."""
        return _molar_mass(self.cas) if self.cas else None

    def saturation_pressure(self, T: float) -> tuple[float, str]:
        """p0(T) in Pa and the correlation it came from."""
        self.check_subcritical(T)
        if self.cas is None:
            raise InputError(f"no saturation pressure known for '{self.name}': give --p0")
        value = _library_psat(self.cas, float(T), self.Pc, self.omega, self.TC)
        if value is None:
            raise InputError(f"no saturation-pressure correlation for {self.name} at {T:.4g} K: give --p0")
        return value


AVOGADRO = 6.02214076e23  # 1/mol


@lru_cache(maxsize=256)
def _molar_mass(cas: str) -> float | None:
    from chemicals.identifiers import search_chemical

    try:
        return float(search_chemical(cas).MW)
    except Exception:  # the library raises for identifiers without a record
        return None


@lru_cache(maxsize=256)
def _library_liquid_volume(cas: str, T: float, TC: float) -> tuple[float, str] | None:
    """Saturated-liquid molar volume (cm3/mol) from the first source valid at T."""
    import chemicals.volume as vol
    from chemicals.critical import Vc
    from chemicals.acentric import omega
    from chemicals.dippr import EQ105

    if cas == "7732-18-5":
        from chemicals.iapws import iapws95_rhol_sat

        return 18.015268 / float(iapws95_rhol_sat(T)) * 1e3, "IAPWS-95 (chemicals)"
    table = vol.rho_data_Perry_8E_105_l
    if cas in table.index:
        r = table.loc[cas]
        if r.Tmin <= T <= r.Tmax:
            return 1e6 / float(EQ105(T, r.C1, r.C2, r.C3, r.C4)), "DIPPR 105, Perry's 8th ed. (chemicals)"
    vc, w = Vc(cas), omega(cas)
    if vc and w is not None and T < TC:
        return float(vol.COSTALD(T, TC, vc, w)) * 1e6, "COSTALD from Tc, Vc, omega (chemicals)"
    return None


def resolve_fluid(name: str | None, *, tc: float | None = None) -> Fluid:
    """The adsorbate ``name`` (name, formula or abbreviation); ``tc`` overrides its TC.

    Without the library knowing the name, ``tc`` is required (one-line InputError).
    """
    label = (name or "").strip().strip("'\"")
    if tc is not None and not tc > 0:
        raise InputError(f"--tc must be a positive temperature in K, got {tc:g}")
    found = next((hit for hit in map(_lookup, _spellings(label)) if hit is not None), None)
    if found is None:
        if tc is None:
            what = f"unknown adsorbate '{label}'" if label else "the file names no adsorbate"
            raise InputError(f"{what}: give its critical temperature with --tc (and --p0 for absolute pressures)")
        return Fluid(label or "adsorbate", None, float(tc))
    cas, common, TC, Pc, omega = found
    return Fluid(common, cas, float(tc) if tc is not None else TC, Pc, omega)


def _spellings(label: str) -> list[str]:
    """The label, then its parts: "N2 (nitrogen)" -> N2 (nitrogen), N2, nitrogen; "water vapour" -> water."""
    import re

    if not label:
        return []
    parts = [label, re.sub(r"\s*[\(\[].*?[\)\]]", "", label).strip(), *re.findall(r"[\(\[](.*?)[\)\]]", label)]
    parts += [re.sub(r"\s+(gas|vapou?r|liquid)$", "", part, flags=re.I) for part in parts]
    return list(dict.fromkeys(p.strip() for p in parts if p.strip()))


@lru_cache(maxsize=256)
def _lookup(label: str):
    """(CAS, common name, Tc, Pc, omega) from the library, or None."""
    from chemicals import CAS_from_any
    from chemicals.acentric import omega
    from chemicals.critical import Pc, Tc
    from chemicals.identifiers import search_chemical

    key = label.lower()
    query = ALIASES.get(key, ALIASES.get(key.replace(" ", ""), label))
    try:
        cas = CAS_from_any(query)
    except Exception:  # the library raises ValueError for names it does not know
        return None
    tc = Tc(cas)
    if tc is None or not math.isfinite(tc):
        return None
    common = query if query != label else None  # an alias names the fluid as chemists do ("ethylene")
    if common is None:
        try:
            common = search_chemical(cas).common_name or label
        except Exception:
            common = label
    return cas, common, float(tc), Pc(cas), omega(cas)


def _library_psat(cas: str, T: float, Pc, omega, TC) -> tuple[float, str] | None:
    """Saturation pressure from the first correlation of the library valid at T."""
    import chemicals.vapor_pressure as vp

    if cas == "7732-18-5":
        return float(vp.Psat_IAPWS(T)), "IAPWS-95 (chemicals)"
    tables = (
        ("Psat_data_WagnerMcGarry", "Wagner (McGarry)",
         lambda r: vp.Wagner_original(T, r.Tc, r.Pc, r.A, r.B, r.C, r.D), lambda r: (r.Tmin, r.Tc)),
        ("Psat_data_WagnerPoling", "Wagner (Poling)",
         lambda r: vp.Wagner(T, r.Tc, r.Pc, r.A, r.B, r.C, r.D), lambda r: (r.Tmin, r.Tmax)),
        ("Psat_data_AntoineExtended", "extended Antoine (Poling)",
         lambda r: vp.TRC_Antoine_extended(T, r.Tc, r.to, r.A, r.B, r.C, r.n, r.E, r.F), lambda r: (r.Tmin, r.Tmax)),
        ("Psat_data_AntoinePoling", "Antoine (Poling)",
         lambda r: vp.Antoine(T, r.A, r.B, r.C), lambda r: (r.Tmin, r.Tmax)),
    )
    for table_name, label, formula, valid in tables:
        table = getattr(vp, table_name)
        if cas not in table.index:
            continue
        row = table.loc[cas]
        lo, hi = valid(row)
        if (math.isnan(lo) or lo <= T) and (math.isnan(hi) or T <= hi):
            value = float(formula(row))
            if math.isfinite(value) and value > 0:
                return value, f"{label} (chemicals)"
    if Pc and omega is not None:
        return float(vp.Lee_Kesler(T, TC, Pc, omega)), "Lee-Kesler from Tc, Pc, omega (chemicals)"
    return None
