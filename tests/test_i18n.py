"""Languages: every message our code uses has a Chinese translation, every console page reads
wholly in the chosen language, and the language choice is remembered and whitelisted."""
import html
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from peewee import CharField, TextField
from testkit import csrf_token

from console import i18n
from console.db import JSONField
from console.models import ALL_MODELS, Resource, User

MESSAGES = i18n.extract_messages()
ZH = i18n.translated("zh_Hans_CN")
SOURCE_FILES = sorted({path for places in MESSAGES.values() for path, _line in places})
# %(name)s, %(count)d, %(value)r, %s ... ("%%" is a literal percent sign, not a placeholder)
PLACEHOLDER = re.compile(r"(?<!%)%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
FILLED = re.compile(r"(?<!%)%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
CJK = re.compile(r"[\u3400-\u9fff]")


def _key(msgid):
    return msgid[0] if isinstance(msgid, tuple) else msgid


# ---- the catalogues ------------------------------------------------------------------------
@pytest.mark.parametrize("path", SOURCE_FILES)
def test_every_message_of_the_file_has_a_chinese_translation(path):
    missing = sorted({f"line {line}: {_key(msgid)!r}" for msgid, places in MESSAGES.items()
                      for where, line in places if where == path and _key(msgid) not in ZH})
    assert not missing, (f"{path} has messages without a zh_Hans_CN msgstr (run scripts/i18n "
                         "update <area> and fill them in):\n  " + "\n  ".join(missing))


def test_the_extraction_finds_messages_in_code_and_templates():
    assert ("console/security.py" in SOURCE_FILES
            and "templates/security/login_user.html" in SOURCE_FILES)
    assert "Own organization and below" in MESSAGES  # a lazy_gettext label


def test_translations_keep_every_placeholder_of_their_message():
    wrong = []
    for area, catalogue in i18n.area_catalogues().items():
        for message in catalogue:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            wanted = Counter(PLACEHOLDER.findall(_key(message.id) or ""))
            wrong += [f"{area}: {message.id!r} -> {s!r}" for s in strings
                      if s and Counter(PLACEHOLDER.findall(s)) != wanted]
    assert not wrong, "placeholders differ (the page would fail with a KeyError):\n" + \
        "\n".join(wrong)


def test_no_message_is_translated_twice_or_two_ways():
    seen, clashes = {}, []
    for area, catalogue in i18n.area_catalogues().items():
        path = i18n.TRANSLATIONS / area / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
        ids = re.findall(r'^msgid "(.*)"$', path.read_text(encoding="utf-8"), re.M)
        clashes += [f"{area}: {msgid!r} twice" for msgid, n in Counter(ids).items()
                    if n > 1 and msgid]
        for message in catalogue:
            if message.id and message.string:
                earlier = seen.setdefault(message.id, (area, message.string))
                if earlier[1] != message.string:
                    clashes.append(f"{message.id!r}: {earlier} and ({area}, {message.string!r})")
    assert not clashes, "\n".join(clashes)


# ---- every page in each language -------------------------------------------------------------
class VisibleText(HTMLParser):
    """The text a reader sees, node by node (titles, placeholders and alt texts too), each
    with whether it sits where records show their values (table cells, options, list items,
    badges): only there can a text be data rather than our message."""
    HIDDEN = {"script", "style", "textarea"}
    DATA = {"td", "option", "li", "pre"}
    ATTRIBUTES = {"title", "placeholder", "alt", "aria-label"}

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.nodes, self._open, self._spans = [], Counter(), []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.HIDDEN or tag in self.DATA:
            self._open[tag] += 1
        if tag == "span":
            self._spans.append("badge" in (attrs.get("class") or ""))
        in_data = self._in_data()
        self.nodes += [(value, in_data) for name, value in attrs.items()
                       if name in self.ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag == "span" and self._spans:
            self._spans.pop()
        elif self._open[tag] > 0:
            self._open[tag] -= 1

    def handle_data(self, data):
        if not any(self._open[t] for t in self.HIDDEN) and data.strip():
            self.nodes.append((data, self._in_data()))

    def _in_data(self):
        return any(self._open[t] for t in self.DATA) or any(self._spans)


def normalized(text):
    return " ".join(text.split()).strip(" :：·*•|()（）,，.。;；!！?？-–—/\"“”")


def recognisable(text, script):
    """Whether `text` has enough Latin letters (or any CJK) to tell the language by."""
    if script == "latin":
        return len(re.findall(r"[A-Za-z]", text)) >= 2
    return bool(CJK.search(text))


def matchers(foreign, script):
    """Exact texts, and (message, anchor, pattern) for messages with placeholders: a text
    node is a hit when it *is* the message, whatever values fill its placeholders."""
    exact, patterns = {}, []
    for message in foreign:
        if not recognisable(FILLED.sub("", message), script):
            continue
        if FILLED.search(message):
            pieces = FILLED.split(normalized(message))
            patterns.append((message, max(pieces, key=len),
                             re.compile(".+?".join(re.escape(p) for p in pieces))))
        else:
            exact[normalized(message)] = message
    return exact, patterns


def foreign_messages(locale):
    """The strings that must not show in `locale`: our English msgids on a Chinese page, our
    Chinese msgstrs on an English one (a message whose translation is itself is left out)."""
    pairs = [(_key(msgid), ZH.get(_key(msgid))) for msgid in MESSAGES]
    pairs = [(m, t if isinstance(t, str) else t[0]) for m, t in pairs if t]
    return {(m if locale == "zh_Hans_CN" else t) for m, t in pairs if m != t}


def data_values(candidates):
    """Which of `candidates` are stored in the database: those are data (an English name
    beside the Chinese one, a Chinese organization name), not our messages. Resource names
    are msgids translated when shown, so they never count as data."""
    candidates, found = sorted(candidates), set()
    for model in ALL_MODELS:
        for field in model._meta.sorted_fields:
            if not isinstance(field, (CharField, TextField)) or isinstance(field, JSONField) \
                    or (model is Resource and field.name == "name"):
                continue
            for start in range(0, len(candidates), 400):
                query = (model.select(field).where(field.in_(candidates[start:start + 400]))
                         .distinct().tuples())
                found.update(value for (value,) in query)
    return found


def untranslated(page, locale, foreign, data):
    exact, patterns = matchers(foreign, "latin" if locale == "zh_Hans_CN" else "cjk")
    found = set()
    for node, in_data in VisibleText(page).nodes:
        text = normalized(node)
        if not text or in_data and (text in data or " ".join(node.split()) in data):
            continue
        if text in exact:
            found.add(exact[text])
        found.update(m for m, anchor, p in patterns if anchor in text and p.fullmatch(text))
    return found


def switch_language(client, locale, page="/login"):
    response = client.post("/locale", data={"locale": locale, "next": page,
                                           "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302


def console_pages(client):
    """Every page resource the admin reaches: its list, its create form when the page has
    one, and the details and edit form of the first row."""
    pages = ["/admin/"]
    for resource in (Resource.select().where(Resource.kind == "page", Resource.url != "",
                                             Resource.is_active == True)  # noqa: E712
                     .order_by(Resource.code)):
        pages.append(resource.url)
        listing = client.get(resource.url).get_data(as_text=True)
        for kind in ("details", "edit"):
            link = re.search(rf'href="({re.escape(resource.url)}{kind}/\?id=[^"]+)"', listing)
            if link:
                pages.append(html.unescape(link.group(1)))
        if Resource.select().where(Resource.code == f"{resource.code}.create",
                                   Resource.is_active == True).exists():  # noqa: E712
            pages.append(resource.url + "new/")
    return pages


def visit_everything(app, login_as, client, locale):
    """(url, expected status, response) for the console pages and the pages around them."""
    switch_language(client, locale)
    login_as("admin")
    visits = [(url, 200, client.get(url)) for url in console_pages(client)]
    anonymous = app.test_client()
    switch_language(anonymous, locale)
    for url in ("/login", "/login/recover", "/login/recover/reset?phone=13800000001"):
        visits.append((url, 200, anonymous.get(url)))
    visits.append(("/admin/no-such-page/", 404, anonymous.get("/admin/no-such-page/")))
    visits.append(("/locale without a token", 400, anonymous.post("/locale")))
    dispatcher = app.test_client()
    switch_language(dispatcher, locale)
    login(dispatcher, "dispatcher@demo.local")
    visits.append(("/admin/users/ as dispatcher", 403, dispatcher.get("/admin/users/")))
    return visits


def login(client, identity):
    from testkit import login as conftest_login
    assert conftest_login(client, identity).status_code == 302


@pytest.mark.parametrize("locale", ["zh_Hans_CN", "en"])
def test_every_page_reads_wholly_in_the_chosen_language(app, client, login_as, locale):
    foreign = foreign_messages(locale)
    visits = visit_everything(app, login_as, client, locale)
    data = data_values(foreign)
    problems = []
    for url, status, response in visits:
        if response.status_code != status:
            problems.append(f"{url}: status {response.status_code}, expected {status}")
            continue
        shown = untranslated(response.get_data(as_text=True), locale, foreign, data)
        problems += [f"{url}: {text!r}" for text in sorted(shown)]
    assert len(visits) > 20
    assert not problems, f"in {locale}, these pages show text of the other language:\n" + \
        "\n".join(problems)


def test_the_page_check_sees_an_untranslated_message():
    """The checker itself: an English msgid on a Chinese page is caught, data is not."""
    page = ("<h4>Audit log</h4><p>Welcome, 张三</p><h5>Users</h5><td>Users</td>"
            "<option>审计日志</option><script>var x = 'Home';</script>")
    foreign = foreign_messages("zh_Hans_CN")
    assert untranslated(page, "zh_Hans_CN", foreign, {"Users"}) == {
        "Audit log", "Welcome, %(name)s", "Users"}  # the heading, not the cell
    assert untranslated(page.replace("<h5>Users</h5>", ""), "zh_Hans_CN", foreign,
                        {"Users"}) == {"Audit log", "Welcome, %(name)s"}
    assert untranslated(page, "en", foreign_messages("en"), set()) == {"审计日志"}
    assert untranslated(page, "en", foreign_messages("en"), {"审计日志"}) == set()


# ---- choosing the language -----------------------------------------------------------------
def test_a_user_switching_to_english_keeps_it_on_every_device(app, client, login_as):
    login_as("dispatcher")
    switch_language(client, "en", "/admin/")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Log out" in page and "退出登录" not in page
    assert User.get(User.email == "dispatcher@demo.local").locale == "en"

    other_device = app.test_client()
    login(other_device, "dispatcher")
    assert "Log out" in other_device.get("/admin/").get_data(as_text=True)


def test_another_user_is_not_affected_by_a_language_switch(app, client, login_as):
    login_as("dispatcher")
    switch_language(client, "en", "/admin/")
    colleague = app.test_client()
    login(colleague, "admin")
    page = colleague.get("/admin/").get_data(as_text=True)
    assert "退出登录" in page and "Log out" not in page


def test_an_anonymous_visitor_keeps_the_language_for_the_session(app, client):
    switch_language(client, "en")
    assert "Forgot your password? Reset it by SMS" in client.get("/login").get_data(
        as_text=True)
    assert "忘记密码？通过短信重置" in app.test_client().get("/login").get_data(as_text=True)


def test_a_language_code_outside_the_whitelist_is_refused_with_a_message(client):
    response = client.post("/locale", data={"locale": "zh-CN", "next": "/login",
                                           "csrf_token": csrf_token(client)},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "不支持该语言。" in response.get_data(as_text=True)
    with client.session_transaction() as session:
        assert "locale" not in session
    assert client.get("/login?lang=zh-CN").status_code == 200


def test_a_saved_language_outside_the_whitelist_falls_back_to_the_default(client, login_as):
    User.update(locale="zh-CN").where(User.email == "dispatcher@demo.local").execute()
    login_as("dispatcher")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "退出登录" in response.get_data(as_text=True)


def test_the_language_switch_returns_only_to_a_page_of_this_site(client):
    response = client.post("/locale", data={"locale": "en", "next": "//evil.example/",
                                           "csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/admin/"
