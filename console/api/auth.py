"""The caller's own account. Apps get their token from Flask-Security's login
(POST /login?include_auth_token with a JSON body {"identity", "password"}: the web login's
throttling, lockout and history apply) and send it in the Authentication-Token header. A token
opens the API only (not console pages), expires after security.token_hours (the app logs in
again) and ends at logout — here or on the web — and with a password change."""
from console.api import route
from console.api import schema as s
from console.api.schema import N_
from console.models import Role, UserRoles
from console.system import accounts

ME = s.component("Me", s.obj({
    "id": s.integer(),
    "email": s.string(),
    "full_name": s.string(),
    "phone": s.string(null=True),
    "locale": s.string(description="saved language; empty = Accept-Language decides"),
    "roles": s.array(s.string()),
    "organization": s.obj({"id": s.integer(), "code": s.string(), "name": s.string()},
                          required=("id", "code", "name")),
}, required=("id", "email", "full_name", "phone", "locale", "roles", "organization")))


def me_payload(user):
    roles = [r.name for r in Role.select(Role.name).join(UserRoles)
             .where(UserRoles.user == user.id).order_by(Role.name)]
    org = user.organization
    return {"id": user.id, "email": user.email, "full_name": user.full_name,
            "phone": user.phone, "locale": user.locale or "", "roles": roles,
            "organization": {"id": org.id, "code": org.code, "name": org.name}}


@route("/me", "GET", resource="api.me", tag="session", responses={200: ME},
       summary=N_("The caller's account, roles and organization"))
def me(user):
    return me_payload(user)


@route("/logout", "POST", resource=None, tag="session",
       responses={200: s.obj({"logged_out": s.boolean()}, required=("logged_out",))},
       summary=N_("Log out: end this account's tokens and sessions everywhere"),
       description="Send the token to end it, with every other token and console session of "
                   "the account. Without a valid token there is nothing to end: "
                   '{"logged_out": false}.')
def logout(user):
    if user is None:
        return {"logged_out": False}
    accounts.end_sessions(user)
    return {"logged_out": True}
