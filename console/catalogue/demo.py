"""`flask --app run demo`: the catalogue's share — approved service items for every demo
supplier from seed_data/service_catalogue.json, prices varied per supplier, and a few items
of the demo supplier waiting in each review state so the review page has work."""
import datetime as dt
import random

from peewee import chunked

from console.db import db, utcnow
from console.models import (
    CarModel,
    ServiceItem,
    ServiceItemCarModel,
    ServiceItemPart,
    Supplier,
    User,
)
from console.people.demo import BATCH_ROWS, DEMO_SUPPLIER

REVIEWER = "platform@demo.local"
# the demo supplier's last items show the review states other than approved
SHOWCASE = [("pending", ""), ("rejected", "工时价高于同区域均价，请核实后重新提交"), ("draft", "")]


def demo_step(orders, seed, scale, echo):
    if ServiceItem.select().exists():
        echo("catalogue: demo items already present")
        return
    from console.system.seed import load
    templates = load("service_catalogue.json")["items"]
    rng = random.Random(seed * 7919)
    with db.atomic():
        items, parts, links = _generate(rng, templates)
    echo(f"catalogue: {items} service items, {parts} parts lines, {links} car-model links")


def _generate(rng, templates):
    reviewer = User.get_or_none(User.email == REVIEWER)
    now = utcnow()
    brands = {}
    for model in CarModel.select(CarModel.id, CarModel.brand):
        brands.setdefault(model.brand, []).append(model.id)
    rows, contents = [], []
    for supplier in Supplier.select().order_by(Supplier.id):
        offered = [t for t in supplier.service_types if t in templates]
        entries = [(t, entry) for t in offered for entry in templates[t]]
        for seq, (order_type, entry) in enumerate(entries, start=1):
            permille = rng.choice([900, 950, 1000, 1000, 1100, 1200])
            rows.append({
                "supplier": supplier.id, "organization": supplier.organization_id,
                "code": f"{supplier.code}{seq:04d}", "code_seq": seq, "name": entry["name"],
                "order_type": order_type,
                # the template price scaled, to the nearest whole yuan
                "labour_price_fen": (entry["labour_fen"] * permille + 50_000) // 100_000 * 100,
                "review_status": "approved", "review_reason": "",
                "reviewed_by": reviewer.id if reviewer else None,
                "reviewed_at": now - dt.timedelta(days=rng.randint(1, 300)),
                "created_at": now - dt.timedelta(days=rng.randint(300, 600)),
                "updated_at": now - dt.timedelta(days=rng.randint(1, 300))})
            brand = rng.choice(sorted(brands)) if order_type == "maintenance" and \
                rng.random() < 0.15 and brands else None
            contents.append((entry["parts"], brands.get(brand, [])))
        if supplier.code == DEMO_SUPPLIER:
            _showcase(rows[-len(entries):])
    for batch in chunked(rows, BATCH_ROWS):
        ServiceItem.insert_many(batch).execute()
    ids = {code: item_id for item_id, code in ServiceItem.select(
        ServiceItem.id, ServiceItem.code).tuples()}
    part_rows, link_rows = [], []
    for row, (parts, model_ids) in zip(rows, contents, strict=True):
        item_id = ids[row["code"]]
        part_rows += [{"item": item_id, "name": name, "part_no": part_no, "quantity": qty,
                       "unit_price_fen": price} for name, part_no, qty, price in parts]
        link_rows += [{"item": item_id, "car_model": m} for m in model_ids]
    for batch in chunked(part_rows, BATCH_ROWS):
        ServiceItemPart.insert_many(batch).execute()
    for batch in chunked(link_rows, BATCH_ROWS):
        ServiceItemCarModel.insert_many(batch).execute()
    return len(rows), len(part_rows), len(link_rows)


def _showcase(rows):
    for row, (status, reason) in zip(reversed(rows), SHOWCASE, strict=False):
        row["review_status"], row["review_reason"] = status, reason
        if status != "rejected":
            row["reviewed_by"] = row["reviewed_at"] = None
