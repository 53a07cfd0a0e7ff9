#!/usr/bin/env bash
# The overlay benchmark, one run on one loom-sim vxlan cluster:
#
#   throughput (iperf3 TCP, one stream, -t SECS, REPS runs, median) of
#     pod -> pod on one node          (veth, bridge, veth)
#     pod -> pod across nodes         (the above plus VXLAN encap/decap)
#     node -> node on the underlay    (192.0.2.x, the baseline)
#   join time: from a new node's loomd start until a pod on that node
#     answers a ping from a pod on n1 (50 ms polling; median of JOINS runs)
#
# usage: bench/overlay_bench.sh [--bin DIR] [-t SECS] [-r REPS] [-j JOINS] [--out FILE]
# Needs root, iperf3 and iputils ping; the binaries come from --bin, else
# $LOOM_BIN, else build-release/.  Everything is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LOOM_BIN:-$PWD/build-release}
SECS=5 REPS=2 JOINS=5 OUTFILE=""
while (($#)); do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	-t) SECS=$2; shift 2 ;;
	-r) REPS=$2; shift 2 ;;
	-j) JOINS=$2; shift 2 ;;
	--out) OUTFILE=$2; shift 2 ;;
	*) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done
for c in iperf3 jq; do command -v "$c" >/dev/null || { echo "$c is required" >&2; exit 2; }; done
ping -V 2>&1 | grep -q iputils || { echo "iputils ping is required (-W with fractions)" >&2; exit 2; }
[[ -x $BIN/loom-sim ]] || { echo "no $BIN/loom-sim: build first (or --bin DIR)" >&2; exit 2; }

NAME=lbench$$
RUN=/run/loom-sim/$NAME
sim() { "$BIN/loom-sim" --name "$NAME" "$@"; }
cleanup() { sim down >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

median() { sort -g | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# iperf SERVER_NS CLIENT_NS ADDR: REPS runs, prints the median in Gbit/s
iperf() {
	local srv=$1 cli=$2 addr=$3 i port=5201 res=()
	for ((i = 0; i < REPS; i++)); do
		ip netns exec "$srv" iperf3 -s -1 -p "$port" >/dev/null 2>&1 &
		local spid=$!
		# the server is up once it listens
		for ((k = 0; k < 50; k++)); do
			ip netns exec "$srv" ss -Hltn "sport = :$port" | grep -q . && break
			sleep 0.05
		done
		res+=("$(ip netns exec "$cli" iperf3 -c "$addr" -p "$port" -t "$SECS" -J |
			jq '.end.sum_received.bits_per_second / 1e9')")
		wait "$spid" || true
	done
	printf '%s\n' "${res[@]}" | median | xargs printf '%.2f\n'
}

echo "== cluster: 2 vxlan nodes ($NAME)"
sim up --nodes 2 --mode vxlan >/dev/null 2>"/tmp/$NAME.log" || { cat "/tmp/$NAME.log" >&2; rm -f "/tmp/$NAME.log"; exit 1; }
rm -f "/tmp/$NAME.log"
A=$(sim pod add n1 bench/a --no-serve)
B=$(sim pod add n1 bench/b --no-serve)
C=$(sim pod add n2 bench/c --no-serve)
PA=$NAME-p-bench-a PB=$NAME-p-bench-b PC=$NAME-p-bench-c
MTU=$(ip -n "$PA" -o link show dev eth0 | grep -oE 'mtu [0-9]+' | cut -d' ' -f2)
UMTU=$(ip -n "$NAME-n1" -o link show dev eth0 | grep -oE 'mtu [0-9]+' | cut -d' ' -f2)
ip netns exec "$PA" ping -c1 -W2 "$C" >/dev/null || { echo "pods cannot reach each other across nodes" >&2; exit 1; }

echo "== iperf3, ${SECS}s x $REPS each"
SAME=$(iperf "$PB" "$PA" "$B")
echo "pod -> pod, same node:        $SAME Gbit/s"
CROSS=$(iperf "$PC" "$PA" "$C")
echo "pod -> pod, across nodes:     $CROSS Gbit/s"
UNDER=$(iperf "$NAME-n2" "$NAME-n1" 192.0.2.12)
echo "node -> node, underlay:       $UNDER Gbit/s"

echo "== join: loomd start -> pod on the new node reachable from n1, $JOINS runs"
JT=()
for ((j = 0; j < JOINS; j++)); do
	node=$(sim node add)
	# loomd's start is when loom-sim wrote its pid file
	t0=$(($(stat -c %.3Y "$RUN/pids/loomd-$node.pid" | tr -d .)))
	ip=$(sim pod add "$node" "bench/j$j" --no-serve)
	ok=0
	for ((k = 0; k < 400; k++)); do
		if ip netns exec "$PA" ping -c1 -W0.05 "$ip" >/dev/null 2>&1; then ok=1; break; fi
		sleep 0.05
	done
	((ok)) || { echo "pod $ip on $node never became reachable" >&2; exit 1; }
	JT+=($(($(now_ms) - t0)))
	echo "$node: ${JT[-1]} ms"
done
JOIN=$(printf '%s\n' "${JT[@]}" | median)

TABLE=$(cat <<EOF
| measurement | result |
|---|---|
| iperf3 pod → pod, same node (veth + bridge) | $SAME Gbit/s |
| iperf3 pod → pod, across nodes (VXLAN, pod MTU $MTU) | $CROSS Gbit/s |
| iperf3 node → node, underlay (MTU $UMTU) | $UNDER Gbit/s |
| overlay / underlay | $(awk -v a="$CROSS" -v b="$UNDER" 'BEGIN {printf "%.0f%%", 100 * a / b}') |
| new node: loomd start → its pod reachable from n1 (median of $JOINS) | $JOIN ms (runs: ${JT[*]}) |
EOF
)
HEAD="Overlay benchmark, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r); iperf3 TCP 1 stream, ${SECS} s × $REPS, median; join polled every 50 ms."
printf '\n%s\n\n%s\n' "$HEAD" "$TABLE"
[[ -z $OUTFILE ]] || printf '# Overlay benchmark\n\n%s\n\n%s\n' "$HEAD" "$TABLE" >"$OUTFILE"
