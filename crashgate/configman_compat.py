"""Compatibility shim letting configman 1.3.0 import and run on Python 3.10+.

configman still uses the ``collections`` ABC aliases removed in Python 3.10 and
``inspect.getargspec`` removed in 3.11. Importing this module first restores them as aliases
of their modern equivalents. It is the only place that knows about this; import configman
through :mod:`crashgate.settings`, which imports this module before configman.
"""
import collections
import collections.abc
import inspect

ABC_ALIASES = ("Callable", "Container", "Hashable", "Iterable", "Mapping", "MutableMapping",
               "MutableSequence", "MutableSet", "Sequence", "Set", "Sized")

for _name in ABC_ALIASES:
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

if not hasattr(inspect, "getargspec"):
    def _getargspec(func):
        """configman reads only ``.args`` of the result."""
        return inspect.getfullargspec(func)

    inspect.getargspec = _getargspec
