"""System management: organizations, resources, permissions, roles, users, menus."""
import re

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from peewee import fn
from wtforms import PasswordField, SelectField
from wtforms.validators import Optional
from wtfpeewee.fields import SelectQueryField

from console.common.clock import local_time
from console.db import utcnow
from console.errors import InputError
from console.models import (
    DATA_SCOPES,
    MenuItem,
    Organization,
    Permission,
    PermissionResource,
    Resource,
    Role,
    RolePermission,
    User,
    UserRoles,
)
from console.system import rbac, users
from console.views.base import ConsoleModelView, DomainError, ReadOnlyView
from console.views.labels import DATA_SCOPE_LABELS, LABELS, RESOURCE_KIND_LABELS, localized
from console.views.widgets import CheckboxTreeField, Required, as_first_password

CATEGORY = _l("System")
# element codes (after the page's) that move money or remove records: marked in the tree
SENSITIVE_ELEMENTS = {"delete", "action.delete", "action.refund", "action.settle",
                      "action.cancel", "action.deactivate", "remove"}


def _indent(depth, text):
    return Markup("&nbsp;&nbsp;&nbsp;&nbsp;" * depth + str(escape(text)))


def _count_of(link_field, owner_field, *conditions):
    """A correlated COUNT of link rows per listed row, selected next to the row itself."""
    link = link_field.model
    query = link.select(fn.COUNT(link._meta.primary_key)).where(link_field == owner_field)
    for condition in conditions:
        query = query.where(condition)
    return query


def _account_state(user):
    icon = "fa-check-circle text-success" if user.active else "fa-ban text-muted"
    title = _("Active") if user.active else _("Inactive")
    state = Markup('<i class="fa %s" title="%s"></i>') % (icon, title)
    if user.locked_until and user.locked_until > utcnow():
        state += Markup(' <span class="badge badge-warning">%s</span>') % _(
            "Locked until %(time)s", time=local_time(user.locked_until))
    return state


def _badges(names):
    return Markup("".join(f'<span class="badge badge-info mr-1">{escape(n)}</span>'
                          for n in names))


class OrganizationView(ConsoleModelView):
    rbac_sensitive = True
    column_list = ["code", "name", "name_en", "kind", "parent", "sort", "is_active"]
    column_default_sort = "path"
    column_searchable_list = ["code", "name", "name_en"]
    column_filters = ["kind", "is_active"]
    column_labels = LABELS
    form_columns = ["code", "name", "name_en", "kind", "parent", "sort", "is_active"]
    form_choices = {"kind": [("platform", _l("Platform")), ("city", _l("City")),
                             ("department", _l("Department")), ("team", _l("Team")),
                             ("supplier", _l("Supplier"))]}
    column_choices = form_choices
    column_formatters = {
        "name": lambda v, c, m, n: _indent(m.path.count("/") - 2, m.name),
        "parent": lambda v, c, m, n: localized(m.parent.name, m.parent.name_en)
        if m.parent_id else "",
    }
    column_formatters_export = {"parent": column_formatters["parent"]}
    can_export = True

    def on_model_change(self, form, model, is_created):
        rbac.check_tree_parent(Organization, None if is_created else model.id, model.parent_id)
        if is_created and not model.parent_id and rbac.grants_for(current_user).scope != "all":
            # a new root would fall outside the creator's own data scope
            raise rbac.RbacError("parent", _("Parent: choose an organization inside your "
                                             "data scope."))

    def after_save(self, form, model, is_created):
        rbac.rebuild_org_paths(Organization.get_by_id(model.id))
        model.path = Organization.get_by_id(model.id).path  # the audit's "after" shows it


class ResourceView(ReadOnlyView):
    """Resources are registered from the code at start-up; here they are browsed."""
    column_list = ["code", "name", "kind", "endpoint", "url", "is_active"]
    column_default_sort = "code"
    column_searchable_list = ["code", "name"]
    column_filters = ["kind", "is_active"]
    column_labels = LABELS
    column_formatters = {"kind": lambda v, c, m, n: RESOURCE_KIND_LABELS.get(m.kind, m.kind),
                         "name": lambda v, c, m, n: _(m.name)}


