"""The README's main job reproduces: its command, run here, writes the numbers the README quotes.

The search stops on a budget of evaluations, not on the clock, so the example's fitted y,
pore volume, relative MAE and width range are the same on any machine load (issue 34).
The test runs the README's own `invtoolkit invert` command (default flags) and compares
every figure of the README's example sentence with report.json, to the digits printed.
"""

import json
import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def readme_invert_args() -> list[str]:
    first_block = README.split("```bash", 1)[1].split("```", 1)[0]
    command = next(part for part in first_block.split("&&") if "invtoolkit invert" in part)
    args = shlex.split(command)
    return args[args.index("invert"):]


def quoted(name: str) -> str:
    """The number the README quotes after ``name`` (its example sentence)."""
    found = re.search(rf"\*\*{name} ([0-9.]+)", README)
    assert found, f"README quotes no '**{name} ...**'"
    return found.group(1)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from invtoolkit.cli import main

    args = readme_invert_args()
    out = tmp_path_factory.mktemp("readme") / "result"
    args[args.index("-o") + 1] = str(out)
    args[args.index("--target") + 1] = str(ROOT / args[args.index("--target") + 1])  # from any directory
    with pytest.raises(SystemExit) as info:
        main([*args, "--no-progress"])
    assert info.value.code in (0, None)
    for name in ("best.npy", "ensemble.npy", "best.aif", "isotherms.png", "grids.png", "psd.png", "clusters.png"):
        assert (out / name).stat().st_size > 0, name
    return json.loads((out / "report.json").read_text())


def same(text: str, value: float) -> bool:
    decimals = len(text.split(".")[1]) if "." in text else 0
    return f"{value:.{decimals}f}" == text


def test_readme_example_figures_are_what_the_command_writes(report):
    fit = report["fit"]
    width = report["ensemble"]["descriptors"]["dominant_width_nm"]
    assert not fit["time_capped"] and fit["evaluations"] > 0
    assert same(quoted("y ="), fit["y"])
    assert same(quoted("relative MAE"), fit["relative_mae"])
    assert same(quoted("pore volume"), fit["pore_volume_cm3_g"])
    assert same(quoted("dominant pore width"), width["min"])
    assert same(re.search(r"\*\*dominant pore width [0-9.]+-([0-9.]+) nm", README).group(1), width["max"])
