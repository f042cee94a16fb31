"""Excel import pages: upload → preview (a dry run: every row checked, errors by row number)
→ confirm (checked again and written in one transaction, or nothing is written). Each page
offers its .xlsx template. The uploaded file waits in the upload folder between the steps,
named for the user who sent it."""
import io
import re
import secrets
import time
from pathlib import Path

from flask import abort, request, send_file
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from console.catalogue.import_kinds import KINDS
from console.common import xlsx as imports
from console.common.money import format_yuan
from console.config import setting
from console.models import Supplier
from console.orders.types import ORDER_TYPE_LABELS
from console.system import rbac
from console.views.base import ConsolePage

TOKEN = re.compile(r"^[0-9a-f]{32}$")
KEEP_SECONDS = 24 * 3600
ACTION_LABELS = {"create": _l("New"), "update": _l("Update"), "unchanged": _l("Unchanged"),
                 "part": _l("Parts line")}


def cell_text(key, value):
    if key == "order_type" and value in ORDER_TYPE_LABELS:
        return str(ORDER_TYPE_LABELS[value])
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key.endswith("_fen") and isinstance(value, int):
        return format_yuan(value)
    return "" if value is None else str(value)


class ImportPage(ConsolePage):
    kind_code = ""
    elements = {"confirm": _l("Import")}

    @property
    def kind(self):
        return KINDS[self.kind_code]

    # ---- context: what the rows are imported for ---------------------------------------
    def choices(self):
        return []

    def context(self):
        return {"actor": current_user}

    # ---- the steps -----------------------------------------------------------------------
    @expose("/")
    def index(self):
        return self._page()

    @expose("/preview/", methods=["POST"])
    def preview(self):
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            return self._page(file_error=_("Choose an .xlsx file to upload."))
        data = upload.stream.read(imports.MAX_BYTES + 1)
        context = self.context()
        if context is None:
            return self._page(file_error=_("Choose a supplier."))
        token = self._store(data)
        return self._run(data, context, token, dry_run=True)[0]

    @expose("/confirm/", methods=["POST"])
    def confirm(self):
        token = request.form.get("token", "")
        path = self._path(token) if TOKEN.match(token) else None
        if path is None or not path.exists():
            return self._page(file_error=_("The uploaded file has expired; upload it again."))
        context = self.context()
        if context is None:
            abort(404)
        page, written = self._run(path.read_bytes(), context, token, dry_run=False)
        if written:
            path.unlink(missing_ok=True)
        return page

    @expose("/template.xlsx")
    def template(self):
        name = _("%(sheet)s import template", sheet=self.kind.sheet_title)
        return send_file(io.BytesIO(imports.template_workbook(self.kind)),
                         mimetype=imports.XLSX_MEDIA_TYPE, as_attachment=True,
                         download_name=f"{name}.xlsx")

    # ---- helpers -----------------------------------------------------------------------
    def _run(self, data, context, token, dry_run):
        """The rendered page, and whether the import went through."""
        try:
            result = imports.run(self.kind, data, context, dry_run=dry_run)
        except imports.ImportFileError as exc:
            return self._page(file_error=str(exc.message)), False
        return self._page(result=result, token=token), result.ok and not dry_run

    def _page(self, **kwargs):
        kwargs.setdefault("result", None)
        kwargs.setdefault("file_error", "")
        kwargs.setdefault("token", "")
        return self.render("catalogue/import.html", kind=self.kind, choices=self.choices(),
                           chosen=request.values.get("supplier", type=int),
                           action_labels=ACTION_LABELS, cell_text=cell_text,
                           may_confirm=self.allowed("confirm"), max_rows=imports.MAX_ROWS,
                           **kwargs)

    def _folder(self):
        folder = Path(setting("CONSOLE_UPLOAD_DIR")) / "imports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def _path(self, token):
        return self._folder() / f"{current_user.id}-{self.kind_code}-{token}.xlsx"

    def _store(self, data):
        folder = self._folder()
        for old in folder.glob("*.xlsx"):  # drop what was never confirmed
            if old.stat().st_mtime < time.time() - KEEP_SECONDS:
                old.unlink(missing_ok=True)
        token = secrets.token_hex(16)
        self._path(token).write_bytes(data)
        return token


class CarModelImportPage(ImportPage):
    kind_code = "car_models"


class PriceListImportPage(ImportPage):
    """A supplier's staff import only their own supplier's price list (data scope)."""
    kind_code = "price_list"

    def suppliers(self):
        return rbac.scoped(Supplier.select(), Supplier, current_user).where(
            Supplier.is_active == True).order_by(Supplier.code)  # noqa: E712

    def choices(self):
        return [(s.id, f"{s.code} · {s.name}") for s in self.suppliers()]

    def context(self):
        supplier_id = request.form.get("supplier", type=int)
        supplier = self.suppliers().where(Supplier.id == supplier_id).first() \
            if supplier_id else None
        return None if supplier is None else {"actor": current_user, "supplier": supplier}


def register(admin, category):
    admin.add_view(CarModelImportPage(name=_l("Car model import"), category=category,
                                      endpoint="car_model_import"))
    admin.add_view(PriceListImportPage(name=_l("Price list import"), category=category,
                                       endpoint="price_list_import"))
