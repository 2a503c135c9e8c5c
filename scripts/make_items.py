#!/usr/bin/env python3
"""make_items.py - print the German Credit rows as hitlq SUBMIT items.

One JSON object per line, for the CLI demo:
    {"key": "gc-0001", "type": "credit_application", "fields": {...}}
The fields map is the `credit_application` item shape documented in
scripts/train_scorecard.py (same conversion code).  Keys are "gc-" and the
1-based CSV row number, zero-padded to 4 digits.  Python 3 stdlib only.

Usage:  python3 scripts/make_items.py [CSV] [--label] [--limit N]
        --label adds "label": "Good"/"Bad" (not part of the protocol item).
        --limit N prints only the first N rows.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_scorecard as ts  # noqa: E402


def main(argv):
    args = argv[1:]
    with_label = "--label" in args
    args = [a for a in args if a != "--label"]
    limit = None
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i:i + 2]
    header, rows = ts.read_csv(args[0] if args else ts.DEFAULT_CSV)
    out = sys.stdout
    for i, row in enumerate(rows, 1):
        if limit is not None and i > limit:
            break
        item = {"key": "gc-%04d" % i, "type": "credit_application",
                "fields": ts.row_to_fields(header, row)}
        if with_label:
            item["label"] = row["Class"]
        out.write(json.dumps(item, separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except BrokenPipeError:        # e.g. piped into head
        sys.stderr.close()
        sys.exit(0)
