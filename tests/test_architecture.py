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


# --- imports of the package's own modules at module level ------------------------------------

# The imports of marketplace modules that stay inside a function, per module, by kind
# (docs/architecture.md, "Imports inside functions"). A list that only shrinks: the test fails
# when a module has more than listed (a new one: move it to the top, or say why here and in the
# docs) and when it has fewer (take the entry down).
APP_FACTORY = "app factory"
JOB = "job: the work imported when the job runs"
CYCLE = "cycle inside a domain"
LATE_IMPORTS = {
    "marketplace/__init__.py": (13, APP_FACTORY),
    "marketplace/accounting/tasks.py": (2, JOB),
    "marketplace/campaigns/tasks.py": (8, JOB),
    "marketplace/consent/tasks.py": (3, JOB),
    "marketplace/giftcards/tasks.py": (2, JOB),
    "marketplace/ledger/tasks.py": (1, JOB),
    "marketplace/payments/tasks.py": (2, JOB),
    "marketplace/pickup/tasks.py": (2, JOB),
    # A service that queues its own domain's job: the tasks module imports the service.
    "marketplace/campaigns/issuance.py": (1, CYCLE),
    "marketplace/campaigns/sending.py": (1, CYCLE),
    "marketplace/consent/messages.py": (1, CYCLE),
    "marketplace/notifications/services.py": (2, CYCLE),  # and marketplace.extensions
    # The Celery app is built with the unit-of-work task class (jobs.AppContextTask).
    "marketplace/jobs.py": (1, CYCLE),
    # The modules below import the one that imports them late.
    "marketplace/api/__init__.py": (1, CYCLE),  # the API's blueprints, from the api package
    "marketplace/campaigns/services.py": (2, CYCLE),  # campaigns.urssaf
    "marketplace/catalog/models.py": (1, CYCLE),  # catalog.search, on the Product model
    "marketplace/demo.py": (3, CYCLE),  # demo_catalog, demo_campaigns, demo_money
    "marketplace/payments/gateway.py": (3, CYCLE),  # the gateways, on the gateway interface
}


def _late_imports(tree: ast.AST) -> list[str]:
    """`from marketplace... import` and `import marketplace...` inside a function or method."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if in_function and (
                    (isinstance(child, ast.ImportFrom) and child.level == 0
                     and (child.module or "").split(".")[0] == "marketplace")
                    or (isinstance(child, ast.Import)
                        and any(a.name.split(".")[0] == "marketplace" for a in child.names))):
                found.append(f"{child.lineno}: {ast.unparse(child)}")
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return found


def test_the_package_imports_its_own_modules_at_the_top_except_the_kinds_the_docs_name():
    found = {name: late for name, text in _sources().items()
             if (late := _late_imports(ast.parse(text)))}
    assert "marketplace/payments/gateway.py" in found, "no late import found: the scan is broken"
    new = {name: late for name, late in found.items()
           if len(late) > LATE_IMPORTS.get(name, (0, ""))[0]}
    assert new == {}, ("imports inside functions (move them to the top of the module, or list "
                       f"the module in LATE_IMPORTS and docs/architecture.md with why): {new}")
    fewer = {name: count for name, (count, _kind) in LATE_IMPORTS.items()
             if len(found.get(name, ())) < count}
    assert fewer == {}, f"fewer imports inside functions than listed: lower LATE_IMPORTS {fewer}"
    kinds = DOC.read_text(encoding="utf-8").split("## Imports inside functions", 1)[-1]
    assert all(kind.split(":")[0] in kinds for _count, kind in LATE_IMPORTS.values())


def test_the_late_import_scan_finds_what_it_looks_for():
    tree = ast.parse("from marketplace import db\n"
                     "def f():\n    from marketplace.orders import services\n"
                     "    import marketplace.ledger\n    from flask import g\n"
                     "class C:\n    def m(self):\n        from marketplace import uow\n")
    assert [line.split(": ")[1] for line in _late_imports(tree)] == [
        "from marketplace.orders import services", "import marketplace.ledger",
        "from marketplace import uow"]
