"""claim.py - hitlq.Claim, the reply of CLAIM and CLAIM_ID
(proto/PROTOCOL.md §4.6, §4.17), and the lease-token rules of §4.9.

A Claim is the reply map (a dict: claim["id"] keeps working) whose keys are
also attributes: claim.id, claim.lease, claim.recommendation, ...  The
workstation fields of issue 13 (lease_str, recommendation, band, actions,
escalate_to, root_causes, notes) are read by name, as §4.6 asks.  A
four-eyes reviewer's claim with `hide_recommendation` has score,
recommendation, route and explain None: claim.blind says so.
"""
from .errors import ClientError

MAX_TOKEN = (1 << 64) - 1


def lease_token(lease):
    """The lease as the wire takes it (§4.9): an int 0..2^64-1, a str of
    1..20 decimal digits without a leading zero (CLAIM's lease_str), or a
    Claim (its lease).  ClientError for anything else, before sending."""
    if isinstance(lease, Claim):
        lease = lease.get("lease")
    if isinstance(lease, int) and not isinstance(lease, bool):
        if 0 <= lease <= MAX_TOKEN:
            return lease
    elif isinstance(lease, str):
        ok = lease.isascii() and lease.isdigit() and 1 <= len(lease) <= 20
        if ok and (lease == "0" or lease[0] != "0") and int(lease) <= MAX_TOKEN:
            return lease
    raise ClientError(message="lease must be an int 0..2^64-1 or its decimal string, not %r"
                      % (lease,))


class Claim(dict):
    """A CLAIM / CLAIM_ID reply.  Attributes: id, lease (int), lease_str,
    expires_ms, queue, priority, deadline_ms, attempts, key, type, fields,
    score, model, reasons, route, explain, recommendation ("" when the model
    recommends nothing, None when hidden from a blind reviewer), band
    ({index, min_score} or None), actions, escalate_to, root_causes (lists;
    [] when the server sent none) and notes (a list of {at_ms, event,
    actor, note}, oldest first).  A key the reply lacks reads as None (the
    lists as [])."""

    _LISTS = ("actions", "escalate_to", "root_causes", "notes", "reasons")

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._LISTS:
            return self.get(name) or []
        return self.get(name)

    @property
    def blind(self):
        """True when the server hid the model from this reviewer (four-eyes
        `hide_recommendation`: recommendation and score are nil)."""
        return "recommendation" in self and self["recommendation"] is None

    def __repr__(self):
        return "Claim(id=%r, queue=%r, lease_str=%r)" % (
            self.get("id"), self.get("queue"), self.get("lease_str"))
