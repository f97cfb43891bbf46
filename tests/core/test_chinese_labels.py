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
from tests import factories

SRC = Path(fieldservice.__file__).parent
# Words that stay in Latin letters in Chinese text because people say them so.
ALLOWED_WORDS = {"SLA", "API", "QR", "IoT", "Excel", "PDF", "iCal", "BOM", "KPI", "SMS", "ID", "URL", "Webhook"}
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
                if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name | ast.Attribute):
                    # action=MOVE_ACTIONS[verb]: one of the codes of that table.
                    module = module or importlib.import_module(_module_name(path))
                    try:
                        table = eval(compile(ast.Expression(value.value), relative, "eval"), vars(module))  # noqa: S307
                    except Exception:  # noqa: BLE001 - reported as unresolved below
                        table = None
                    if isinstance(table, dict) and table and all(isinstance(code, str) for code in table.values()):
                        codes.update(table.values())
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


# --- pages ---------------------------------------------------------------------------------------

ZH = {"accept-language": "zh-hans"}
EN = {"accept-language": "en"}


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _section(html: str, pattern: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, f"no {pattern} on the page"
    return match.group(0)


@pytest.fixture
def logged_order(personas):
    """A dispatched order whose service log holds one line of every registered action."""
    from fieldservice.dispatch.assignments.services import dispatch_to_engineer
    from fieldservice.workorders.models import WorkOrderEvent

    engineer = factories.engineer(personas.own)
    order = factories.work_order(personas.customer_a, actor=personas.agent)
    dispatch_to_engineer(order, actor=personas.dispatcher, engineer=engineer)
    for code in action_labels():
        WorkOrderEvent.objects.create(work_order=order, action=code)
    return order


@pytest.mark.parametrize(("who", "url"), [("agent", "/orders/{pk}/"), ("dispatcher", "/dispatch/orders/{pk}/")])
def test_service_logs_show_every_action_in_the_language_of_the_page(personas, client_for, logged_order, who, url):
    client = client_for(getattr(personas, who))

    def actions(language_headers) -> list[str]:
        html = client.get(url.format(pk=logged_order.pk), headers=language_headers).content.decode()
        log = _section(html, r'<section class="service-log".*?</section>')
        # The action and its move; names, numbers and notes are data, not text of the page.
        return [
            _text(part)
            for part in re.findall(r'<strong>(.*?)</strong>|<span class="transition">(.*?)</span>', log)
            for part in part
            if part
        ]

    chinese = actions(ZH)
    assert len(chinese) > len(action_labels())
    assert "已预约上门" in chinese and "客户已签字" in chinese
    left = {text for text in chinese if english_left(text)}
    assert not left, f"English left in the Chinese service log: {sorted(left)}"
    english = actions(EN)
    assert "visit scheduled" in english
    raw = {text for text in english if "_" in text or text in action_labels() and "_" in text}
    assert not raw, f"raw action codes in the English service log: {sorted(raw)}"


def _urls_without_arguments(patterns=None, prefix=""):
    from django.urls import URLPattern, URLResolver, get_resolver

    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _urls_without_arguments(entry.url_patterns, prefix + route)
        elif isinstance(entry, URLPattern) and "<" not in route and "(?P" not in route:
            yield "/" + (prefix + route).lstrip("^").rstrip("$").replace("\\", "")


def test_every_export_names_its_sheet_and_columns_in_chinese(personas, client_for):
    """Every list page with an Excel export, found from the URL table, exported in Chinese."""
    from io import BytesIO

    from openpyxl import load_workbook

    from fieldservice.core.listing import XLSX_TYPE

    client = client_for(personas.admin)
    sheets, wrong = {}, {}
    # Lists inside a detail page: a subscription's deliveries.
    subscription = factories.webhook_subscription(actor=personas.admin)
    for url in [*sorted(set(_urls_without_arguments())), f"/webhooks/{subscription.pk}/"]:
        if url.startswith(("/api/", "/admin/", "/static/", "/media/")):
            continue
        response = client.get(url, {"export": "xlsx"}, headers=ZH)
        if response.status_code != 200 or response.get("Content-Type") != XLSX_TYPE:
            continue
        sheet = load_workbook(BytesIO(response.content)).worksheets[0]
        headers = [cell.value for cell in sheet[1]]
        sheets[url] = sheet.title
        left = english_left(sheet.title) + [word for header in headers for word in english_left(str(header))]
        if left:
            wrong[url] = (sheet.title, left)
    # The product's 19 list exports: the enumeration must find them all, or it tests little.
    assert len(sheets) >= 19, sorted(sheets)
    assert sheets["/orders/"] == "工单"
    assert not wrong, f"English in the Chinese exports: {wrong}"


def test_import_templates_name_their_sheet_in_the_language_of_the_headers(personas, client_for):
    from io import BytesIO

    from openpyxl import load_workbook

    from fieldservice.core.importing import importers

    client = client_for(personas.admin)
    assert [importer.kind for importer in importers()] == ["customers", "sites", "opening_stock", "equipment"]
    for importer in importers():
        kind = importer.kind
        chinese = load_workbook(BytesIO(client.get(f"/import/template/{kind}.xlsx", headers=ZH).content)).worksheets[0]
        assert not english_left(chinese.title), chinese.title
        english = load_workbook(BytesIO(client.get(f"/import/template/{kind}.xlsx", headers=EN).content)).worksheets[0]
        assert english.title == str(importer.label)[:31]


# --- the menu ------------------------------------------------------------------------------------

PERSONAS = [
    "admin",
    "agent",
    "dispatcher",
    "director",
    "parts_keeper",
    "engineer",
    "provider_admin",
    "provider_engineer",
    "customer_user_a",
]


def _menu(client, headers=ZH) -> tuple[list[str], list[tuple[str, str]]]:
    """The menu's top-level entries (group names and lone links) and every link in it."""
    # The account page is a desk page for every role; "/" sends an engineer to his phone list.
    html = client.get("/me/", headers=headers).content.decode()
    nav = _section(html, r'<nav class="mainnav".*?</nav>')
    top = [_text(s) for s in re.findall(r"<summary>(.*?)</summary>", nav, re.S)]
    outside = re.sub(r"<details.*?</details>", "", nav, flags=re.S)
    top += [_text(a) for a in re.findall(r"<a [^>]*>(.*?)</a>", outside, re.S)]
    links = [(href, _text(label)) for href, label in re.findall(r'<a href="([^"]+)"[^>]*>(.*?)</a>', nav, re.S)]
    return top, links


@pytest.mark.parametrize("who", PERSONAS)
def test_every_menu_entry_is_chinese_and_opens(personas, client_for, who):
    client = client_for(getattr(personas, who))
    top, links = _menu(client)
    assert links
    left = {text for text in top + [label for _href, label in links] if english_left(text)}
    assert not left, f"English in the Chinese menu of {who}: {sorted(left)}"
    # A menu entry that answers 403 (or fails) is a dead end for this persona.
    broken = {href: client.get(href).status_code for href, _label in links}
    assert all(status == 200 for status in broken.values()), broken


def test_the_administrators_menu_is_grouped_by_area(personas, client_for):
    top, links = _menu(client_for(personas.admin))
    assert len(links) >= 28
    # Eight groups and the two lone links (home, my work): money is an area of its own.
    assert len(top) <= 10, top
    assert {"服务", "调度", "设备与保养", "客户与合同", "人员", "设置"} <= set(top)
    english_top, _links = _menu(client_for(personas.admin), headers=EN)
    assert {"Service", "Dispatch", "Machines and maintenance", "Settings"} <= set(english_top)


def test_the_director_finds_the_ratings_in_the_menu(personas, client_for):
    _top, links = _menu(client_for(personas.director))
    assert ("/feedback/", "评价") in links


# --- short words that mean different things in different places -------------------------------------


def test_start_and_day_get_the_word_of_their_place(personas, client_for):
    """ "Start" is the home page, a visit's start time and a contract's start date; "Day" is a
    plan's date and a span of the board. Contexts give each its own Chinese word."""
    from fieldservice.board.forms import SPANS

    board = client_for(personas.dispatcher).get("/board/", headers=ZH).content.decode()
    assert re.search(r'<label for="move-start">开始时间</label>', board)
    assert '<option value="day" selected>日</option>' in board or '<option value="day">日</option>' in board
    assert "<title>首页" in client_for(personas.agent).get("/", headers=ZH).content.decode()
    with translation.override("zh-hans"):
        assert [str(label) for _value, label in SPANS] == ["日", "周"]
        from fieldservice.contracts.views import CONTRACTS

        assert "开始日期" in [str(column.label) for column in CONTRACTS.export_columns()]


def test_the_account_page_is_chinese(personas, client_for):
    html = client_for(personas.agent).get("/me/", headers=ZH).content.decode()
    for text in ("页面以此语言显示。", "令牌名称", "以使用它的设备或系统命名。"):
        assert text in html
    main = _text(_section(html, r"<main.*?</main>"))
    for data in (personas.agent.username, str(personas.agent), str(personas.own)):  # names, not page text
        main = main.replace(data, "")
    assert not english_left(main), english_left(main)


def test_no_translation_is_a_copy_of_the_english():
    """A msgstr that repeats its English msgid ("Webhooks") passes the completeness check but
    shows English on a Chinese page; only the allowed abbreviations may stay."""
    import polib

    catalogue = polib.pofile(str(SRC / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    copies = [
        entry.msgid
        for entry in catalogue.translated_entries()
        if entry.msgstr == entry.msgid and english_left(entry.msgstr)
    ]
    assert not copies, f"left in English: {copies}"
