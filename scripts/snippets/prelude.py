"""The app around a README's Python snippet, and the user's browser (scripts/snippets/run.py).

`request.args` is what Flask would hand the callback route: the query of the redirect that the
emulator (which consents at once) answers to the authorize URL of the last `Client.login`.
`save(record)` stands for the app's own storage and counts what it gets.
"""
from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import sfcrm

_callback_query: dict[str, str] = {}
_saved: list[Any] = []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _browser(url: str) -> None:
    """Follows an authorize URL like a browser that consents; keeps the callback's query."""
    if not url.startswith(os.environ["SALESFORCE_LOGIN_URL"]):
        return  # already connected: the URL is the forward URL
    try:
        urllib.request.build_opener(_NoRedirect).open(url, timeout=30)
        raise SystemExit(f"the authorize URL did not redirect: {url}")
    except urllib.error.HTTPError as e:
        if e.code != 302:
            raise
        location = e.headers["Location"]
    _callback_query.clear()
    _callback_query.update(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query)))


class _Client:
    """sfcrm.Client, with `login` also playing the user's browser (the native class is final)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._client = _NativeClient(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def login(self, *args: Any, **kwargs: Any) -> Any:
        redirect = self._client.login(*args, **kwargs)
        _browser(redirect.url)
        return redirect


class _Request:
    """Flask's `request`, as the callback route sees it."""

    @property
    def args(self) -> dict[str, str]:
        if not _callback_query:
            raise SystemExit("request.args used before any login")
        return _callback_query


def save(record: Any) -> None:
    """The app's own storage."""
    _saved.append(record)


_NativeClient = sfcrm.Client


def install(connected: bool) -> dict[str, Any]:
    """Patches sfcrm.Client and returns the snippet's globals; connects acc-1/user-1 if asked."""
    sfcrm.Client = _Client  # type: ignore[misc]
    if connected:
        client = _Client(sfcrm.Config.from_env(), store=sfcrm.FileStore("tokens"))
        client.login("acc-1", "user-1", forward_url=os.environ["SFCRM_FORWARD_ORIGINS"].split(",")[0])
        result = client.callback(code=_callback_query["code"], state=_callback_query["state"])
        if not result.success:
            raise SystemExit(f"could not connect acc-1/user-1: {result.url}")
    return {"request": _Request(), "save": save}


def finish() -> None:
    print(f"snippet saved {len(_saved)} records")
