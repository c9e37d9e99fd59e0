"""The house rules of issues 15 and 28, checked on the source: short functions, thin CLI
modules, no import cycle in the core, no concrete plugin imported by the core, the default
simulator named in one place; the core as layered packages importing one way (the map in
docs/architecture.md), and built-in plugins that use only the plugin surface."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE, PLUGINS, COMMANDS = ROOT / "invtoolkit", ROOT / "plugins", ROOT / "invtoolkit" / "commands"
MAX_FUNCTION_LINES = 80
MAX_COMMAND_MODULE_LINES = 150
JIT_DECORATORS = {"njit", "jit", "vectorize", "guvectorize", "stencil"}
DEFAULT_SIMULATOR_NAME = "lattice-dft"


def sources(*folders: Path) -> list[Path]:
    return sorted(p for folder in folders for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def decorator_names(node) -> set[str]:
    """'njit' for @njit, @numba.njit and @njit(cache=True)."""
    names = set()
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        names.add(target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", ""))
    return names


def long_functions(path: Path, root: Path = ROOT) -> list[str]:
    """'file:line name (N lines)' of every function over the limit that is not jitted."""
    found = []
    for node in ast.walk(parse(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not decorator_names(node) & JIT_DECORATORS:
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES:
                found.append(f"{path.relative_to(root)}:{node.lineno} {node.name} ({lines} lines)")
    return found


def package_of(path: Path) -> str:
    """The package relative imports in ``path`` are resolved against."""
    package = module_name(path)
    return package if path.name == "__init__.py" else package.rpartition(".")[0]


def imported_names(node, package: str, with_package: bool) -> set[str]:
    """What one Import/ImportFrom node names: ``import a.b`` gives a.b; ``from pkg import
    name`` gives pkg.name, and pkg itself when ``with_package`` (relative imports resolved
    against ``package``)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    base = node.module or ""
    if node.level:
        parent = package.split(".")[: len(package.split(".")) - node.level + 1]
        base = ".".join(parent + ([base] if base else []))
    return {f"{base}.{alias.name}" for alias in node.names} | ({base} if with_package else set())


