"""The two Excel imports of the catalogue: car-model master data, and a supplier's price list
(one row per parts line; rows with the same item name make one item)."""
from flask_babel import lazy_gettext as _l

from console import people
from console.catalogue import items as catalogue
from console.common.xlsx import Column, ImportKind, choice, code_list, text, whole, yuan
from console.models import CarModel, ServiceItem
from console.orders.types import ORDER_TYPE_NAMES, SERVICE_TYPES
from console.system import audit

SERVICE_TYPE_NAMES = {t: ORDER_TYPE_NAMES[t] for t in SERVICE_TYPES}
ORDER_TYPE_SPELLINGS = {spelling: code for code, names in SERVICE_TYPE_NAMES.items()
                        for spelling in (code, *names)}


def _year_style(value):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = f"{int(value)}款"
    return text(20, pattern=r"(19|20)\d{2}款", pattern_hint=_l("a model year like 2024款"))(value)


class CarModelImport(ImportKind):
    """Rows are matched on the model code: a new code creates a model, a known one updates it."""
    code = "car_models"
    title = _l("Car models")
    sheet_title = "车型"
    columns = [
        Column("code", "车型编码", "Model code",
               text(60, pattern=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
                    pattern_hint=_l("letters, digits, '-', '_' or '.'")),
               example="BYD-QIN-PLUS-2024-EV", note=_l("Unique; a known code updates that model.")),
        Column("brand", "品牌", "Brand", text(40), example="比亚迪"),
        Column("series", "车系", "Series", text(60), example="秦PLUS"),
        Column("year_style", "年款", "Year style", _year_style, example="2024款"),
        Column("displacement", "排量", "Displacement",
               text(20, pattern=r"\d{1,2}\.\d[TL]?(混动|插混|增程)?|电动",
                    pattern_hint=_l("like 1.5T, 2.0L, 1.5L混动, or 电动 for an electric car")),
               example="1.5T", note=_l("1.5T, 2.0L, 1.5L混动, 1.5T插混, 1.5T增程, or 电动 for an "
                                       "electric car.")),
    ]
    FIELDS = ("brand", "series", "year_style", "displacement")

    def check_rows(self, rows, context):
        existing = {m.code: m for m in CarModel.select()}
        seen = {}
        for row in rows:
            code = row.values["code"]
            if row.errors:
                continue
            if code in seen:
                row.fail("车型编码", _l("%(code)s repeats row %(row)s", code=code, row=seen[code]))
                continue
            seen[code] = row.number
            model = existing.get(code)
            if model is None:
                row.action = "create"
            elif any(getattr(model, f) != row.values[f] for f in self.FIELDS):
                row.action = "update"
            else:
                row.action = "unchanged"

    def write(self, rows, context):
        actor = context.get("actor")
        changed = 0
        for row in rows:
            values = {f: row.values[f] for f in self.FIELDS}
            values.update(brand_pinyin=people.pinyin_key(values["brand"])[:60],
                          series_pinyin=people.pinyin_key(values["series"])[:80])
            if row.action == "create":
                model = CarModel.create(code=row.values["code"], **values)
                audit.record("import", model, None, audit.snapshot(model), actor=actor)
            elif row.action == "update":
                model = CarModel.get(CarModel.code == row.values["code"])
                before = audit.snapshot(model)
                CarModel.update(**values).where(CarModel.id == model.id).execute()
                audit.record("import", model, before, dict(before, **values), actor=actor)
            else:
                continue
            changed += 1
        return changed


