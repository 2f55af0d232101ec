"""The exception hierarchy mirrors the core's error kinds, with every detail as attributes."""

import pytest

import sfcrm
import sfcrm.exceptions as exc
from sfcrm import _native

EXPECTED = {
    "invalid_argument": ("InvalidArgumentError", 100),
    "config": ("ConfigError", 101),
    "missing_forward_url": ("MissingForwardUrl", 102),
    "forward_url_not_allowed": ("ForwardUrlNotAllowed", 103),
    "unknown_export_type": ("UnknownExportType", 104),
    "invalid_identifier": ("InvalidIdentifier", 105),
    "invalid_state": ("InvalidState", 200),
    "not_connected": ("NotConnected", 201),
    "oauth": ("OAuthError", 202),
    "reconnect_required": ("ReconnectRequired", 203),
    "session_expired": ("SessionExpired", 204),
    "rate_limited": ("RateLimited", 300),
    "api": ("ApiError", 301),
    "protocol": ("ProtocolError", 302),
    "network": ("NetworkError", 400),
    "timeout": ("RequestTimeout", 401),
    "store": ("StoreError", 500),
    "store_conflict": ("StoreConflict", 501),
    "io": ("ExportWriteError", 502),
    "cancelled": ("Cancelled", 503),
    "internal": ("InternalError", 900),
}


def test_every_core_kind_has_its_own_class():
    assert set(_native.ERROR_KINDS) == set(EXPECTED)
    classes = set()
    for kind, (code, cls) in _native.ERROR_KINDS.items():
        name, want_code = EXPECTED[kind]
        assert cls.__name__ == name
        assert code == want_code
        assert cls is not sfcrm.SfcrmError, f"{kind} falls back to the base class"
        classes.add(cls)
    assert len(classes) == len(EXPECTED)


def test_classes_are_the_cores_class_names():
    """The core names every kind's class (`ErrorKind::class_name`); Node exports the same names."""
    core = _native._core_error_kinds()
    assert [k for k, _c, _n in core] == list(_native.ERROR_KINDS)
    for kind, code, class_name in core:
        cls = getattr(sfcrm, class_name)
        assert _native.ERROR_KINDS[kind] == (code, cls)
        assert cls.__name__ == class_name
        assert EXPECTED[kind] == (class_name, code)
        assert class_name in exc.__all__


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_raised_instance_carries_kind_code_and_details(kind):
    with pytest.raises(sfcrm.SfcrmError) as ei:
        _native._raise_core_error(kind, "something happened", 403, "REQUEST_LIMIT_EXCEEDED")
    e = ei.value
    assert type(e).__name__ == EXPECTED[kind][0]
    assert e.kind == kind
    assert e.code == EXPECTED[kind][1]
    assert e.message == "something happened"
    assert e.status == 403
    assert e.error_code == "REQUEST_LIMIT_EXCEEDED"
    assert e.fields == []
    assert e.oauth_error is None and e.raw_body is None and e.api_usage is None
    assert "something happened" in str(e) and "HTTP 403" in str(e)


def test_grouping():
    assert issubclass(sfcrm.RateLimited, sfcrm.ApiError)
    assert issubclass(sfcrm.ReconnectRequired, sfcrm.AuthError)
    assert issubclass(sfcrm.OAuthError, sfcrm.AuthError)
    assert issubclass(sfcrm.InvalidState, sfcrm.AuthError)
    assert issubclass(sfcrm.StoreConflict, sfcrm.StoreError)
    assert issubclass(sfcrm.UnknownExportType, sfcrm.InvalidArgumentError)
    assert issubclass(sfcrm.NetworkError, sfcrm.TransportError)
    for _kind, (_code, cls) in _native.ERROR_KINDS.items():
        assert issubclass(cls, sfcrm.SfcrmError)
        assert issubclass(cls, Exception)
    assert sfcrm.SfcrmError.__module__ == "sfcrm"


def test_exceptions_module_re_exports_the_same_classes():
    for name in exc.__all__:
        assert getattr(exc, name) is getattr(_native, name)
        assert getattr(sfcrm, name) is getattr(_native, name)
    native_classes = {n for n in dir(_native) if isinstance(getattr(_native, n), type) and issubclass(getattr(_native, n), BaseException)}
    assert native_classes <= set(exc.__all__)


def test_unknown_kind_is_a_value_error():
    with pytest.raises(ValueError):
        _native._raise_core_error("no_such_kind", "x", None, None)
