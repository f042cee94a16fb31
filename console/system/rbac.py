"""RBAC: resources synchronized from the console's views, permissions as resource sets, roles as
permission sets with a data scope, resolved per user and cached per process.

The cache is keyed on a version counter in the database (`RbacVersion`): every change bumps it,
and every worker compares it once per request, so a change is seen on the next request."""
import fnmatch
import threading
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from peewee import JOIN, fn

from console.db import db, utcnow
from console.errors import InputError
from console.models import (
    DATA_SCOPES,
    MenuItem,
    Organization,
    Permission,
    PermissionResource,
    RbacVersion,
    Resource,
    Role,
    RolePermission,
    User,
    UserRoles,
)
from console.system import audit

SUPER_ROLE = "super_admin"
SCOPE_RANK = {scope: rank for rank, scope in enumerate(reversed(DATA_SCOPES))}  # own=0 .. all=3


class RbacError(InputError):
    """A bad RBAC change: the message names the field and the reason."""


@dataclass(frozen=True)
class Grants:
    user_id: int
    codes: frozenset
    scope: str
    is_super: bool
    org_id: int | None
    org_path: str

    def allows(self, code):
        return self.is_super or code in self.codes


# ---- the per-process cache -------------------------------------------------------------
_lock = threading.Lock()
_cache = {"version": None, "grants": {}, "menus": {}, "shared": {}}


def bump(reason=""):
    """Invalidate every worker's cache; call inside the transaction that made the change."""
    updated = RbacVersion.update(version=RbacVersion.version + 1).where(
        RbacVersion.id == 1).execute()
    if not updated:
        RbacVersion.insert(id=1, version=2).on_conflict_ignore().execute()


def stored_version():
    row = RbacVersion.get_or_none(RbacVersion.id == 1)
    return row.version if row else 0


def forget():
    """Drop this process's cache: a new app may point at another database."""
    with _lock:
        _cache["version"] = None
        _cache["grants"].clear()
        _cache["menus"].clear()
        _cache["shared"].clear()


def refresh_if_stale():
    """Once per request: drop this process's cache when the database version moved."""
    version = stored_version()
    with _lock:
        if _cache["version"] != version:
            _cache["version"] = version
            _cache["grants"].clear()
            _cache["menus"].clear()
            _cache["shared"].clear()
    return version


def cached(name, load):
    """A per-process value (`load()`) kept until the version counter moves, like the grants
    and menus: other areas' settings (platform parameters) ride on the same invalidation."""
    with _lock:
        if name in _cache["shared"]:
            return _cache["shared"][name]
    value = load()
    with _lock:
        _cache["shared"][name] = value
    return value


def grants_for(user) -> Grants:
    with _lock:
        hit = _cache["grants"].get(user.id)
    if hit is not None:
        return hit
    roles = list(Role.select().join(UserRoles).where(UserRoles.user == user.id))
    is_super = any(r.name == SUPER_ROLE for r in roles)
    codes = frozenset(
        r.code for r in Resource.select(Resource.code)
        .join(PermissionResource).join(Permission).join(RolePermission)
        .where(RolePermission.role.in_([r.id for r in roles]) if roles else False,
               Resource.is_active == True)  # noqa: E712
    ) if roles else frozenset()
    scope = max((r.data_scope for r in roles), key=SCOPE_RANK.get, default="own")
    org = user.organization
    grants = Grants(user.id, codes, "all" if is_super else scope, is_super, org.id, org.path)
    with _lock:
        _cache["grants"][user.id] = grants
    return grants


def can(user, code):
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return grants_for(user).allows(code)


# ---- data scope ------------------------------------------------------------------------
def scope_condition(model, user):
    """A WHERE expression limiting `model` to what `user` may see, or None for no limit.

    Models opt in with `scope_org` (name of the FK to Organization, or a tuple of names: a row
    is visible when any of them is in scope) and `scope_owner` (name of the FK to User that
    marks "own records")."""
    grants = grants_for(user)
    org_fields = getattr(model, "scope_org", None)
    owner_field = getattr(model, "scope_owner", None)
    if isinstance(org_fields, str):
        org_fields = (org_fields,)
    if grants.scope == "all" or (not org_fields and owner_field is None):
        return None
    if grants.scope == "own" and owner_field is not None:
        return getattr(model, owner_field) == grants.user_id
    if not org_fields:
        return getattr(model, owner_field) == grants.user_id
    if grants.scope in ("org", "own"):
        return _any(getattr(model, f) == grants.org_id for f in org_fields)
    subtree = Organization.select(Organization.id).where(
        Organization.path.startswith(grants.org_path))
    return _any(getattr(model, f).in_(subtree) for f in org_fields)


