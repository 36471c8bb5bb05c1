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


# --- queries live in services, not in views --------------------------------------------------

STATEMENT_BUILDERS = {"select", "insert", "update", "delete"}
# View modules that still build a statement of their own: a debt, that only shrinks (the test
# fails when a listed module no longer builds one, so that it leaves the list).
VIEWS_WITH_QUERIES = {
    "marketplace/campaigns/views.py",
    "marketplace/invoicing/admin_views.py",
}


def _statements_built(tree: ast.AST) -> list[str]:
    """`sa.select(...)` and the like (sa.insert, sa.update, sa.delete, a `select` imported from
    sqlalchemy, session.query): where, in the module, a statement is built."""
    imported = {alias.asname or alias.name for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
                for alias in node.names if alias.name in STATEMENT_BUILDERS}
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and (
                (func.attr in STATEMENT_BUILDERS and getattr(func.value, "id", None) == "sa")
                or func.attr == "query"):
            found.append(f"{node.lineno}: {ast.unparse(func)}(")
        elif isinstance(func, ast.Name) and func.id in imported:
            found.append(f"{node.lineno}: {func.id}(")
    return sorted(found, key=lambda site: int(site.split(":")[0]))


def _view_modules() -> dict[str, str]:
    return {name: text for name, text in _sources().items() if name.endswith("views.py")}


def test_views_build_no_query_they_call_services_that_say_what_they_return():
    views = _view_modules()
    assert "marketplace/orders/staff_views.py" in views, "no view module found: the scan is broken"
    building = {name: found for name, text in views.items()
                if (found := _statements_built(ast.parse(text)))}
    assert set(building) - VIEWS_WITH_QUERIES == set(), (
        f"views building queries (move them into their domain's services): {building}")
    assert VIEWS_WITH_QUERIES - set(building) == set(), (
        "these views build no query any more: take them off VIEWS_WITH_QUERIES")


def test_the_query_scan_finds_what_it_looks_for():
    tree = ast.parse("import sqlalchemy as sa\nfrom sqlalchemy import select as s\n"
                     "def f():\n    db.session.scalars(sa.select(X))\n    s(Y)\n"
                     "    db.session.query(Z)\n    sa.update(T)\n    db.session.get(X, 1)\n")
    assert [line.split(": ")[1] for line in _statements_built(tree)] == [
        "sa.select(", "s(", "db.session.query(", "sa.update("]
