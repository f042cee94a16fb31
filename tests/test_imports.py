"""Excel imports with real .xlsx files built here with openpyxl: a good file imports, errors
are reported by row number with nothing written, a dry run writes nothing, wrong headers are
named, and the template downloads as .xlsx with Chinese headers."""
import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from console import people
from console.catalogue.import_kinds import KINDS
from console.common import xlsx as imports
from console.models import CarModel, Organization, ServiceItem, Supplier

CAR_HEADERS = ["车型编码", "品牌", "车系", "年款", "排量"]
PRICE_HEADERS = ["项目名称", "订单类型", "工时价(元)", "适用车型", "配件名称", "配件编号",
                 "配件数量", "配件单价(元)"]


def xlsx(header, rows):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def car_rows(n, start=0):
    return [[f"TEST-CAR-{i:03d}", "比亚迪", f"秦{i}", "2024款", "1.5L"]
            for i in range(start, start + n)]


@pytest.fixture
def supplier(app):
    city = Organization.get(Organization.code == "SH")
    return people.create_supplier("IMPA", "导入测试汽修", city, ["maintenance", "detailing"])


def run(kind, data, dry_run=False, **context):
    return imports.run(KINDS[kind], data, {"actor": None, **context}, dry_run=dry_run)


def errors_by_row(result):
    return {row.number: [(header, str(message)) for header, message in row.errors]
            for row in result.error_rows}


# ---- car models ---------------------------------------------------------------------------
def test_a_good_car_model_file_imports_every_row(app):
    before = CarModel.select().count()
    result = run("car_models", xlsx(CAR_HEADERS, car_rows(5)))
    assert result.ok and result.written == 5
    assert CarModel.select().count() == before + 5
    model = CarModel.get(CarModel.code == "TEST-CAR-002")
    assert (model.brand, model.series, model.displacement) == ("比亚迪", "秦2", "1.5L")
    assert model.brand_pinyin.startswith("biyadi")


def test_errors_on_rows_3_and_7_are_reported_exactly_and_nothing_is_written(app):
    rows = car_rows(8)
    rows[1][4] = "1.5升"  # Excel row 3
    rows[5][3] = None  # Excel row 7
    before = CarModel.select().count()
    result = run("car_models", xlsx(CAR_HEADERS, rows))
    assert not result.ok and result.written == 0
    assert errors_by_row(result) == {
        3: [("排量", "like 1.5T, 2.0L, 1.5L混动, or 电动 for an electric car")],
        7: [("年款", "is required")]}
    assert CarModel.select().count() == before


def test_a_dry_run_checks_every_row_and_writes_nothing(app):
    before = CarModel.select().count()
    result = run("car_models", xlsx(CAR_HEADERS, car_rows(4)), dry_run=True)
    assert result.ok and result.written == 0
    assert [row.action for row in result.rows] == ["create"] * 4
    assert CarModel.select().count() == before


def test_a_known_code_updates_and_a_repeated_code_is_an_error(app):
    run("car_models", xlsx(CAR_HEADERS, car_rows(2)))
    changed = [["TEST-CAR-000", "比亚迪", "秦0", "2025款", "电动"], car_rows(1, 1)[0]]
    preview = run("car_models", xlsx(CAR_HEADERS, changed), dry_run=True)
    assert [row.action for row in preview.rows] == ["update", "unchanged"]
    assert run("car_models", xlsx(CAR_HEADERS, changed)).written == 1
    assert CarModel.get(CarModel.code == "TEST-CAR-000").displacement == "电动"
    repeated = run("car_models", xlsx(CAR_HEADERS, car_rows(2) + car_rows(1)))
    assert errors_by_row(repeated) == {4: [("车型编码", "TEST-CAR-000 repeats row 2")]}


def test_english_headers_in_any_order_are_accepted(app):
    header = ["Displacement", "Model code", "Brand", "Series", "Year style"]
    rows = [[r[4], r[0], r[1], r[2], 2024] for r in car_rows(2)]
    result = run("car_models", xlsx(header, rows))
    assert result.ok and result.written == 2
    assert CarModel.get(CarModel.code == "TEST-CAR-001").year_style == "2024款"


