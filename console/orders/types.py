"""The platform's order types (DESIGN §4): the one vocabulary every area uses — codes, the
glossary's Chinese and English names, the labels the console shows, order-number letters."""
from flask_babel import lazy_gettext as _l

ORDER_TYPES = ("maintenance", "detailing", "insurance", "parts", "rental", "used_car",
               "towing", "designated_driving", "vip")
# what suppliers offer and catalogues hold; VIP membership is sold by the platform itself
SERVICE_TYPES = tuple(t for t in ORDER_TYPES if t != "vip")
# the glossary's names; imports accept the code or either name
ORDER_TYPE_NAMES = {"maintenance": ("维修保养", "Maintenance"),
                    "detailing": ("汽车美容", "Detailing"),
                    "insurance": ("汽车保险", "Insurance"), "parts": ("零配件", "Parts"),
                    "rental": ("租车", "Rental"), "used_car": ("二手车", "Used car"),
                    "towing": ("拖车", "Towing"),
                    "designated_driving": ("代驾", "Designated driving"),
                    "vip": ("VIP会员", "VIP membership")}
ORDER_TYPE_LABELS = {"maintenance": _l("Maintenance"), "detailing": _l("Detailing"),
                     "insurance": _l("Insurance"), "parts": _l("Parts"), "rental": _l("Rental"),
                     "used_car": _l("Used car"), "towing": _l("Towing"),
                     "designated_driving": _l("Designated driving"),
                     "vip": _l("VIP membership")}
# the letter that starts an order number, e.g. M20261124000123
ORDER_TYPE_LETTERS = {"maintenance": "M", "detailing": "D", "insurance": "I", "parts": "P",
                      "rental": "R", "used_car": "U", "towing": "T", "designated_driving": "C",
                      "vip": "V"}
