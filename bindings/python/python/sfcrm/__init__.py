"""sfcrm: connect a user's Salesforce org over OAuth 2.0, query and export its CRM data.

A few lines pull a whole org, or exactly the rows you need::

    import sfcrm

    client = sfcrm.Client(sfcrm.Config.from_env(), store=sfcrm.FileStore("tokens"))
    for contact in client.export("acc-1", "user-1", "contacts"):
        print(contact["Name"])
    for account in client.query("acc-1", "user-1",
                                "SELECT Id, Name FROM Account WHERE Industry = :industry",
                                {"industry": "Media"}):
        print(account["Name"])
    fields = client.describe("acc-1", "user-1", "Account")["fields"]

Everything Salesforce-specific (OAuth, refresh coordination, paging, SOQL safety) runs in the Rust
core; this package is a thin layer over the native module ``sfcrm._native``. Every blocking call
releases the GIL, one client is safe to share between threads, and Ctrl-C stops a long export
within a second. :class:`AsyncClient` offers the same API for asyncio code.
"""

from ._native import (
    ApiCalls,
    ApiUsage,
    CallbackResult,
    Client,
    Config,
    ConnectionInfo,
    Disconnected,
    ExportIterator,
    ExportSummary,
    FileStore,
    LoginRedirect,
    MemoryStore,
    Progress,
    __version__,
    bind_soql,
    paginator,
)
from .aio import AsyncClient, AsyncExport
from .exceptions import *  # noqa: F401,F403  (the hierarchy under SfcrmError)
from .exceptions import __all__ as _exceptions_all
from .store import TokenStore
from .types import BulkOptions

__all__ = [
    "ApiCalls",
    "ApiUsage",
    "AsyncClient",
    "AsyncExport",
    "BulkOptions",
    "CallbackResult",
    "Client",
    "Config",
    "ConnectionInfo",
    "Disconnected",
    "ExportIterator",
    "ExportSummary",
    "FileStore",
    "LoginRedirect",
    "MemoryStore",
    "Progress",
    "TokenStore",
    "__version__",
    "bind_soql",
    "paginator",
    *_exceptions_all,
]
