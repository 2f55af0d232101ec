"""Token stores: a Python object as the store (threads, GIL, CAS), a store that fails, the built-in
MemoryStore and FileStore (plain and sealed)."""

import base64
import json
import os
import threading

import pytest

import sfcrm
from conftest import FORWARD_URL, connect, follow_authorize, fresh_key


class DictStore:
    """A reference Python store: a dict under a lock, with compare-and-swap on version."""

    def __init__(self):
        self.docs = {}
        self.lock = threading.Lock()
        self.calls = []  # (method, thread name)

    def _note(self, method):
        self.calls.append((method, threading.current_thread().name, threading.get_ident()))

    def load(self, account_id, owner):
        self._note("load")
        with self.lock:
            return self.docs.get((account_id, owner))

    def save(self, document, expected_version):
        self._note("save")
        key = (document["account_id"], document["owner"])
        with self.lock:
            current = self.docs.get(key)
            if (current["version"] if current else None) != expected_version:
                return False
            self.docs[key] = document
            return True

    def delete(self, account_id, owner):
        self._note("delete")
        with self.lock:
            return self.docs.pop((account_id, owner), None) is not None


def test_python_store_is_called_from_worker_threads(config):
    store = DictStore()
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    doc = store.docs[(acc, owner)]
    assert doc["version"] == 1 and doc["token"]["access_token"]
    page = client.export_page(acc, owner, "contacts", 1, 3)
    assert len(page["data"]) == 3
    main = threading.get_ident()
    assert store.calls and all(ident != main for _m, _n, ident in store.calls)
    assert {m for m, _n, _i in store.calls} >= {"load", "save"}
    client.disconnect(acc, owner)
    assert (acc, owner) not in store.docs


def test_python_store_returning_json_text_and_string_outcomes(config):
    class TextStore(DictStore):
        def load(self, account_id, owner):
            d = super().load(account_id, owner)
            return None if d is None else json.dumps(d)

        def save(self, document, expected_version):
            return "saved" if super().save(document, expected_version) else "conflict"

    store = TextStore()
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    assert client.refresh(acc, owner).version > 1


class Boom(RuntimeError):
    pass


class FailingStore(DictStore):
    def __init__(self, fail_on):
        super().__init__()
        self.fail_on = fail_on

    def load(self, account_id, owner):
        if "load" in self.fail_on:
            raise Boom("database is down")
        return super().load(account_id, owner)

    def save(self, document, expected_version):
        if "save" in self.fail_on:
            raise Boom("disk full")
        return super().save(document, expected_version)


def test_failing_store_raises_store_error_chained_to_the_original(config):
    store = FailingStore({"load"})
    client = sfcrm.Client(config, store=store)
    with pytest.raises(sfcrm.StoreError) as ei:
        client.login("a", "b", FORWARD_URL)
    e = ei.value
    assert e.kind == "store"
    assert isinstance(e.__cause__, Boom)
    assert str(e.__cause__) == "database is down"
    assert "database is down" in str(e)


def test_failing_save_during_callback(config):
    store = FailingStore({"save"})
    client = sfcrm.Client(config, store=store)
    r = client.login("a", "b", FORWARD_URL)
    params = follow_authorize(r.url)
    with pytest.raises(sfcrm.StoreError) as ei:
        client.callback(code=params["code"], state=params["state"])
    assert isinstance(ei.value.__cause__, Boom)
    assert store.docs == {}


def test_failing_store_during_export(config):
    store = FailingStore(set())
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    store.fail_on = {"load"}
    it = client.export(acc, owner, "contacts")
    with pytest.raises(sfcrm.StoreError) as ei:
        next(it)
    assert isinstance(ei.value.__cause__, Boom)


def test_store_returning_garbage_is_a_store_error(config):
    class Garbage(DictStore):
        def load(self, account_id, owner):
            return 42

    with pytest.raises(sfcrm.StoreError, match="expected a dict"):
        sfcrm.Client(config, store=Garbage()).login("a", "b", FORWARD_URL)

    class BadDoc(DictStore):
        def load(self, account_id, owner):
            return {"hello": "world"}

    with pytest.raises(sfcrm.StoreError, match="not a valid connection document"):
        sfcrm.Client(config, store=BadDoc()).login("a", "b", FORWARD_URL)


def test_object_without_the_protocol_is_a_type_error(config):
    with pytest.raises(TypeError, match="save"):
        sfcrm.Client(config, store=object())


def test_conflicting_store_yields_store_conflict_after_bounded_retries(emulator):
    from conftest import make_config

    config = make_config(emulator, refresh_wait=1.0)
    store = DictStore()
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    connect(client, acc, owner)

    class AlwaysConflict(DictStore):
        def save(self, document, expected_version):
            return False

    conflicting = AlwaysConflict()
    conflicting.docs = dict(store.docs)
    other = sfcrm.Client(config, store=conflicting)
    import time

    t0 = time.monotonic()
    with pytest.raises(sfcrm.StoreConflict) as ei:
        other.refresh(acc, owner)
    assert ei.value.kind == "store_conflict"
    assert time.monotonic() - t0 < 10  # bounded by refresh_wait, not a loop


