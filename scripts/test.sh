#!/bin/sh
# test.sh - the one command that sets up and runs every test: installs the
# Debian packages (scripts/setup.sh), then `make test` (unit, end-to-end,
# hostile-input, crash-loop and fuzz-corpus replay tests under ASan+UBSan).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
make -j2 test-build
make test
