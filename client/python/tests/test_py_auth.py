"""test_py_auth.py - authentication and authorization through hitlq.Client
on a hitlqd with auth = 1 (proto/PROTOCOL.md §3): API keys, Ed25519
challenge-response, forbidden and unauthorized, revocation."""
import time

import pytest

import hitlq
from hitlq import keys
from conftest import QUEUED_FIELDS, REVIEW, TYPE


@pytest.fixture(scope="module")
def admin(auth_server):
    c = auth_server.client(api_key=auth_server.admin_key())
    assert c.connect()["role"] == "admin"
    yield c
    c.close()


def _key(admin, principal, role, **kw):
    r = admin.key_add(principal, role, **kw)
    assert r["principal"] == principal and r["role"] == role
    return r


def test_api_key_roles_and_forbidden(auth_server, admin):
    bot = auth_server.client(api_key=_key(admin, "bot-1", "bot")["api_key"], name="ignored")
    spec = auth_server.client(api_key=_key(admin, "ann", "specialist",
                                           skills=[REVIEW])["api_key"])
    assert bot.connect()["principal"] == "bot-1"
    d = bot.submit("auth-1", TYPE, QUEUED_FIELDS)
    exc = pytest.raises(hitlq.Forbidden, bot.claim, REVIEW).value
    assert "bot" in exc.message
    pytest.raises(hitlq.Forbidden, spec.submit, "auth-2", TYPE, QUEUED_FIELDS)
    pytest.raises(hitlq.Forbidden, spec.claim, "other_queue")      # not a skill
    cl = spec.claim(REVIEW)
    assert cl["id"] == d["id"]
    spec.resolve(cl["id"], cl["lease"], "approve")
    assert bot.get(d["id"])["history"][-1]["actor"] == "ann"
    pytest.raises(hitlq.Forbidden, admin.submit, "auth-3", TYPE, QUEUED_FIELDS)
    assert bot.ping() > 0      # forbidden is not fatal


def test_unauthorized(auth_server, admin):
    bogus = "hitlq_0123456789abcdef_" + "A" * 43
    c = auth_server.client(api_key=bogus, retry=False)
    exc = pytest.raises(hitlq.Unauthorized, c.ping).value
    assert exc.fatal and exc.code == 207
    anon = auth_server.client(retry=False)
    pytest.raises(hitlq.Unauthorized, anon.ping)


def test_ed25519_login(auth_server, admin):
    k = keys.Ed25519Key.generate()
    r = _key(admin, "robot-ed", "bot", public_key=k)
    assert r["kind"] == "ed25519" and r["key_id"] == k.key_id
    assert r["public_key"] == k.public_key
    c = auth_server.client(ed25519_key=k.secret_string(), role="bot")
    hello = c.connect()
    assert (hello["principal"], hello["role"]) == ("robot-ed", "bot")
    assert c.submit("ed-1", TYPE, QUEUED_FIELDS)["outcome"] == "queued"
    # a role other than the registered one is signed, and refused
    wrong = auth_server.client(ed25519_key=k, role="admin", retry=False)
    assert pytest.raises(hitlq.Unauthorized, wrong.ping).value.message == "authentication failed"
    # an unregistered key
    other = auth_server.client(ed25519_key=keys.Ed25519Key.generate(), role="bot", retry=False)
    pytest.raises(hitlq.Unauthorized, other.ping)
    with pytest.raises(hitlq.ClientError):
        auth_server.client(ed25519_key=k).ping()       # role= is required


def test_key_id_derivation_matches_server(admin):
    k = keys.Ed25519Key(bytes(range(32)))
    r = admin.key_add("fixed-ed", "auditor", public_key=k.public_key)
    assert r["key_id"] == k.key_id
    listed = [x for x in admin.key_list("fixed-ed")["keys"]]
    assert [x["key_id"] for x in listed] == [k.key_id] and listed[0]["kind"] == "ed25519"


def test_revoke_closes_and_refuses(auth_server, admin):
    r = _key(admin, "bot-rev", "bot")
    c = auth_server.client(api_key=r["api_key"], retry=False)
    c.ping()
    w = auth_server.client(api_key=r["api_key"], retry=False).watch(0)
    assert w.poll(0.2) is None
    assert admin.key_revoke(r["key_id"])["revoked"] is True
    assert admin.key_revoke(r["key_id"])["revoked"] is True        # again: no change
    with pytest.raises(hitlq.Unauthorized):     # the server's rid-0 frame, then close
        w.poll(5)
    time.sleep(0.1)
    with pytest.raises((hitlq.Unauthorized, hitlq.ConnectionError)):
        c.ping()                                # the open connection was closed
    with pytest.raises(hitlq.Unauthorized):
        c.ping()                                # and a new one is refused
    pytest.raises(hitlq.NotFound, admin.key_revoke, "00000000000000ff")
    pytest.raises(hitlq.Conflict, admin.key_add, "bot-1", "admin")
