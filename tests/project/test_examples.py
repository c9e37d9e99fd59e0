"""The example scripts run and say something physically right."""

import runpy
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_simulate_api_example(capsys):
    curves = runpy.run_path(str(EXAMPLES / "simulate_api.py"))["main"](size=12)
    assert curves.shape == (3, 81)
    out = capsys.readouterr().out
    assert "slit" in out and "square" in out
    # the large square pore condenses later than the narrow slit
    ads = curves[:, :41]
    assert np.argmax(np.diff(ads[1])) >= np.argmax(np.diff(ads[0]))
