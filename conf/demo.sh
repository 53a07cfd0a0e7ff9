#!/usr/bin/env bash
# The main job: a two-node loom cluster in VXLAN mode, made with loom-sim
# from network namespaces on this machine.  Pods on both nodes, the
# reachability matrix showing every pod reaching every pod across nodes,
# then everything torn down.  The machine's own namespace is not touched;
# everything is removed on exit, pass or fail.
set -euo pipefail
BIN=${LOOM_BIN:?set LOOM_BIN to the build directory}
NAME=demo$$
NAME=${NAME:0:16}
START=$(date +%s%N)

sim() { "$BIN/loom-sim" --name "$NAME" "$@"; }
cleanup() { sim down >/dev/null 2>&1 || true; }
trap cleanup EXIT

step() { if [ -t 1 ]; then printf '\n\033[1m== %s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }

step "1. Two nodes on one underlay (192.0.2.0/24), loomd on each, overlay VXLAN (VNI 1, UDP 8472)"
sim up --nodes 2 --mode vxlan 2>/dev/null

step "2. Pods on both nodes, wired by loom-vxlan as a runtime would"
for p in n1:default/web n1:shop/cart n2:default/api n2:shop/db; do
	printf '%-14s on %s  %s\n' "${p#*:}" "${p%%:*}" "$(sim pod add "${p%%:*}" "${p#*:}")"
done
echo
echo "each node's loomd leased a /24 of the cluster CIDR from the store:"
sim status | sed -n '2,4p'

step "3. What loomd programmed on n1 for n2: a route, a neighbour and an FDB entry on loom.1"
ip -n "$NAME-n1" -br link show dev loom.1
ip -n "$NAME-n1" route show dev loom.1
ip -n "$NAME-n1" neigh show dev loom.1 nud permanent
bridge -n "$NAME-n1" fdb show dev loom.1

step "4. Everyone reaches everyone, across nodes (TCP and UDP; . = reached, X = not)"
sim matrix --proto tcp
sim matrix --proto udp
echo
echo "default/web (n1) pings shop/db (n2):"
sim exec default/web -- ping -c 2 -W 2 "$(sim status | awk '$1 == "shop/db" {print $3}')" | tail -n 2

step "5. Tear down"
sim down 2>/dev/null
left=$(ip netns list | grep -c "^$NAME-" || true)
echo "namespaces left: $left; processes left: $(pgrep -fc "/run/loom-sim/$NAME/" || true)"

step "Done in $((($(date +%s%N) - START) / 1000000)) ms. ./dev.sh demo-bridge wires two pods on one node by hand."
