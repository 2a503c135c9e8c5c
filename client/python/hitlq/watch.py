"""watch.py - hitlq.Watch: the WATCH result stream (proto/PROTOCOL.md §4.11)
as an iterator that survives reconnects.

The stream runs on its own connection.  The WATCH reply names the first
sequence number that will be pushed, so the watch always knows the exact
cursor to resume from: after a lost connection or a server restart it
reconnects (under the client's Retry policy; a policy that runs out raises)
and sends WATCH with the last yielded seq + 1.  Results are durable and
pushed in order, so nothing is lost, and a result below the cursor (never
expected) is dropped, so nothing is yielded twice.
"""
import time

from . import wire
from .errors import ConnectionError, ShuttingDown


class Watch:
    """Iterate to get RESULT bodies {seq, id, key, type, outcome, auto,
    actor, score, at_ms, note?, root_cause?, amends?, reopens?}: an AMEND's
    result has `amends` (the seq it replaces), a REOPEN's outcome
    "reopened" and `reopens` (the seq it withdraws) - a bot acting on
    results must look for both (§4.11).  poll(timeout) returns one or
    None.  close() ends it."""

    def __init__(self, client, cursor=0):
        self.client = client
        self.cursor = cursor
        self.conn = None
        self.reconnects = 0
        self.closed = False

    def _open(self):
        """A new connection with WATCH {cursor} sent and answered."""
        conn = self.client.new_connection()
        try:
            deadline = time.monotonic() + self.client.timeout
            rid = conn.send(wire.OPCODES["WATCH"], {"cursor": self.cursor})
            body = conn.check(conn.wait_reply(rid, deadline))
        except BaseException:
            conn.close()
            raise
        self.cursor = body.get("cursor", self.cursor)
        self.conn = conn

    def _ensure(self):
        """Connects (again) under the retry policy."""
        attempt = 0
        while self.conn is None or self.conn.closed:
            try:
                self._open()
            except (ConnectionError, ShuttingDown):
                if attempt + 1 >= self.client.retry.attempts:
                    raise
                self.client.retry.sleep(attempt)
                attempt += 1

    def poll(self, timeout=None):
        """The next result (a dict), or None when none came within timeout
        seconds (None: wait for ever)."""
        if self.closed:
            raise ValueError("watch is closed")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._ensure()
            try:
                fr = self.conn.wait_push(deadline, close_on_timeout=False)
            except ConnectionError:
                self.conn = None
                self.reconnects += 1
                continue
            if fr is None:
                return None
            seq = fr.body.get("seq")
            if not isinstance(seq, int) or seq < self.cursor:
                continue
            self.cursor = seq + 1
            return fr.body

    def __iter__(self):
        return self

    def __next__(self):
        return self.poll(None)

    def close(self):
        """Closes the stream's connection."""
        self.closed = True
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
