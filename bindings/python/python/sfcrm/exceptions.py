"""The exception hierarchy of sfcrm (defined natively in ``sfcrm._native``, re-exported here).

Every error the SDK raises is an :class:`SfcrmError`. Each core error kind has its own class, grouped
so callers can catch broadly (``except AuthError``) or narrowly (``except ReconnectRequired``)::

    SfcrmError
    ├── InvalidArgumentError ── MissingForwardUrl, ForwardUrlNotAllowed, UnknownExportType, InvalidIdentifier
    ├── ConfigError
    ├── AuthError ───────────── InvalidState, NotConnected, OAuthError, ReconnectRequired, SessionExpired
    ├── ApiError ────────────── RateLimited, ProtocolError
    ├── TransportError ──────── NetworkError, RequestTimeout
    ├── StoreError ──────────── StoreConflict
    ├── ExportWriteError
    ├── Cancelled
    └── InternalError

Attributes on every raised instance: ``kind`` (stable snake_case name, e.g. ``"reconnect_required"``),
``code`` (stable number), ``message``, ``status`` (HTTP status or None), ``error_code`` (Salesforce
``errorCode`` such as ``"REQUEST_LIMIT_EXCEEDED"``), ``oauth_error`` / ``oauth_error_description``
(token endpoint ``error`` / ``error_description``), ``fields`` (list of field names Salesforce
named), ``api_usage`` (:class:`sfcrm.ApiUsage` from ``Sforce-Limit-Info``, or None), ``retry_after``
(seconds or None) and ``raw_body`` (the response body, cut to 64 KiB; never a token response).
An exception raised by your own token store is chained as ``__cause__`` of the ``StoreError``.
"""

from ._native import (
    ERROR_KINDS,
    ApiError,
    AuthError,
    Cancelled,
    ConfigError,
    ExportWriteError,
    ForwardUrlNotAllowed,
    InternalError,
    InvalidArgumentError,
    InvalidIdentifier,
    InvalidState,
    MissingForwardUrl,
    NetworkError,
    NotConnected,
    OAuthError,
    ProtocolError,
    RateLimited,
    ReconnectRequired,
    RequestTimeout,
    SessionExpired,
    SfcrmError,
    StoreConflict,
    StoreError,
    TransportError,
    UnknownExportType,
)

__all__ = [
    "ERROR_KINDS",
    "ApiError",
    "AuthError",
    "Cancelled",
    "ConfigError",
    "ExportWriteError",
    "ForwardUrlNotAllowed",
    "InternalError",
    "InvalidArgumentError",
    "InvalidIdentifier",
    "InvalidState",
    "MissingForwardUrl",
    "NetworkError",
    "NotConnected",
    "OAuthError",
    "ProtocolError",
    "RateLimited",
    "ReconnectRequired",
    "RequestTimeout",
    "SessionExpired",
    "SfcrmError",
    "StoreConflict",
    "StoreError",
    "TransportError",
    "UnknownExportType",
]
