"""Form widgets: a nested checkbox tree for choosing resources or permissions."""
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from wtforms import SelectMultipleField
from wtforms.validators import StopValidation
from wtforms.widgets import html_params


class CheckboxTreeWidget:
    """Renders `field.tree` — [(value, label, children)] — as nested checkbox lists. Ticking a
    node ticks nothing below it; a parent shows whether its children are all, some or none
    ticked (console.js). A node whose value is None is a heading that folds its children (no
    checkbox of its own). Leaves of one parent (a page's buttons) sit side by side."""

    def __call__(self, field, **kwargs):
        selected = {str(v) for v in (field.data or [])}
        return Markup(f'<div class="checkbox-tree" {html_params(id=field.id)}>'
                      f'{self._level(field, field.tree, selected)}</div>')

    def _level(self, field, nodes, selected):
        if not nodes:
            return ""
        items = []
        for value, label, children in nodes:
            if value is None:
                items.append(f'<li><details open><summary class="font-weight-bold">'
                             f'{escape(label)}</summary>'
                             f'{self._level(field, children, selected)}</details></li>')
                continue
            box_id = f"{field.id}-{value}"
            checked = " checked" if str(value) in selected else ""
            items.append(
                f'<li><div class="form-check"><input class="form-check-input" type="checkbox" '
                f'name="{escape(field.name)}" value="{escape(value)}" id="{box_id}"{checked}>'
                f'<label class="form-check-label" for="{box_id}">{escape(label)}</label></div>'
                f'{self._level(field, children, selected)}</li>')
        leaves = " tree-leaves" if not any(children for _v, _l, children in nodes) else ""
        return f'<ul class="list-unstyled pl-3{leaves}">{"".join(items)}</ul>'


class CheckboxTreeField(SelectMultipleField):
    """Multiple choice over a tree; values are integer ids. Unknown ids are refused by the
    operation that stores them, with a message naming them."""
    widget = CheckboxTreeWidget()

    def __init__(self, label=None, validators=None, tree_loader=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)
        self.tree_loader = tree_loader
        self.tree = []

    def load(self):
        self.tree = self.tree_loader() if self.tree_loader else []
        self.choices = list(_flatten(self.tree))

    def pre_validate(self, form):
        """Ids are checked by the operation, so a stale id gets a clear domain error."""

    def populate_obj(self, obj, name):
        """Never copied onto the model (User.roles is a backref): the view's after_save stores
        the ids through an RBAC operation."""


def _flatten(nodes):
    for value, label, children in nodes:
        if value is not None:
            yield value, label
        yield from _flatten(children)


class Required:
    """InputRequired with a message of our own, replacing the field's generic errors. The
    message is rendered to text here: Flask-Admin's form template skips lazy strings."""

    def __init__(self, message):
        self.message = message

    def __call__(self, form, field):
        if not field.raw_data or not field.raw_data[0]:
            field.errors[:] = []
            raise StopValidation(str(self.message))


def as_first_password(field):
    """The edit form's "new password" field on a create form: there is no password to keep, so
    it is the account's first one and required."""
    field.label.text = str(_l("Password"))
    field.description = str(_l("At least 8 characters. The user can change it after "
                               "signing in."))
    field.validators = [Required(_l("Password: at least 8 characters."))]
    field.flags.required = True
    return field
