"""The layers hold: no import cycle between the packages of ihl_docs (counting imports made inside
functions), nothing imports the `ihl` command, no feature imports the root package, and the
import-linter contracts of pyproject.toml break when a layer is crossed."""

import ast
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ihl_docs"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _module_name(path: Path, package: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def _imported(node, module: str, is_package: bool) -> list[str]:
    """The ihl_docs modules an import statement names (from X import Y may name module X.Y)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        here = module.split(".") if is_package else module.split(".")[:-1]
        here = here[:len(here) - node.level + 1]
        base = ".".join(here + ([node.module] if node.module else []))
    return [base] + [f"{base}.{alias.name}" for alias in node.names]


def _node(module: str) -> str:
    """The graph's node for a module: the root package, or the top-level module or package."""
    parts = module.split(".")
    return "ihl_docs" if len(parts) == 1 else ".".join(parts[:2])


def _existing(name: str, package: Path) -> str | None:
    parts = name.split(".")
    while parts:
        path = package.parent.joinpath(*parts)
        if path.with_suffix(".py").exists() or (path / "__init__.py").exists():
            return ".".join(parts)
        parts.pop()
    return None


def import_graph(package: Path) -> dict[str, dict[str, set[str]]]:
    """node -> imported node -> the modules that import it, over every import statement of the
    package, at module level or inside functions."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in package.rglob("*.py"):
        module, is_package = _module_name(path, package)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for name in _imported(node, module, is_package):
                target = _existing(name, package) if name.startswith(package.name) else None
                if target and _node(target) != _node(module):
                    graph[_node(module)][_node(target)].add(module)
    return graph


def cycles(graph) -> list[list[str]]:
    """The groups of nodes that import each other, directly or through others (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in list(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages():
    assert cycles(import_graph(PACKAGE)) == []


def test_nothing_imports_the_ihl_command():
    importers = {node for node, targets in import_graph(PACKAGE).items() if "ihl_docs.cli" in targets}
    assert importers == set()


def test_only_the_command_imports_the_root_package():
    """The app factory (the root package) lists the features; no feature may import it back."""
    graph = import_graph(PACKAGE)
    importers = {node for node, targets in graph.items() if "ihl_docs" in targets}
    assert importers <= {"ihl_docs.cli"}


def test_the_root_package_lists_the_features_and_the_core():
    imported = set(import_graph(PACKAGE)["ihl_docs"])
    assert {"ihl_docs.core", "ihl_docs.cases", "ihl_docs.evidence", "ihl_docs.api"} <= imported


def _plant(tmp_path: Path, relative: str, code: str) -> Path:
    """A copy of the package with `code` appended to one module."""
    copy = tmp_path / "ihl_docs"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    with open(copy / relative, "a", encoding="utf-8") as module:
        module.write("\n\n" + code)
    return copy


def test_a_cycle_made_by_an_import_inside_a_function_is_found(tmp_path):
    copy = _plant(tmp_path, "cases/services.py",
                  "def _planted():\n    from ihl_docs.incidents import services  # noqa\n")
    assert ["ihl_docs.cases", "ihl_docs.incidents"] in cycles(import_graph(copy))


def test_a_feature_importing_the_root_package_is_found(tmp_path):
    copy = _plant(tmp_path, "evidence/services.py",
                  "def _planted():\n    from ihl_docs import create_app  # noqa\n")
    assert "ihl_docs" in import_graph(copy)["ihl_docs.evidence"]


def _lint_imports(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", str(ROOT / "pyproject.toml")],
                          cwd=tree, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"})


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
def test_the_import_contracts_hold():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed")
@pytest.mark.parametrize(("module", "code", "broken"), [
    ("core/db.py", "def _planted():\n    from ihl_docs.cases import services  # noqa\n",
     "the core knows no feature BROKEN"),
    ("dossiers/services.py", "from ihl_docs.incidents import views  # noqa\n",
     "No package imports another package's views BROKEN"),
    ("evidence/services.py", "def _planted():\n    from ihl_docs import cli  # noqa\n",
     "Nothing imports the ihl command BROKEN"),
    ("cases/services.py", "def _planted():\n    from ihl_docs.incidents import services  # noqa\n",
     "No import cycle between the packages of ihl_docs BROKEN"),
])
def test_crossing_a_layer_breaks_a_contract(tmp_path, module, code, broken):
    result = _lint_imports(_plant(tmp_path, module, code).parent)
    assert result.returncode != 0
    assert broken in result.stdout
