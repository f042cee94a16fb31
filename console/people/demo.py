"""Reference car models and the people demo: customers with vehicles (valid VINs and plates),
butlers and suppliers across Shanghai, Beijing, Shenzhen and Hangzhou. Reviews, stars and
order counts come from the demo orders (console.orders.demo): every review cites an order
that exists; without orders, everyone starts at the prior rating with no reviews.

Scale 1.0 is about 3,000 customers, 300 butlers and 200 suppliers. Rows go in with bulk
inserts and every demo account shares one password hash (argon2 per row would take minutes)."""
import datetime as dt
import functools
import random

from flask import current_app

from console import people
from console.common.validators import vin_check_digit
from console.config import setting
from console.db import bulk_insert, db, utcnow
from console.models import (
    Butler,
    CarModel,
    CertificationEvent,
    Customer,
    LicencePointDeduction,
    LoyaltyPointEntry,
    Organization,
    Supplier,
    SupplierDocument,
    User,
    Vehicle,
)
from console.people import uploads
from console.system import users

DEMO_SUPPLIER = "SH001"  # supplier@demo.local works for it (seed_data/demo_users.json)
# code, province character, plate letters, butler team, centre (lat, lng), share of people
CITIES = {
    "SH": ("沪", "ABCDEFGHJKLMN", "SH-BUTLERS", (31.2304, 121.4737), 0.35),
    "BJ": ("京", "ABCEFGHJKLMNPQ", "BJ-BUTLERS", (39.9042, 116.4074), 0.30),
    "SZ": ("粤", "B", "SZ-BUTLERS", (22.5431, 114.0579), 0.20),
    "HZ": ("浙", "A", "HZ-BUTLERS", (30.2741, 120.1551), 0.15),
}
DISTRICTS = {
    "SH": ["浦东新区张江路", "徐汇区漕溪北路", "闵行区七莘路", "静安区共和新路", "嘉定区曹安公路"],
    "BJ": ["朝阳区望京街", "海淀区中关村大街", "丰台区南四环西路", "大兴区黄村西大街"],
    "SZ": ["南山区科技园路", "福田区深南大道", "宝安区宝源路", "龙岗区龙城大道"],
    "HZ": ["西湖区文三路", "滨江区江南大道", "余杭区文一西路", "拱墅区莫干山路"],
}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓"
            "曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈姚卢姜崔钟谭陆汪范金石廖贾夏")
GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
         "娟", "涛", "明", "超", "霞", "平", "刚", "建华", "文", "华", "红", "辉", "鑫", "宇",
         "浩", "子涵", "欣怡", "梓轩", "雨桐", "俊杰", "思远", "佳怡", "晨", "博文", "一鸣",
         "婷", "颖", "志强", "建国", "海燕", "天宇", "斌", "波", "玲", "琳", "倩", "雪", "凯"]
MOBILE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "139", "150", "151", "152",
                   "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183",
                   "185", "186", "187", "188", "189", "191", "198", "199"]
WMI = {"大众": "LSV", "丰田": "LVG", "本田": "LHG", "日产": "LGB", "别克": "LSG", "比亚迪": "LGX",
       "特斯拉": "LRW", "吉利": "L6T", "长安": "LS5", "哈弗": "LGW", "奥迪": "LFV", "宝马": "LBV",
       "奔驰": "LE4", "五菱": "LZW", "红旗": "LFP", "奇瑞": "LVV", "荣威": "LSJ", "名爵": "LSJ"}
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
YEAR_CODES = {2019: "K", 2020: "L", 2021: "M", 2022: "N", 2023: "P", 2024: "R", 2025: "S",
              2026: "T", 2027: "V"}
