"""The package as pip installs it: every sub-package, the templates and the migrations."""

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent


def test_every_subpackage_is_declared():
    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
                   ["packages"])
    found = set(find_packages(str(ROOT), include=["ihl_docs*"]))
    assert found <= declared, f"add to pyproject.toml: {sorted(found - declared)}"
    assert "ihl_docs.templates" in declared
