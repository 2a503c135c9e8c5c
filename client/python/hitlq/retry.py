"""retry.py - when hitlq.Client retries a request after a lost connection.

Retry(attempts, backoff, cap): at most `attempts` tries in all, sleeping
backoff, 2*backoff, ... (at most cap seconds) between them.  Which
operations may be retried is the client's table (hitlq.client.RETRIED).
"""
import time


class Retry:
    """Attempts and exponential back-off between them."""

    def __init__(self, attempts=6, backoff=0.1, cap=2.0):
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.attempts = attempts
        self.backoff = backoff
        self.cap = cap

    def delays(self):
        """The sleeps between attempts (attempts - 1 of them)."""
        d = self.backoff
        for _ in range(self.attempts - 1):
            yield min(d, self.cap)
            d *= 2

    def sleep(self, attempt):
        """Sleeps before try number attempt + 1 (attempt counts from 0)."""
        time.sleep(min(self.backoff * (2 ** attempt), self.cap))


NO_RETRY = Retry(attempts=1)
