"""Uploaded files (licence photos, qualification documents): the type is decided by the file's
first bytes, never by its name; the size is limited; the bytes live under CONSOLE_UPLOAD_DIR
with a random name, outside the database, and are served only to users who may see the
record that owns them (`may_view`)."""
import hashlib
import secrets
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from console.common.validators import InvalidValue
from console.models import SupplierDocument, UploadedFile, Vehicle
from console.system import rbac

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
# (content type, extension, magic bytes at offset 0)
SIGNATURES = (
    ("image/jpeg", ".jpg", b"\xff\xd8\xff"),
    ("image/png", ".png", b"\x89PNG\r\n\x1a\n"),
    ("application/pdf", ".pdf", b"%PDF-"),
)
# owner type -> (model, the page resources through which its files may be seen)
OWNERS = {
    "vehicle": (Vehicle, ("vehicles", "customers")),
    "supplier_document": (SupplierDocument, ("suppliers", "certifications")),
}


def sniff(head):
    """(content type, extension) for the first bytes of a file, or None when not allowed."""
    for content_type, extension, magic in SIGNATURES:
        if head.startswith(magic):
            return content_type, extension
    return None


def read_limited(stream, max_bytes, field, label):
    """Read at most max_bytes + 1 so an oversized upload is refused without buffering it."""
    body = stream.read(max_bytes + 1)
    if not body:
        raise InvalidValue(field, _("%(field)s: the file is empty", field=label))
    if len(body) > max_bytes:
        raise InvalidValue(field, _("%(field)s: the file is larger than %(limit)s MB",
                                    field=label, limit=f"{max_bytes / 1024 / 1024:g}"))
    return body


def store(stream, filename, *, upload_dir, max_bytes=DEFAULT_MAX_BYTES, field="file",
          label=None, owner_type="", owner_id=None, organization=None, user=None):
    """Check and keep one upload; returns its UploadedFile row (inside the caller's
    transaction: if that rolls back, the orphan file holds nothing the database points to)."""
    label = label or _l("File")
    body = read_limited(stream, max_bytes, field, label)
    kind = sniff(body[:16])
    if kind is None:
        raise InvalidValue(field, _("%(field)s: only JPEG, PNG or PDF files are accepted (the "
                                    "content of %(name)s is none of them)", field=label,
                                    name=filename or "?"))
    content_type, extension = kind
    stored_name = secrets.token_hex(16) + extension
    path = Path(upload_dir) / stored_name[:2] / stored_name
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".part")
    temporary.write_bytes(body)
    temporary.replace(path)
    return UploadedFile.create(
        stored_name=stored_name, original_name=(filename or "")[:255], content_type=content_type,
        size=len(body), sha256=hashlib.sha256(body).hexdigest(), owner_type=owner_type,
        owner_id=owner_id, organization=organization, uploaded_by=user.id if user else None)


def attach(uploaded, owner_type, owner):
    """Point an upload at the record that owns it once that record has an id."""
    UploadedFile.update(owner_type=owner_type, owner_id=owner.id).where(
        UploadedFile.id == uploaded.id).execute()
    uploaded.owner_type, uploaded.owner_id = owner_type, owner.id


def path_of(uploaded, upload_dir):
    return Path(upload_dir) / uploaded.stored_name[:2] / uploaded.stored_name


def may_view(user, uploaded):
    """True when `user` holds a page showing the owning record and that record is in their
    data scope. Files without a known owner are shown to nobody."""
    if uploaded.owner_type not in OWNERS or uploaded.owner_id is None:
        return False
    model, pages = OWNERS[uploaded.owner_type]
    if not any(rbac.can(user, page) for page in pages):
        return False
    query = rbac.scoped(model.select(model.id), model, user)
    return query.where(model.id == uploaded.owner_id).exists()
