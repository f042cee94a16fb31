"""Demo data that refers to other records refers to records that exist: each review cites an
order of the demo, of the customer who wrote it, about that order's shop or butler; the
stars, review counts and order counts of butlers and suppliers are those of their orders."""
from collections import Counter

import pytest
import testkit

from console import people
from console.db import db
from console.models import Butler, LoyaltyPointEntry, Order, Review, Supplier
from console.orders import demo as demo_orders


@pytest.fixture(scope="module")
def demo_app(backend, tmp_path_factory):
    with testkit.database_copy(backend, tmp_path_factory.mktemp("demo_refs")) as url:
        app = testkit.make_app(url, CONSOLE_LOGIN_CAPTCHA=False)
        with db.connection_context():
            with app.app_context():
                demo_orders.generate(600, seed=5, echo=lambda *a: None)
            yield app
        db.close()


def test_every_review_cites_an_order_of_its_customer_about_that_orders_party(demo_app):
    reviews = list(Review.select())
    assert len(reviews) >= 20
    orders = {o.order_no: o for o in Order.select().where(
        Order.order_no.in_({r.order_no for r in reviews}))}
    for review in reviews:
        order = orders.get(review.order_no)
        assert order is not None, f"review {review.id} cites {review.order_no}, no such order"
        assert review.customer_id == order.customer_id, review.order_no
        if review.target_kind == "supplier":
            assert review.supplier_id == order.supplier_id and review.butler_id is None
        else:
            assert review.butler_id == order.butler_id and review.supplier_id is None


def test_every_order_number_a_demo_record_names_exists(demo_app):
    named = {e.order_no for e in LoyaltyPointEntry.select().where(
        LoyaltyPointEntry.order_no != "")}
    named |= {r.order_no for r in Review.select(Review.order_no)}
    found = {o for (o,) in Order.select(Order.order_no).where(
        Order.order_no.in_(sorted(named))).tuples()} if named else set()
    assert named - found == set()


def test_ratings_and_order_counts_are_those_of_the_demo_orders(demo_app):
    served = Counter(o.butler_id for o in Order.select(Order.butler).where(
        Order.butler.is_null(False), Order.status != "cancelled"))
    taken = Counter(o.supplier_id for o in Order.select(Order.supplier).where(
        Order.supplier.is_null(False), Order.status != "cancelled"))
    for butler in Butler.select():
        assert butler.orders_served == served.get(butler.id, 0), butler.name
        assert butler.review_count == butler.reviews.count()
    for supplier in Supplier.select():
        assert supplier.orders_taken == taken.get(supplier.id, 0), supplier.code
        total, count = people.review_totals(Review.supplier).where(
            Review.supplier == supplier.id).tuples().get()
        assert (supplier.review_count, supplier.stars) == (count, people.star_rating(total,
                                                                                     count))
