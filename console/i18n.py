"""Languages: the whitelist, the per-request choice, compiling our catalogues on start, and
the completeness check behind tests/test_i18n.py and scripts/i18n."""
import os
from pathlib import Path, PurePosixPath

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import has_request_context, request, session
from flask_login import current_user

from console.config import LOCALES, setting

TRANSLATIONS = Path(__file__).parent / "translations"


def catalogue_dirs():
    """One catalogue per area (translations/<area>/<locale>/LC_MESSAGES/messages.po);
    Flask-Babel merges them."""
    return sorted(str(d) for d in TRANSLATIONS.iterdir() if d.is_dir() and not
                  d.name.startswith("_"))


def compile_catalogues():
    """Compile each .po to .mo when the .mo is missing or older (fresh clones carry no .mo)."""
    for po_path in TRANSLATIONS.glob("*/*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def select_locale():
    """User's saved choice, then the session's, then the configured default — whitelist only."""
    if not has_request_context():  # CLI, jobs: messages in the configured language
        return setting("CONSOLE_LOCALE")
    try:
        chosen = current_user.locale if current_user.is_authenticated else None
    except Exception:  # no user loader context (static files, early errors)
        chosen = None
    chosen = chosen or session.get("locale") or request.args.get("lang")
    return chosen if chosen in LOCALES else setting("CONSOLE_LOCALE")


# ---- completeness: what the code asks for against what the catalogues hold ---------------
# Used by tests/test_i18n.py and scripts/i18n; imports Babel's extractor only when called.
ROOT = TRANSLATIONS.parent.parent
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None,
            "ngettext": (1, 2), "lazy_ngettext": (1, 2)}
SOURCE_DIRS = ("console", "reports", "templates")
SYSTEM_FILES = tuple(f"console/{name}.py" for name in (
    "__init__", "cli", "config", "db", "errors", "i18n", "jobs", "migrations", "models",
    "security", "web")) + ("console/system/*", "console/common/*") + tuple(
    f"console/views/{name}.py" for name in (
        "__init__", "base", "labels", "monitor", "system", "widgets")) + (
    "templates/admin/*", "templates/security/*", "templates/errors/*")


def _source_dir(path):
    parts = Path(path).relative_to(ROOT).parts
    return parts[0] in SOURCE_DIRS and not any(p.startswith((".", "_")) for p in parts)


def extract_messages():
    """Every message our code uses, as {msgid: [(path, line), ...]}, with the mapping of
    babel.cfg; a plural message's msgid is the tuple (singular, plural)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    for pattern, method in method_map:
        if method == "jinja2":
            options_map[pattern] = dict(options_map.get(pattern, {}), silent="false")
    found = {}
    for path, line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS,
            directory_filter=_source_dir):
        if isinstance(message, tuple) and len(message) == 1:
            message = message[0]
        if message:
            found.setdefault(message, []).append((path, line))
    return found


def area_catalogues(locale="zh_Hans_CN"):
    """{area: babel Catalog} for every area's catalogue of `locale`."""
    from babel.messages.pofile import read_po

    catalogues = {}
    for po_path in sorted(TRANSLATIONS.glob(f"*/{locale}/LC_MESSAGES/messages.po")):
        with po_path.open("rb") as po_file:
            catalogues[po_path.parts[-4]] = read_po(po_file)
    return catalogues


def translated(locale="zh_Hans_CN"):
    """{msgid: msgstr} merged over the areas, for entries with a non-empty translation."""
    merged = {}
    for catalogue in area_catalogues(locale).values():
        for message in catalogue:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and all(strings) and not message.fuzzy:
                merged[message.id] = message.string
    return merged


def area_of(path):
    """The area a source file belongs to: the foundation's files are the system area's;
    otherwise console/<area>/..., views/<area>.py, templates/<area>/x.html (a guess from the
    name, for listing; any area's catalogue may hold a message)."""
    if any(PurePosixPath(path).match(pattern) for pattern in SYSTEM_FILES):
        return "system"
    parts = Path(path).parts
    if parts[0] == "templates":
        return parts[-2]
    if parts[0] == "console" and len(parts) > 2 and parts[1] != "views":
        return parts[1]
    stem = Path(path).stem
    if parts[0] != "console":
        return parts[0]
    known = [d.name for d in TRANSLATIONS.iterdir() if stem.startswith(d.name + "_")]
    return max(known, key=len) if known else stem


def missing_messages(locale="zh_Hans_CN"):
    """{area: {msgid: [(path, line), ...]}} for every message without a translation."""
    done = translated(locale)
    missing = {}
    for msgid, places in sorted(extract_messages().items(), key=lambda kv: kv[1][0]):
        key = msgid[0] if isinstance(msgid, tuple) else msgid
        if key not in done:
            missing.setdefault(area_of(places[0][0]), {})[msgid] = places
    return missing


def _po_quote(text):
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\t", "\\t") + '"'


def po_entry(msgid, places):
    lines = [f"#: {' '.join(f'{path}:{line}' for path, line in places[:4])}"]
    if isinstance(msgid, tuple):
        lines += [f"msgid {_po_quote(msgid[0])}", f"msgid_plural {_po_quote(msgid[1])}",
                  'msgstr[0] ""']
    else:
        lines += [f"msgid {_po_quote(msgid)}", 'msgstr ""']
    return "\n".join(lines) + "\n"


def main(argv):
    """scripts/i18n [check|update] [AREA ...]: list the messages without a Chinese
    translation, by area; `update` appends them with an empty msgstr to their area's
    catalogue (never rewriting what is there) so they can be filled in."""
    command = argv[0] if argv and argv[0] in ("check", "update") else "check"
    wanted = set(argv[1:] if argv and argv[0] in ("check", "update") else argv)
    missing = {a: m for a, m in missing_messages().items() if not wanted or a in wanted}
    for area, messages in sorted(missing.items()):
        print(f"== {area}: {len(messages)} message(s) without a zh_Hans_CN translation")
        for msgid, places in messages.items():
            print(f"  {places[0][0]}:{places[0][1]}  {msgid!r}")
        po_path = TRANSLATIONS / area / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
        if command == "update":
            if not po_path.exists():
                print(f"  (no catalogue {os.path.relpath(po_path, ROOT)}: create it with the "
                      "header of the system area's)")
                continue
            present = {m.id for m in area_catalogues()[area]}
            with po_path.open("a", encoding="utf-8") as po_file:
                for msgid, places in messages.items():
                    if msgid not in present:
                        po_file.write("\n" + po_entry(msgid, places))
            print(f"  appended to {os.path.relpath(po_path, ROOT)}")
    if not missing:
        print("Every message has a zh_Hans_CN translation.")
    return 1 if missing else 0