SUPPLIER_KINDS = [("汽车服务中心", ["maintenance", "detailing", "parts"]),
                  ("汽修厂", ["maintenance", "parts"]), ("汽车美容店", ["detailing"]),
                  ("保险代理", ["insurance"]), ("租车行", ["rental"]),
                  ("二手车行", ["used_car"]), ("道路救援", ["towing"]),
                  ("代驾服务", ["designated_driving"]), ("配件商行", ["parts"])]
BRAND_WORDS = ["安途", "顺达", "车之家", "捷诚", "恒通", "鑫源", "优驾", "驰远", "众诚", "蓝海",
               "快修", "途虎", "骏马", "金盾", "华联", "嘉利", "大道", "精工", "诚信", "新锐"]
pinyin_of = functools.lru_cache(maxsize=None)(people.pinyin_key)  # demo names repeat a lot
BATCH_ROWS = 500  # rows per IN (...) lookup: far below SQLite's bound-variable limit


def demo_step(orders, seed, scale, echo):
    """`flask --app run demo`: the people area's share of the demo data."""
    if Supplier.select().where(Supplier.code == DEMO_SUPPLIER).exists():
        echo("people: demo data already present")
        return
    from flask_security.utils import hash_password

    from console.system.seed import DEMO_PASSWORD, load
    people.load_car_models(load("car_models.json"))
    demo = PeopleDemo(random.Random(seed), scale, hash_password(DEMO_PASSWORD))
    with db.atomic():
        counts = demo.run()
    echo("people: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


class PeopleDemo:
    def __init__(self, rng, scale, password_hash):
        self.rng = rng
        self.scale = scale
        self.password_hash = password_hash
        self.now = utcnow()
        self.orgs = {o.code: o for o in Organization.select()}
        self.models = list(CarModel.select())
        self.used_mobiles = {p for (p,) in User.select(User.phone).tuples() if p}
        self.used_plates, self.used_vins, self.used_names = set(), set(), set()

    def count(self, full):
        return max(2, round(full * self.scale))

    def run(self):
        self._teams()
        customers = self._customers(self.count(3000))
        vehicles = self._vehicles(customers)
        butlers = self._butlers(self.count(300))
        suppliers = self._suppliers(self.count(200))
        self._unrated(Butler, "orders_served")
        self._unrated(Supplier, "orders_taken")
        return {"customers": len(customers), "vehicles": vehicles, "butlers": len(butlers),
                "suppliers": len(suppliers)}

    # ---- helpers ---------------------------------------------------------------------
    def _city(self):
        codes = list(CITIES)
        return self.rng.choices(codes, weights=[CITIES[c][4] for c in codes])[0]

    def _name(self):
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def _mobile(self):
        while True:
            mobile = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10 ** 8):08d}"
            if mobile not in self.used_mobiles:
                self.used_mobiles.add(mobile)
                return mobile

    def _past(self, days):
        return self.now - dt.timedelta(days=self.rng.uniform(0, days))

    def _near(self, city):
        lat, lng = CITIES[city][3]
        return lat + self.rng.uniform(-0.15, 0.15), lng + self.rng.uniform(-0.15, 0.15)

    def _org(self, code, name, name_en, kind, parent_code):
        if code not in self.orgs:
            parent = self.orgs[parent_code]
            org = Organization.create(code=code, name=name, name_en=name_en, kind=kind,
                                      parent=parent)
            org.path = f"{parent.path}{org.id}/"
            org.save(only=[Organization.path])
            self.orgs[code] = org
        return self.orgs[code]

    def _teams(self):
        for city in CITIES:
            org = self.orgs[city]
            self._org(CITIES[city][2], f"{org.name[:2]}车管家队", f"{org.name_en.split()[0]} "
                      "butlers", "team", city)

    def _accounts(self, rows, role_code):
        """Bulk-create login accounts; returns {phone: user id}."""
        return users.insert_accounts(rows, role_code)

    def _account_row(self, email, mobile, name, org):
        return users.account_row(email, mobile, name, org.id, self.password_hash, self.now)

    # ---- customers and vehicles ------------------------------------------------------
    def _customers(self, n):
        people_rows = [(self._name(), self._mobile(), self._city()) for _ in range(n)]
        org = self.orgs[people.CUSTOMERS_ORG]
        ids = self._accounts([self._account_row(users.app_login_email("customer", m), m, name, org)
                              for name, m, _city in people_rows], "customer")
        demo_user = User.get_or_none(User.email == "customer@demo.local")
        if demo_user is not None:
            people_rows.append(("孙丽", demo_user.phone, "SH"))
            ids[demo_user.phone] = demo_user.id
        rows = []
        for name, mobile, city in people_rows:
            vip = self.rng.random() < 0.1 or mobile == getattr(demo_user, "phone", None)
            rows.append({
                "user": ids[mobile], "name": name, "name_pinyin": pinyin_of(name),
                "mobile": mobile, "organization": self.orgs[city].id,
                "level": "vip" if vip else "regular",
                "vip_until": self.now + dt.timedelta(days=self.rng.randint(30, 365))
                if vip else None,
                "loyalty_points": self.rng.choice([0, 0, 120, 350, 800, 1500, 3200]),
                "created_at": self._past(900)})
        bulk_insert(Customer, rows)
        customers = list(Customer.select())
        entries = [{"customer": c.id, "delta": c.loyalty_points,
                    "balance_after": c.loyalty_points, "reason": "历史消费积分",
                    "organization": c.organization_id, "at": c.created_at}
                   for c in customers if c.loyalty_points]
        bulk_insert(LoyaltyPointEntry, entries)
        return customers

    def _vehicles(self, customers):
        city_by_org = {self.orgs[c].id: c for c in CITIES}
        rows = []
        for customer in customers:
            city = city_by_org[customer.organization_id]
            for _ in range(self.rng.choice([1, 1, 1, 2, 2, 3])):
                model = self.rng.choice(self.models)
                year = int(model.year_style[:4])
                rows.append({
                    "customer": customer.id, "organization": customer.organization_id,
                    "car_model": model.id, "plate": self.plate(city, model.displacement),
                    "vin": self.vin(model.brand, year),
                    "purchase_year": min(year + self.rng.choice([0, 0, 1]), self.now.year),
                    "mileage_km": self.rng.randrange(500, 120000), "created_at": self._past(600)})
        bulk_insert(Vehicle, rows)
        return len(rows)

    def plate(self, city, displacement):
        """A unique plate of the city; new-energy cars get green 8-character plates."""
        province, letters, *_rest = CITIES[city]
        while True:
            head = province + self.rng.choice(letters)
            if displacement == "电动" or displacement.endswith(("插混", "增程")):
                energy = "D" if displacement == "电动" else "F"
                plate = head + energy + self.rng.choice("0123456789ABCDEFGHJK") + \
                    f"{self.rng.randrange(10000):04d}"
            else:
                serial = [self.rng.choice("0123456789") for _ in range(5)]
                if self.rng.random() < 0.6:
                    serial[self.rng.randrange(5)] = self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
                plate = head + "".join(serial)
            if plate not in self.used_plates:
                self.used_plates.add(plate)
                return plate

    def vin(self, brand, year):
        """A unique VIN with a correct ISO 3779 check digit."""
        while True:
            body = (WMI.get(brand, "LJD") + "".join(self.rng.choice(VIN_CHARS) for _ in range(5))
                    + "0" + YEAR_CODES.get(year, "R") + self.rng.choice("ABCDEFGHJKLMN")
                    + f"{self.rng.randrange(10 ** 6):06d}")
            vin = body[:8] + vin_check_digit(body) + body[9:]
            if vin not in self.used_vins:
                self.used_vins.add(vin)
                return vin

    # ---- butlers ---------------------------------------------------------------------
    def _butlers(self, n):
        people_rows = [(self._name(), self._mobile(), self._city()) for _ in range(n)]
        team = {c: self.orgs[CITIES[c][2]] for c in CITIES}
        ids = self._accounts([self._account_row(users.app_login_email("butler", m), m, name,
                                                team[city])
                              for name, m, city in people_rows], "butler")
        demo_user = User.get_or_none(User.email == "butler@demo.local")
        if demo_user is not None:
            people_rows.append(("赵磊", demo_user.phone, "SH"))
            ids[demo_user.phone] = demo_user.id
        rows = []
        for name, mobile, city in people_rows:
            is_demo = mobile == getattr(demo_user, "phone", None)
            online = self.rng.random() < 0.4 or is_demo
            lat, lng = self._near(city)
            status = "active" if is_demo else self.rng.choices(
                ["active", "suspended", "left"], [0.9, 0.06, 0.04])[0]
            rows.append({
                "user": ids[mobile], "name": name, "name_pinyin": pinyin_of(name),
                "mobile": mobile, "organization": team[city].id, "city": self.orgs[city].id,
                "status": status, "is_online": online and status == "active",
                "last_lat": lat, "last_lng": lng, "last_seen_at": self._past(3),
                "licence_points": 9 if is_demo else self.rng.choices(
                    [12, 10, 9, 6, 3, 0], [0.7, 0.1, 0.08, 0.06, 0.04, 0.02])[0],
                "refusal_count": self.rng.choices([0, 1, 2, 3, 5, 8], [0.5, 0.2, 0.12, 0.1,
                                                                         0.05, 0.03])[0],
                "created_at": self._past(1000)})
        bulk_insert(Butler, rows)
        butlers = list(Butler.select())
        self._deductions(butlers)
        return butlers

    def _deductions(self, butlers):
        """History that explains every butler's licence points below 12."""
        reasons = ["超速行驶", "闯红灯", "未按规定停车", "驾驶时使用手机", "客户投诉危险驾驶"]
        rows = []
        for butler in butlers:
            balance = 12
            while balance > butler.licence_points:
                points = min(balance - butler.licence_points, self.rng.choice([1, 2, 3, 6]))
                balance -= points
                rows.append({"butler": butler.id, "points": points, "balance_after": balance,
                             "reason": self.rng.choice(reasons),
                             "organization": butler.organization_id, "at": self._past(300)})
        bulk_insert(LicencePointDeduction, rows)

    # ---- suppliers -------------------------------------------------------------------
    def _suppliers(self, n):
        rows, per_city = [], {c: 0 for c in CITIES}
        for number in range(n):
            city = "SH" if number == 0 else self._city()
            per_city[city] += 1
            code = f"{city}{per_city[city]:03d}"
            kind, types = self.rng.choice(SUPPLIER_KINDS[:3]) if number == 0 else \
                self.rng.choice(SUPPLIER_KINDS)
            name = "上海安途汽车服务中心" if code == DEMO_SUPPLIER else \
                self._supplier_name(city, kind)
            org = self._org(f"SUP-{code}", name, f"{code} supplier", "supplier",
                            people.SUPPLIERS_ORG)
            lat, lng = self._near(city)
            status = "approved" if code == DEMO_SUPPLIER else self.rng.choices(
                ["approved", "pending", "unsubmitted", "rejected", "expired"],
                [0.7, 0.1, 0.1, 0.05, 0.05])[0]
            rows.append(self._supplier_row(code, name, types, org, city, lat, lng, status))
        bulk_insert(Supplier, rows)
        suppliers = list(Supplier.select())
        self._certification_history(suppliers)
        return suppliers

    def _supplier_name(self, city, kind):
        """"北京大道汽车美容店", or with its district when the name is taken."""
        name = f"{self.orgs[city].name[:2]}{self.rng.choice(BRAND_WORDS)}{kind}"
        while name in self.used_names:
            name = f"{name.split('（')[0]}（{self.rng.choice(DISTRICTS[city])[:3]}"
            name += f"{self.rng.randint(2, 9)}店）"
        self.used_names.add(name)
        return name

    def _supplier_row(self, code, name, types, org, city, lat, lng, status):
        certified = self._past(330) if status in ("approved", "expired") else None
        expires = None
        if status == "approved":
            expires = self.now + dt.timedelta(days=self.rng.choice([20, 90, 200, 300]))
        elif status == "expired":
            expires = self.now - dt.timedelta(days=self.rng.randint(1, 60))
        return {
            "code": code, "name": name, "name_pinyin": pinyin_of(name),
            "service_types": types, "organization": org.id, "city": self.orgs[city].id,
            "address": f"{self.rng.choice(DISTRICTS[city])}{self.rng.randint(1, 999)}号",
            "lat": lat, "lng": lng, "contact_name": self._name(),
            "contact_phone": self._mobile(), "grade": self.rng.choice("AABBBC"),
            "pay_in_7_days": self.rng.random() < 0.5, "genuine_parts": self.rng.random() < 0.6,
            "certified_technicians": self.rng.random() < 0.5,
            "priority_service": self.rng.random() < 0.3,
            "is_self_operated": code == DEMO_SUPPLIER or self.rng.random() < 0.05,
            "certification_status": status,
            "certification_reason": "营业执照照片不清晰" if status == "rejected" else "",
            "certified_at": certified, "certification_expires_at": expires,
            "created_at": self._past(1000)}

    def _certification_history(self, suppliers):
        upload_dir = setting("CONSOLE_UPLOAD_DIR", current_app)
        events = []
        for supplier in suppliers:
            status = supplier.certification_status
            if status == "unsubmitted":
                continue
            self._document(supplier, upload_dir, "营业执照")
            if supplier.code == DEMO_SUPPLIER:
                self._document(supplier, upload_dir, "技师资格证书")
            at = supplier.certified_at or self._past(30)
            events.append(self._event(supplier, "submit", "unsubmitted", "pending", "",
                                      at - dt.timedelta(days=2)))
            if status in ("approved", "expired"):
                events.append(self._event(supplier, "approve", "pending", "approved", "", at))
            if status == "expired":
                events.append(self._event(supplier, "expire", "approved", "expired",
                                          "expiry date passed", supplier.certification_expires_at))
            if status == "rejected":
                events.append(self._event(supplier, "reject", "pending", "rejected",
                                          supplier.certification_reason, at))
        bulk_insert(CertificationEvent, events)

    def _event(self, supplier, action, from_status, to_status, reason, at):
        return {"supplier": supplier.id, "organization": supplier.organization_id,
                "action": action, "from_status": from_status, "to_status": to_status,
                "reason": reason, "at": at}

    def _document(self, supplier, upload_dir, title):
        body = demo_pdf(f"{supplier.code} {title}")
        stored = uploads.store(_Bytes(body), f"{title}.pdf", upload_dir=upload_dir,
                               owner_type="supplier_document",
                               organization=supplier.organization_id)
        document = SupplierDocument.create(supplier=supplier, organization=supplier.organization_id,
                                           title=title, file=stored,
                                           valid_until=self.now + dt.timedelta(days=700))
        uploads.attach(stored, "supplier_document", document)

    # ---- ratings ---------------------------------------------------------------------
    @staticmethod
    def _unrated(model, orders_field):
        """No review yet: the prior rating, no reviews and no orders (the order demo adds
        them, each from an order it made)."""
        model.update(stars=people.star_rating(0, 0), review_count=0,
                     **{orders_field: 0}).execute()


class _Bytes:
    def __init__(self, body):
        self.body = body

    def read(self, limit=-1):
        return self.body if limit < 0 else self.body[:limit]


def demo_pdf(text):
    """A minimal one-page PDF showing `text` (ASCII), standing in for a scanned licence."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode("ascii", "replace")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)