def test_wrong_headers_are_named_and_no_row_is_read(app):
    result = run("car_models", xlsx(["车型编码", "品牌", "车型系列", "年款", "年款"], car_rows(2)))
    messages = [str(m) for m in result.header_errors]
    assert "Column C: unknown header '车型系列'." in messages
    assert "Column E: 年款 appears a second time." in messages
    assert any(m.startswith("Missing column 车系 (Series)") for m in messages)
    assert any(m.startswith("Missing column 排量") for m in messages)
    assert result.rows == [] and not result.ok


def test_a_file_that_is_not_xlsx_is_refused_clearly(app):
    with pytest.raises(imports.ImportFileError) as error:
        run("car_models", b"code,brand\nX,Y\n")
    assert "not an Excel .xlsx file" in str(error.value)


# ---- a supplier's price list -----------------------------------------------------------
def price_rows():
    return [
        ["小保养", "维修保养", 120, "", "全合成机油 4L", "OIL-4L", 1, 389],
        ["小保养", "", None, "", "机油滤清器", "FLT-1", 1, "45.50"],
        ["精致洗车", "detailing", "45.00", "", None, None, None, None],
    ]


def test_a_price_list_creates_items_with_parts_submitted_for_review(supplier):
    result = run("price_list", xlsx(PRICE_HEADERS, price_rows()), supplier=supplier)
    assert result.ok and result.written == 2
    item = ServiceItem.get(ServiceItem.name == "小保养")
    assert (item.code, item.labour_price_fen, item.review_status) == ("IMPA0001", 12000, "pending")
    parts = [(p.name, p.quantity, p.unit_price_fen) for p in item.part_lines()]
    assert parts == [("全合成机油 4L", 1, 38900), ("机油滤清器", 1, 4550)]
    assert ServiceItem.get(ServiceItem.name == "精致洗车").order_type == "detailing"


def test_a_price_list_with_bad_rows_names_each_row_and_writes_no_item(supplier):
    rows = price_rows() + [
        ["拖车", "拖车", 200, "", None, None, None, None],  # row 5: not offered
        ["四轮定位", "维修保养", "12.345", "NO-SUCH-MODEL", None, None, None, None],  # row 6
        ["小保养", "汽车美容", None, "", "空气滤清器", "", 1, 85],  # row 7: differs from row 2
    ]
    result = run("price_list", xlsx(PRICE_HEADERS, rows), supplier=supplier)
    assert not result.ok
    assert errors_by_row(result) == {
        5: [("订单类型", "supplier IMPA does not offer 拖车")],
        6: [("工时价(元)", "at most 2 decimal places (fen), not 12.345"),
            ("适用车型", "unknown model code(s) NO-SUCH-MODEL")],
        7: [("订单类型", "differs from row 2 of the same item; leave it empty or repeat "
                         "it exactly")]}
    assert ServiceItem.select().where(ServiceItem.supplier == supplier.id).count() == 0


def test_importing_a_changed_price_list_revises_the_item_and_reviews_it_again(supplier):
    run("price_list", xlsx(PRICE_HEADERS, price_rows()), supplier=supplier)
    ServiceItem.update(review_status="approved").execute()
    again = run("price_list", xlsx(PRICE_HEADERS, price_rows()), dry_run=True, supplier=supplier)
    assert [r.action for r in again.rows] == ["unchanged", "part", "unchanged"]
    cheaper = price_rows()
    cheaper[0][2] = 99
    result = run("price_list", xlsx(PRICE_HEADERS, cheaper), supplier=supplier)
    assert result.written == 1
    item = ServiceItem.get(ServiceItem.name == "小保养")
    assert (item.code, item.labour_price_fen, item.review_status) == ("IMPA0001", 9900, "pending")
    assert ServiceItem.get(ServiceItem.name == "精致洗车").review_status == "approved"


