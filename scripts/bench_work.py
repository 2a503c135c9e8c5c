#!/usr/bin/env python3
"""bench_work.py - one `hitlq work --plain` specialist's decision latency.

Runs `HITLQ -p PORT -n bench work QUEUE --plain` with pipes, waits for the
first item's `> ` prompt, then N times: sends `1` (the first declared
action) and measures the time until the next item's prompt is shown
(RESOLVE acknowledged durably -> CLAIM -> item printed).  Prints
"bench: work decide->next p50_ms=.. p99_ms=.. n=.." (scripts/bench.sh (p)).

usage: bench_work.py HITLQ PORT QUEUE N
"""
import os
import subprocess
import sys
import time


def read_until(fd, buf, token, deadline):
    """Reads fd into buf until token appears after the current end; returns
    the new buffer tail (from the token on)."""
    while token not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("no %r within the deadline" % token)
        chunk = os.read(fd, 65536)
        if not chunk:
            raise EOFError("hitlq work ended: " + buf[-500:].decode(errors="replace"))
        buf += chunk
    return buf[buf.index(token) + len(token):]


def main():
    hitlq, port, queue, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    env = dict(os.environ, XDG_STATE_HOME=os.environ.get("TMPDIR", "/tmp"))
    p = subprocess.Popen([hitlq, "-p", port, "-n", "bench", "work", queue, "--plain"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
    fd = p.stdout.fileno()
    buf = read_until(fd, b"", b"\n> ", time.monotonic() + 60)
    lat = []
    for _ in range(n):
        t0 = time.perf_counter()
        p.stdin.write(b"1\n")
        buf = read_until(fd, buf, b"resolved: ", time.monotonic() + 30)
        buf = read_until(fd, buf, b"\n> ", time.monotonic() + 30)
        lat.append((time.perf_counter() - t0) * 1000.0)
    p.stdin.write(b"q\n")
    p.stdin.close()
    p.wait(timeout=30)
    lat.sort()
    pct = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
    print("bench: work decide->next p50_ms=%.2f p99_ms=%.2f max_ms=%.2f n=%d"
          % (pct(0.50), pct(0.99), lat[-1], len(lat)))


if __name__ == "__main__":
    main()
