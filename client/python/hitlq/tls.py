"""tls.py - TLS for the hitlq client: the ssl context and the keying-material
exporter that Ed25519 authentication signs (proto/PROTOCOL.md §2.1, §3.2).

Python's ssl module has no SSL_export_keying_material.  For TLS 1.3 the
exporter is a function of the session's exporter_master_secret (RFC 8446
§7.5), which ssl hands out through its key-log hook: the context logs to a
pipe (never a file), this module reads the connection's EXPORTER_SECRET
line and derives

    TLS-Exporter(label, "", 32) = HKDF-Expand-Label(
        Derive-Secret(exporter_master_secret, label, ""), "exporter", Hash(""), 32)

with the hash of the negotiated cipher suite.  Only TLS 1.3 (hitlqd's
default minimum); on TLS 1.2 the exporter is refused with ClientError.
"""
import hashlib
import hmac
import os
import ssl
import struct

from .errors import ClientError, ProtocolError


def make_context(ca=None, cert=None, key=None, min_version="1.3"):
    """A client SSLContext verifying the server against ca (a PEM file; the
    system store when None) and presenting cert/key for mutual TLS."""
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    ctx.minimum_version = (ssl.TLSVersion.TLSv1_3 if min_version == "1.3"
                           else ssl.TLSVersion.TLSv1_2)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


class KeyLogPipe:
    """A pipe the context's key log writes into; read it after the
    handshake of the one connection the context served."""

    def __init__(self, ctx):
        self.rfd, self.wfd = os.pipe()
        os.set_blocking(self.rfd, False)
        ctx.keylog_filename = "/proc/self/fd/%d" % self.wfd
        self.ctx = ctx

    def read(self):
        """Every line logged so far."""
        chunks = []
        while True:
            try:
                data = os.read(self.rfd, 65536)
            except BlockingIOError:
                break
            if not data:
                break
            chunks.append(data)
        return b"".join(chunks).decode("ascii", "replace").splitlines()

    def close(self):
        """Stops logging and closes both ends."""
        try:
            self.ctx.keylog_filename = None
        except (OSError, ValueError, TypeError):
            pass
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


def _hkdf_expand_label(hname, secret, label, context, length):
    """RFC 8446 §7.1 HKDF-Expand-Label."""
    full = b"tls13 " + label
    info = struct.pack(">H", length) + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(secret, block + info + bytes([i]), hname).digest()
        out += block
        i += 1
    return out[:length]


def exporter_from_secret(hname, exporter_master_secret, label, length=32):
    """RFC 8446 §7.5 TLS-Exporter(label, no context, length)."""
    hlen = hashlib.new(hname).digest_size
    empty = hashlib.new(hname, b"").digest()
    derived = _hkdf_expand_label(hname, exporter_master_secret, label, empty, hlen)
    return _hkdf_expand_label(hname, derived, b"exporter", empty, length)


def cipher_hash(sslsock):
    """The hash name of the negotiated TLS 1.3 suite (sha256 or sha384)."""
    name = (sslsock.cipher() or ("",))[0]
    return "sha384" if name.endswith("SHA384") else "sha256"


def exporter(sslsock, keylog, label, length=32):
    """The TLS exporter of a completed TLS 1.3 handshake of sslsock, using
    the EXPORTER_SECRET its context logged into keylog (a KeyLogPipe)."""
    if sslsock.version() != "TLSv1.3":
        raise ClientError(message="Ed25519 authentication over TLS needs TLS 1.3 (got %s)"
                          % sslsock.version())
    secrets = [ln.split() for ln in keylog.read() if ln.startswith("EXPORTER_SECRET ")]
    if len(secrets) != 1 or len(secrets[0]) != 3:
        raise ProtocolError(message="no exporter secret for this TLS session")
    ems = bytes.fromhex(secrets[0][2])
    return exporter_from_secret(cipher_hash(sslsock), ems, label, length)
