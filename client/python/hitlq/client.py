"""client.py - hitlq.Client: a synchronous hitlq client in the shape of
redis-py (proto/PROTOCOL.md is the specification it follows).

The client connects on first use, opens the session (HELLO with an API key,
or HELLO + AUTH with an Ed25519 key, over TLS when a CA is given) and
reconnects after the connection is lost.  Every method sends one request
and returns the reply body (a dict) or raises a hitlq.HitlqError subclass.

Retries after a lost connection (or a `shutting_down` reply) follow the
client's Retry policy, and only for the operations in RETRIED: reads,
SUBMIT (its idempotency key makes a second send return the first decision,
marked `duplicate: true`), EXTEND (it restarts the lease from now) and
KEY_REVOKE (revoking twice changes nothing).  CLAIM, CLAIM_ID, RELEASE,
RESOLVE, ESCALATE, COMMENT (a second send is a second note), REOPEN, AMEND
(a second send is a second result), KEY_ADD and RELOAD are not retried once
sent: a lost reply raises hitlq.OutcomeUnknown (the write may have
happened; §6).  A failure before
anything was sent (connecting, HELLO) is retried for every operation.
"""
import threading
import time

from . import keys, tls as tlsmod, wire
from .claim import Claim, lease_token
from .connection import open_connection
from .errors import (ClientError, ConnectionError, HitlqError, OutcomeUnknown, ProtocolError,
                     ShuttingDown)
from .retry import NO_RETRY, Retry

DEFAULT_PORT = 7420

RETRIED = frozenset({
    "PING", "SUBMIT", "GET", "GET_BY_KEY", "LIST", "STATS", "EXTEND", "WATCH", "AUDIT_CHECKPOINT",
    "AUDIT_ENTRIES", "AUDIT_PROVE", "AUDIT_CONSISTENCY", "DRIFT_INPUTS",
    "DRIFT_REVIEW", "KEY_LIST", "KEY_REVOKE"})
NOT_RETRIED = frozenset({"CLAIM", "CLAIM_ID", "RELEASE", "RESOLVE", "ESCALATE", "COMMENT",
                         "REOPEN", "AMEND", "KEY_ADD", "RELOAD"})


def _opt(body, **kw):
    """body with the keyword arguments that are not None added."""
    body.update({k: v for k, v in kw.items() if v is not None})
    return body