def _any(conditions):
    combined = None
    for condition in conditions:
        combined = condition if combined is None else (combined | condition)
    return combined


def scoped(query, model, user):
    condition = scope_condition(model, user)
    return query if condition is None else query.where(condition)


# ---- resources synchronized from the views ---------------------------------------------
def sync_resources(entries):
    """Upsert the resources the running code declares; deactivate ones that disappeared.

    `entries` are dicts with code, name, kind, endpoint, url and parent (a code or None)."""
    with db.atomic():
        existing = {r.code: r for r in Resource.select()}
        declared = {e["code"] for e in entries}
        changed = False
        for entry in entries:
            row = existing.get(entry["code"])
            values = {k: entry.get(k, "") for k in ("name", "kind", "endpoint", "url")}
            if row is None:
                row = Resource.create(code=entry["code"], **values)
                existing[row.code] = row
                changed = True
            elif any(getattr(row, k) != v for k, v in values.items()) or not row.is_active:
                Resource.update(is_active=True, **values).where(Resource.id == row.id).execute()
                changed = True
        for entry in entries:
            parent = existing.get(entry.get("parent")) if entry.get("parent") else None
            row = existing[entry["code"]]
            if (row.parent_id or None) != (parent.id if parent else None):
                Resource.update(parent=parent).where(Resource.id == row.id).execute()
                changed = True
        gone = [c for c, r in existing.items() if c not in declared and r.is_active]
        if gone:
            Resource.update(is_active=False).where(Resource.code.in_(gone)).execute()
            changed = True
        if changed:
            bump("resources synchronized")
    return changed


def resources_matching(patterns):
    codes = [r.code for r in Resource.select(Resource.code).where(Resource.is_active == True)]  # noqa: E712,E501
    return sorted({c for c in codes for p in patterns if fnmatch.fnmatchcase(c, p)})


# ---- operations used by views, CLI and seed --------------------------------------------
def set_permission_resources(permission, resource_ids):
    resource_ids = {int(i) for i in resource_ids}
    found = {r.id for r in Resource.select(Resource.id).where(Resource.id.in_(resource_ids))} \
        if resource_ids else set()
    missing = resource_ids - found
    if missing:
        raise RbacError("resources", _l("Resources: %(ids)s do not exist.",
                                        ids=", ".join(map(str, sorted(missing)))))
    with db.atomic():
        before = sorted(r.resource.code for r in permission.resource_links)
        PermissionResource.delete().where(PermissionResource.permission == permission).execute()
        PermissionResource.insert_many(
            [{"permission": permission.id, "resource": rid} for rid in sorted(resource_ids)]
        ).execute() if resource_ids else None
        after = sorted(r.code for r in Resource.select().where(Resource.id.in_(resource_ids)))
        if before != after:
            audit.record("set_resources", permission, {"resources": before}, {"resources": after})
            bump()


def set_role_permissions(role, permission_ids):
    permission_ids = {int(i) for i in permission_ids}
    found = {p.id for p in Permission.select(Permission.id).where(
        Permission.id.in_(permission_ids))} if permission_ids else set()
    if permission_ids - found:
        raise RbacError("permissions", _l("Permissions: %(ids)s do not exist.", ids=", ".join(
            map(str, sorted(permission_ids - found)))))
    with db.atomic():
        before = sorted(link.permission.code for link in role.permission_links)
        RolePermission.delete().where(RolePermission.role == role).execute()
        if permission_ids:
            RolePermission.insert_many(
                [{"role": role.id, "permission": pid} for pid in sorted(permission_ids)]).execute()
        after = sorted(p.code for p in Permission.select().where(Permission.id.in_(permission_ids)))
        if before != after:
            audit.record("set_permissions", role, {"permissions": before},
                         {"permissions": after})
            bump()