def resource_tree():
    """Pages grouped and ordered like the sidebar, each with its buttons, actions and exports;
    then pages outside the menu, then the app API."""
    rows = list(Resource.select().where(Resource.is_active == True)  # noqa: E712
                .order_by(Resource.code))
    children = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)

    def build(parent_id):
        return [(r.id, _resource_label(r), build(r.id)) for r in children.get(parent_id, [])]

    sections, place = _menu_places()
    groups, other, api = {}, [], []
    for node, row in zip(build(None), children.get(None, []), strict=True):
        if row.id in place:
            groups.setdefault(place[row.id][0], []).append((place[row.id][1], node))
        else:
            (api if row.kind == "api" else other).append(node)
    tree = [(None, localized(top.title, top.title_en), [node for _rank, node in sorted(nodes)])
            for top in sections if (nodes := groups.get(top.id))]
    tree += [(None, label, nodes) for label, nodes in ((_("Pages outside the menu"), other),
                                                       (_("App API"), api)) if nodes]
    return tree


def _resource_label(resource):
    """"Name · code"; an element that moves money or removes records carries a warning mark."""
    label = f"{_(resource.name)} · {resource.code}"
    if resource.kind == "element" and resource.code.split(".", 1)[-1] in SENSITIVE_ELEMENTS:
        return Markup('<i class="fa fa-exclamation-triangle text-danger" title="%s"></i> %s') % (
            _("Sensitive: moves money or removes records"), label)
    return label


def _menu_places():
    """The top-level menu nodes in order, and {page resource id: (top node id, rank)} in the
    sidebar's depth-first order."""
    items = list(MenuItem.select().order_by(MenuItem.sort, MenuItem.id))
    kids = {}
    for item in items:
        kids.setdefault(item.parent_id, []).append(item)
    place = {}

    def walk(item, top):
        if item.resource_id:
            place.setdefault(item.resource_id, (top.id, len(place)))
        for kid in kids.get(item.id, []):
            walk(kid, top)
    for top in kids.get(None, []):
        walk(top, top)
    return kids.get(None, []), place


def permission_tree():
    return [(p.id, f"{localized(p.name, p.name_en)} · {p.code}", [])
            for p in Permission.select().order_by(Permission.code)]


def role_choices():
    return [(r.id, f"{localized(r.title, r.title_en)} · {r.name}", [])
            for r in Role.select().order_by(Role.id)]


def role_names_by_user(user_ids):
    """{user id: [role names in the page's language]} in one query, for a page of users."""
    names = {uid: [] for uid in user_ids}
    links = (UserRoles.select(UserRoles.user, Role.title, Role.title_en).join(Role)
             .where(UserRoles.user.in_(list(user_ids))).order_by(Role.id)) if user_ids else []
    for link in links:
        names[link.user_id].append(localized(link.role.title, link.role.title_en))
    return names


class LinkedSetMixin:
    """A form field holding the ids of a link table, loaded on open and stored by an
    RBAC operation after the row is saved."""
    link_field = ""

    def create_form(self, obj=None):
        form = super().create_form(obj)
        form[self.link_field].load()
        return form

    def edit_form(self, obj=None):
        form = super().edit_form(obj)
        form[self.link_field].load()
        if obj is not None and request.method == "GET":
            form[self.link_field].data = self.linked_ids(obj)
        return form


class PermissionView(LinkedSetMixin, ConsoleModelView):
    rbac_sensitive = True
    link_field = "resources"
    column_list = ["code", "name", "name_en", "resource_count", "role_count", "description"]
    column_searchable_list = ["code", "name", "name_en"]
    column_labels = LABELS
    form_columns = ["code", "name", "name_en", "description"]
    form_extra_fields = {"resources": CheckboxTreeField(_l("Resources"),
                                                        tree_loader=resource_tree)}
    can_delete = True
    action_disallowed_list = []

    def get_query(self):
        return super().get_query().select_extend(
            _count_of(PermissionResource.permission, Permission.id).alias("resource_count"),
            _count_of(RolePermission.permission, Permission.id).alias("role_count"))

    def linked_ids(self, permission):
        return [link.resource_id for link in permission.resource_links]

    def after_save(self, form, model, is_created):
        rbac.set_permission_resources(model, form.resources.data or [])