class Client:
    """A connection to one hitlqd.  Thread-safe (one request at a time);
    use one Client per thread for parallel requests."""

    def __init__(self, host="127.0.0.1", port=DEFAULT_PORT, *, name=None, api_key=None,
                 ed25519_key=None, role=None, tls_ca=None, tls_cert=None, tls_key=None,
                 tls=None, server_name=None, timeout=30.0, retry=None):
        """host, port: the server.  name: the actor name (ignored by a server
        with authentication, which uses the principal's).  api_key: an API
        key string; ed25519_key: a hitlq_ed25519_sk_ string or
        hitlq.keys.Ed25519Key, with role= the role it was registered with.
        TLS is on when tls_ca (the CA's PEM file) is given, or tls=True (the
        system CAs); tls_cert/tls_key for mutual TLS; server_name is the name
        the certificate must carry (default host).  timeout: seconds for
        connecting and for each reply.  retry: a hitlq.Retry (default 6
        attempts, 0.1 s doubling up to 2 s), or False for none."""
        if api_key is not None and ed25519_key is not None:
            raise ClientError(message="give api_key or ed25519_key, not both")
        if isinstance(ed25519_key, str):
            ed25519_key = keys.Ed25519Key(ed25519_key)
        self.host, self.port, self.timeout = host, port, timeout
        self.retry = NO_RETRY if retry is False else (retry or Retry())
        self._tls = bool(tls or tls_ca or tls_cert)
        self._tls_args = (tls_ca, tls_cert, tls_key)
        self._ctx = self._make_context() if self._tls else None
        self._opts = {"name": name, "api_key": keys.check_api_key(api_key) if api_key else None,
                      "ed25519_key": ed25519_key, "role": role, "server_name": server_name,
                      "context_factory": self._make_context}
        self._conn = None
        self._lock = threading.RLock()

    # ---- connection ---------------------------------------------------

    def _make_context(self):
        """A new client SSLContext from the TLS arguments."""
        ca, cert, key = self._tls_args
        return tlsmod.make_context(ca, cert, key)

    def new_connection(self):
        """A new session with this client's credentials (used by watch())."""
        return open_connection(self.host, self.port, self._opts, self.timeout, self._ctx)

    def _connection(self):
        """The open connection, connecting first when there is none."""
        if self._conn is None or self._conn.closed:
            self._conn = self.new_connection()
        return self._conn

    def _drop(self):
        """Forgets the current connection (closing it)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def connect(self):
        """Connects now (normally lazy); returns the HELLO/AUTH reply:
        {version, server, max_frame, max_inflight, time_ms, principal, role}."""
        with self._lock:
            return self._retrying("PING", lambda sent: self._connection().hello)

    @property
    def session(self):
        """The HELLO/AUTH reply of the current connection ({} if none)."""
        return self._conn.hello if self._conn is not None else {}

    def close(self):
        """Closes the connection (the next request reconnects)."""
        with self._lock:
            self._drop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- requests -----------------------------------------------------

    def _retrying(self, opname, fn):
        """Runs fn(sent) under the retry policy of opname (see the module
        comment); fn sets sent[0] once its request may have left."""
        attempt = 0
        while True:
            sent = [False]
            try:
                return fn(sent)
            except ShuttingDown:
                self._drop()
                if attempt + 1 >= self.retry.attempts:
                    raise
            except ConnectionError as exc:
                self._drop()
                if sent[0] and opname not in RETRIED:
                    raise OutcomeUnknown(message="%s sent, connection lost before its reply (%s)"
                                         % (opname, exc.message)) from exc
                if attempt + 1 >= self.retry.attempts:
                    raise
            self.retry.sleep(attempt)
            attempt += 1

    def execute(self, opname, body=None, timeout=None):
        """Sends request opname (an OPCODES name) with body and returns the
        reply body; None for status `empty`.  Retries as documented above."""
        op = wire.OPCODES[opname]
        timeout = self.timeout if timeout is None else timeout

        def once(sent):
            with self._lock:
                conn = self._connection()
                sent[0] = True
                fr = conn.call(op, body, timeout)
                return None if fr.status == 1 else fr.body
        return self._retrying(opname, once)

    # ---- session and items (§4.2-§4.5) -------------------------------

    def ping(self):
        """PING: the server's time_ms."""
        return self.execute("PING")["time_ms"]

    @staticmethod
    def submit_body(key, type, fields, priority=None, receipt=None):
        """The SUBMIT request body (§4.3)."""
        if not isinstance(fields, dict):
            raise ClientError(message="fields must be a dict")
        if receipt not in (None, "index", "checkpoint"):
            raise ClientError(message="receipt is 'index' or 'checkpoint'")
        return _opt({"key": key, "type": type, "fields": fields},
                    priority=priority, receipt=receipt)

    def submit(self, key, type, fields, *, priority=None, receipt=None):
        """SUBMIT one item: {id, outcome, action|queue, score, route, ...};
        `duplicate: true` when key was seen before (also after a retry)."""
        return self.execute("SUBMIT", self.submit_body(key, type, fields, priority, receipt))

    def submit_batch(self, items, *, window=32, receipt=None, raise_on_error=True):
        """SUBMITs pipelined, up to window (<= 64) in flight, replies matched
        by request id; returns the replies in the order of items (dicts with
        key, type, fields and optional priority).  With raise_on_error False
        a failed item's place holds its exception; else the first one is
        raised after all were answered, with .results set to that list."""
        from .batch import run_batch
        bodies = [self.submit_body(it["key"], it["type"], it["fields"], it.get("priority"),
                                   it.get("receipt", receipt)) for it in items]
        for b in bodies:     # refuse an oversized item before anything is sent
            wire.pack_frame(wire.OPCODES["SUBMIT"], 1, b)
        results = run_batch(self, bodies, max(1, min(window, wire.MAX_INFLIGHT)))
        errors = [r for r in results if isinstance(r, HitlqError)]
        if errors and raise_on_error:
            errors[0].results = results
            raise errors[0]
        return results

    def get(self, id, *, explain=None):
        """GET an item with its history (§4.4); explain='exact' for TreeSHAP."""
        return self.execute("GET", _opt({"id": id}, explain=explain))

    def get_by_key(self, key, *, explain=None):
        """GET_BY_KEY: the item submitted with idempotency key `key`, as
        get() returns it (§4.15)."""
        return self.execute("GET_BY_KEY", _opt({"key": key}, explain=explain))

    def stats(self):
        """STATS: per-queue and per-type figures (§4.5)."""
        return self.execute("STATS")

    def list(self, queue, *, after=None, limit=None):
        """LIST one page of a queue's open items (§4.16): {items: [{id,
        priority, deadline_ms, age_ms, state, attempts, type}], next?}, in
        id order after id `after`; `next` (the cursor of the next page) only
        when more follow."""
        return self.execute("LIST", _opt({"queue": queue}, after=after, limit=limit))

    def iter_list(self, queue, *, after=0, limit=100):
        """Every open item of queue, page after page (LIST with `after` =
        the previous page's `next`): an item that stays open while the
        iteration runs is yielded exactly once, whatever claims happen."""
        while True:
            page = self.list(queue, after=after, limit=limit)
            yield from page.get("items", [])
            nxt = page.get("next")
            if nxt is None:
                return
            if not isinstance(nxt, int) or nxt <= after:
                raise ProtocolError(message="LIST next %r does not advance from %r"
                                    % (nxt, after))
            after = nxt

    # ---- leases (§4.6-§4.10) -----------------------------------------

    def claim(self, queues, *, lease_ms=None, wait_ms=None, worker=None):
        """CLAIM the best ready item of queues (a name or a list): a
        hitlq.Claim (with `lease`, the token the lease operations need, and
        the workstation fields of §4.6) or None when nothing was ready
        within wait_ms.  Not retried once sent."""
        qs = [queues] if isinstance(queues, str) else list(queues)
        body = _opt({"queues": qs}, lease_ms=lease_ms, wait_ms=wait_ms, worker=worker)
        r = self.execute("CLAIM", body, self.timeout + (wait_ms or 0) / 1000.0)
        return None if r is None else Claim(r)

    def claim_id(self, id, *, lease_ms=None, worker=None):
        """CLAIM_ID: lease the item `id` (its type must have claim_by_id,
        §4.17); a hitlq.Claim as claim() returns.  Never waits; not retried
        once sent."""
        return Claim(self.execute("CLAIM_ID", _opt({"id": id}, lease_ms=lease_ms,
                                                   worker=worker)))

    def extend(self, id, lease, lease_ms=None):
        """EXTEND a lease (heartbeat); returns the new expires_ms.  Here and
        in release, resolve, escalate `lease` is the int token, its string
        (Claim.lease_str) or the Claim itself."""
        return self.execute("EXTEND", _opt({"id": id, "lease": lease_token(lease)},
                                           lease_ms=lease_ms))["expires_ms"]

    def release(self, id, lease, delay_ms=None, *, waiting_on=None):
        """RELEASE a leased item, at once or after delay_ms: {state, ready_ms}.
        waiting_on (a name, e.g. "customer"; needs delay_ms) pauses the
        item's SLA clock until it is ready again (PROTOCOL.md §4.8)."""
        return self.execute("RELEASE", _opt({"id": id, "lease": lease_token(lease)},
                                            delay_ms=delay_ms, waiting_on=waiting_on))

    def resolve(self, id, lease, outcome, *, note=None, root_cause=None):
        """RESOLVE a leased item with outcome; returns the result's seq."""
        body = _opt({"id": id, "lease": lease_token(lease), "outcome": outcome},
                    note=note, root_cause=root_cause)
        return self.execute("RESOLVE", body)["seq"]

    def escalate(self, id, lease, queue, *, note=None):
        """ESCALATE a leased item to queue; returns the queue."""
        body = _opt({"id": id, "lease": lease_token(lease), "queue": queue}, note=note)
        return self.execute("ESCALATE", body)["queue"]

    # ---- after the decision (§4.18-§4.20) -----------------------------

    def comment(self, id, note):
        """COMMENT: a note on an item in any state, deciding nothing;
        returns its at_ms.  Not retried once sent."""
        return self.execute("COMMENT", {"id": id, "note": note})["at_ms"]

    def reopen(self, id, note, *, queue=None):
        """REOPEN a resolved item onto queue (default the one it was
        resolved from): {queue, state: "queued"}.  Admin or a `senior`
        specialist.  Not retried once sent."""
        return self.execute("REOPEN", _opt({"id": id, "note": note}, queue=queue))

    def amend(self, id, outcome, note, *, root_cause=None):
        """AMEND a resolved item's outcome; returns the new result's seq
        (its RESULT carries `amends`).  Admin or a `senior` specialist.  Not
        retried once sent."""
        body = _opt({"id": id, "outcome": outcome, "note": note}, root_cause=root_cause)
        return self.execute("AMEND", body)["seq"]

    def watch(self, cursor=0):
        """A hitlq.Watch iterator over the result stream from cursor (0: the
        next new result), on its own connection; it reconnects and resumes
        after the last result it yielded."""
        from .watch import Watch
        return Watch(self, cursor)

    # ---- audit log, drift (§4.12) -------------------------------------

    def audit_checkpoint(self, fresh=False):
        """AUDIT_CHECKPOINT: {size, checkpoint} (fresh: covering every entry
        committed now)."""
        return self.execute("AUDIT_CHECKPOINT", {"fresh": True} if fresh else None)

    def audit_entries(self, start, count=None):
        """AUDIT_ENTRIES: {start, entries: [bytes], hashes: [bytes]}."""
        return self.execute("AUDIT_ENTRIES", _opt({"start": start}, count=count))

    def audit_prove(self, *, index=None, id=None, size=None):
        """AUDIT_PROVE of one entry (index) or of an item's entries (id)."""
        if (index is None) == (id is None):
            raise ClientError(message="give exactly one of index and id")
        return self.execute("AUDIT_PROVE", _opt({}, index=index, id=id, size=size))

    def audit_consistency(self, size1, size2=None):
        """AUDIT_CONSISTENCY: {size1, size2, proof: [bytes]}."""
        return self.execute("AUDIT_CONSISTENCY", _opt({"size1": size1}, size2=size2))

    def drift_inputs(self, type, *, from_ms=None, to_ms=None):
        """DRIFT_INPUTS of an item type (§4.12a)."""
        return self.execute("DRIFT_INPUTS", _opt({"type": type}, from_ms=from_ms, to_ms=to_ms))

    def drift_review(self, type, *, from_ms=None, to_ms=None):
        """DRIFT_REVIEW of an item type (§4.12b)."""
        return self.execute("DRIFT_REVIEW", _opt({"type": type}, from_ms=from_ms, to_ms=to_ms))

    # ---- administration (§4.13, §4.14) --------------------------------

    def reload(self):
        """RELOAD the policy: {policy, previous, types}.  Not retried."""
        return self.execute("RELOAD")

    def key_add(self, principal, role, *, skills=None, tls_peer=None, public_key=None):
        """KEY_ADD: an API key (its only showing), a tls_peer binding or an
        Ed25519 public key (a string or hitlq.keys.Ed25519Key).  Not retried."""
        if isinstance(public_key, keys.Ed25519Key):
            public_key = public_key.public_key
        body = _opt({"principal": principal, "role": role}, skills=skills,
                    tls_peer=tls_peer, public_key=public_key)
        return self.execute("KEY_ADD", body)

    def key_list(self, principal=None):
        """KEY_LIST: {keys: [...], truncated}."""
        return self.execute("KEY_LIST", _opt({}, principal=principal))

    def key_revoke(self, key_id):
        """KEY_REVOKE: {principal, key_id, revoked: true}."""
        return self.execute("KEY_REVOKE", {"key_id": key_id})


def wait_for_server(host, port, timeout=10.0, **kw):
    """Pings host:port until it answers or timeout passes (for scripts and
    tests); returns the connected Client."""
    end = time.monotonic() + timeout
    while True:
        c = Client(host, port, retry=False, timeout=min(5.0, timeout), **kw)
        try:
            c.ping()
            return c
        except ConnectionError:
            c.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)
