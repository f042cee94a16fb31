"""Reference data from seed_data/: organizations, permissions, roles, menus, message templates
and demo users. Every loader only adds what is missing, so running it again changes nothing
and never overwrites what an administrator edited."""
import json
from pathlib import Path

from console import people
from console.catalogue import items as catalogue
from console.db import db
from console.models import (
    MenuItem,
    MessageTemplate,
    Organization,
    Permission,
    PermissionResource,
    Resource,
    Role,
    RolePermission,
    User,
)
from console.system import rbac, users

SEED = Path(__file__).resolve().parents[2] / "seed_data"
DEMO_PASSWORD = "Demo@2026"


def load(name):
    return json.loads((SEED / name).read_text(encoding="utf-8"))


def area_files():
    """seed_data/areas/<area>.json: each area's permissions, menus and role grants."""
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(SEED.glob("areas/*.json"))]


def load_reference():
    with db.atomic():
        _organizations()
        _permissions()
        _roles()
        _menus()
        _templates()
        catalogue.load_default_rules(load("pricing_rules.json"))
        people.load_car_models(load("car_models.json"))
        rbac.bump("seed")


def _organizations():
    codes = {o.code: o for o in Organization.select()}
    for row in load("organizations.json"):
        if row["code"] in codes:
            continue
        parent = codes.get(row["parent"]) if row["parent"] else None
        org = Organization.create(code=row["code"], name=row["name"], name_en=row["name_en"],
                                  kind=row["kind"], parent=parent)
        org.path = f"{parent.path if parent else '/'}{org.id}/"
        org.save()
        codes[org.code] = org


def _permissions():
    rows = load("permissions.json") + [p for area in area_files()
                                       for p in area.get("permissions", [])]
    for row in rows:
        permission, _ = Permission.get_or_create(
            code=row["code"], defaults={"name": row["name"], "name_en": row["name_en"]})
        held = {link.resource_id for link in permission.resource_links}
        for code in rbac.resources_matching(row["resources"]):
            resource = Resource.get(Resource.code == code)
            if resource.id not in held:
                PermissionResource.create(permission=permission, resource=resource)


def _roles():
    grants = {}
    for area in area_files():
        for role_code, codes in area.get("role_permissions", {}).items():
            grants.setdefault(role_code, []).extend(codes)
    for row in load("roles.json"):
        role, _ = Role.get_or_create(name=row["name"], defaults={
            "title": row["title"], "title_en": row["title_en"], "data_scope": row["data_scope"]})
        held = {link.permission_id for link in role.permission_links}
        for code in row["permissions"] + grants.get(row["name"], []):
            permission = Permission.get(Permission.code == code)
            if permission.id not in held:
                RolePermission.create(role=role, permission=permission)


def _menus():
    def place(nodes, parent):
        for sort, node in enumerate(nodes):
            item = MenuItem.get_or_none(MenuItem.key == node["key"])
            if item is None:
                resource = (Resource.get_or_none(Resource.code == node["resource"])
                            if node.get("resource") else None)
                item = MenuItem.create(key=node["key"], parent=parent, title=node["title"],
                                       title_en=node["title_en"], icon=node.get("icon", ""),
                                       sort=sort * 10, resource=resource)
            place(node.get("children", []), item)
    place(load("menus.json"), None)
    for area in area_files():
        for branch in area.get("menus", []):
            parent = MenuItem.get_or_none(MenuItem.key == branch["under"]) \
                if branch.get("under") else None
            place(branch["nodes"], parent)


def _templates():
    for row in load("message_templates.json"):
        MessageTemplate.get_or_create(code=row["code"], locale=row["locale"],
                                      defaults={"body": row["body"]})


def demo_users():
    created = []
    for row in load("demo_users.json"):
        if User.select().where(User.email == row["email"]).exists():
            continue
        created.append(users.create_user(
            row["email"], roles=[row["role"]], organization=row["org"], password=DEMO_PASSWORD,
            username=row["username"], phone=row["phone"], full_name=row["full_name"]))
    return created