class PriceListImport(ImportKind):
    """A supplier's price list. Each item is created or revised and submitted for review."""
    code = "price_list"
    title = _l("Supplier price list")
    sheet_title = "价目表"
    ITEM_FIELDS = ("order_type", "labour_price_fen", "car_models")
    columns = [
        Column("name", "项目名称", "Item name", text(100), example="小保养（机油+机滤）",
               note=_l("Rows with the same item name are one item with several parts lines; "
                       "a name the supplier already uses revises that item.")),
        Column("order_type", "订单类型", "Order type", choice(ORDER_TYPE_SPELLINGS, required=False),
               required=False, example="维修保养",
               note=_l("One of %(names)s (or the code), on the item's first row.",
                       names="、".join(n[0] for n in SERVICE_TYPE_NAMES.values()))),
        Column("labour_price_fen", "工时价(元)", "Labour price (yuan)", yuan(required=False),
               required=False, example="120.00", note=_l("In yuan with at most 2 decimals.")),
        Column("car_models", "适用车型", "Car models", code_list, required=False,
               example="BYD-QIN-PLUS-2024-EV", note=_l("Model codes separated by commas; "
                                                       "empty means every model.")),
        Column("part_name", "配件名称", "Part name", text(100, required=False), required=False,
               example="全合成机油 4L"),
        Column("part_no", "配件编号", "Part number", text(60, required=False), required=False,
               example="MOBIL-1-5W30-4L"),
        Column("quantity", "配件数量", "Quantity", whole(1, 1000, required=False),
               required=False, example=1, note=_l("Whole units; 1 when left empty.")),
        Column("unit_price_fen", "配件单价(元)", "Part unit price (yuan)", yuan(required=False),
               required=False, example="389.00"),
    ]
    HEADERS = {c.key: c.header for c in columns}

    def check_rows(self, rows, context):
        supplier = context["supplier"]
        known = {m.code: m.id for m in CarModel.select(CarModel.id, CarModel.code)}
        firsts, context["groups"] = {}, {}
        for row in rows:
            if "name" not in row.values or any(h == self.HEADERS["name"] for h, _ in row.errors):
                continue
            first = firsts.setdefault(row.values["name"], row)
            self._check_item_columns(row, first, supplier, known)
            self._check_part(row)
        existing = {i.name: i for i in ServiceItem.select().where(
            ServiceItem.supplier == supplier.id, ServiceItem.is_active == True)}  # noqa: E712
        for name, first in firsts.items():
            group = [r for r in rows if r.values.get("name") == name]
            if any(r.errors for r in group):
                continue
            first.action = self._action(existing.get(name), first, group)
            for row in group[1:]:
                row.action = "part"
            context["groups"][name] = (existing.get(name), group)

    def _check_item_columns(self, row, first, supplier, known):
        if row is first:
            for key in ("order_type", "labour_price_fen"):
                if row.values.get(key) in (None, ""):
                    row.fail(self.HEADERS[key], _l("is required on an item's first row"))
            order_type = row.values.get("order_type")
            if order_type and supplier.service_types and \
                    order_type not in supplier.service_types:
                row.fail(self.HEADERS["order_type"], _l(
                    "supplier %(supplier)s does not offer %(value)s", supplier=supplier.code,
                    value=ORDER_TYPE_NAMES[order_type][0]))
            unknown = [c for c in row.values.get("car_models") or [] if c not in known]
            if unknown:
                row.fail(self.HEADERS["car_models"], _l("unknown model code(s) %(codes)s",
                                                        codes=", ".join(unknown)))
            row.values["car_model_ids"] = sorted({known[c] for c in row.values.get(
                "car_models") or [] if c in known})
            return
        for key in self.ITEM_FIELDS:
            value = row.values.get(key)
            if value not in (None, "", []) and value != first.values.get(key):
                row.fail(self.HEADERS[key], _l("differs from row %(row)s of the same item; "
                                               "leave it empty or repeat it exactly",
                                               row=first.number))

    def _check_part(self, row):
        part = {k: row.values.get(k) for k in ("part_name", "part_no", "quantity",
                                               "unit_price_fen")}
        if not part["part_name"]:
            if any(v not in (None, "") for v in part.values()):
                row.fail(self.HEADERS["part_name"], _l("is required when the row has part "
                                                       "details"))
        elif part["unit_price_fen"] is None:
            row.fail(self.HEADERS["unit_price_fen"], _l("is required for a part"))

    @staticmethod
    def _content(first, group):
        parts = [{"name": r.values["part_name"], "part_no": r.values["part_no"] or "",
                  "quantity": r.values["quantity"] or 1,
                  "unit_price_fen": r.values["unit_price_fen"]}
                 for r in group if r.values.get("part_name")]
        return {"name": first.values["name"], "order_type": first.values["order_type"],
                "labour_price_fen": first.values["labour_price_fen"], "parts": parts,
                "car_model_ids": first.values["car_model_ids"]}

    def _action(self, item, first, group):
        if item is None:
            return "create"
        content = self._content(first, group)
        current = catalogue.content_snapshot(item)
        same = (current["order_type"] == content["order_type"]
                and current["labour_price_fen"] == content["labour_price_fen"]
                and current["parts"] == content["parts"]
                and current["car_models"] == content["car_model_ids"])
        return "unchanged" if same else "update"

    def write(self, rows, context):
        supplier, actor = context["supplier"], context.get("actor")
        changed = 0
        for item, group in context["groups"].values():
            first = group[0]
            if first.action == "unchanged":
                continue
            content = self._content(first, group)
            if item is None:
                item = catalogue.create_item(supplier, actor=actor, **content)
            else:
                catalogue.revise_item(item, actor=actor, **content)
            if item.review_status in ("draft", "rejected"):
                catalogue.submit(item, actor)
            changed += 1
        return changed


KINDS = {kind.code: kind for kind in (CarModelImport(), PriceListImport())}
