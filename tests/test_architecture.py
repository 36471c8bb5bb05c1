"""The unit of work's rules, read in the source (docs/architecture.md): nobody but
marketplace/uow.py commits or rolls back, and every durable step is a named exception listed in
the docs' table, which lists nothing else."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "marketplace"
DOC = ROOT / "docs" / "architecture.md"
COMMIT_OR_ROLLBACK = re.compile(r"\bsession\.(commit|rollback)\(\)")

def _sources() -> dict[str, str]:
    return {path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
            for path in sorted(PACKAGE.rglob("*.py"))}


def test_only_the_unit_of_work_commits_or_rolls_back():
    committing = {name: [f"{n}: {line.strip()}" for n, line in enumerate(text.splitlines(), 1)
                         if COMMIT_OR_ROLLBACK.search(line)]
                  for name, text in _sources().items() if name != "marketplace/uow.py"}
    committing = {name: lines for name, lines in committing.items() if lines}
    assert committing == {}, "commit/rollback outside marketplace/uow.py (use the unit of work)"


def _calls_by_function(tree: ast.AST, called: str, function: str = "<module>"):
    """The names of the functions (innermost) in which `called(...)` is called."""
    for child in ast.iter_child_nodes(tree):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _calls_by_function(child, called, child.name)
            continue
        if isinstance(child, ast.Call):
            func = child.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == called:
                yield function
        yield from _calls_by_function(child, called, function)


def _durable_step_sites() -> set[tuple[str, str]]:
    return {(name, function)
            for name, text in _sources().items()
            if name != "marketplace/uow.py" and "durable_step" in text
            for function in _calls_by_function(ast.parse(text), "durable_step")}


def _documented_sites() -> set[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Named exceptions", 1)[1].split("\n## ", 1)[0]
    return {(module, function) for module, function in
            re.findall(r"^\|\s*`(marketplace/[\w/]+\.py)`\s*\|\s*`(\w+)`\s*\|", section, re.M)}


def test_every_durable_step_is_a_named_exception_in_the_docs_and_only_those():
    in_code, in_docs = _durable_step_sites(), _documented_sites()
    assert in_code, "no durable_step found: the scan is broken"
    assert in_code - in_docs == set(), "durable_step calls missing from docs/architecture.md"
    assert in_docs - in_code == set(), "docs/architecture.md lists durable steps the code lacks"
