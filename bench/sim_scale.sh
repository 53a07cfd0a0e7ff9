#!/bin/bash
# loom-sim at scale, in one run on this machine: for each (mode, nodes) the
# time `loom-sim up` takes, the time to add one pod per node, the time until
# every pod reaches every pod (matrix repeated until all reachable, or
# inconclusive cells say the simulator itself ran out of something), the
# daemons' RSS per node and their CPU while idle.  Prints a markdown table.
#
# The machine's one kernel holds every node: clusters past ~20 nodes need
# the neighbour table and inotify limits raised.  This bench raises them
# with `loom-sim up --tune-host` and puts every value back when it ends.
#
# Usage: bench/sim_scale.sh [--bin DIR] [--out FILE] [MODE:NODES ...]
#        default cells: vxlan:10 vxlan:50 vxlan:100 bgp:10 bgp:50
set -u
BIN=${LOOM_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build}
OUT=
CELLS=()
while [ $# -gt 0 ]; do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	*:*) CELLS+=("$1"); shift ;;
	*) echo "usage: $0 [--bin DIR] [--out FILE] [MODE:NODES ...]" >&2; exit 2 ;;
	esac
done
[ ${#CELLS[@]} -gt 0 ] || CELLS=(vxlan:10 vxlan:50 vxlan:100 bgp:10 bgp:50)
export LOOM_BIN=$BIN
SIM="$BIN/loom-sim"
for c in jq bird; do command -v $c >/dev/null || { echo "need $c" >&2; exit 1; }; done

KEYS=(net.ipv4.neigh.default.gc_thresh1 net.ipv4.neigh.default.gc_thresh2
      net.ipv4.neigh.default.gc_thresh3 fs.inotify.max_user_instances)
declare -A ORIG
for k in "${KEYS[@]}"; do ORIG[$k]=$(sysctl -n "$k"); done
NAME=
cleanup() {
	[ -n "$NAME" ] && "$SIM" --name "$NAME" down >/dev/null 2>&1
	for k in "${KEYS[@]}"; do sysctl -qw "$k=${ORIG[$k]}"; done
}
trap cleanup EXIT

ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
# Sum of RSS (kB) and of CPU ticks of the processes recorded in the cluster's pids/
pids_of() { cat "/run/loom-sim/$1/pids/"*"$2"*.pid 2>/dev/null; }
rss_avg_mb() {
	local n=0 s=0 p
	for p in $(pids_of "$1" "$2"); do
		r=$(awk '/^VmRSS/ {print $2}' /proc/$p/status 2>/dev/null) || continue
		[ -n "$r" ] && { s=$((s + r)); n=$((n + 1)); }
	done
	[ $n -gt 0 ] && awk -v s=$s -v n=$n 'BEGIN {printf "%.1f", s / n / 1024}' || echo "-"
}
ticks() {
	local s=0 p
	for p in $(pids_of "$1" "$2"); do
		t=$(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null) && s=$((s + t))
	done
	echo $s
}

ROWS=()
for cell in "${CELLS[@]}"; do
	mode=${cell%%:*}; nodes=${cell#*:}
	NAME=scale$$; NAME=${NAME:0:16}
	t0=$(date +%s%N)
	if ! "$SIM" --name "$NAME" up --nodes "$nodes" --mode "$mode" --tune-host >/dev/null 2>/tmp/scale.$$.err; then
		ROWS+=("| $mode | $nodes | up failed: $(tail -n1 /tmp/scale.$$.err) | | | | | | |")
		"$SIM" --name "$NAME" down >/dev/null 2>&1; NAME=
		continue
	fi
	up=$(ms "$t0")
	t0=$(date +%s%N)
	for i in $(seq 1 "$nodes"); do "$SIM" --name "$NAME" pod add "n$i" "default/p$i" >/dev/null; done
	pods=$(ms "$t0")
	# until every pair is reachable (bounded: 5 minutes)
	t0=$(date +%s%N); ok=0; total=$((nodes * nodes)); inc=0
	while :; do
		res=$("$SIM" --name "$NAME" matrix --json 2>/dev/null)
		ok=$(jq -r .reachable <<<"$res"); inc=$(jq -r .inconclusive <<<"$res")
		[ "$ok" = "$total" ] && break
		[ $(( ($(date +%s%N) - t0) / 1000000000 )) -gt 300 ] && break
	done
	reach=$(ms "$t0")
	# idle CPU: the daemons' ticks over 10 s, as % of one core per node
	hz=$(getconf CLK_TCK)
	c0=$(ticks "$NAME" loomd); p0=$(ticks "$NAME" policyd); sleep 10
	c1=$(ticks "$NAME" loomd); p1=$(ticks "$NAME" policyd)
	cpu_l=$(awk -v a=$c0 -v b=$c1 -v n=$nodes -v hz=$hz 'BEGIN {printf "%.2f", (b - a) / hz / 10 * 100 / n}')
	cpu_p=$(awk -v a=$p0 -v b=$p1 -v n=$nodes -v hz=$hz 'BEGIN {printf "%.2f", (b - a) / hz / 10 * 100 / n}')
	ROWS+=("| $mode | $nodes | $up | $pods | $reach | $ok / $total${inc:+ ($inc inconclusive)} | $(rss_avg_mb "$NAME" loomd) | $(rss_avg_mb "$NAME" policyd) | $cpu_l / $cpu_p |")
	"$SIM" --name "$NAME" down >/dev/null 2>&1; NAME=
done

{
	echo "| mode | nodes | up (ms) | 1 pod per node (ms) | until all reachable (ms) | reachable | loomd RSS (MB) | loom-policyd RSS (MB) | idle CPU % per node (loomd / policyd) |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
} | tee ${OUT:+"$OUT"}