class RoleView(LinkedSetMixin, ConsoleModelView):
    rbac_sensitive = True
    link_field = "permissions"
    column_list = ["name", "title", "title_en", "data_scope", "permission_count", "user_count",
                   "description"]
    column_searchable_list = ["name", "title", "title_en"]
    column_labels = dict(LABELS, name=_l("Role code"))
    column_formatters = {"data_scope": lambda v, c, m, n: DATA_SCOPE_LABELS[m.data_scope]}
    form_columns = ["name", "title", "title_en", "data_scope", "description"]
    form_overrides = {"data_scope": SelectField}
    form_args = {"data_scope": {"choices": [(s, DATA_SCOPE_LABELS[s]) for s in DATA_SCOPES]}}
    form_extra_fields = {"permissions": CheckboxTreeField(_l("Permissions"),
                                                          tree_loader=permission_tree)}

    def get_query(self):
        live_users = User.select(User.id).where(User.is_deleted == False)  # noqa: E712
        return super().get_query().select_extend(
            _count_of(RolePermission.role, Role.id).alias("permission_count"),
            _count_of(UserRoles.role, Role.id, UserRoles.user.in_(live_users)).alias("user_count"))

    def linked_ids(self, role):
        return [link.permission_id for link in role.permission_links]

    def on_model_change(self, form, model, is_created):
        model.name = (model.name or "").strip().lower()
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,79}", model.name):
            raise rbac.RbacError("name", _("A role code is 2–80 lowercase letters, digits or "
                                           "underscores, starting with a letter."))
        rbac.check_role_code(model.name, None if is_created else model.id)
        if model.data_scope not in DATA_SCOPES:
            raise rbac.RbacError("data_scope", _("Unknown data scope."))

    def after_save(self, form, model, is_created):
        rbac.set_role_permissions(model, form.permissions.data or [])