def top_level_imports(path: Path) -> set[str]:
    """Modules imported at module level (not inside functions, not under TYPE_CHECKING);
    ``from pkg import name`` counts as ``pkg.name`` and ``pkg``, and the graph below keeps
    the one that is a module."""
    tree, package = parse(path), package_of(path)
    found = set()

    def visit(body):
        for node in body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, (ast.If, ast.Try)):
                visit(node.body + node.orelse + getattr(node, "finalbody", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(imported_names(node, package, with_package=True))

    visit(tree.body)
    return found


def core_import_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in sources(CORE)}
    graph = {}
    for name, path in modules.items():
        imported = top_level_imports(path)
        # 'from invtoolkit import registry' depends on the module, not on the package's
        # __init__ (which Python runs first anyway): keep the deepest name that is a module.
        graph[name] = {m for m in imported if m in modules and m != name
                       and not any(other.startswith(m + ".") and other in modules for other in imported)}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


# -------------------------------------------------------------------- the checks themselves
def test_the_scanners_see_what_they_look_for(tmp_path):
    """The helpers on a hand-made case, so that a clean tree means something."""
    long_body = "\n".join(f"    x{i} = {i}" for i in range(MAX_FUNCTION_LINES))
    src = tmp_path / "m.py"
    src.write_text(f"import numba\n\ndef slow():\n{long_body}\n\n@numba.njit(cache=True)\ndef kernel():\n{long_body}\n")
    found = [entry.split()[1] for entry in long_functions(src, root=tmp_path)]
    assert found == ["slow"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
    graph = core_import_graph()  # edges that are known to exist, and the lazy one that is not
    assert {"invtoolkit.hooks.registry", "invtoolkit.hooks.options"} <= graph["invtoolkit.search.chain"]
    assert "invtoolkit.core.symmetry" not in graph["invtoolkit.search.chain"]  # imported inside functions only


def test_no_function_over_80_lines_outside_numba_kernels():
    found = [entry for path in sources(CORE, PLUGINS) for entry in long_functions(path)]
    assert not found, "functions over 80 lines:\n" + "\n".join(found)


def test_no_cli_module_over_150_lines():
    found = [f"{p.relative_to(ROOT)} ({n} lines)" for p in sources(COMMANDS)
             if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_COMMAND_MODULE_LINES]
    assert not found, "CLI modules over 150 lines: " + ", ".join(found)


def test_no_import_cycle_in_the_core():
    cycle = find_cycle(core_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize("path", sources(CORE), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_core_never_imports_the_plugins(path):
    imported = {name for node in ast.walk(parse(path)) if isinstance(node, (ast.Import, ast.ImportFrom))
                for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])}
    assert not {m for m in imported if m.split(".")[0] == "invtoolkit_plugins"}


def test_the_default_simulator_is_named_only_in_defaults():
    found = [f"{p.relative_to(ROOT)}:{node.lineno}" for p in sources(CORE) if p.name != "defaults.py"
             for node in ast.walk(parse(p))
             if isinstance(node, ast.Constant) and node.value == DEFAULT_SIMULATOR_NAME]
    assert not found, f"'{DEFAULT_SIMULATOR_NAME}' written outside invtoolkit/core/defaults.py: " + ", ".join(found)


# ------------------------------------------------------------ issue 28: packages and layers
MAX_TOP_MODULES = 6
PACKAGES_MIN, PACKAGES_MAX, MAX_PACKAGE_MODULES = 5, 12, 16
# What each first-level unit of invtoolkit/ may import (besides itself); docs/architecture.md
# draws the same table. Function-level and TYPE_CHECKING imports count.
ALLOWED = {
    "errors": set(),
    "core": {"errors"},
    "hooks": {"core", "errors"},
    "results": {"core", "errors"},
    "search": {"core", "hooks", "errors"},
    "parsing": {"core", "hooks", "errors"},
    "datasets": {"core", "hooks", "errors"},
    "learning": {"core", "hooks", "datasets", "parsing", "errors"},
    "fitting": {"core", "hooks", "search", "parsing", "results", "errors"},
    "design": {"core", "hooks", "search", "parsing", "results", "errors"},
    "workflows": {"core", "hooks", "search", "parsing", "datasets", "results", "learning", "fitting", "design",
                  "errors"},
    "plugin": {"core", "hooks", "search", "parsing", "datasets", "results", "learning", "errors"},
    "commands": {"core", "hooks", "search", "parsing", "datasets", "results", "learning", "fitting", "design",
                 "workflows", "errors"},
    "testing": {"plugin", "errors"},
    "cli": {"commands", "hooks", "errors"},
}
# What a built-in plugin may import from the core: the surface, the errors, the kit.
PLUGIN_API = {"invtoolkit.plugin", "invtoolkit.errors", "invtoolkit.testing"}
# Plugin files other people were editing while the packages moved (issue 28): they still
# import other core names, or another plugin's private names; the lead moves them over
# (xfail, not strict: each passes as soon as it is moved).
SURFACE_PENDING: set = set()  # every built-in plugin reaches the core through the surface
PRIVATE_PENDING: set = set()  # lattice_dft's shared kernel (lanes) and implicit solver are public modules


def unit_of(module: str) -> str | None:
    """'invtoolkit.core.space' -> 'core'; 'invtoolkit' (the root package) -> None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "invtoolkit" and len(parts) > 1 else None


def all_imports(path: Path) -> set[str]:
    """Every module imported anywhere in the file (functions and TYPE_CHECKING included),
    relative imports resolved; ``from pkg import name`` gives ``pkg.name``."""
    package = package_of(path)
    found = set()
    for node in ast.walk(parse(path)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.update(imported_names(node, package, with_package=False))
    return found


def unit_graph() -> dict[str, set[str]]:
    """First-level unit of invtoolkit/ -> the units it imports (not itself, not the root)."""
    graph: dict[str, set[str]] = {}
    for path in sources(CORE):
        unit = unit_of(module_name(path))
        if unit is None:
            continue
        targets = {unit_of(m) for m in all_imports(path)} - {None, unit}
        graph.setdefault(unit, set()).update(targets)
    return graph


def subpackages() -> list[Path]:
    return sorted(p for p in CORE.iterdir() if (p / "__init__.py").exists())


def test_the_layer_scanner_sees_function_and_type_only_imports(tmp_path):
    src = CORE / "core" / "roles.py"  # imports core.problem under TYPE_CHECKING only
    assert "invtoolkit.core.problem.Problem" in all_imports(src)
    assert "hooks" in unit_graph()["search"]  # search.seeding and search.chain use the registry
    assert "core" in unit_graph()["workflows"]


def test_few_modules_directly_in_the_core_package():
    top = sorted(p.name for p in CORE.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, f"{len(top)} modules directly in invtoolkit/: {', '.join(top)}"


def test_subpackages_are_few_small_and_say_what_they_hold():
    packages = subpackages()
    assert PACKAGES_MIN <= len(packages) <= PACKAGES_MAX, [p.name for p in packages]
    for package in packages:
        modules = list(package.rglob("*.py"))
        assert len(modules) <= MAX_PACKAGE_MODULES, f"invtoolkit/{package.name}: {len(modules)} modules"
        assert ast.get_docstring(parse(package / "__init__.py")), f"invtoolkit/{package.name}/__init__.py: no docstring"


def test_every_unit_is_in_the_layer_table():
    units = {unit_of(module_name(p)) for p in sources(CORE)} - {None}
    assert units == set(ALLOWED), f"not in ALLOWED: {sorted(units - set(ALLOWED))}; gone: {sorted(set(ALLOWED) - units)}"


def test_packages_import_only_downwards():
    wrong = [f"invtoolkit.{unit} imports invtoolkit.{{{', '.join(sorted(targets - ALLOWED.get(unit, set())))}}}"
             for unit, targets in sorted(unit_graph().items()) if targets - ALLOWED.get(unit, set())]
    assert not wrong, "imports against the layers (docs/architecture.md):\n" + "\n".join(wrong)


def test_no_import_cycle_between_packages():
    cycle = find_cycle(unit_graph())
    assert cycle is None, "import cycle between packages: " + " -> ".join(cycle or [])
    assert find_cycle({unit: set(allowed) for unit, allowed in ALLOWED.items()}) is None


def plugin_params(pending: set[str]):
    params = []
    for path in sources(PLUGINS):
        rel = path.relative_to(PLUGINS).as_posix()
        marks = [pytest.mark.xfail(reason="edited elsewhere during issue 28; the lead moves it", strict=False)] \
            if rel in pending else []
        params.append(pytest.param(path, marks=marks, id=rel))
    return params


@pytest.mark.parametrize("path", plugin_params(SURFACE_PENDING))
def test_built_in_plugins_use_only_the_plugin_surface(path):
    used = {".".join(m.split(".")[:2]) for m in all_imports(path) if m.split(".")[0] == "invtoolkit"}
    assert used <= PLUGIN_API, f"{path.relative_to(ROOT)} imports {sorted(used - PLUGIN_API)}"


@pytest.mark.parametrize("path", plugin_params(PRIVATE_PENDING))
def test_no_plugin_imports_another_plugins_private_name(path):
    own = path.relative_to(PLUGINS).parts[0].removesuffix(".py")
    private = sorted(m for m in all_imports(path) if m.split(".")[0] == "invtoolkit_plugins" and len(m.split(".")) > 1
                     and m.split(".")[1] != own and any(part.startswith("_") for part in m.split(".")[2:]))
    assert not private, f"{path.relative_to(ROOT)} imports private names of other plugins: {private}"


def test_the_built_in_plugins_reach_the_core_through_at_most_three_names():
    used = {".".join(m.split(".")[:2]) for p in sources(PLUGINS) for m in all_imports(p)
            if m.split(".")[0] == "invtoolkit" and p.relative_to(PLUGINS).as_posix() not in SURFACE_PENDING}
    assert len(used) <= 3 and used <= PLUGIN_API, sorted(used)