def check_grantable(actor, roles):
    """Nobody hands out more than they hold: only a super administrator grants the super
    administrator role, and nobody grants a data scope wider than their own."""
    grants = grants_for(actor)
    for role in roles:
        if role.name == SUPER_ROLE and not grants.is_super:
            raise RbacError("roles", _l("Roles: only a super administrator may grant "
                                        "%(role)s.", role=role.name))
        if SCOPE_RANK[role.data_scope] > SCOPE_RANK[grants.scope]:
            raise RbacError("roles", _l("Roles: %(role)s sees more data than your own data "
                                        "scope allows.", role=role.name))


def set_user_roles(user, role_ids, actor=None):
    """Replace the user's roles; with `actor`, roles the actor could not grant are refused
    (roles the user already has may stay)."""
    role_ids = {int(i) for i in role_ids}
    found = {r.id for r in Role.select(Role.id).where(Role.id.in_(role_ids))} if role_ids else set()
    if role_ids - found:
        raise RbacError("roles", _l("Roles: %(ids)s do not exist.",
                                    ids=", ".join(map(str, sorted(role_ids - found)))))
    if actor is not None:
        held = {link.role_id for link in user.roles}
        check_grantable(actor, Role.select().where(Role.id.in_(role_ids - held)))
    with db.atomic():
        before = sorted(link.role.name for link in user.roles)
        UserRoles.delete().where(UserRoles.user == user).execute()
        if role_ids:
            UserRoles.insert_many([{"user": user.id, "role": rid} for rid in sorted(role_ids)]
                                  ).execute()
        after = sorted(r.name for r in Role.select().where(Role.id.in_(role_ids)))
        if before != after:
            audit.record("set_roles", user, {"roles": before}, {"roles": after})
            User.update(updated_at=utcnow()).where(User.id == user.id).execute()  # for sync
            bump()


def check_role_code(code, role_id=None):
    clash = Role.select().where(fn.LOWER(Role.name) == code.strip().lower())
    if role_id:
        clash = clash.where(Role.id != role_id)
    if clash.exists():
        raise RbacError("name", _l("Role code: %(code)s already exists.", code=code.strip()))


def check_tree_parent(model, node_id, parent_id, field="parent"):
    """Refuse to make a node its own ancestor (any tree of `model` with a `parent` FK)."""
    seen = set()
    current = parent_id
    while current:
        if node_id is not None and current == node_id:
            raise RbacError(field, _l("Parent: a node cannot be moved under itself or its "
                                      "own descendant."))
        if current in seen:
            raise RbacError(field, _l("Parent: the tree already contains a cycle."))
        seen.add(current)
        row = model.get_or_none(model.id == current)
        if row is None:
            raise RbacError(field, _l("Parent: %(id)s does not exist.", id=current))
        current = row.parent_id


def rebuild_org_paths(root=None):
    """Recompute materialized paths below `root` (all when None) after a move."""
    children = {}
    for org in Organization.select(Organization.id, Organization.parent):
        children.setdefault(org.parent_id, []).append(org.id)
    stack = [(root.id, root.parent.path if root and root.parent_id else "/")] if root else \
        [(oid, "/") for oid in children.get(None, [])]
    while stack:
        oid, prefix = stack.pop()
        path = f"{prefix}{oid}/"
        Organization.update(path=path).where(Organization.id == oid).execute()
        stack.extend((c, path) for c in children.get(oid, []))


def visible_menu(user, locale):
    """The menu tree `user` may see: a node shows when its resource is held, a parent shows
    when any child shows. Cached per (user, locale) until the RBAC version moves."""
    key = (user.id, locale)
    with _lock:
        hit = _cache["menus"].get(key)
    if hit is not None:
        return hit
    grants = grants_for(user)
    items = list(MenuItem.select(MenuItem, Resource).join(Resource, JOIN.LEFT_OUTER)
                 .where(MenuItem.is_hidden == False)  # noqa: E712
                 .order_by(MenuItem.sort, MenuItem.id))
    by_parent = {}
    for item in items:
        by_parent.setdefault(item.parent_id, []).append(item)

    def build(parent_id):
        nodes = []
        for item in by_parent.get(parent_id, []):
            kids = build(item.id)
            res = item.resource if item.resource_id else None
            held = res is not None and res.is_active and grants.allows(res.code)
            if not (held or kids):
                continue
            title = item.title_en if locale == "en" and item.title_en else item.title
            nodes.append({"id": item.id, "title": title, "icon": item.icon,
                          "url": res.url if held else "", "endpoint": res.endpoint if held
                          else "", "children": kids})
        return nodes

    tree = build(None)
    with _lock:
        _cache["menus"][key] = tree
    return tree