class UserView(LinkedSetMixin, ConsoleModelView):
    rbac_sensitive = True
    link_field = "roles"
    column_list = ["email", "username", "full_name", "phone", "organization", "roles", "active",
                   "last_login_at"]
    column_export_list = column_list + ["locked_until", "created_at"]
    column_searchable_list = ["email", "username", "phone", "full_name"]
    column_filters = ["active", Organization.name, Organization.code]
    column_labels = LABELS
    column_details_exclude_list = ["password", "fs_uniquifier"]
    column_formatters = {
        "organization": lambda v, c, m, n: localized(m.organization.name, m.organization.name_en),
        "roles": lambda v, c, m, n: _badges(UserView.role_names(m)),
        "active": lambda v, c, m, n: _account_state(m),
        "last_login_at": lambda v, c, m, n: local_time(m.last_login_at),
    }
    column_formatters_export = {
        "organization": column_formatters["organization"],
        "last_login_at": column_formatters["last_login_at"],
        "locked_until": lambda v, c, m, n: local_time(m.locked_until),
        "created_at": lambda v, c, m, n: local_time(m.created_at),
        "roles": lambda v, c, m, n: ", ".join(UserView.role_names(m)),
    }
    can_export = True
    form_columns = ["email", "username", "phone", "full_name", "organization", "active",
                    "locale"]
    form_choices = {"locale": [("", _l("Default")), ("zh_Hans_CN", "中文"), ("en", "English")]}
    form_extra_fields = {
        "roles": CheckboxTreeField(_l("Roles"), tree_loader=role_choices),
        "new_password": PasswordField(_l("New password"), validators=[Optional()],
                                      description=_l("Leave empty to keep the password.")),
    }
    form_ajax_refs = {"organization": {"fields": ["code", "name", "name_en"], "page_size": 10}}
    form_args = {"organization": {"validators": [
        Required(_l("Every user belongs to one organization: choose it."))]}}

    def get_query(self):
        return super().get_query().where(User.is_deleted == False)  # noqa: E712

    def get_list(self, *args, **kwargs):
        count, rows = super().get_list(*args, **kwargs)
        if isinstance(rows, list):  # a list page: load the page's roles and orgs in 2 queries
            names = role_names_by_user({u.id for u in rows})
            orgs = {o.id: o for o in Organization.select().where(
                Organization.id.in_({u.organization_id for u in rows}))} if rows else {}
            for user in rows:
                user.role_names_cache = names[user.id]
                user.organization = orgs[user.organization_id]
        return count, rows

    @staticmethod
    def role_names(user):
        cached = getattr(user, "role_names_cache", None)
        return cached if cached is not None else role_names_by_user({user.id})[user.id]

    def linked_ids(self, user):
        return [link.role_id for link in user.roles]

    def create_form(self, obj=None):
        """A new account has no password to keep: the field is its first password."""
        form = super().create_form(obj)
        as_first_password(form.new_password)
        return form

    def create_record(self, form):
        roles = Role.select().where(Role.id.in_([int(i) for i in form.roles.data or []]))
        return users.create_user(
            form.email.data, roles=list(roles), organization=form.organization.data,
            password=form.new_password.data or "", phone=form.phone.data,
            full_name=form.full_name.data, username=form.username.data,
            active=form.active.data, locale=form.locale.data,
            actor=current_user._get_current_object())

    def on_model_change(self, form, model, is_created):
        if not model.organization_id:
            raise InputError("organization", _(
                "Organization: every user belongs to one organization."))
        users.check_login_fields(model)
        if form.new_password.data:
            users.set_password(model, form.new_password.data)

    def after_save(self, form, model, is_created):
        rbac.set_user_roles(model, form.roles.data or [], actor=current_user)

    @action("deactivate", _l("Deactivate"), _l("Deactivate the selected accounts?"))
    def action_deactivate(self, ids):
        if str(current_user.id) in {str(i) for i in ids}:
            flash(_("You cannot deactivate your own account."), "error")
        count = rbac.deactivate_users(self.get_query().where(User.id.in_(ids)),
                                      current_user._get_current_object())
        flash(_("%(count)s accounts deactivated.", count=count), "success")

    @action("unlock", _l("Unlock"), _l("Unlock the selected accounts?"))
    def action_unlock(self, ids):
        from console.system import accounts
        users = list(self.get_query().where(User.id.in_(ids), User.locked_until > utcnow()))
        for user in users:
            accounts.unlock(user)
        flash(_("%(count)s accounts unlocked.", count=len(users)), "success")


def _menu_parents():
    """The menus a node may sit under (nodes without a page), labelled by their path."""
    return MenuItem.select().where(MenuItem.resource.is_null()).order_by(MenuItem.sort,
                                                                           MenuItem.id)


def _menu_path(item):
    names, current, seen = [], item, set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        names.append(localized(current.title, current.title_en))
        current = current.parent if current.parent_id else None
    return " / ".join(reversed(names))


def _flatten_menu(nodes):
    for node in nodes:
        yield node
        yield from _flatten_menu(node["children"])


