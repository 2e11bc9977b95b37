"""The test suite's own rules, read from its source (ast):

- fixtures are defined in conftest.py and found by pytest, never imported: no module of tests/
  imports a fixture function, from anywhere;
- no module of tests/ imports from a test module (test_*.py) or from conftest.py: what several
  test modules share lives in a support module (builders.py, api_support.py, ...);
- no test expects just any exception: `pytest.raises(Exception)` (or BaseException) passes on a
  typo as well as on the error it means, so each names the error the code raises.
"""

import ast
import importlib
from pathlib import Path

import pytest
from _pytest.fixtures import FixtureFunctionDefinition

TESTS = Path(__file__).resolve().parent


def sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute(node: ast.ImportFrom, path: Path, root: Path) -> str:
    """The module a `from ... import` statement of the file `path` reads from."""
    if node.level == 0:
        return node.module or ""
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    package = package[:len(package) - (node.level - 1)]
    return ".".join(package + ([node.module] if node.module else []))


def is_local(module: str, root: Path) -> bool:
    return module == root.name or module.startswith(root.name + ".")


def is_test_module(module: str, root: Path) -> bool:
    last = module.rsplit(".", 1)[-1]
    return is_local(module, root) and (last.startswith("test_") or last == "conftest")


def source_of(module: str, root: Path) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (root.parent / relative.with_suffix(".py"),
                      root.parent / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def is_fixture_decorator(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr == "fixture"
    return isinstance(target, ast.Name) and target.id == "fixture"


def fixtures_defined_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), str(path))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and any(is_fixture_decorator(d) for d in node.decorator_list)}


def is_fixture(module: str, name: str, root: Path) -> bool:
    """Whether `from module import name` imports a fixture: read from the source for the
    modules of the suite, looked up for the others (plugins, libraries)."""
    if is_local(module, root):
        path = source_of(module, root)
        return path is not None and name in fixtures_defined_in(path)
    try:
        value = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False  # a submodule, or a name the module does not have: no fixture either way
    return isinstance(value, FixtureFunctionDefinition)


def imports(path: Path, root: Path):
    """(line, module, names) for every import of the file, nested ones included."""
    tree = ast.parse(path.read_text("utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = absolute(node, path, root)
            names = [alias.name for alias in node.names]
            yield node.lineno, module, names
            for name in names:  # `from . import test_x` imports the module test_x
                if source_of(f"{module}.{name}", root) is not None:
                    yield node.lineno, f"{module}.{name}", []


def layout_problems(root: Path) -> list[str]:
    """What breaks the rules in the suite whose package folder is `root`."""
    problems = []
    for path in sources(root):
        where = path.relative_to(root.parent)
        for line, module, names in imports(path, root):
            if is_test_module(module, root):
                problems.append(f"{where}:{line} imports from {module}: move what is shared "
                                f"into conftest.py (fixtures) or a support module (helpers)")
            for name in names:
                if name != "*" and is_fixture(module, name, root):
                    problems.append(f"{where}:{line} imports the fixture {name} from {module}: "
                                    f"define it in conftest.py")
    return problems


def catch_all_raises(root: Path) -> list[str]:
    found = []
    for path in sources(root):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "raises" and node.args):
                expected = node.args[0]
                names = expected.elts if isinstance(expected, ast.Tuple) else [expected]
                if any(isinstance(n, ast.Name) and n.id in ("Exception", "BaseException")
                       for n in names):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found


def test_no_module_imports_a_fixture_or_from_a_test_module():
    assert layout_problems(TESTS) == []


def test_no_test_expects_just_any_exception():
    assert catch_all_raises(TESTS) == []


# The rules themselves: each catches what it is for, in a small suite of its own.

@pytest.fixture
def suite(tmp_path):
    """An empty test package `suite` (outside tests/, so that pytest never collects it)."""
    root = tmp_path / "suite"
    root.mkdir()
    (root / "__init__.py").write_text("")
    return root


def write(root: Path, files: dict) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.mark.parametrize("file, statement", [
    ("test_mine.py", "from .test_other import helper"),
    ("test_mine.py", "from . import test_other"),
    ("test_mine.py", "import suite.test_other"),
    ("test_mine.py", "from suite.test_other import helper"),
    ("test_mine.py", "from .conftest import helper"),
    ("test_mine.py", "def f():\n    from .test_other import helper"),
    ("support.py", "from .test_other import helper"),
    ("api/test_mine.py", "from ..test_other import helper"),
])
def test_an_import_from_a_test_module_is_refused(suite, file, statement):
    write(suite, {"test_other.py": "def helper():\n    pass\n",
                  "conftest.py": "def helper():\n    pass\n",
                  "api/__init__.py": "",
                  file: statement + "\n"})
    problems = layout_problems(suite)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"suite/{file}:")
    assert " imports from suite." in problems[0]


@pytest.mark.parametrize("definition", [
    "@pytest.fixture\ndef thing():\n    return 1\n",
    "@pytest.fixture(scope='session')\ndef thing():\n    return 1\n",
    "from pytest import fixture\n@fixture\ndef thing():\n    return 1\n",
])
def test_a_fixture_imported_from_a_support_module_is_refused(suite, definition):
    write(suite, {"support.py": "import pytest\n\n" + definition + "\ndef helper():\n    return 2\n",
                  "test_mine.py": "from .support import helper, thing\n"})
    assert layout_problems(suite) == [
        "suite/test_mine.py:1 imports the fixture thing from suite.support: "
        "define it in conftest.py"]


def test_a_fixture_imported_from_a_library_is_refused(suite):
    write(suite, {"test_mine.py": "from _pytest.tmpdir import tmp_path\n"})
    assert layout_problems(suite) == [
        "suite/test_mine.py:1 imports the fixture tmp_path from _pytest.tmpdir: "
        "define it in conftest.py"]


def test_helpers_from_support_modules_are_fine(suite):
    write(suite, {"support.py": "def helper():\n    return 2\n",
                  "conftest.py": "import pytest\n\n@pytest.fixture\ndef thing():\n    return 1\n",
                  "test_mine.py": "import os\nfrom pathlib import Path\nfrom .support import helper\n"
                                  "from . import support\n"})
    assert layout_problems(suite) == []


@pytest.mark.parametrize("call", ["pytest.raises(Exception)", "pytest.raises(BaseException)",
                                  "pytest.raises((ValueError, Exception))"])
def test_a_catch_all_raises_is_refused(suite, call):
    write(suite, {"test_mine.py": f"import pytest\n\ndef test_x():\n    with {call}:\n        pass\n",
                  "test_fine.py": "import pytest\n\ndef test_y():\n"
                                  "    with pytest.raises(ValueError):\n        pass\n"})
    assert catch_all_raises(suite) == ["suite/test_mine.py:4"]
