"""A package's public operations, named in its `__init__.py` and imported on first use: so
`console/models.py` can import any package's models without pulling in its operations (which
import `console.models` themselves), and a listing of `__all__` says what the package offers."""
import sys
from importlib import import_module


def lazy_exports(package, modules):
    """`modules` maps a submodule to the names it offers; returns the package's `__all__` and
    its module `__getattr__` (PEP 562)."""
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name):
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{module}"), name)
        setattr(sys.modules[package], name, value)  # found once, then a plain attribute
        return value

    return sorted(home), __getattr__
