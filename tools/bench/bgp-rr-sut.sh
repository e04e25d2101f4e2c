#!/bin/sh
# The `cmd:` contract of shared/bench/bgp_reflect_bench.py: weft as a route reflector on
# BENCH_ADDR:BENCH_PORT, AS BENCH_ASN, with the feeder and the sink as passive RR clients
# (IPv4 unicast + VPNv4). Run from anywhere; needs `npm run build` first.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
: "${BENCH_ADDR:=127.0.0.1}" "${BENCH_PORT:=10179}" "${BENCH_ASN:=64512}"
: "${BENCH_FEEDER:=127.0.0.2}" "${BENCH_SINK:=127.0.0.3}" "${BENCH_WORKDIR:=$(mktemp -d)}"
cfg="$BENCH_WORKDIR/weft-rr.json"
cat > "$cfg" <<JSON
{
  "localAs": $BENCH_ASN,
  "routerId": "$BENCH_ADDR",
  "clusterId": "$BENCH_ADDR",
  "listen": { "address": "$BENCH_ADDR", "port": $BENCH_PORT },
  "families": ["ipv4-unicast", "vpnv4"],
  "neighbors": [
    { "address": "$BENCH_FEEDER", "remoteAs": $BENCH_ASN, "passive": true, "rrClient": true },
    { "address": "$BENCH_SINK", "remoteAs": $BENCH_ASN, "passive": true, "rrClient": true }
  ]
}
JSON
# A 32 MiB semi-space keeps the per-flush garbage out of the old generation: measured at 1M
# routes it lowered both CPU and peak RSS (WEFT_NODE_OPTIONS comes later and can override it).
exec node --max-semi-space-size=32 ${WEFT_NODE_OPTIONS:-} "$here/dist/src/bgp/main-speaker.js" "$cfg"
