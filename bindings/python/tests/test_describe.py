"""describe / describe_global (issue 11 item 4): Salesforce's JSON as dicts, exactly what the org
serves, cached per client for describe_cache_ttl and counted as API calls; typed errors."""

import asyncio

import pytest

import sfcrm
from conftest import connect, fresh_key, make_config

ACC, OWNER = "acc-1", "user-1"


def test_describe_is_the_orgs_body_as_a_dict(connected, config):
    d = connected.describe(ACC, OWNER, "Contact")
    raw = connected.api_get(ACC, OWNER, f"/services/data/{config.api_version}/sobjects/Contact/describe")
    assert d == raw
    assert d["name"] == "Contact" and d["label"]
    fields = {f["name"]: f for f in d["fields"]}
    for f in fields.values():
        for key in ("name", "type", "label", "nillable", "length", "precision", "scale", "relationshipName", "referenceTo", "compoundFieldName"):
            assert key in f, (f["name"], key)
    assert fields["AccountId"]["type"] == "reference"
    assert fields["AccountId"]["referenceTo"] == ["Account"]
    assert fields["AccountId"]["relationshipName"] == "Account"
    assert fields["MailingAddress"]["type"] == "address"
    assert fields["MailingCity"]["compoundFieldName"] == "MailingAddress"
    assert any(r.get("relationshipName") == "Tasks" for r in d["childRelationships"])


def test_describe_global_lists_the_wide_object(connected):
    g = connected.describe_global(ACC, OWNER)
    by_name = {s["name"]: s for s in g["sobjects"]}
    assert {"Account", "Contact", "Opportunity", "Wide_Object__c"} <= set(by_name)
    assert by_name["Wide_Object__c"]["custom"] is True
    assert by_name["Contact"]["custom"] is False and by_name["Contact"]["queryable"] is True


def test_describe_is_cached_and_counted(connected, emulator):
    before = connected.api_calls().describe
    emulator.control("counters/reset")
    first = connected.describe(ACC, OWNER, "Account")
    assert connected.api_calls().describe == before + 1
    assert connected.describe(ACC, OWNER, "account") == first  # same sObject, any case: cached
    assert connected.api_calls().describe == before + 1
    assert emulator.control("counters", method="GET")["describe"] == 1
    connected.clear_describe_cache()
    connected.describe(ACC, OWNER, "Account")
    assert connected.api_calls().describe == before + 2


def test_a_zero_ttl_disables_the_cache(emulator):
    config = make_config(emulator, describe_cache_ttl=0)
    assert config.describe_cache_ttl == 0.0
    client = sfcrm.Client(config)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    for _ in range(3):
        client.describe_global(acc, owner)
    assert client.api_calls().describe == 3


def test_config_settings_are_checked(emulator):
    assert make_config(emulator).describe_cache_ttl == 900.0
    assert make_config(emulator, max_query_uri_bytes=4096).max_query_uri_bytes == 4096
    with pytest.raises(sfcrm.ConfigError, match="max_query_uri_bytes"):
        make_config(emulator, max_query_uri_bytes=100)
    with pytest.raises(sfcrm.ConfigError, match="describe_cache_ttl"):
        make_config(emulator, describe_cache_ttl=-1)
    env = {
        "SALESFORCE_CLIENT_ID": "id",
        "SALESFORCE_SECRET_ID": "secret",
        "SALESFORCE_REDIRECT_URL": "http://127.0.0.1:3000/cb",
        "SFCRM_STATE_SECRET": "s" * 32,
        "SFCRM_FORWARD_ORIGINS": "http://127.0.0.1:3000",
        "SFCRM_DESCRIBE_CACHE_TTL": "0",
    }
    assert sfcrm.Config.from_env(env).describe_cache_ttl == 0.0


def test_unknown_and_malformed_sobjects(connected):
    with pytest.raises(sfcrm.ApiError) as ei:
        connected.describe(ACC, OWNER, "Nope__c")
    assert ei.value.error_code == "NOT_FOUND" and ei.value.status == 404
    before = connected.api_calls().api_requests
    with pytest.raises(sfcrm.InvalidIdentifier):
        connected.describe(ACC, OWNER, "Contact/../../x")
    assert connected.api_calls().api_requests == before


def test_async_describe(config):
    async def main():
        client = sfcrm.AsyncClient(config)
        connect(client.sync, ACC, OWNER)
        d, g = await asyncio.gather(client.describe(ACC, OWNER, "Lead"), client.describe_global(ACC, OWNER))
        client.clear_describe_cache()
        return d, g

    d, g = asyncio.run(main())
    assert d["name"] == "Lead" and any(s["name"] == "Lead" for s in g["sobjects"])
