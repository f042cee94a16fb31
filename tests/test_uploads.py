"""Uploaded files: the type is decided by the content (JPEG, PNG, PDF only), the size is
limited, the bytes live outside the database under random names, and a file is served only to
users who may see the record that owns it."""
import io
import struct
import zlib
from pathlib import Path

import pytest
from flask_babel import force_locale

from console import people
from console.common.validators import InvalidValue
from console.models import (
    Customer,
    Organization,
    Supplier,
    SupplierDocument,
    UploadedFile,
    Vehicle,
)
from console.people import uploads
from console.people.demo import demo_pdf
from console.system import users
from tests.conftest import PASSWORD

MAX_BYTES = 4096
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 200


def png_bytes():
    """A real 1×1 PNG."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def app_config(tmp_path):
    return {"CONSOLE_LOGIN_CAPTCHA": False, "CONSOLE_UPLOAD_DIR": str(tmp_path / "uploads"),
            "CONSOLE_UPLOAD_MAX_BYTES": MAX_BYTES}


@pytest.fixture(autouse=True)
def in_english(app):
    """Operations run as in a request whose user reads English (messages are compared)."""
    with app.test_request_context(), force_locale("en"):
        yield


@pytest.fixture
def upload_dir(app):
    return Path(app.config["CONSOLE_UPLOAD_DIR"])


def stored_files(upload_dir):
    return sorted(p for p in upload_dir.rglob("*") if p.is_file()) if upload_dir.exists() else []


@pytest.mark.parametrize("body, content_type", [
    (JPEG, "image/jpeg"), (png_bytes(), "image/png"), (demo_pdf("X"), "application/pdf"),
])
def test_jpeg_png_and_pdf_are_kept_outside_the_database_under_random_names(
        upload_dir, body, content_type):
    row = uploads.store(io.BytesIO(body), "行驶证.jpg", upload_dir=upload_dir,
                        max_bytes=MAX_BYTES)
    assert row.content_type == content_type and row.size == len(body)
    path = uploads.path_of(row, upload_dir)
    assert path.read_bytes() == body
    assert "行驶证" not in path.name and len(row.stored_name) >= 32


@pytest.mark.parametrize("body", [
    b"GIF89a\x01\x00\x01\x00" + b"\x00" * 20,           # a GIF
    b"<html><script>alert(1)</script></html>",        # HTML pretending to be a photo
    b"MZ\x90\x00" + b"\x00" * 60,                     # a Windows executable
])
def test_a_file_named_jpg_whose_content_is_something_else_is_refused(upload_dir, body):
    rows = UploadedFile.select().count()
    with pytest.raises(InvalidValue) as error:
        uploads.store(io.BytesIO(body), "photo.jpg", upload_dir=upload_dir,
                      max_bytes=MAX_BYTES, field="file")
    assert error.value.field == "file" and "JPEG, PNG or PDF" in error.value.message
    assert stored_files(upload_dir) == [] and UploadedFile.select().count() == rows


def test_a_file_over_the_size_limit_or_empty_is_refused(upload_dir):
    rows = UploadedFile.select().count()
    for body, reason in ((JPEG + b"\x00" * MAX_BYTES, "larger than"), (b"", "empty")):
        with pytest.raises(InvalidValue) as error:
            uploads.store(io.BytesIO(body), "big.jpg", upload_dir=upload_dir,
                          max_bytes=MAX_BYTES)
        assert reason in error.value.message
    assert stored_files(upload_dir) == [] and UploadedFile.select().count() == rows


# ---- through the pages -------------------------------------------------------------
def upload_document(client, form_token, supplier, body, filename="licence.pdf"):
    url = f"/admin/suppliers/details/?id={supplier.id}"
    return client.post("/admin/suppliers/upload/", data={
        "id": supplier.id, "title": "营业执照", "file": (io.BytesIO(body), filename),
        "csrf_token": form_token(url)}, content_type="multipart/form-data",
        follow_redirects=True)


def test_supplier_staff_upload_documents_and_only_permitted_users_download_them(
        app, client, login_as, form_token, upload_dir):
    own = Supplier.get(Supplier.code == "SH001")
    login_as("supplier")
    page = upload_document(client, form_token, own, demo_pdf("SH001")).get_data(as_text=True)
    document = SupplierDocument.select().where(SupplierDocument.supplier == own.id).order_by(
        SupplierDocument.id.desc()).first()
    assert document.title == "营业执照" and "营业执照" in page
    url = f"/admin/files/{document.file_id}"
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    other = people.create_supplier("BJ777", "北京另一家汽修", Organization.get(
        Organization.code == "BJ"), ["maintenance"])
    with app.app_context():
        users.create_user("rival@demo.local", roles=["supplier_admin"],
                      organization=other.organization.code, password=PASSWORD)
    for who, status in (("rival@demo.local", 404), ("dispatcher", 404), ("platform", 200)):
        client.post("/logout", data={"csrf_token": form_token("/admin/")})
        login_as(who)
        assert client.get(url).status_code == status, who
    client.post("/logout", data={"csrf_token": form_token("/admin/")})
    assert client.get(url).status_code == 302  # anonymous: to the login page


def test_a_disguised_or_oversized_upload_through_the_page_stores_nothing(
        client, login_as, form_token, upload_dir):
    own = Supplier.get(Supplier.code == "SH001")
    documents = SupplierDocument.select().count()
    login_as("supplier")
    page = upload_document(client, form_token, own, b"just text", "scan.jpg").get_data(
        as_text=True)
    assert "JPEG、PNG 或 PDF" in page or "JPEG, PNG or PDF" in page
    page = upload_document(client, form_token, own, JPEG + b"\x00" * MAX_BYTES).get_data(
        as_text=True)
    assert "MB" in page
    assert SupplierDocument.select().count() == documents
    assert stored_files(upload_dir) == []


def test_licence_photos_of_a_vehicle_are_served_to_customer_service_only(
        client, login_as, form_token):
    vehicle = Vehicle.select().join(Customer).where(Customer.mobile == "13800000009").first()
    login_as("service")
    url = f"/admin/vehicles/edit/?id={vehicle.id}"
    response = client.post(url, data={
        "customer": str(vehicle.customer_id), "plate": vehicle.plate, "vin": vehicle.vin,
        "car_model": str(vehicle.car_model_id), "purchase_year": str(vehicle.purchase_year),
        "mileage_km": "30000", "driving_licence_upload": (io.BytesIO(png_bytes()), "驾驶证.png"),
        "csrf_token": form_token(url)}, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    saved = Vehicle.get_by_id(vehicle.id)
    assert saved.mileage_km == 30000 and saved.driving_licence_id
    photo = f"/admin/files/{saved.driving_licence_id}"
    assert client.get(photo).mimetype == "image/png"
    details = client.get(f"/admin/customers/details/?id={vehicle.customer_id}")
    assert photo in details.get_data(as_text=True)
    client.post("/logout", data={"csrf_token": form_token("/admin/")})
    login_as("supplier")
    assert client.get(photo).status_code == 404
