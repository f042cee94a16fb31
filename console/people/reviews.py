"""Reviews of an order's supplier or butler, and the star ratings derived from them."""
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import Case, IntegrityError, fn

from console.common.validators import InvalidValue
from console.db import db, utcnow
from console.models import (
    PRIOR_STARS,
    REVIEW_RATINGS,
    Butler,
    Review,
)
from console.people.checks import whole_number

# Stars a review counts for when the customer gave none.
STARS_FOR_RATING = {"good": 5, "neutral": 3, "bad": 2, "complaint": 1}
PRIOR_WEIGHT = 3
REVIEW_TARGET_NAMES = {"supplier": _l("supplier"), "butler": _l("butler")}


def add_review(order_no, target, rating, stars=None, text="", customer=None, at=None):
    """Store a customer's review of an order's supplier or butler (one each per order) and
    refresh the target's stars."""
    order_no = (order_no or "").strip()
    if not order_no:
        raise InvalidValue("order_no", _("Order number: required"))
    if rating not in REVIEW_RATINGS:
        raise InvalidValue("rating", _("Rating: must be good, neutral, bad or complaint"))
    stars = STARS_FOR_RATING[rating] if stars in (None, "") else \
        whole_number(stars, "stars", _("Stars"), 1, 5)
    kind = "butler" if isinstance(target, Butler) else "supplier"
    try:
        with db.atomic():
            review = Review.create(order_no=order_no, target_kind=kind, rating=rating,
                                   stars=stars, text=(text or "").strip(),
                                   customer=customer.id if customer else None,
                                   organization=target.organization_id,
                                   created_at=at or utcnow(),
                                   **{kind: target.id})
            recompute_stars(target)
    except IntegrityError:
        raise InvalidValue("order_no", _(
            "Review: order %(order)s already has a review of its %(kind)s",
            order=order_no, kind=REVIEW_TARGET_NAMES[kind])) from None
    return review


def review_totals(field):
    """SELECT Σ effective stars, COUNT(*) of reviews; group or filter it by `field`."""
    effective = Case(None, [(Review.rating == "complaint", 1)], Review.stars)
    return Review.select(fn.COALESCE(fn.SUM(effective), 0), fn.COUNT(Review.id))


def star_rating(total, count):
    """The formula documented in `recompute_stars`, rounded half up to one decimal."""
    prior = Decimal(str(PRIOR_STARS)) * PRIOR_WEIGHT
    mean = (prior + int(total)) / (PRIOR_WEIGHT + int(count))
    return float(mean.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def recompute_stars(target):
    """Derive a butler's or supplier's star rating from their reviews:

        stars = round((PRIOR_WEIGHT × PRIOR_STARS + Σ effective stars) / (PRIOR_WEIGHT + n), 1)

    where n is the number of reviews and a review's effective stars are the 1–5 stars the
    customer gave, except that a complaint always counts as 1 star. The prior (3 reviews of
    4.0 stars) keeps one early review from deciding a rating: a newcomer shows 4.0, one
    5-star review gives 4.3, one complaint 3.3, and many reviews converge on their mean."""
    field = Review.butler if isinstance(target, Butler) else Review.supplier
    total, count = review_totals(field).where(field == target.id).tuples().get()
    stars = star_rating(total, count)
    type(target).update(stars=stars, review_count=count).where(
        type(target).id == target.id).execute()
    target.stars, target.review_count = stars, count
    return stars
