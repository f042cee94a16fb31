"""Languages: the whitelist, the per-request choice, and compiling our catalogue on start."""
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
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
    try:
        chosen = current_user.locale if current_user.is_authenticated else None
    except Exception:  # no user loader context (static files, early errors)
        chosen = None
    chosen = chosen or session.get("locale") or request.args.get("lang")
    return chosen if chosen in LOCALES else setting("CONSOLE_LOCALE")
