"""batch.py - pipelined SUBMIT for hitlq.Client.submit_batch.

Up to `window` requests in flight on one connection, replies matched by
request id (proto/PROTOCOL.md §1: they may come out of order).  After a lost
connection or a `shutting_down` reply, every item without an answer is sent
again on a new connection (with servers, also after `not_leader`: on the
leader it names): SUBMIT is idempotent by key, so an item whose
first reply was lost comes back as the same decision with `duplicate: true`.
"""
import time

from . import wire
from .errors import ConnectionError, HitlqError, NotLeader, ShuttingDown, error_for


def _pipeline(conn, bodies, todo, results, window, timeout, redirect=False):
    """Sends bodies[i] for i in todo with at most window in flight and
    files each reply (a dict or an exception) in results[i]; with redirect
    (a client with servers) a not_leader reply is raised, not filed."""
    op = wire.OPCODES["SUBMIT"]
    inflight = {}
    pos = 0
    while pos < len(todo) or inflight:
        while pos < len(todo) and len(inflight) < window:
            inflight[conn.send(op, bodies[todo[pos]])] = todo[pos]
            pos += 1
        deadline = time.monotonic() + timeout
        while not any(rid in conn.replies for rid in inflight):
            conn._sort(conn.read_frame(deadline))
        for rid in [r for r in inflight if r in conn.replies]:
            fr = conn.replies.pop(rid)
            i = inflight.pop(rid)
            if fr.status < 100:
                results[i] = fr.body
                continue
            exc = error_for(fr.status, fr.body)
            if isinstance(exc, ShuttingDown) or (redirect and isinstance(exc, NotLeader)):
                raise exc
            results[i] = exc
            if exc.fatal:
                conn.close()


def run_batch(client, bodies, window):
    """Every body answered: the list of replies and exceptions, in order.
    Raises the transport's error when the retries run out."""
    results = [None] * len(bodies)
    attempt, since = 0, None          # since: the first failure
    while True:
        todo = [i for i, r in enumerate(results) if r is None]
        if not todo:
            return results
        try:
            with client._lock:
                conn = client._connection()
                _pipeline(conn, bodies, todo, results, window, client.timeout,
                          client._leader is not None)
        except (ConnectionError, ShuttingDown, NotLeader) as exc:
            client._drop()
            if isinstance(exc, NotLeader):
                client._leader.note(exc)
            if client._out_of_retries(attempt, since):
                raise
            since = since or time.monotonic()
            client.retry.sleep(attempt)
            attempt += 1
        except HitlqError:
            client._drop()
            raise
