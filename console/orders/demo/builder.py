"""Builds one demo order at a time: its row, its events (from a walk over the transition
table), its estimate and quote lines, and the after-sales rows its events imply. Money follows
`console.orders`: estimate lines add up to the estimate, quote lines to the final price, and a
payment pays exactly what is due."""
import bisect
import datetime as dt
import itertools
import json

from console.catalogue.pricing import (
    PricingError,
    butler_fee,
    delivery_fee,
    designated_driving_fee,
    estimate,
    refusal_bonus,
    rule_in_force,
)
from console.models import PRICING_KINDS
from console.orders.demo.paths import Profile, walk
from console.orders.demo.world import NEEDS_ITEMS, pick_customer
from console.orders.operations import STARS_TO_RATING, estimate_lines, grab_deadline
from console.orders.states import BUTLER, CUSTOMER, DISPATCHER, FAMILY_OF, FINAL, SERVICE, SUPPLIER
from console.orders.types import ORDER_TYPE_LETTERS
from console.system import params

MONEY = ("estimate_fen", "final_fen", "paid_fen", "discount_fen", "butler_fee_fen",
         "delivery_fee_fen", "bonus_fen")
ORDER_DEFAULTS = {"vehicle": None, "supplier": None, "butler": None, "supplier_org": None,
                  "needs_butler": False, "final_fen": None, "paid_fen": 0, "discount_fen": 0,
                  "butler_fee_fen": 0, "delivery_fee_fen": 0, "bonus_fen": 0, "note": "",
                  "grab_deadline": None, "refusal_count": 0, "paid_at": None,
                  "closed_at": None, "estimate_fen": 0}
# the moves whose effect (below) changes money: the event records old and new amounts
MONEY_MOVES = {"refuse", "quote", "value", "finish_tow", "settle", "end_trip", "pay"}
ORDER_FIELDS = ("id", "order_no", "order_type", "status", "customer", "customer_user", "vehicle",
                "supplier", "butler", "city", "supplier_org", "needs_butler", "service_code",
                "is_open", *MONEY, "pricing_rule_versions", "details", "note", "grab_deadline",
                "refusal_count", "placed_at", "paid_at", "closed_at", "updated_at")
CAR_TYPES = ("maintenance", "detailing", "insurance", "towing")
PROGRESS_TEXTS = ["已完成车辆检查，正在更换配件", "配件已到店，预计两小时内完工",
                  "正在进行四轮定位", "漆面处理中，请耐心等待", "已完成路试，一切正常"]
COMPLAINT_TEXTS = ["取车迟到，影响出行", "结算金额与报价不符", "车内有污渍未清理",
                   "维修后问题依旧", "服务态度差"]
REWORK_TEXTS = ["异响仍然存在", "保养后故障灯亮起", "漆面有色差", "空调依旧不制冷"]
REVIEW_TEXTS = {5: "服务很好，准时取送车", 4: "整体满意，价格透明", 3: "还可以，等待时间有点长",
                2: "沟通不及时", 1: "非常不满意"}
NOTES = {"assign": "无人抢单，调度人工派单", "refuse": "距离太远，无法按时到达",
         "cancel": "行程有变，取消订单", "reject_quote": "报价超出预期",
         "refund": "客户申请退款，核实后同意"}
QUOTE_EXTRAS = [("labour", "刹车系统检查工时", 8000), ("part", "刹车片（前轮）", 42000),
                ("part", "雨刮片", 9800), ("part", "空调滤芯", 8800), ("labour", "四轮定位", 19800),
                ("part", "火花塞（4支）", 32000), ("labour", "镀晶施工", 68000)]
FALLBACK_QUOTES = {
    "maintenance": [("labour", "常规保养工时", 12000), ("part", "全合成机油 4L", 36000),
                    ("part", "机油滤芯", 4500)],
    "detailing": [("labour", "精致洗车", 5800), ("labour", "内饰深度清洁", 29800)],
}


