"""sfcrm.Config: keyword construction, environment loading, typed errors, no secrets in repr."""

import pytest

import sfcrm

BASE = dict(
    client_id="cid",
    client_secret="very-secret-value",
    redirect_uri="https://app.example.com/callback",
    state_secret="s" * 40,
    forward_origins=["https://app.example.com"],
)

ENV = {
    "SALESFORCE_CLIENT_ID": "cid",
    "SALESFORCE_SECRET_ID": "very-secret-value",
    "SALESFORCE_REDIRECT_URL": "https://app.example.com/callback",
    "SFCRM_STATE_SECRET": "s" * 40,
    "SFCRM_FORWARD_ORIGINS": "https://app.example.com",
}


def test_defaults_and_getters():
    c = sfcrm.Config(**BASE)
    assert c.client_id == "cid"
    assert c.login_url == "https://login.salesforce.com"
    assert c.api_version == "v48.0"
    assert c.scopes == "api id web refresh_token"
    assert c.batch_size is None
    assert c.request_timeout == 120.0


def test_options():
    c = sfcrm.Config(**BASE, login_url="https://test.salesforce.com", api_version="59.0", batch_size=500, request_timeout=2.5)
    assert c.login_url == "https://test.salesforce.com"
    assert c.api_version == "v59.0"
    assert c.batch_size == 500
    assert c.request_timeout == 2.5


def test_repr_hides_secrets():
    c = sfcrm.Config(**BASE)
    r = repr(c)
    assert "very-secret-value" not in r and "s" * 40 not in r
    assert "***" in r


@pytest.mark.parametrize(
    "override,names",
    [
        ({"client_id": ""}, "client_id"),
        ({"state_secret": "short"}, "state_secret"),
        ({"redirect_uri": "not a url"}, "redirect_uri"),
        ({"login_url": "http://login.example.com"}, "login_url"),
    ],
)
def test_bad_settings_raise_config_error_naming_the_setting(override, names):
    with pytest.raises(sfcrm.ConfigError) as ei:
        sfcrm.Config(**{**BASE, **override})
    assert names in str(ei.value)
    assert ei.value.kind == "config"


def test_negative_duration_is_a_config_error():
    with pytest.raises(sfcrm.ConfigError, match="request_timeout"):
        sfcrm.Config(**BASE, request_timeout=-1)


@pytest.mark.parametrize("setting", ["request_timeout", "refresh_wait", "state_ttl", "max_backoff"])
def test_huge_duration_is_a_config_error_not_a_panic(setting):
    # 1e20 s is beyond Rust's Duration; 1e7 s is beyond the core's 30-day maximum.
    for value in (1e20, 1e7):
        with pytest.raises(sfcrm.ConfigError, match=setting):
            sfcrm.Config(**BASE, **{setting: value})


def test_from_env_mapping():
    c = sfcrm.Config.from_env(ENV)
    assert c.client_id == "cid"
    assert c.redirect_uri == "https://app.example.com/callback"


def test_from_env_names_the_missing_variable():
    env = dict(ENV)
    del env["SFCRM_STATE_SECRET"]
    with pytest.raises(sfcrm.ConfigError, match="SFCRM_STATE_SECRET"):
        sfcrm.Config.from_env(env)


def test_from_env_reads_os_environ(monkeypatch):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("SALESFORCE_API_VERSION", "v60.0")
    assert sfcrm.Config.from_env().api_version == "v60.0"
