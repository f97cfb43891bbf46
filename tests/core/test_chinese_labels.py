"""No raw code and no English left in Chinese pages: every action any app records in a log,
every menu entry and every export sheet is shown in Simplified Chinese.

The action codes are enumerated twice: from the label registry, and from the source (every
call that writes an event, and the lifecycle's transition table), so a code recorded without a
label fails here, whichever app adds it."""

import ast
import importlib
import re
from pathlib import Path

import pytest
from django.utils import translation

import fieldservice
from fieldservice.core.events import action_label, action_labels

SRC = Path(fieldservice.__file__).parent
# Words that stay in Latin letters in Chinese text because people say them so.
ALLOWED_WORDS = {"SLA", "API", "QR", "IoT", "Excel", "PDF", "iCal", "BOM", "KPI", "SMS", "ID", "Webhook"}
WORD = re.compile(r"[A-Za-z][A-Za-z_\-]*[A-Za-z]|[A-Za-z]")


def english_left(text: str) -> list[str]:
    """Latin words in a Chinese text, other than the allowed abbreviations."""
    return [word for word in WORD.findall(text) if word not in ALLOWED_WORDS]


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_files():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _functions(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _parameters(function) -> set[str]:
    args = function.args
    return {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}


def _action_keyword(call: ast.Call):
    return next((kw.value for kw in call.keywords if kw.arg == "action"), None)


# The lifecycle writes its verb, which its own guard checks against the transition table;
# the table is enumerated below instead.
PASS_THROUGH = {("workorders/services/lifecycle.py", "verb")}


def recorded_action_codes() -> tuple[set[str], list[str]]:
    """Every action code the source writes to the event log or the service log, and the places
    whose code could not be told."""
    trees = {path: ast.parse(path.read_text(), filename=str(path)) for path in _source_files()}
    # Writers: the two log writers, the event models, and every function that passes its own
    # `action` parameter on to a writer (a service's private helper such as `_record`).
    writers = {"record_event", "log_event", "WorkOrderEvent", "Event"}
    changed = True
    while changed:
        changed = False
        for tree in trees.values():
            for function in _functions(tree):
                if function.name in writers or "action" not in _parameters(function):
                    continue
                for call in ast.walk(function):
                    value = isinstance(call, ast.Call) and _called(call) in writers and _action_keyword(call)
                    if isinstance(value, ast.Name) and value.id == "action":
                        writers.add(function.name)
                        changed = True
                        break
    codes, unresolved = set(), []
    for path, tree in trees.items():
        relative = path.relative_to(SRC).as_posix()
        module = None
        for function in [tree, *_functions(tree)]:
            body_calls = [n for n in ast.walk(function) if isinstance(n, ast.Call) and _called(n) in writers]
            for call in body_calls:
                value = _action_keyword(call)
                if value is None:
                    continue
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    codes.add(value.value)
                    continue
                if isinstance(value, ast.Name) and function is not tree:
                    passed_on = value.id == "action" or (relative, value.id) in PASS_THROUGH
                    if passed_on and value.id in _parameters(function):
                        continue  # a wrapper: its callers are scanned
                    local = [
                        node.value.value
                        for node in ast.walk(function)
                        if isinstance(node, ast.Assign)
                        and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)
                        and isinstance(node.value, ast.Constant)
                    ]
                    if local:
                        codes.update(local)
                        continue
                if isinstance(value, ast.Name | ast.Attribute):
                    module = module or importlib.import_module(_module_name(path))
                    try:
                        resolved = eval(compile(ast.Expression(value), relative, "eval"), vars(module))  # noqa: S307
                    except Exception:  # noqa: BLE001 - reported as unresolved below
                        resolved = None
                    if isinstance(resolved, str):
                        codes.add(str(resolved))
                        continue
                if function is tree:
                    continue  # calls at module level that are not event writes
                unresolved.append(f"{relative}:{call.lineno}")
    return codes, unresolved


def test_every_recorded_action_has_a_label():
    from fieldservice.workorders.choices import TRANSITIONS

    codes, unresolved = recorded_action_codes()
    assert not unresolved, f"cannot tell which action these write (use a constant or a literal): {unresolved}"
    # The scan must find the codes the issue named, or it would pass by finding nothing.
    assert {"visit_scheduled", "work_recorded", "signature_captured", "pool_published", "evaluated"} <= codes
    codes |= {str(verb) for verb in TRANSITIONS}
    missing = sorted(code for code in codes if code not in action_labels())
    assert not missing, f"actions recorded without a label in the registry: {missing}"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_action_labels_are_words_of_the_language(language):
    wrong = {}
    with translation.override(language):
        for code in action_labels():
            label = action_label(code)
            if language == "zh-hans" and english_left(label):
                wrong[code] = label
            if language == "en" and ("_" in label or label == code and "_" in code):
                wrong[code] = label
    assert not wrong, f"labels not in {language}: {wrong}"


def test_a_code_belongs_to_one_app():
    from django.core.exceptions import ImproperlyConfigured

    from fieldservice.core.events import register_action_labels

    with pytest.raises(ImproperlyConfigured):
        register_action_labels("another_app", {"visit_scheduled": "scheduled"})
    assert action_label("visit_scheduled") != "scheduled"


GETTEXT = {"gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}


def _marked_strings(tree) -> set[tuple[str | None, str]]:
    """(context, msgid) of every literal handed to a gettext function, whatever name it was
    imported under, also inside f-strings (which xgettext cannot read)."""
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "django.utils.translation":
            for name in node.names:
                if name.name in GETTEXT:
                    aliases[name.asname or name.name] = name.name
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in aliases):
            continue
        args = node.args
        if aliases[node.func.id].startswith("p"):
            if len(args) >= 2 and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args[:2]):
                found.add((args[0].value, args[1].value))
        elif args and isinstance(args[0], ast.Constant) and isinstance(args[0].value, str):
            found.add((None, args[0].value))
    return found


def test_every_marked_string_reaches_the_catalogue():
    """A string marked for translation in a way makemessages does not see (an alias such as
    `_lazy`, a call inside an f-string) never gets a translation: the page shows English."""
    import polib

    catalogue = polib.pofile(str(SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    known = {(entry.msgctxt, entry.msgid) for entry in catalogue if not entry.obsolete}
    missing = []
    for path in _source_files():
        for key in _marked_strings(ast.parse(path.read_text())):
            if key not in known:
                missing.append(f"{path.relative_to(SRC)}: {key[1]!r}")
    assert len(known) > 1000
    assert not missing, f"marked for translation but not in the catalogue: {missing[:20]}"