class MenuView(ConsoleModelView):
    """The menu as the tree it is: nest, move and reorder nodes in place. Only menus (nodes
    without a page) can hold other nodes; rbac.move_menu keeps the tree free of cycles."""
    rbac_sensitive = True
    column_list = ["title", "title_en", "icon", "resource", "sort", "is_hidden"]
    column_labels = LABELS
    column_formatters = {
        "resource": lambda v, c, m, n: f"{_(m.resource.name)} · {m.resource.code}"
        if m.resource_id else "",
        "parent": lambda v, c, m, n: _menu_path(m.parent) if m.parent_id else "",
    }
    column_details_list = ["parent", "title", "title_en", "icon", "resource", "sort",
                           "is_hidden"]
    form_columns = ["parent", "title", "title_en", "icon", "sort", "resource", "is_hidden"]
    # plain query selects: wtf-peewee's default FK field cannot take a narrowed query
    form_overrides = {"resource": SelectQueryField, "parent": SelectQueryField}
    form_args = {
        "resource": {
            "query": Resource.select().where(Resource.kind == "page", Resource.is_active == True)  # noqa: E712,E501
            .order_by(Resource.code),
            "allow_blank": True, "blank_text": _l("(none: a menu that holds other entries)"),
            "get_label": lambda r: f"{_(r.name)} · {r.code}"},
        "parent": {"query": _menu_parents(), "allow_blank": True,
                   "blank_text": _l("(top level)"), "get_label": _menu_path,
                   "description": _l("Only menus are offered: a page link holds no entries.")},
    }
    can_delete = True
    action_disallowed_list = []

    def view_elements(self):
        return {"move_view": "edit"}

    # ---- the tree ------------------------------------------------------------------------
    @expose("/")
    def index_view(self):
        tree = rbac.menu_tree()
        below = {}  # node id -> itself and its descendants: where it cannot move

        def collect(node):
            ids = {node["item"].id}
            for child in node["children"]:
                ids |= collect(child)
            below[node["item"].id] = ids
            return ids
        for node in tree:
            collect(node)
        menus = [(m.id, _menu_path(m)) for m in _menu_parents()]
        return self.render("system/menu_tree.html", tree=tree, menus=menus, below=below,
                           count=sum(1 for _node in _flatten_menu(tree)),
                           page_label=lambda r: f"{_(r.name)} · {r.code}")

    @expose("/move/", methods=["POST"])
    def move_view(self):
        item = self.get_one(request.form.get("id", "")) or abort(404)
        where = request.form.get("parent", "")
        parent = None
        if where not in ("", "top"):
            parent = self.get_one(where) or abort(404)
        position = request.form.get("position", "last")
        siblings = [m.id for m in MenuItem.select(MenuItem.id).where(
            MenuItem.parent.is_null() if parent is None else MenuItem.parent == parent.id)
            .order_by(MenuItem.sort, MenuItem.id)]
        here = siblings.index(item.id) if item.id in siblings else None
        if position == "up" and here is not None:
            position = max(0, here - 1)
        elif position == "down" and here is not None:
            position = here + 1
        elif position == "first":
            position = 0
        else:
            position = len(siblings)
        rbac.move_menu(item, parent, position)
        flash(_("%(title)s moved.", title=localized(item.title, item.title_en)), "success")
        return redirect(url_for(".index_view") + f"#menu-{item.id}")

    # ---- the form ------------------------------------------------------------------------
    def on_model_change(self, form, model, is_created):
        rbac.check_menu_parent(None if is_created else model.id, model.parent_id)
        if model.resource_id and model.resource.kind != "page":
            raise rbac.RbacError("resource", _("A menu node links to a page resource."))
        if model.resource_id and not is_created and MenuItem.select().where(
                MenuItem.parent == model.id).exists():
            raise rbac.RbacError("resource", _("Page: %(title)s holds other entries, so it "
                                               "stays a menu; move them first.",
                                               title=model.title))

    def on_model_delete(self, model):
        if MenuItem.select().where(MenuItem.parent == model.id).exists():
            raise DomainError(_("Move or delete the children of %(title)s first.",
                                title=model.title))

    @action("hide", _l("Hide"), None)
    def action_hide(self, ids):
        self._set_hidden(ids, True)

    @action("show", _l("Show"), None)
    def action_show(self, ids):
        self._set_hidden(ids, False)

    def _set_hidden(self, ids, hidden):
        rbac.set_menu_hidden(self.get_query().where(MenuItem.id.in_(ids)), hidden)
        flash(_("Menu updated."), "success")


def register(admin):
    admin.add_view(OrganizationView(Organization, name=_l("Organizations"), category=CATEGORY,
                                    endpoint="organizations"))
    admin.add_view(UserView(User, name=_l("Users"), category=CATEGORY, endpoint="users"))
    admin.add_view(RoleView(Role, name=_l("Roles"), category=CATEGORY, endpoint="roles"))
    admin.add_view(PermissionView(Permission, name=_l("Permissions"), category=CATEGORY,
                                  endpoint="permissions"))
    admin.add_view(ResourceView(Resource, name=_l("Resources"), category=CATEGORY,
                                endpoint="resources"))
    admin.add_view(MenuView(MenuItem, name=_l("Menus"), category=CATEGORY, endpoint="menus"))

