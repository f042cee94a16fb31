"""A test client for the app API that checks every response against the OpenAPI document:
the status must be documented for that path and method, and the JSON body must validate
against the documented schema (jsonschema, draft 2020-12 as OpenAPI 3.1 uses)."""
import re

from jsonschema import Draft202012Validator

PASSWORD = "Demo@2026"
EXERCISED = set()  # (method, documented path, status) seen in this test session
_TOKENS = {}
_RULE_ARG = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def login_token(app, identity, password=PASSWORD):
    """The app login: Flask-Security's JSON login hands back an auth token. Each login uses
    a fresh client, as each app holds no cookie of the console."""
    response = app.test_client().post("/login?include_auth_token", json={"identity": identity,
                                                              "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.json["response"]["user"]["authentication_token"]


class ApiClient:
    def __init__(self, app, client, token=None, language=None):
        self.app, self.client, self.token, self.language = app, client, token, language
        self._document = None

    def as_(self, identity, language=None):
        """A client holding `identity`'s token. Tokens are reused across tests: each test's
        database is a copy of one template, so the same account signs the same token."""
        from console.models import User
        account = User.get(User.email == identity)
        key = (account.fs_uniquifier, self.app.secret_key)
        if key not in _TOKENS:
            _TOKENS[key] = login_token(self.app, identity)
        return ApiClient(self.app, self.client, _TOKENS[key], language or self.language)

    @property
    def document(self):
        if self._document is None:
            self._document = self.client.get("/api/v1/openapi.json").json
        return self._document

    def call(self, method, path, json=None, query=None, headers=None, raw=None):
        sent = dict(headers or {})
        if self.token:
            sent.setdefault("Authentication-Token", self.token)
        if self.language:
            sent.setdefault("Accept-Language", self.language)
        response = self.client.open(path, method=method, json=json, query_string=query,
                                    headers=sent, data=raw)
        self.check(method, path, response)
        return response

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.call("POST", path, json=json, **kw)

    def check(self, method, path, response):
        """The response must be JSON, documented, and valid against its schema."""
        assert response.is_json, f"{method} {path}: not JSON: {response.data[:200]!r}"
        documented = self.documented_path(method, path)
        if documented is None:  # no such route: must be the JSON 404
            assert response.status_code in (404, 405), (method, path, response.status_code)
            schema = {"$ref": "#/components/schemas/Error"}
        else:
            operation = self.document["paths"][documented][method.lower()]
            spec = operation["responses"].get(str(response.status_code))
            assert spec is not None, (f"{method} {documented} answered "
                                      f"{response.status_code}, which is not documented: "
                                      f"{response.get_data(as_text=True)[:300]}")
            schema = spec["content"]["application/json"]["schema"]
            EXERCISED.add((method.upper(), documented, response.status_code))
        validate(schema, response.json, self.document)

    def documented_path(self, method, path):
        adapter = self.app.url_map.bind("localhost")
        try:
            rule, _args = adapter.match(path.split("?")[0], method, return_rule=True)
        except Exception:  # NotFound / MethodNotAllowed
            return None
        return _RULE_ARG.sub(r"{\1}", rule.rule)


def validate(schema, instance, document):
    """Validate against a schema that may $ref the document's components."""
    rooted = dict(schema, components=document["components"])
    errors = sorted(Draft202012Validator(rooted).iter_errors(instance), key=str)
    assert not errors, "response does not match its documented schema:\n" + "\n".join(
        f"  at {list(e.absolute_path)}: {e.message}" for e in errors[:5])
