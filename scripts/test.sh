#!/bin/sh
# test.sh - the one command that sets up and runs every test: installs the
# Debian packages (scripts/setup.sh), then `make test` (unit, end-to-end,
# hostile-input, crash-loop and fuzz-corpus replay tests under ASan+UBSan),
# after an install test (scripts/test-install.sh).
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
make -j2 test-build
make install-check      # make install into a temporary DESTDIR, run what it installed
make test
