"""bench_queues.py - scrape time of /metrics on a server with >= 1,000 queues.

For scripts/bench.sh section (s) (docs/PERFORMANCE.md).  Two commands:

  bench_queues.py policy DIR
      writes DIR/queues_policy.json: 16 item types, each a copy of the
      bundled scorecard type (model credit_scorecard.json, which must be in
      DIR), review queue qt00..qt15 and escalate_to 64 queues each
      (e0000..e1023: 1,024 queues ESCALATE may target, 1,040 known in all).

  bench_queues.py run HITLQ PORT HTTP_PORT N SCRAPES
      submits N items (item k of type t(k // 64)) with the hitlq CLI, claims
      each and ESCALATEs it to queue e<k> (so N queues hold one leased-then-
      ready item each), checks that a scrape shows >= N queues holding
      items, then times SCRAPES GETs of /metrics, each on a new connection
      (connect -> last body byte), and prints one line:
        queues_with_items=Q series=S bytes=B n=SCRAPES median_ms=.. p99_ms=.. max_ms=..
          server_cpu_ms_per_scrape=..
      (the last from the server's own process_cpu_seconds_total before and
      after the timed scrapes: its cost, whatever the machine's load)
Exit status 1 on any failure (the message says which step).
"""
import http.client
import json
import os
import subprocess
import sys
import time

TYPES = 16
PER_TYPE = 64          # escalate_to holds at most 64 names


def write_policy(d):
    types = {}
    for t in range(TYPES):
        types["t%02d" % t] = {
            "model": "credit_scorecard.json",
            "auto_threshold": 1.0,
            "auto_action": "approve",
            "actions": ["reject"],
            "queue": "qt%02d" % t,
            "escalate_to": ["e%04d" % (t * PER_TYPE + i) for i in range(PER_TYPE)],
            "priority": 100,
            "sla_seconds": 14400,
        }
    pol = {"format": "hitlq-policy", "format_version": 1, "id": "bench_queues",
           "version": "1", "types": types}
    with open(os.path.join(d, "queues_policy.json"), "w") as f:
        json.dump(pol, f, indent=1)


def cli(hitlq, port, *args, stdin=None):
    p = subprocess.run([hitlq, "-p", port, "-n", "bench", "--json"] + list(args),
                       input=stdin, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        sys.exit("bench_queues: hitlq %s failed (%d): %s" % (args[0], p.returncode,
                                                           (p.stderr or p.stdout)[-300:]))
    return p.stdout


def fill(hitlq, port, n):
    lines = "".join(json.dumps({"key": "bq-%d" % k, "type": "t%02d" % (k // PER_TYPE),
                                "fields": {"amount": 1000 + k, "age": 30 + k % 40}}) + "\n"
                    for k in range(n))
    cli(hitlq, port, "submit", stdin=lines)
    for t in range((n + PER_TYPE - 1) // PER_TYPE):
        for _ in range(min(PER_TYPE, n - t * PER_TYPE)):
            c = json.loads(cli(hitlq, port, "claim", "qt%02d" % t).splitlines()[0])
            k = int(c["key"].split("-")[1])
            cli(hitlq, port, "escalate", str(c["id"]), str(c["lease"]), "e%04d" % k)


def scrape(hport):
    t0 = time.perf_counter()
    h = http.client.HTTPConnection("127.0.0.1", int(hport), timeout=10)
    h.request("GET", "/metrics")
    r = h.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    h.close()
    if r.status != 200:
        sys.exit("bench_queues: /metrics answered %d" % r.status)
    return dt * 1000.0, body.decode()


def queues_with_items(text):
    qs = set()
    for ln in text.splitlines():
        if ln.startswith("hitlq_queue_items{") and not ln.rstrip().endswith(" 0"):
            i = ln.find('queue="')
            qs.add(ln[i + 7:ln.index('"', i + 7)])
    return qs


def cpu_seconds(text):
    for ln in text.splitlines():
        if ln.startswith("process_cpu_seconds_total "):
            return float(ln.split()[1])
    sys.exit("bench_queues: no process_cpu_seconds_total in the scrape")


def run(hitlq, port, hport, n, scrapes):
    fill(hitlq, port, n)
    _, text = scrape(hport)
    qs = queues_with_items(text)
    if len(qs) < n:
        sys.exit("bench_queues: only %d queues hold items, expected >= %d" % (len(qs), n))
    cpu0 = cpu_seconds(text)
    times = []
    for _ in range(scrapes):
        ms, text = scrape(hport)
        times.append(ms)
    times.sort()
    med = (times[(len(times) - 1) // 2] + times[len(times) // 2]) / 2
    p99 = times[min(len(times) - 1, int(0.99 * len(times) + 0.5) - 1)]
    cpu = (cpu_seconds(text) - cpu0) * 1000.0 / scrapes
    series = sum(1 for ln in text.splitlines() if ln and not ln.startswith("#"))
    print("queues_with_items=%d series=%d bytes=%d n=%d median_ms=%.2f p99_ms=%.2f max_ms=%.2f"
          " server_cpu_ms_per_scrape=%.2f"
          % (len(qs), series, len(text), scrapes, med, p99, times[-1], cpu))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "policy":
        write_policy(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
