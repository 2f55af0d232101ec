"""Type aliases for annotating code that calls sfcrm (no runtime behaviour).

``Params`` is what ``Client.query(..., params=)`` and ``export(..., where=, params=)`` take: a
mapping from placeholder name (``:name`` in the SOQL, without the colon) to a bind value. How each
Python type becomes a SOQL literal is listed in the README ("Bind values").
"""

from __future__ import annotations

import datetime
import decimal
from typing import AbstractSet, Literal, Mapping, Optional, Sequence, TypedDict, Union

BindScalar = Union[None, bool, int, float, decimal.Decimal, str, datetime.date, datetime.datetime]
"""One bind value: ``None`` → ``null``; ``datetime.datetime`` must be timezone-aware."""

BindValue = Union[BindScalar, Sequence[BindScalar], AbstractSet[BindScalar]]
"""A bind value, or a non-empty list/tuple/set of them (for ``IN``/``NOT IN``/``INCLUDES``)."""

Params = Mapping[str, BindValue]
"""Bind values by placeholder name."""

ChildCursors = str
"""``"complete"`` (default) or ``"as_sent"``; see ``Client.query``."""

Mode = Literal["rest", "bulk"]
"""``mode=`` of ``export``/``query``: the REST query API (default) or a Bulk API 2.0 job."""


class BulkOptions(TypedDict, total=False):
    """``bulk=`` of ``export``/``query`` with ``mode="bulk"`` (every key optional).

    - ``max_records``: rows per result page (``maxRecords``; default 50,000).
    - ``concurrency``: result pages downloaded at once (default 4; up to this many held in memory).
    - ``delete_job``: delete the job after its last page (default True; Salesforce keeps it 7 days).
    - ``fallback_to_rest``: read with REST when Bulk refuses the query or the job fails (default
      True; the iterator's ``fallback_reason`` says why); False raises instead.
    - ``poll_timeout``: seconds to wait for the job (default None: as long as it runs).
    """

    max_records: int
    concurrency: int
    delete_job: bool
    fallback_to_rest: bool
    poll_timeout: Optional[float]


__all__ = ["BindScalar", "BindValue", "BulkOptions", "ChildCursors", "Mode", "Params"]
