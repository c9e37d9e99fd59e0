"""One material, one answer (issue 32): the five shared DUT-67 files, one adsorbate each.

Published facts (tests/data/measured/NOTICE.md, /work/shared/isotherms/README.md): DUT-67
has cavities of about 0.88 and 1.66 nm; the largest uptake up to p/p0 = 0.95 times the
liquid molar volume (Gurvich) gives 0.43-0.49 cm3/g. Each file is fitted on its own, on
a reduced budget (benchmarks/dut67.py runs the default one), and the answers must agree
in physical units.
"""

from pathlib import Path

import numpy as np
import pytest

from invtoolkit.fitting import fit_isotherms

DATA = Path(__file__).parents[1] / "data" / "measured"
NAMES = ("MeOH", "EtOH", "hexane", "toluol", "DCM")
BUDGET = 30_000


@pytest.fixture(scope="module")
def answers():
    return {n: fit_isotherms(DATA / f"DUT-67_DUT67_1_Garching_{n}_298K.aif", budget=BUDGET, seed=0) for n in NAMES}


def test_each_pore_volume_is_its_files_gurvich_volume_within_30_percent(answers):
    for name, answer in answers.items():
        gurvich = answer.files[0].gurvich_volume
        assert 0.40 <= gurvich <= 0.52, name  # the README's 0.43-0.49, read by our units
        assert abs(answer.pore_volume / gurvich - 1) <= 0.3, (name, answer.pore_volume, gurvich)
        lo, hi = answer.summary["pore_volume_interval_cm3_g"]
        assert lo <= answer.pore_volume <= hi and hi / lo <= 1.5, name


def test_the_five_adsorbates_give_one_material(answers):
    volumes = [a.pore_volume for a in answers.values()]
    assert max(volumes) / min(volumes) <= 1.5
    widths = [a.summary["descriptors"]["dominant_width_nm"] for a in answers.values()]
    common_lo, common_hi = max(w["min"] for w in widths), min(w["max"] for w in widths)
    assert common_lo <= common_hi  # one width every adsorbate allows
    assert common_hi >= 0.6 and common_lo <= 2.0  # and it lies where the published cavities are
    # A range that still says something where the lattice fits closely; on a poorer fit the
    # tolerance (1 x best) is loose and the width probes find the neighbouring families allowed
    # (hexane at this budget: 1-4 cells of 0.6 nm), which the range then rightly includes.
    close = [(name, w) for (name, a), w in zip(answers.items(), widths) if a.fit.solutions.best <= 0.01]
    assert len(close) >= 2
    for name, w in close:
        assert w["max"] - w["min"] <= 1.5, (name, w)


def test_lattice_spacings_follow_the_molecules(answers):
    spacing = {n: a.scales[0].lattice_spacing_nm for n, a in answers.items()}
    assert spacing["MeOH"] < spacing["EtOH"] < spacing["DCM"] < spacing["toluol"] < spacing["hexane"]
    assert np.isclose(spacing["hexane"] ** 3 / spacing["MeOH"] ** 3, 131.3 / 40.6, rtol=0.01)  # liquid volumes
