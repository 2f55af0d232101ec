"""The token store protocol: what any Python object must provide to be passed as ``store=``.

The SDK keeps one *connection document* per ``(account_id, owner)``: a JSON object such as::

    {"schema": 1, "account_id": "acc-1", "owner": "user-1",
     "token": {"access_token": "00D...", "refresh_token": "5Aep...", "issued_at": "1704844800000"},
     "token_invalidated": false, "instance_url": "https://na1.salesforce.com",
     "id": "https://login.salesforce.com/id/00D.../005...", "scope": "api id web refresh_token",
     "version": 3, "refresh_lease": null, "updated_at_ms": 1704844800123}

Writes are compare-and-swap on ``version`` so several processes can share one store and still
refresh a connection exactly once. Methods are called from the SDK's worker threads (tokio's
blocking pool), with the GIL held only for the call; they must be thread-safe. An exception raised by
a method reaches the caller as :class:`sfcrm.StoreError` with your exception as ``__cause__``.

Built-in stores: :class:`sfcrm.MemoryStore` (one process) and :class:`sfcrm.FileStore` (one JSON
file per connection, atomic replace, optional sealing of the token fields).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Protocol, Union, runtime_checkable


@runtime_checkable
class TokenStore(Protocol):
    """Structural type of a token store (see the module docstring)."""

    def load(self, account_id: str, owner: str) -> Optional[Union[Mapping[str, Any], str]]:
        """The stored document for the key (a dict or JSON text), or None.

        A document whose ``account_id`` / ``owner`` are not the key's is refused with
        :class:`sfcrm.StoreError` (every store is checked, as in the Node and C bindings).
        """
        ...

    def save(self, document: dict[str, Any], expected_version: Optional[int]) -> bool:
        """Writes ``document`` if the stored version is ``expected_version`` (None: only if absent).

        Returns True when written, False on a version conflict (nothing written).
        """
        ...

    def delete(self, account_id: str, owner: str) -> bool:
        """Removes the document; True if one existed."""
        ...


__all__ = ["TokenStore"]
