#!/usr/bin/env bash
# A shardmesh mesh across N "hosts" on one Linux machine: each host is a network namespace with
# its own address on 10.77.0.0/24, joined to the others by a veth pair into a bridge (the bridge
# lives in a namespace of its own, so nothing is added to this machine's own network). Host 0
# runs a `shardmesh chain`; hosts 1..N each run a `shardmesh node start` listening on their own
# IP, joined through host 1 and anchoring their receipts on host 0's chain. A job from host 1
# runs across them; then everything is torn down (trap on exit: processes stopped by pid,
# namespaces deleted, the work dir removed).
#
# Usage: examples/multi-host/run.sh [--hosts N] [--items N] [--json]
#   --hosts N   node hosts (2-20, default 3), plus the chain's host
#   --items N   items of the job (default 24; 'sleep' workload, 2 items a shard, spot-check:1)
#   --json      print one JSON object at the end instead of the human summary
# Needs root and `ip netns` (iproute2); exits 77 with "SKIPPED: <why>" where namespaces are not
# allowed. Build the repository first (npm run build).
set -euo pipefail

HOSTS=3
ITEMS=24
JSON=0
usage() { echo "multi-host: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --hosts) [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -ge 2 ] && [ "$2" -le 20 ] || usage "--hosts: expected 2..20, got '${2:-}'"; HOSTS=$2; shift 2 ;;
    --items) [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 10000 ] || usage "--items: expected 1..10000, got '${2:-}'"; ITEMS=$2; shift 2 ;;
    --json) JSON=1; shift ;;
    *) usage "unknown flag '$1' (flags: --hosts N, --items N, --json)" ;;
  esac
done

skip() { echo "multi-host: SKIPPED: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (uid $(id -u))"
command -v ip > /dev/null || skip "no 'ip' command (install iproute2)"
P="smh$$" # every name of this run carries its pid: runs side by side do not collide
ip netns add "$P-probe" 2> /dev/null || skip "'ip netns add' is not allowed here (no CAP_SYS_ADMIN, or a restricted container)"
ip netns del "$P-probe"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CLI="$ROOT/packages/cli/bin/shardmesh.js"
[ -f "$ROOT/packages/cli/dist/src/main.js" ] || { echo "multi-host: build first: npm run build" >&2; exit 1; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/shardmesh-multi-host.XXXXXX")
log() { if [ "$JSON" = 0 ]; then echo "$@"; fi; }

NSS=()
PIDS=()
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 100); do kill -0 "$pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
  done
  for ns in "${NSS[@]}"; do ip netns del "$ns" 2> /dev/null || true; done
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    echo "multi-host: failed (exit $rc); the last lines of each log:" >&2
    for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "--- $(basename "$f")" >&2; tail -n 5 "$f" >&2; }; done
  fi
  rm -rf "$WORK"
  log "torn down: ${#PIDS[@]} processes stopped, ${#NSS[@]} namespaces deleted"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip_of() { echo "10.77.0.$((10 + $1))"; } # host 0: 10.77.0.10 (chain), host i: 10.77.0.(10+i)
in_host() { local h=$1; shift; ip netns exec "$P-h$h" "$@"; }
wait_file() { for _ in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.1; done; echo "multi-host: $1 never appeared" >&2; return 1; }
json_field() { node -e 'const o = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log(eval("o." + process.argv[1]))' "$1"; }

# 1. the network: a bridge in its own namespace, one veth pair per host
SW="$P-sw"
ip netns add "$SW"; NSS+=("$SW")
ip -n "$SW" link add br0 type bridge
ip -n "$SW" link set br0 up
for h in $(seq 0 "$HOSTS"); do
  ns="$P-h$h"
  ip netns add "$ns"; NSS+=("$ns")
  ip -n "$ns" link set lo up # each host's control API listens on its own loopback
  ip link add eth0 netns "$ns" type veth peer name "p$h" netns "$SW"
  ip -n "$ns" addr add "$(ip_of "$h")/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$SW" link set "p$h" master br0
  ip -n "$SW" link set "p$h" up
done
log "network: $((HOSTS + 1)) hosts on 10.77.0.0/24 (namespaces $P-h0..$P-h$HOSTS, bridge in $SW)"

# 2. host 0: the chain, served on the host's own address (--host: a test chain for this private
# network; started with `ip netns exec` itself, not through a shell function: `$!` is then the pid
# of the process, which `ip netns exec` replaces with node; a function would run in a subshell
# whose pid is not node's. --parent-pid: it exits if this script dies, even by SIGKILL)
ip netns exec "$P-h0" node "$CLI" chain --data-dir "$WORK/chain" --host "$(ip_of 0)" --port 8899 --json --parent-pid $$ > "$WORK/chain.out" 2> "$WORK/chain.log" &
PIDS+=($!)
wait_file "$WORK/chain.out"
RPC="http://$(ip_of 0):8899"
log "host 0 ($(ip_of 0)): shardmesh chain, RPC $RPC"