def _json(flat):
    """JSON of a flat dict (str keys; int, str, None or [int|None, int|None] values), as
    JSONField stores it (sorted keys) — json.dumps would be a tenth of the whole load."""
    parts = []
    for key in sorted(flat):
        value = flat[key]
        if isinstance(value, list):
            text = "[" + ", ".join("null" if v is None else str(v) for v in value) + "]"
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, str):
            text = json.dumps(value, ensure_ascii=False)
        else:
            text = "null" if value is None else str(value)
        parts.append(f'"{key}": {text}')
    return "{" + ", ".join(parts) + "}"


class _CarModelLike:
    def __init__(self, displacement):
        self.displacement = displacement


class OrderBuilder:
    def __init__(self, world, rng, now, first_id):
        self.world, self.rng, self.now = world, rng, now
        self.next_id = first_id
        self.counters, self.open_codes = {}, set()
        self.event_count = self.line_count = 0
        self.reviewed_suppliers, self.reviewed_butlers = set(), set()
        self.estimates = {}
        self.cities, self.day_rules, self.fees = {}, {}, {}
        for order_type in {t for ts in world.types_by_city.values() for t in ts}:
            pool = [c for c, ts in world.types_by_city.items() if order_type in ts]
            self.cities[order_type] = (pool, list(itertools.accumulate(
                len(world.customers_by_city[c]) for c in pool)))
        self.offers = {key: [s for s in offers if key[1] not in NEEDS_ITEMS
                             or world.items.get((s[0], key[1]))]
                       for key, offers in world.suppliers.items()}

    # ---- one order -------------------------------------------------------------------------
    def build(self, order_type, placed_at, day, sequence, writer):
        pool, cumulative = self.cities[order_type]
        city = pool[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]
        order = self._draft(order_type, placed_at, city, day, sequence)
        profile = Profile(order_type, order["needs_butler"], order["details"].get("months"))
        family = profile.family
        events = []
        for action, from_state, to_state, role, at in walk(self.rng, profile, placed_at,
                                                           self.now):
            pays = action in MONEY_MOVES
            before = [order[k] for k in MONEY] if pays else None
            actor = self._actor(order, role) if action == "refuse" else None
            note, ref = self._apply(order, action, role, at, writer)
            actor = actor if action == "refuse" else self._actor(order, role)
            order["status"], order["updated_at"] = to_state, at
            if to_state in FINAL[family] and order["is_open"]:
                order["is_open"], order["closed_at"] = False, at
            changed = None
            if action == "place":
                changed = order["_placed_amounts"]
            elif pays:
                changed = {k: [old, order[k]] for k, old in zip(MONEY, before, strict=True)
                           if order[k] != old} or None
            events.append((order["id"], at, actor, role, action, from_state, to_state, note,
                           _json(changed) if changed else None, ref))
        if "_rework" in order:  # the rework is still under way
            oid, by, reason, at = order.pop("_rework")
            writer.add("rework", (oid, by, reason, "open", at, None))
        self._follow_up(order, writer)
        self._service_code(order)
        writer.add("order", self._row(order, writer.columns("order")))
        writer.add_many("event", events)
        self.event_count += len(events)

    def _draft(self, order_type, placed_at, city, day, sequence):
        rng, world = self.rng, self.world
        customer_id, user_id, _home, cars = pick_customer(rng, world, city)
        if not cars and order_type in CAR_TYPES:
            customer_id, user_id, _home, cars = rng.choice(
                [c for c in world.customers_by_city[city] if c[3]])
        order = dict(ORDER_DEFAULTS, id=self.next_id, order_type=order_type,
                     order_no=f"{ORDER_TYPE_LETTERS[order_type]}{day:%Y%m%d}{sequence:06d}",
                     customer=customer_id, customer_user=user_id, city=city,
                     placed_at=placed_at, updated_at=placed_at, is_open=True, details={},
                     pricing_rule_versions={}, status="", _staff=None, _lines=[],
                     _estimate=[])
        self.next_id += 1
        family = FAMILY_OF[order_type]
        car = rng.choice(cars) if cars and (order_type in CAR_TYPES or order_type == "used_car"
                                            or (order_type == "parts" and rng.random() < 0.5)) \
            else None
        order["vehicle"] = car[0] if car else None
        if family in ("repair", "insurance", "parts", "rental", "used_car"):
            supplier_id, org_id, staff_id = rng.choice(self.offers[(city, order_type)])
            order.update(supplier=supplier_id, supplier_org=org_id, _staff=staff_id)
        order["needs_butler"] = family in ("towing", "designated_driving") or (
            family == "repair" and rng.random() < (0.45 if order_type == "maintenance" else 0.25))
        self._place_amounts(order, family, car)
        return order

    def _place_amounts(self, order, family, car):
        """As `orders._prices`: the estimate from items (or the trip / plan), the butler fee
        for a repair fetched by a butler, the delivery fee — with the rule versions used."""
        rng, at, values, versions = self.rng, order["placed_at"], {}, {}
        rules = self._rules(at)
        if family == "vip":
            months = rng.choices((1, 3, 12), (5, 3, 2))[0]
            order["details"]["months"] = months
            values["estimate_fen"] = params.vip_plans()[months]
        elif family == "designated_driving":
            distance = rng.randrange(3000, 40000, 100)
            charge = designated_driving_fee(distance, at, rules["designated_driving_fee"])
            values["estimate_fen"], versions[charge.kind] = charge.amount, charge.rule_id
            order["details"]["distance_m"] = distance
        elif order["supplier"]:
            items = self._items(order, car)
            if items:
                amount, rule_id, lines = self._estimate(items, car, at)
                values["estimate_fen"], versions["estimate"] = amount, rule_id
                order["_lines"] = [dict(line, source="estimate") for line in lines]
                order["_estimate"] = lines
        if order["needs_butler"] and family == "repair":
            distance = rng.randrange(2000, 25000, 100)
            charge = butler_fee(distance, at, rules["butler_fee"])
            values["butler_fee_fen"], versions[charge.kind] = charge.amount, charge.rule_id
            order["details"]["distance_m"] = distance
        if family != "vip":
            key = (order["order_type"], tuple(r.id for r in rules["delivery_fee"]))
            if key not in self.fees:
                self.fees[key] = delivery_fee(order["order_type"], rules["delivery_fee"], at)
            charge = self.fees[key]
            values["delivery_fee_fen"], versions[charge.kind] = charge.amount, charge.rule_id
        order.update(values)
        order["pricing_rule_versions"] = versions
        order["_placed_amounts"] = {k: [None, v] for k, v in values.items()} or None

    def _items(self, order, car):
        fitting = self.world.fits(order["supplier"], order["order_type"], car[1] if car else None)
        if not fitting:
            return []
        return self.rng.sample(fitting, k=min(len(fitting), self.rng.choice((1, 1, 2))))

    def _estimate(self, items, car, at):
        displacement = self.world.displacement.get(car[1], "") if car else ""
        rules = self._rules(at)["estimate"]
        if not rules:
            return 0, None, []
        key = (tuple(i.id for i in items), displacement, tuple(r.id for r in rules))
        if key not in self.estimates:
            charge = estimate(items, _CarModelLike(displacement) if car else None, rules, at)
            self.estimates[key] = (charge.amount, charge.rule_id,
                                   estimate_lines(items, charge.amount))
        return self.estimates[key]

    def _rules(self, at):
        """{kind: rule sets} for `at`: the one version in force all that day (so pricing has
        one to look at), or every version when one takes effect during the day."""
        day = at.date()
        if day not in self.day_rules:
            start = dt.datetime(day.year, day.month, day.day)
            found = {}
            for kind in PRICING_KINDS:
                candidates = [r for r in self.world.rules if r.kind == kind]
                try:
                    first = rule_in_force(kind, start, candidates)
                    last = rule_in_force(kind, start + dt.timedelta(days=1), candidates)
                except PricingError:
                    first = last = None
                found[kind] = [first] if first is not None and first is last else candidates
            self.day_rules[day] = found
        return self.day_rules[day]

    # ---- the effect of each move (as the operations in console.orders apply them) ----------
    def _apply(self, order, action, role, at, writer):
        """Change `order` as the move does; write the rows it implies; return (note, ref)."""
        rng, note, ref = self.rng, NOTES.get(action, ""), ""
        if action == "place":
            self._lines(order, order.pop("_lines"), writer)
        elif action == "publish":
            order["grab_deadline"] = grab_deadline(order["order_type"], order["city"], at)
        elif action in ("grab", "assign"):
            order["butler"] = rng.choice(self.world.butlers[order["city"]])[0]
        elif action == "refuse":
            order["refusal_count"] += 1
            bonus = refusal_bonus(order["refusal_count"], self._rules(at)["refusal_bonus"], at)
            order.update(butler=None, bonus_fen=bonus.amount,
                         grab_deadline=grab_deadline(order["order_type"], order["city"], at))
            order["pricing_rule_versions"]["refusal_bonus"] = bonus.rule_id
        elif action == "quote":
            self._quote(order, writer)
        elif action in ("value", "finish_tow", "settle", "end_trip"):
            self._final_price(order, action, at)
        elif action == "pay":
            order["paid_fen"] += self._due(order)
            order["paid_at"] = at
            ref = f"DEMO-{order['order_no']}-{order['paid_fen']}"
        elif action == "activate":
            until = at + dt.timedelta(days=30 * order["details"]["months"])
            order["details"]["vip_until"] = until.isoformat()
        elif action == "issue_policy":
            order["details"]["policy_no"] = f"PDAA{order['placed_at']:%Y}{order['id']:010d}"
        elif action == "ship":
            order["details"]["tracking_no"] = f"SF{order['id']:012d}"
        else:
            self._after_sales(order, action, at, writer)
        return note, ref

    @staticmethod
    def _due(order):
        price = order["final_fen"] if order["final_fen"] is not None else order["estimate_fen"]
        return max(0, price + order["butler_fee_fen"] + order["delivery_fee_fen"]
                   - order["discount_fen"] - order["paid_fen"])

    def _quote(self, order, writer):
        """The shop's quote: the estimate's lines, sometimes with what inspection found."""
        rng = self.rng
        if order["order_type"] == "insurance":
            lines = [("fee", "交强险", 95000),
                     ("fee", "商业险", rng.randrange(180000, 620000, 100)),
                     ("fee", "车船税", rng.choice((36000, 42000, 48000)))]
        else:
            lines = [] if order["_estimate"] else list(FALLBACK_QUOTES[order["order_type"]])
            if rng.random() < 0.3:
                lines.append(rng.choice(QUOTE_EXTRAS))
        rows = [dict(line, source="final") for line in order["_estimate"]] + [
            dict(kind=k, name=n, qty=1, unit_fen=a, amount_fen=a, source="final")
            for k, n, a in lines]
        discount = rng.choice((2000, 5000))
        if rng.random() < 0.08 and sum(r["amount_fen"] for r in rows) >= 4 * discount:
            rows.append(dict(kind="discount", name="老客户优惠", qty=1, unit_fen=discount,
                             amount_fen=-discount, source="final"))
        order["final_fen"] = sum(r["amount_fen"] for r in rows)
        self._lines(order, rows, writer)

    def _final_price(self, order, action, at):
        rng = self.rng
        if action == "value":
            order["final_fen"] = rng.randrange(3_000_000, 25_000_000, 10_000)
        elif action == "finish_tow":
            order["final_fen"] = rng.randrange(20_000, 90_000, 500)
        elif action == "settle":
            order["final_fen"] = order["estimate_fen"]  # the deposit covered the rental
        else:
            planned = order["details"].get("distance_m", 10000)
            distance = max(1000, int(planned * rng.uniform(0.85, 1.25)) // 100 * 100)
            started = at - dt.timedelta(minutes=30)
            fare = designated_driving_fee(distance, started,
                                          self._rules(started)["designated_driving_fee"])
            order["final_fen"] = fare.amount
            order["details"]["distance_m"] = distance
            order["pricing_rule_versions"]["designated_driving_fee"] = fare.rule_id

    def _lines(self, order, rows, writer):
        oid = order["id"]
        writer.add_many("line", [(oid, row["kind"], row["name"], row.get("qty", 1),
                                  row["unit_fen"], row["amount_fen"], row["source"],
                                  row.get("service_item"), None) for row in rows])
        self.line_count += len(rows)

    # ---- after-sales rows the events imply ----------------------------------------------
    def _after_sales(self, order, action, at, writer):
        rng, oid = self.rng, order["id"]
        if action == "post_progress":
            writer.add("progress", (oid, at, order["_staff"], rng.choice(PROGRESS_TEXTS), "[]",
                                    0, "none", None, None))
        elif action == "complain":
            resolved = at + dt.timedelta(hours=rng.randrange(4, 96))
            done = resolved <= self.now
            writer.add("complaint", (
                oid, order["city"], order["customer_user"], rng.choice(COMPLAINT_TEXTS),
                "resolved" if done else "handling", self._service_user(),
                "已致电客户说明情况并补偿优惠券" if done else "", at, resolved if done else None))
        elif action == "request_rework":
            order["_rework"] = (oid, order["customer_user"], rng.choice(REWORK_TEXTS), at)
        elif action == "settle_rework":
            oid, by, reason, asked = order.pop("_rework")
            writer.add("rework", (oid, by, reason, "done", asked, at))
        elif action == "review":
            self._reviews(order, at, writer)

    def _reviews(self, order, at, writer):
        rng = self.rng
        targets = []
        if order["supplier"]:
            targets.append(("supplier", order["supplier"], order["supplier_org"]))
        if order["butler"] and rng.random() < 0.6:
            butler = self._butler_row(order)
            targets.append(("butler", butler[0], butler[2]))
        for kind, target_id, org_id in targets:
            stars = rng.choices((5, 4, 3, 2, 1), (60, 22, 10, 5, 3))[0]
            writer.add("review", (order["order_no"], kind,
                                  target_id if kind == "supplier" else None,
                                  target_id if kind == "butler" else None, order["customer"],
                                  org_id, STARS_TO_RATING[stars], stars, REVIEW_TEXTS[stars], at))
            (self.reviewed_suppliers if kind == "supplier" else self.reviewed_butlers).add(
                target_id)

    def _butler_row(self, order):
        return next(b for b in self.world.butlers[order["city"]] if b[0] == order["butler"])

    def _follow_up(self, order, writer):
        """回访 after a finished repair, for a share of them, once the call has happened."""
        if FAMILY_OF[order["order_type"]] != "repair" or order["status"] != "closed" or \
                order["paid_fen"] == 0 or self.rng.random() >= 0.1:
            return
        at = order["closed_at"] + dt.timedelta(hours=self.rng.randrange(20, 72))
        if at <= self.now and self.world.service_staff:
            score = self.rng.choices((5, 4, 3, 2, 1), (55, 27, 10, 5, 3))[0]
            writer.add("follow_up", (order["id"], self._service_user(), order["city"], at,
                                     score, "客户表示满意" if score >= 4 else "客户反馈一般"))

    def _service_user(self):
        staff = self.world.service_staff
        return self.rng.choice(staff) if staff else None

    def _actor(self, order, role):
        if role == CUSTOMER:
            return order["customer_user"]
        if role == BUTLER:
            return self._butler_row(order)[1] if order["butler"] else None
        if role == SUPPLIER:
            return order["_staff"]
        if role == DISPATCHER:
            users = self.world.dispatchers.get(order["city"])
            return self.rng.choice(users) if users else None
        if role == SERVICE:
            return self._service_user()
        return None

    def _service_code(self, order):
        """8 digits like the engine's, unique among the open orders (the partial index)."""
        code = f"{self.rng.randrange(10 ** 8):08d}"
        while order["is_open"] and code in self.open_codes:
            code = f"{self.rng.randrange(10 ** 8):08d}"
        if order["is_open"]:
            self.open_codes.add(code)
        order["service_code"] = code

    @staticmethod
    def _row(order, columns):
        values = []
        for name in columns:
            value = order[name]
            if name in ("details", "pricing_rule_versions"):
                value = _json(value)
            values.append(value)
        return tuple(values)
