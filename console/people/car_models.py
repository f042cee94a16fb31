"""Car models (master data): the checks of a console edit and the reference list loaded
at init-db."""
import re

from flask_babel import gettext as _
from pypinyin import lazy_pinyin

from console.common.validators import InvalidValue
from console.db import bulk_insert
from console.models import (
    CarModel,
)

CAR_MODEL_CODE = re.compile(r"[A-Z0-9][A-Z0-9.\-]{2,59}")


def check_car_model(model):
    """Validate a car model typed in the console; pinyin is filled in when left empty."""
    model.code = (model.code or "").strip().upper()
    if not CAR_MODEL_CODE.fullmatch(model.code):
        raise InvalidValue("code", _("Model code: 3 to 60 capital letters, digits, dots or "
                                     "hyphens, e.g. VW-LAVIDA-2024-15L"))
    for field, label in (("brand", _("Brand")), ("series", _("Series")),
                         ("year_style", _("Year style")), ("displacement", _("Displacement"))):
        setattr(model, field, (getattr(model, field) or "").strip())
        if not getattr(model, field):
            raise InvalidValue(field, _("%(field)s: required", field=label))
    model.brand_pinyin = (model.brand_pinyin or "").strip() or \
        "".join(lazy_pinyin(model.brand)).replace(" ", "").lower()
    model.series_pinyin = (model.series_pinyin or "").strip() or \
        "".join(lazy_pinyin(model.series)).replace(" ", "").lower()
    clash = CarModel.select().where(CarModel.code == model.code)
    if model.id:
        clash = clash.where(CarModel.id != model.id)
    if clash.exists():
        raise InvalidValue("code", _("Model code: %(code)s is already used", code=model.code))


def load_car_models(rows):
    """Reference car models (seed_data/car_models.json at init-db); adds only missing codes."""
    known = {code for (code,) in CarModel.select(CarModel.code).tuples()}
    fresh = [row for row in rows if row["code"] not in known]
    bulk_insert(CarModel, fresh)
    return len(fresh)
