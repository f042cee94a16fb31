"""Master-data pages read in words: a pricing rule's parameters by name with their units, not
raw JSON keys; the service-item form finds its supplier by typing, among hundreds."""
import re

import pytest

from console.models import PricingRuleSet, Supplier


def switch(client, form_token, locale):
    client.post("/locale", data={"locale": locale, "next": "/admin/",
                                 "csrf_token": form_token("/admin/")})


@pytest.mark.parametrize("locale,words", [
    ("en", ["Base fare", "Distance included", "Night surcharge", "Labour by displacement"]),
    ("zh_Hans_CN", ["起步价", "含里程", "夜间加价", "按排量计工时"]),
])
def test_pricing_rule_parameters_are_named_with_their_units(client, login_as, form_token,
                                                           locale, words):
    login_as("admin")
    switch(client, form_token, locale)
    page = client.get("/admin/pricing_rules/").get_data(as_text=True)
    cells = " ".join(re.findall(r'<table class="rule-parameters">(.*?)</table>', page, re.S))
    for word in words:
        assert word in cells, word
    assert "base_fen =" not in page and ">base_fen<" not in cells
    butler = PricingRuleSet.select().where(PricingRuleSet.kind == "butler_fee").first()
    assert f"¥{butler.parameters['base_fen'] / 100:,.2f}" in cells
    assert f"{butler.parameters['included_m'] / 1000:g} km" in cells


def test_the_service_item_form_finds_its_supplier_by_typing(client, login_as):
    login_as("admin")
    assert Supplier.select().count() > 50
    form = client.get("/admin/service_items/new/").get_data(as_text=True)
    assert re.search(r'<select[^>]*id="supplier"', form) is None
    assert 'data-role="select2-ajax"' in re.search(r'<input[^>]*id="supplier"[^>]*>',
                                                   form).group()
    lookup = "/admin/service_items/ajax/lookup/?name=supplier&query="
    assert len(client.get(lookup).get_json()) == 10  # a page of them, not all
    target = Supplier.get(Supplier.code == "SH001")
    for typed in (target.code, target.name[2:6], target.name_pinyin.split()[0]):
        found = client.get(lookup + typed).get_json()
        assert [target.id, str(target)] in found, typed
