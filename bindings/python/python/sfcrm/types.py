"""Type aliases for annotating code that calls sfcrm (no runtime behaviour).

``Params`` is what ``Client.query(..., params=)`` and ``export(..., where=, params=)`` take: a
mapping from placeholder name (``:name`` in the SOQL, without the colon) to a bind value. How each
Python type becomes a SOQL literal is listed in the README ("Bind values").
"""

from __future__ import annotations

import datetime
import decimal
from typing import AbstractSet, Mapping, Sequence, Union

BindScalar = Union[None, bool, int, float, decimal.Decimal, str, datetime.date, datetime.datetime]
"""One bind value: ``None`` → ``null``; ``datetime.datetime`` must be timezone-aware."""

BindValue = Union[BindScalar, Sequence[BindScalar], AbstractSet[BindScalar]]
"""A bind value, or a non-empty list/tuple/set of them (for ``IN``/``NOT IN``/``INCLUDES``)."""

Params = Mapping[str, BindValue]
"""Bind values by placeholder name."""

ChildCursors = str
"""``"complete"`` (default) or ``"as_sent"``; see ``Client.query``."""

__all__ = ["BindScalar", "BindValue", "ChildCursors", "Params"]