def test_memory_store_api():
    s = sfcrm.MemoryStore()
    doc = {
        "schema": 1, "account_id": "a", "owner": "o",
        "token": {"access_token": "00DFAKE!TOKEN1", "refresh_token": None, "issued_at": "1"},
        "instance_url": "https://x.my.salesforce.com", "version": 1,
    }
    assert s.load("a", "o") is None
    assert s.save(doc, None) is True
    assert s.save(doc, None) is False
    assert s.load("a", "o")["token"]["access_token"] == "00DFAKE!TOKEN1"
    assert s.save({**doc, "version": 2}, 1) is True
    assert s.load("a", "o")["version"] == 2
    assert s.delete("a", "o") is True and s.delete("a", "o") is False
    with pytest.raises(sfcrm.StoreError):
        s.save({"nope": 1}, None)


def test_file_store_shared_between_clients(config, tmp_path):
    store_dir = tmp_path / "tokens"
    a = sfcrm.Client(config, store=sfcrm.FileStore(store_dir))
    acc, owner = fresh_key()
    connect(a, acc, owner)
    files = list(store_dir.iterdir())
    assert files and oct(os.stat(store_dir).st_mode & 0o777) == "0o700"
    b = sfcrm.Client(config, store=sfcrm.FileStore(str(store_dir)))
    assert b.login(acc, owner, FORWARD_URL).already_connected
    assert len(b.export_page(acc, owner, "notes", 1, 2)["data"]) == 2
    fs = sfcrm.FileStore(store_dir)
    assert fs.path == store_dir and not fs.sealed
    assert fs.load(acc, owner)["account_id"] == acc


def test_sealed_file_store_keeps_tokens_off_disk(config, tmp_path):
    key = base64.b64encode(b"k" * 32).decode()
    fs = sfcrm.FileStore(tmp_path, sealing_keys=f"k1:{key}")
    assert fs.sealed
    client = sfcrm.Client(config, store=fs)
    acc, owner = fresh_key()
    connect(client, acc, owner)
    token = fs.load(acc, owner)["token"]["access_token"]
    assert token and not token.startswith("sfcrm-sealed:")
    raw = "".join(p.read_text() for p in tmp_path.iterdir() if p.is_file() and p.suffix == ".json")
    assert token not in raw and "sfcrm-sealed:v1:" in raw
    # Rotation: a new primary key still opens documents sealed with the old one.
    rotated = sfcrm.FileStore(tmp_path, sealing_keys=[("k2", b"n" * 32), ("k1", b"k" * 32)])
    assert rotated.load(acc, owner)["token"]["access_token"] == token
    # Without the key the document cannot be opened.
    with pytest.raises(sfcrm.StoreError):
        sfcrm.FileStore(tmp_path, sealing_keys=[("k3", b"z" * 32)]).load(acc, owner)


def test_bad_sealing_keys_are_config_errors(tmp_path):
    with pytest.raises(sfcrm.ConfigError):
        sfcrm.FileStore(tmp_path, sealing_keys=[("k1", b"short")])
    with pytest.raises(sfcrm.ConfigError):
        sfcrm.FileStore(tmp_path, sealing_keys="nonsense")
    with pytest.raises(sfcrm.ConfigError):
        sfcrm.FileStore(tmp_path, sealing_keys=[])


def test_store_returning_another_keys_document_is_a_store_error(config):
    """A Python store's load() that hands back another connection's document is refused by the
    client (the core's check, as for Node and C stores): never user A's tokens for user B."""
    store = DictStore()
    client = sfcrm.Client(config, store=store)
    acc, owner = fresh_key()
    connect(client, acc, owner)

    class WrongKey(DictStore):
        def load(self, account_id, owner):
            return next(iter(store.docs.values()))

    wrong = sfcrm.Client(config, store=WrongKey())
    for call in (
        lambda: wrong.connection_info("someone", "else"),
        lambda: wrong.export_page("someone", "else", "contacts", 1, 5),
        lambda: wrong.login("someone", "else", FORWARD_URL),
        lambda: next(iter(wrong.export("someone", "else", "contacts"))),
    ):
        with pytest.raises(sfcrm.StoreError) as ei:
            call()
        e = ei.value
        assert e.kind == "store" and type(e) is sfcrm.StoreError
        assert f"returned the document of another connection ({acc}/{owner})" in str(e)
    # The store's own key still works through the same client.
    assert wrong.connection_info(acc, owner).account_id == acc


def test_connection_keys_follow_the_core_rule(config):
    client = sfcrm.Client(config)
    for acc, owner in [("", "o"), ("a", ""), ("  ", "o"), ("a", "\t\n")]:
        with pytest.raises(sfcrm.InvalidArgumentError):
            client.connection_info(acc, owner)
        with pytest.raises(sfcrm.InvalidArgumentError):
            sfcrm.MemoryStore().load(acc, owner)
        with pytest.raises(sfcrm.InvalidArgumentError):
            client.export(acc, owner, "contacts")
    # Kept as given (not trimmed): " a" names another document than "a".
    assert client.connection_info(" a", "o ") is None