# 3. hosts 1..N: a node each, on its own IP; host 1 is the others' bootstrap peer
BOOT=()
for h in $(seq 1 "$HOSTS"); do
  ip netns exec "$P-h$h" node "$CLI" node start --data-dir "$WORK/node-$h" --parent-pid $$ --listen "/ip4/$(ip_of "$h")/tcp/4001" \
    --network lan --workload echo --workload sleep --sleep-ms 20 --pool-size 1 --no-gpu \
    --solana-rpc "$RPC" --receipt-batch-interval 1s --challenge-interval off \
    --ready-file "$WORK/node-$h.ready" --log-level warn "${BOOT[@]}" > /dev/null 2> "$WORK/node-$h.log" &
  PIDS+=($!)
  wait_file "$WORK/node-$h.ready"
  addr=$(json_field 'addrs[0]' < "$WORK/node-$h.ready")
  sol=$(json_field solanaAddress < "$WORK/node-$h.ready")
  # the node key signs (and by default pays for) its anchors: fund it on host 0's chain
  in_host 0 node "$CLI" chain airdrop "$sol" --solana-rpc "$RPC" > /dev/null
  [ "$h" = 1 ] && BOOT=(--bootstrap "$addr")
  log "host $h ($(ip_of "$h")): node $addr"
done

# 4. wait until host 1's node holds a verified advert of every other node
for _ in $(seq 600); do
  n=$(in_host 1 node "$CLI" peers --data-dir "$WORK/node-1" --json | json_field 'peers.length')
  [ "$n" -ge $((HOSTS - 1)) ] && break
  sleep 0.2
done
[ "$n" -ge $((HOSTS - 1)) ] || { echo "multi-host: host 1 sees $n of $((HOSTS - 1)) peers" >&2; exit 1; }
log "host 1 sees its $n peers"

# 5. the job, from host 1: sleep items, 2 a shard, every shard spot-checked on a second host
in_host 1 node "$CLI" job run --data-dir "$WORK/node-1" --workload sleep --generate "$ITEMS" --shard-size 2 \
  --verify spot-check:1 --json > "$WORK/job.json"

# 6. every receipt of the job anchored on host 0's chain (host 1 batches every second)
JOB=$(json_field jobId < "$WORK/job.json")
for _ in $(seq 300); do
  in_host 1 node "$CLI" receipts list --data-dir "$WORK/node-1" --job "$JOB" --role requester --json > "$WORK/receipts.json"
  node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); process.exit(r.total > 0 && r.receipts.every(x => x.anchor != null) ? 0 : 1)' < "$WORK/receipts.json" && break
  sleep 0.2
done

# 7. anyone can check a receipt with nothing but its proof file and the chain: host 1 writes one,
#    host N (which did not request the job) verifies it against host 0's RPC
RECEIPT=$(json_field 'receipts[0].id' < "$WORK/receipts.json")
in_host 1 node "$CLI" receipts show "$RECEIPT" --data-dir "$WORK/node-1" --out "$WORK/receipt.proof" > /dev/null
in_host "$HOSTS" node "$CLI" receipts verify "$WORK/receipt.proof" --solana-rpc "$RPC" --json > "$WORK/verify.json"

# 8. the summary: which host did which shards, the receipts and their anchors
node - "$WORK" "$HOSTS" "$JSON" "$P" <<'NODE'
const { readFileSync } = require('node:fs')
const [work, hosts, json, prefix] = process.argv.slice(2)
const read = f => JSON.parse(readFileSync(`${work}/${f}`, 'utf8'))
const job = read('job.json')
const receipts = read('receipts.json')
const verify = read('verify.json')
const hostOf = {}
for (let h = 1; h <= Number(hosts); h++) {
  const ready = read(`node-${h}.ready`)
  hostOf[ready.peerId] = { host: h, ip: ready.addrs[0].split('/')[2] }
}
const shards = job.shards ?? []
const perHost = {}
for (const s of shards) {
  for (const peer of s.replicas ?? [s.peer]) {
    const h = hostOf[peer]?.ip ?? peer
    perHost[h] = (perHost[h] ?? 0) + 1
  }
}
const summary = {
  namespaces: `${prefix}-*`,
  workDir: work,
  hosts: Object.values(hostOf),
  job: { jobId: job.jobId, items: job.items, shards: shards.length, outcomes: shards.map(s => s.outcome).filter((o, i, a) => a.indexOf(o) === i), shardRunsPerHost: perHost },
  receipts: { total: receipts.total, anchored: receipts.receipts.filter(r => r.anchor != null).length, anchorSignatures: [...new Set(receipts.receipts.map(r => r.anchor?.signature).filter(Boolean))] },
  verifiedOnHost: { host: Number(hosts), receipt: receipts.receipts[0].id, result: verify }
}
if (json === '1') {
  console.log(JSON.stringify(summary))
} else {
  console.log(`job ${summary.job.jobId}: ${summary.job.items} items in ${summary.job.shards} shards, outcomes ${summary.job.outcomes.join(', ')}`)
  for (const [ip, n] of Object.entries(perHost)) console.log(`  ${ip}: ran ${n} shard(s)`)
  console.log(`receipts: ${summary.receipts.anchored}/${summary.receipts.total} anchored on the chain of host 0, in ${summary.receipts.anchorSignatures.length} transaction(s)`)
  console.log(`host ${hosts} verified receipt ${summary.verifiedOnHost.receipt} from its proof file against ${verify.anchor.by}'s anchor ${verify.anchor.signature.slice(0, 16)}… at slot ${verify.anchor.slot}: ${verify.ok ? 'verified' : 'FAILED'} (worker signature, countersignature, Merkle path, memo)`)
}
NODE
