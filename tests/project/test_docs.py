"""The documentation site builds (strict: no broken links or nav entries) and its API page is real."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="mkdocs is in the test extras: pip install '.[test]'")
    out = tmp_path_factory.mktemp("site")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def test_every_page_is_built(site):
    for page in ("index.html", "guide/index.html", "physics/index.html", "plugins/index.html",
                 "api/index.html", "benchmarks/index.html"):
        assert (site / page).exists(), page
    assert not (site / "hooks").exists()  # the build hook is not published


def test_api_reference_comes_from_the_docstrings(site):
    html = (site / "api" / "index.html").read_text()
    from invtoolkit.parsing import formats
    from invtoolkit.core import roles
    from invtoolkit.search.chain import Chain

    assert "<!-- api-reference -->" not in html  # the marker was replaced
    for text in (roles.Optimizer.__doc__.splitlines()[0], formats.write_aif.__doc__.splitlines()[0],
                 Chain.__doc__.splitlines()[0]):
        assert _plain(text) in _plain(html), text


def test_benchmarks_page_starts_with_its_command(site):
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    first_block = text.split("```")[1]
    assert "invtoolkit benchmark inversion" in first_block
    assert "| chain |" in text


def test_guide_documents_every_core_command():
    from invtoolkit.cli import build_cli

    guide = (ROOT / "docs" / "guide.md").read_text()
    core = ["simulate", "invert", "dataset", "benchmark", "plugins"]
    commands = set(build_cli().commands)
    for name in core:
        if name in commands:
            assert f"invtoolkit {name}" in guide, name


def _plain(text: str) -> str:
    """Text without tags, entities and spacing differences, for containment checks."""
    import html

    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"[\s`]+", " ", text).strip()


def test_api_hook_needs_only_the_standard_library():
    source = (ROOT / "docs" / "hooks" / "api_reference.py").read_text()
    imports = set(re.findall(r"^\s*(?:from|import) ([\w.]+)", source, re.M))
    assert imports <= {"__future__", "importlib", "inspect", "re"}, imports