# ---- the pages ------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["car_model_import", "price_list_import"])
def test_the_template_downloads_as_xlsx_with_chinese_headers(client, login_as, page):
    login_as("platform")
    response = client.get(f"/admin/{page}/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype == imports.XLSX_MEDIA_TYPE
    book = load_workbook(io.BytesIO(response.data))
    header = [c.value for c in book.worksheets[0][1]]
    expected = CAR_HEADERS if page == "car_model_import" else PRICE_HEADERS
    assert header == expected
    assert f'href="/admin/{page}/template.xlsx"' in client.get(f"/admin/{page}/").get_data(
        as_text=True)


def upload(client, form_token, page, data, **fields):
    return client.post(f"/admin/{page}/preview/", data={
        "csrf_token": form_token(f"/admin/{page}/"), "file": (io.BytesIO(data), "list.xlsx"),
        **fields}, content_type="multipart/form-data")


def test_upload_previews_then_confirm_writes(client, login_as, form_token):
    login_as("platform")
    before = CarModel.select().count()
    page = upload(client, form_token, "car_model_import", xlsx(CAR_HEADERS, car_rows(3)))
    html = page.get_data(as_text=True)
    assert 'id="dry-run-ok"' in html and CarModel.select().count() == before
    token = re.search(r'name="token" value="([0-9a-f]{32})"', html).group(1)
    done = client.post("/admin/car_model_import/confirm/", data={
        "csrf_token": form_token("/admin/car_model_import/"), "token": token})
    assert 'id="import-done"' in done.get_data(as_text=True)
    assert CarModel.select().count() == before + 3


def test_row_errors_show_their_row_numbers_in_both_languages(client, login_as, form_token):
    login_as("platform")
    rows = car_rows(8)
    rows[1][4], rows[5][3] = "1.5升", None
    page = upload(client, form_token, "car_model_import", xlsx(CAR_HEADERS, rows))
    html = page.get_data(as_text=True)
    assert re.findall(r'class="row-error" data-row="(\d+)"', html) == ["3", "7"]
    assert "第 3 行" in html and "为必填项" in html and "未写入任何数据" in html
    client.post("/locale", data={"locale": "en", "csrf_token": form_token("/admin/")})
    html = upload(client, form_token, "car_model_import", xlsx(CAR_HEADERS, rows)).get_data(
        as_text=True)
    assert "Row 3" in html and "is required" in html and "nothing was written" in html
    assert 'id="confirm-button"' not in html


def test_a_supplier_admin_imports_a_price_list_only_for_their_own_supplier(
        client, login_as, form_token):
    own = Supplier.get(Supplier.code == "SH001")
    other = Supplier.get(Supplier.code != "SH001")
    order_type = own.service_types[0]
    rows = [["冬季套餐", order_type, 88, "", "防冻液", "AF-2L", 2, 35]]
    login_as("supplier")
    forged = upload(client, form_token, "price_list_import", xlsx(PRICE_HEADERS, rows),
                    supplier=other.id).get_data(as_text=True)
    assert 'id="file-error"' in forged and 'id="dry-run-ok"' not in forged
    page = upload(client, form_token, "price_list_import", xlsx(PRICE_HEADERS, rows),
                  supplier=own.id).get_data(as_text=True)
    token = re.search(r'name="token" value="([0-9a-f]{32})"', page).group(1)
    refused = client.post("/admin/price_list_import/confirm/", data={
        "csrf_token": form_token("/admin/price_list_import/"), "token": token,
        "supplier": other.id})
    assert refused.status_code == 404
    assert not ServiceItem.select().where(ServiceItem.name == "冬季套餐").exists()
    client.post("/admin/price_list_import/confirm/", data={
        "csrf_token": form_token("/admin/price_list_import/"), "token": token,
        "supplier": own.id})
    item = ServiceItem.get(ServiceItem.name == "冬季套餐")
    assert item.supplier_id == own.id and item.review_status == "pending"
