#!/bin/bash
# bgp mode figures, in one run on this machine: iperf3 pod to pod across
# two nodes in bgp mode, in vxlan mode, and node to node on the underlay;
# then the time from a new node's start (loom-sim node add) until a pod on
# it answers a pod on another node.  Prints a markdown table.
# Usage: bench/bgp_bench.sh [SECONDS per iperf3 run, default 5]
set -u
BIN=${LOOM_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build}
export LOOM_BIN=$BIN
SIM="$BIN/loom-sim"
T=${1:-5}
for c in iperf3 bird jq; do command -v $c >/dev/null || { echo "need $c"; exit 1; }; done
NAMES=()
cleanup() { for n in "${NAMES[@]}"; do "$SIM" --name "$n" down >/dev/null 2>&1; done; }
trap cleanup EXIT
addr_of() { "$SIM" --name "$1" matrix --json | jq -r ".pods[] | select(.pod==\"$2\") | .address"; }
# iperf3 NS_SERVER NS_CLIENT ADDR -> Gbit/s
iperf() {
	ip netns exec "$1" iperf3 -s -1 -D -I "/tmp/bgpbench.$$.pid" >/dev/null 2>&1
	sleep 0.3
	ip netns exec "$2" iperf3 -c "$3" -t "$T" -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100'
	kill "$(cat /tmp/bgpbench.$$.pid 2>/dev/null)" 2>/dev/null; rm -f /tmp/bgpbench.$$.pid
}
declare -A R
for mode in bgp vxlan; do
	n=bb${mode}$$; n=${n:0:16}; NAMES+=("$n")
	"$SIM" --name "$n" up --nodes 2 --mode $mode >/dev/null || { echo "up $mode failed"; exit 1; }
	"$SIM" --name "$n" pod add n1 default/a >/dev/null && "$SIM" --name "$n" pod add n2 default/b >/dev/null
	B=$(addr_of "$n" default/b)
	for i in $(seq 100); do "$SIM" --name "$n" exec default/a -- ping -c1 -W1 "$B" >/dev/null 2>&1 && break; sleep 0.1; done
	R[$mode]=$(iperf "$n-p-default-b" "$n-p-default-a" "$B")
	if [ $mode = bgp ]; then
		R[underlay]=$(iperf "$n-n2" "$n-n1" 192.0.2.12)
		# A new node: from `node add` until its pod answers a pod on n1.
		t0=$(date +%s%N)
		"$SIM" --name "$n" node add >/dev/null
		"$SIM" --name "$n" pod add n3 default/c >/dev/null
		C=$(addr_of "$n" default/c)
		until "$SIM" --name "$n" exec default/a -- ping -c1 -W1 "$C" >/dev/null 2>&1; do
			[ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 120 ] && break; sleep 0.1
		done
		R[join]=$(( ($(date +%s%N) - t0) / 1000000 ))
	fi
	"$SIM" --name "$n" down >/dev/null
done
echo "| path (iperf3 ${T}s, 1 stream) | Gbit/s | vs underlay |"
echo "|---|---|---|"
for k in underlay bgp vxlan; do
	echo "| $k | ${R[$k]} | $(echo "${R[$k]} ${R[underlay]}" | awk '{printf "%.2f", $1/$2}') |"
done
echo
echo "new node until its pod is reachable from another node (bgp): ${R[join]} ms"
