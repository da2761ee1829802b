"""Optional dependencies (pip extras): import one, or say which extra installs it."""

from __future__ import annotations

import importlib
import importlib.util


class MissingExtra(ImportError, ValueError):
    """An optional dependency is not installed; the message names the pip extra."""


def is_installed(module):
    """True when ``module``'s top-level package can be found (it is not imported)."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except ValueError:  # a module set to None in sys.modules
        return False


def installed(module, extra, purpose):
    """Raise ``MissingExtra`` naming ``pip install 'keras-loss-recipes[extra]'`` unless
    ``module`` is installed (found, not imported: a backend's library is imported only
    by the process that trains on it)."""
    top = module.split(".")[0]
    if not is_installed(top):
        raise MissingExtra(f"{purpose} needs the {top!r} package, which is not installed. "
                           f"Install it with: pip install 'keras-loss-recipes[{extra}]'")


def require(module, extra, purpose):
    """Import ``module`` or raise ``MissingExtra`` naming ``pip install 'keras-loss-recipes[extra]'``."""
    installed(module, extra, purpose)
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(f"{purpose} needs {module!r}, which failed to import ({err}). "
                           f"Reinstall it with: pip install 'keras-loss-recipes[{extra}]'") from err
