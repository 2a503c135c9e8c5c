"""test_py_tls.py - hitlq.Client over TLS (proto/PROTOCOL.md §2.1) with
throw-away certificates from scripts/make-certs.sh: server verification,
API key and Ed25519 logins (the signature binds the TLS exporter, computed
by hitlq.tls from the session's exporter secret), mutual TLS."""
import os
import re
import subprocess

import pytest

import hitlq
from hitlq import keys, tls
from conftest import QUEUED_FIELDS, TYPE, run_server


@pytest.fixture(scope="module")
def tls_server(certs):
    conf = ('auth = 1\ntls_cert = "%s/server.pem"\ntls_key = "%s/server.key"\n'
            'tls_client_ca = "%s/ca.pem"\n' % (certs, certs, certs))
    yield from run_server(conf)


def _client(srv, certs, mtls=True, **kw):
    if mtls:
        kw.update(tls_cert=os.path.join(certs, "client.pem"),
                  tls_key=os.path.join(certs, "client.key"))
    return srv.client(tls_ca=os.path.join(certs, "ca.pem"), server_name="localhost", **kw)


def test_api_key_over_tls(tls_server, certs):
    admin = _client(tls_server, certs, api_key=tls_server.admin_key())
    assert admin.connect()["role"] == "admin"
    assert admin._conn.sock.version() == "TLSv1.3"
    bot = _client(tls_server, certs, api_key=admin.key_add("tls-bot", "bot")["api_key"])
    assert bot.submit("tls-1", TYPE, QUEUED_FIELDS)["outcome"] == "queued"


def test_ed25519_over_tls_binds_exporter(tls_server, certs):
    admin = _client(tls_server, certs, api_key=tls_server.admin_key())
    k = keys.Ed25519Key.generate()
    admin.key_add("tls-ed", "bot", public_key=k)
    c = _client(tls_server, certs, ed25519_key=k, role="bot")
    assert c.connect()["principal"] == "tls-ed"
    c.submit("tls-ed-1", TYPE, QUEUED_FIELDS)
    # the same key signing the plaintext message (32 zero bytes for the
    # exporter) is refused on TLS: the exporter is really in the signature
    orig = tls.exporter
    tls.exporter = lambda *a, **kw: bytes(32)
    try:
        bad = _client(tls_server, certs, ed25519_key=k, role="bot", retry=False)
        pytest.raises(hitlq.Unauthorized, bad.ping)
    finally:
        tls.exporter = orig


@pytest.mark.parametrize("suite", ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"])
def test_exporter_matches_openssl(tls_server, certs, tmp_path, suite):
    # oracle: `openssl s_client -keymatexport` prints OpenSSL's own
    # SSL_export_keying_material for a session and logs the session's
    # EXPORTER_SECRET; hitlq.tls must derive the same bytes from it
    log = tmp_path / "keylog"
    out = subprocess.run(
        ["openssl", "s_client", "-connect", "127.0.0.1:%d" % tls_server.port, "-tls1_3",
         "-ciphersuites", suite,
         "-CAfile", os.path.join(certs, "ca.pem"), "-cert", os.path.join(certs, "client.pem"),
         "-key", os.path.join(certs, "client.key"), "-keylogfile", str(log),
         "-keymatexport", keys.EXPORTER_LABEL.decode(), "-keymatexportlen", "32"],
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30).stdout
    want = re.search(r"Keying material: ([0-9A-Fa-f]{64})", out).group(1).lower()
    assert re.search(r"Cipher is (\S+)", out).group(1) == suite
    secret = [ln.split()[2] for ln in log.read_text().splitlines()
              if ln.startswith("EXPORTER_SECRET ")]
    assert len(secret) == 1
    hname = "sha384" if suite.endswith("SHA384") else "sha256"
    got = tls.exporter_from_secret(hname, bytes.fromhex(secret[0]), keys.EXPORTER_LABEL)
    assert got.hex() == want


def test_verification_failures(tls_server, certs, tmp_path):
    # a CA that did not sign the server's certificate
    other = tmp_path / "other"
    os.system("sh '%s' '%s' >/dev/null 2>&1" % (
        os.path.join(os.path.dirname(__file__), "..", "..", "..", "scripts", "make-certs.sh"),
        other))
    c = tls_server.client(tls_ca=str(other / "ca.pem"), api_key=tls_server.admin_key(),
                          retry=False)
    with pytest.raises(hitlq.ConnectionError) as e:
        c.ping()
    assert "certificate" in e.value.message.lower()
    # the name the certificate does not carry
    c = _client(tls_server, certs, api_key=tls_server.admin_key(), retry=False)
    c._opts["server_name"] = "not-localhost.example"
    pytest.raises(hitlq.ConnectionError, c.ping)
    # plaintext to the TLS listener
    c = tls_server.client(api_key=tls_server.admin_key(), retry=False)
    pytest.raises(hitlq.ConnectionError, c.ping)


def test_mutual_tls_required(tls_server, certs):
    c = _client(tls_server, certs, mtls=False, api_key=tls_server.admin_key(), retry=False)
    with pytest.raises(hitlq.ConnectionError):
        c.ping()
