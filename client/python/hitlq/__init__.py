"""hitlq - Python client of the hitlq human-in-the-loop exception queue.

    import hitlq
    c = hitlq.Client("127.0.0.1", 7420, api_key="hitlq_...")
    d = c.submit("order-17", "credit_application", {"amount": 1200})

See client/python/README.md.  The wire protocol is proto/PROTOCOL.md; the
audit log's format proto/AUDIT-FORMAT.md.
"""
from . import audit, keys, statuses
from .claim import Claim
from .client import DEFAULT_PORT, NOT_RETRIED, RETRIED, Client, wait_for_server
from .errors import *  # noqa: F401,F403  (HitlqError and one class per status)
from .errors import STATUS_ERRORS, error_for, __all__ as _errors_all
from .keys import Ed25519Key
from .retry import Retry
from .watch import Watch

__version__ = "0.1.0"

__all__ = ["Client", "Claim", "Watch", "Retry", "Ed25519Key", "DEFAULT_PORT", "RETRIED",
           "NOT_RETRIED", "wait_for_server", "audit", "keys", "statuses",
           "STATUS_ERRORS", "error_for"] + list(_errors_all)
