#!/bin/sh
# run-server.sh - the one command that sets up, builds and starts hitlqd on
# its embedded defaults: 127.0.0.1:7420, data in ./hitlq-data, the bundled
# credit_application policy and scorecard.  Extra arguments go to hitlqd.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
make -j2 all
exec ./build/hitlqd "$@"
