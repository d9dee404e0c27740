#!/usr/bin/env bash
# A shardmesh mesh across N "hosts" on one Linux machine (network namespaces): the program is
# index.ts (built to dist/index.js by `npm run build`), on the NetLab harness of
# @shardmesh/test-utils/netns. See README.md.
#
# Usage: examples/multi-host/run.sh [--hosts N] [--items N] [--json]
# Needs root and `ip netns` (iproute2); exits 77 with "multi-host: SKIPPED: <why>" where
# namespaces are not allowed.
set -euo pipefail
DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -f "$DIR/dist/index.js" ] || { echo "multi-host: build first: npm run build" >&2; exit 1; }
exec node "$DIR/dist/index.js" "$@"
