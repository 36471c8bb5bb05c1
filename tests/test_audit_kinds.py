"""The registry of audit action kinds: every action the code records has a sentence, and every
sentence reads as a sentence (no code, no Python value) in French and in English."""
from __future__ import annotations

import ast
import html
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask_babel import force_locale

from marketplace import audit
from marketplace.audit.kinds import KINDS
from marketplace.audit.sentences import Reader, describe

ROOT = Path(__file__).resolve().parent.parent / "marketplace"
RECORDING_FUNCTIONS = {"record", "values"}


def _literal_actions(node: ast.expr, assignments: dict[str, list[ast.expr]]) -> list[str] | None:
    """The actions a call's first argument can be: a string, `"a" if x else "b"`, or a local
    name assigned only such values. None when it cannot be read without running the code."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = (_literal_actions(n, assignments) for n in (node.body, node.orelse))
        return None if body is None or orelse is None else body + orelse
    if isinstance(node, ast.Name) and assignments.get(node.id):
        found = [_literal_actions(value, {}) for value in assignments[node.id]]
        return None if any(f is None for f in found) else [a for f in found for a in f]
    return None


def recorded_actions() -> tuple[dict[str, list[str]], list[str]]:
    """{action: [where it is recorded]} for every audit.record(...) / audit.values(...) call in
    the application, and the calls whose action is not written out."""
    actions: dict[str, list[str]] = {}
    unreadable = []
    for path in sorted(ROOT.rglob("*.py")):
        if path.parent.name == "audit":
            continue  # the audit package itself (its functions take the action as a parameter)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in [tree, *[n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]]:
            assignments: dict[str, list[ast.expr]] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assignments.setdefault(target.id, []).append(node.value)
            for node in ast.walk(function):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "audit"
                        and node.func.attr in RECORDING_FUNCTIONS and node.args):
                    continue
                where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                found = _literal_actions(node.args[0], assignments)
                if found is None:
                    unreadable.append(where)
                for action in found or []:
                    actions.setdefault(action, []).append(where)
    return actions, sorted(set(unreadable))


def test_the_scan_sees_the_recording_calls():
    actions, _ = recorded_actions()
    # A few that are known to be recorded: the scan itself works.
    assert {"organization.approved", "voucher.collected", "giftcard.redeemed"} <= set(actions)


def test_every_action_recorded_in_the_code_has_a_sentence():
    actions, unreadable = recorded_actions()

    assert unreadable == [], (
        "write the action of these audit calls as a string (or `\"a\" if x else \"b\"`) so that "
        f"this test can check it has a sentence: {unreadable}")
    missing = {action: where for action, where in actions.items() if action not in KINDS}
    assert missing == {}, f"add these actions to marketplace/audit/kinds.py: {missing}"


def test_recording_an_action_without_a_sentence_fails_in_the_tests(app, make_organization):
    organization = make_organization()

    with pytest.raises(audit.UnknownAction, match="nothing.known"):
        audit.record("nothing.known", organization)


def _entry(action: str, data: dict, *, with_actor: bool):
    """An entry as the pages read it (not saved): an actor, an organization, a subject."""
    return SimpleNamespace(
        id=1, action=action, data=data, created_at=None, ip_address=None,
        actor_id=7 if with_actor else None,
        actor=SimpleNamespace(id=7, name="Lucie Moreau") if with_actor else None,
        organization_id=3, organization=SimpleNamespace(id=3, name="La Trouvaille"),
        subject_type="Thing", subject_id=11,
    )


def _text(markup) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", str(markup)))


LEAKS = re.compile(r"%\(|\bNone\b|\bTrue\b|\bFalse\b|\[\{|\{'|_cents|_id\b|#\d")


@pytest.mark.parametrize("action", sorted(KINDS))
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_kind_reads_as_a_sentence(app, action, locale):
    kind = KINDS[action]
    with app.test_request_context(), force_locale(locale):
        for data in (kind.example, {}):
            for with_actor in (True, False):
                for reader in (Reader(), Reader(organization_id=3)):
                    (described,) = describe([_entry(action, dict(data), with_actor=with_actor)],
                                            reader)
                    text = _text(described.sentence)
                    details = " ".join(_text(d) for d in described.details)
                    assert text and not text[0].islower(), (action, text)
                    assert not LEAKS.search(text + details), (action, data, text, details)
                    assert action not in text, (action, text)
        assert str(kind.label)


def test_the_sentences_are_translated(app):
    """The French sentence of a kind is not the English one (the catalog has it)."""
    untranslated = []
    for action, kind in KINDS.items():
        with app.test_request_context():
            with force_locale("en"):
                english = str(kind.sentence)
            with force_locale("fr"):
                french = str(kind.sentence)
        if english == french:
            untranslated.append(action)
    assert untranslated == []
