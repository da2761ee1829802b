"""Words every stage uses: the "Expected one of ..." error text, plurals, and the word
for how far a claim holds (the report's claims table and ``recipes show``'s advice).

Imports nothing from the package, so every module may use it.

>>> expected({"b": 1, "a": 2}, "x", "c")
"Expected one of {'b', 'a'}. Received: x='c'"
>>> plural(1, "seed"), plural(3, "seed")
('1 seed', '3 seeds')
"""

from __future__ import annotations


def expected(allowed, name, value):
    """``Expected one of {...}. Received: name=value``, the Keras form of a bad-choice error.

    ``allowed``: any iterable (a dict gives its keys). Its order is kept, so the
    message is the same on every run; a set is sorted first.
    """
    if isinstance(allowed, (set, frozenset)):
        allowed = sorted(allowed, key=str)
    choices = ", ".join(repr(a) for a in allowed)
    return f"Expected one of {{{choices}}}. Received: {name}={value!r}"


def plural(count, noun):
    """``'1 seed'``, ``'2 seeds'``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


# how many of a claim's conditions show the outcome it expects -> the word for it
SUPPORT = (("all", "supported"), ("some", "partly supported"), ("none", "not supported"))


def support(held, total):
    """The word for a claim whose expected outcome shows under ``held`` of its ``total``
    conditions (``SUPPORT``).

    >>> support(3, 3), support(1, 3), support(0, 3)
    ('supported', 'partly supported', 'not supported')
    """
    return dict(SUPPORT)["all" if held == total else "some" if held else "none"]
