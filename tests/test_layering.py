"""Imports only go downward (DESIGN.md): kernels <- autodiff <- minirl, and inside minirl the agents sit between
what they are built on and what drives them:

    minirl.io (checkpoints, metrics)  <-  minirl.algos (the agents)  <-  minirl.runs (trainer, evaluation)  <-  cli

Every import statement of every module is read, those inside functions too (a deferred import is still a
dependency), so a circle cannot hide behind a local import.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the packages it must never import
FORBIDDEN = {
    "kernels": ("autodiff", "minirl"),
    "autodiff": ("minirl",),
    "minirl/io": ("minirl.algos", "minirl.runs", "minirl.cli"),
    "minirl/algos": ("minirl.runs", "minirl.cli"),
    "minirl/runs": ("minirl.cli",),
}


def imported_modules(path: Path):
    """(line, module) of every absolute import in the file."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:  # `from minirl import runs` imports minirl.runs
                yield node.lineno, f"{node.module}.{alias.name}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_a_layer_above_it(package):
    above = FORBIDDEN[package]
    offences = [f"{path.relative_to(ROOT)}:{line} imports {module}"
                for path in sorted((ROOT / package).rglob("*.py"))
                for line, module in imported_modules(path)
                if any(module == name or module.startswith(name + ".") for name in above)]
    assert not offences, "\n".join(offences)


def test_the_reader_sees_a_deferred_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from minirl.runs import trainer\n")
    assert (2, "minirl.runs.trainer") in list(imported_modules(probe))