def user_for_identity(identity):
    """Find an active staff account by email, phone or account name."""
    value = (identity or "").strip()
    if not value:
        return None
    field = (User.email if "@" in value else User.phone if value.isdigit() else User.username)
    return User.select().where(fn.LOWER(field) == value.lower(),
                               User.is_deleted == False).first()  # noqa: E712


# ---- accounts and menus ----------------------------------------------------------------
def deactivate_users(users, actor):
    """Deactivate the active accounts among `users` (a query in the actor's scope), never the
    actor's own; returns how many. Their sessions end on their next request."""
    count = 0
    with db.atomic():
        for user in users.where(User.id != actor.id, User.active == True):  # noqa: E712
            User.update(active=False).where(User.id == user.id).execute()
            audit.record("deactivate", user, {"active": True}, {"active": False}, actor=actor)
            count += 1
        bump("users deactivated")
    return count


def check_menu_parent(item_id, parent_id, field="parent"):
    """A menu node sits under a menu (a node without a page of its own) or at the top, never
    under a page link, itself or its own descendant."""
    if parent_id is None:
        return
    parent = MenuItem.get_or_none(MenuItem.id == parent_id)
    if parent is None:
        raise RbacError(field, _l("Parent: %(id)s does not exist.", id=parent_id))
    if parent.resource_id:
        raise RbacError(field, _l("Parent: %(title)s opens a page; only a menu can hold other "
                                  "entries.", title=parent.title))
    check_tree_parent(MenuItem, item_id, parent_id, field)


def move_menu(item, parent, position):
    """Put menu node `item` under `parent` (a menu, or None for the top level) at `position`
    among its new siblings (0 first; past the end: last). The siblings are renumbered 10, 20,
    ... in their new order; the move is audited and every worker rebuilds its menus."""
    parent_id = parent.id if parent is not None else None
    check_menu_parent(item.id, parent_id)
    with db.atomic():
        current = MenuItem.get_by_id(item.id)
        siblings = list(MenuItem.select().where(
            MenuItem.parent.is_null() if parent_id is None else MenuItem.parent == parent_id,
            MenuItem.id != item.id).order_by(MenuItem.sort, MenuItem.id))
        position = max(0, min(int(position), len(siblings)))
        siblings.insert(position, current)
        for rank, node in enumerate(siblings, start=1):
            values = {"sort": rank * 10}
            if node.id == item.id:
                values["parent"] = parent_id
            if node.sort != rank * 10 or node.id == item.id:
                MenuItem.update(values).where(MenuItem.id == node.id).execute()
        audit.record("move", current, {"parent": current.parent_id, "sort": current.sort},
                     {"parent": parent_id, "sort": (position + 1) * 10})
        bump("menu moved")
    item.parent, item.sort = parent_id, (position + 1) * 10
    return item


def menu_tree():
    """Every menu node, hidden ones too, as nested dicts in the sidebar's order:
    {"item": MenuItem, "children": [...], "depth": n}."""
    items = list(MenuItem.select(MenuItem, Resource).join(Resource, JOIN.LEFT_OUTER)
                 .order_by(MenuItem.sort, MenuItem.id))
    kids = {}
    for item in items:
        kids.setdefault(item.parent_id, []).append(item)

    def build(parent_id, depth, seen):
        nodes = []
        for item in kids.get(parent_id, []):
            if item.id in seen:  # a cycle left by hand in the database: show it once
                continue
            nodes.append({"item": item, "depth": depth,
                          "children": build(item.id, depth + 1, seen | {item.id})})
        return nodes
    return build(None, 0, frozenset())


def set_menu_hidden(items, hidden):
    """Hide or show menu nodes (a query); every worker rebuilds its menus on the next request."""
    with db.atomic():
        for item in items:
            MenuItem.update(is_hidden=hidden).where(MenuItem.id == item.id).execute()
            audit.record("update", item, {"is_hidden": item.is_hidden}, {"is_hidden": hidden})
        bump("menu visibility")
