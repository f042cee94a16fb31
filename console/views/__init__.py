"""The console's Flask-Admin: one Admin, views registered by area, and the resource list that
RBAC synchronizes from them."""
import os
import tempfile
from pathlib import Path

from babel import support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask_admin import Admin
from flask_admin import babel as admin_babel
from flask_admin import translations as admin_catalogues
from flask_admin.theme import Bootstrap4Theme
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from console.config import LOCALES
from console.views import catalogue, dispatch, monitor, orders, params, people, system
from console.views.base import ConsoleIndexView, ConsoleModelView, GuardMixin
from console.views.labels import localized

AREAS = [system, params, monitor, people, catalogue, orders, dispatch]
# Flask-Admin's messages its shipped catalogue lacks ("Failed to create record.")
ADMIN_TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations" / "_flask_admin"


def init_app(app):
    admin = Admin(app, name=_l("Car Service Console"),
                  theme=Bootstrap4Theme(swatch="default", fluid=True,
                                        base_template="admin/console_base.html"),
                  index_view=ConsoleIndexView(name=_l("Home"), url="/admin",
                                              template="admin/home.html"),
                  translations_path=admin_translations())
    for area in AREAS:
        area.register(admin)
    app.extensions["console_admin"] = admin
    app.add_template_global(localized, "localized")
    return admin


def admin_translations():
    """Compile our additions to Flask-Admin's catalogue when stale (written aside and moved
    into place: several processes may start at once) and load them into Flask-Admin's
    translation cache for every language: Flask-Admin reads Admin(translations_path) only
    inside one of its views, so a message first translated elsewhere would otherwise cache
    the catalogue without them. Returns their directory."""
    for po_path in ADMIN_TRANSLATIONS.glob("*/LC_MESSAGES/admin.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        handle, scratch = tempfile.mkstemp(dir=mo_path.parent, suffix=".mo.tmp")
        with os.fdopen(handle, "wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(scratch, mo_path)
    for locale in LOCALES:  # in Flask-Babel's order: Flask-Admin's own entries win
        merged = support.Translations()
        for directory in (str(ADMIN_TRANSLATIONS), admin_catalogues.__path__[0]):
            catalog = support.Translations.load(directory, [locale], "admin")
            merged.merge(catalog)
            if hasattr(catalog, "plural"):  # merge() keeps no plural rule (as Flask-Babel)
                merged.plural = catalog.plural
        admin_babel.domain.cache[locale, "admin"] = merged
    return str(ADMIN_TRANSLATIONS)


def declared_resources(app):
    """Every guarded view is a page resource; its buttons, actions and exports are element
    resources under it."""
    admin = app.extensions["console_admin"]
    entries = []
    # names are stored as their English msgids and translated when shown
    with app.test_request_context(), force_locale("en"):
        for view in admin._views:
            if not isinstance(view, GuardMixin):
                continue
            entries.append({"code": view.page_code, "name": str(view.name), "kind": "page",
                            "endpoint": f"{view.endpoint}.index_view"
                            if isinstance(view, ConsoleModelView) else f"{view.endpoint}.index",
                            "url": view.url.rstrip("/") + "/", "parent": None})
            for element, label in view.declared_elements().items():
                entries.append({"code": view.element_code(element), "kind": "element",
                                "name": str(label), "endpoint": view.endpoint,
                                "url": "", "parent": view.page_code})
    for entry in app.extensions.get("console_api_resources", []):
        entries.append(entry)
    return entries
