#!/usr/bin/env bash
# loom-policyd at scale: 1,000 NetworkPolicies over 5,000 pods (100 on the
# measured node), in a throwaway file store and network namespace.
#
#   bench/policy_bench.sh [--bin BUILD_DIR] [--out FILE] [--relabels N]
#
# Measures
#   initial sync   loom-policyd started on the full store -> table committed
#                  (its own clock, from main() to the commit returning)
#   incremental    one local pod relabelled in the store -> its nft commit,
#                  at 10, 100 and 1,000 policies: the daemon's clock from
#                  the watch event to the commit (eventToCommitMs), and the
#                  wall time from the store write to `loomctl policy wait`
#                  returning (includes two process starts and the store's
#                  inotify round trip: an upper bound)
#   throughput     iperf3 between two pods on one loom-sim node (bridged,
#                  through br_netfilter), no policy vs 1,000 policies
#                  selecting the server
# Goals: initial < 1 s, incremental < 10 ms and flat, throughput within 5%.
set -u -o pipefail

BIN=${LOOM_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build}
OUT=""
RELABELS=9
while (($#)); do
	case $1 in
	--bin) BIN=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--relabels) RELABELS=$2; shift 2 ;;
	*) echo "usage: $0 [--bin BUILD_DIR] [--out FILE] [--relabels N]" >&2; exit 2 ;;
	esac
done
for b in loom-policyd loomctl store_put loom-sim; do
	[[ -x $BIN/$b ]] || { echo "missing $BIN/$b (--bin BUILD_DIR)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "jq is required" >&2; exit 2; }

T=$(mktemp -d /tmp/loom-polbench.XXXXXX)
NS=lpb$$
SIMNAME=lpbs$$
PD=""
cleanup() {
	[[ -n $PD ]] && kill "$PD" 2>/dev/null && wait "$PD" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	"$BIN/loom-sim" --name "$SIMNAME" down >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export LOOM_STORE=file:$T/store
export LOOM_BIN=$BIN # loom-sim takes its binaries from here
NNS=50      # namespaces
NPODS=5000  # pods; every 50th is on node n1 (100)
now_ms() { date +%s%3N; }

# ---- the cluster objects: namespaces and pods through loomctl (one List),
# endpoints through store_put (loomd's keys)
say() { printf '%s\n' "$*" >&2; }
say "writing $NNS namespaces, $NPODS pods and their endpoints..."
{
	echo '{"apiVersion":"v1","kind":"List","items":['
	for ((n = 0; n < NNS; n++)); do
		printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns%d","labels":{"team":"t%d"}}},\n' $n $((n % 5))
	done
	for ((i = 0; i < NPODS; i++)); do
		node=n$((i % 50 == 0 ? 1 : 2 + i % 49))
		sep=,
		((i == NPODS - 1)) && sep=
		printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","namespace":"ns%d","labels":{"app":"a%d","role":"r%d"}},"spec":{"nodeName":"%s","containers":[{"name":"c","ports":[{"name":"http","containerPort":8080}]}]}}%s\n' \
			$i $((i % NNS)) $((i % 20)) $((i % 10)) "$node" "$sep"
	done
	echo ']}'
} >"$T/objects.json"
"$BIN/loomctl" apply -f "$T/objects.json" >/dev/null || { say "apply failed"; exit 1; }
for ((i = 0; i < NPODS; i++)); do
	node=n$((i % 50 == 0 ? 1 : 2 + i % 49))
	printf '{"ips":["10.%d.%d.%d/16"],"podNamespace":"ns%d","podName":"p%d"}' \
		$((64 + i / 65536)) $((i / 256 % 256)) $((i % 256)) $((i % NNS)) $i |
		"$BIN/store_put" "/loom/endpoints/$node/c$i/eth0" - || exit 1
done

# policies FROM TO: policy k in namespace ns(k%50) selects app=a(k%20),
# allows from role=r(k%10) in namespaces team=t(k%5) on a named port and
# a range, and egress to an ipBlock: every feature on every policy
policies() {
	local k
	echo '{"apiVersion":"v1","kind":"List","items":['
	for ((k = $1; k < $2; k++)); do
		printf '{"apiVersion":"networking.k8s.io/v1","kind":"NetworkPolicy","metadata":{"name":"np%d","namespace":"ns%d"},"spec":{"podSelector":{"matchLabels":{"app":"a%d"}},"policyTypes":["Ingress","Egress"],"ingress":[{"from":[{"namespaceSelector":{"matchLabels":{"team":"t%d"}},"podSelector":{"matchLabels":{"role":"r%d"}}}],"ports":[{"port":"http"},{"port":9000,"endPort":9100}]}],"egress":[{"to":[{"ipBlock":{"cidr":"10.64.0.0/10","except":["10.64.%d.0/24"]}}]}]}}%s\n' \
			$k $((k % NNS)) $((k % 20)) $((k % 5)) $((k % 10)) $((k % 256)) "$([[ $((k + 1)) -lt $2 ]] && echo ,)"
	done
	echo ']}'
}
policies 0 1000 >"$T/pol-1000.json"

# ---- incremental: a daemon in a throwaway netns, policies grown 10 -> 1000
ip netns add "$NS" || exit 1
start_daemon() {
	ip netns exec "$NS" "$BIN/loom-policyd" --node n1 --store "$LOOM_STORE" 2>>"$T/policyd.log" &
	PD=$!
}
stop_daemon() { kill "$PD"; wait "$PD" 2>/dev/null; PD=""; }

median() { sort -n | awk '{a[NR]=$1} END {if (NR) printf "%.2f", (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# relabel_once I: pod p(I*50) (on n1) gets app=a<other>; prints
# "daemon_ms wall_ms"
relabel_once() {
	local i=$1 v t0 t1 lag
	v=$(printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p%d","namespace":"ns%d","labels":{"app":"a%d","role":"r%d"}},"spec":{"nodeName":"n1","containers":[{"name":"c","ports":[{"name":"http","containerPort":8080}]}]}}' \
		$((i * 50)) $((i * 50 % NNS)) $(((i * 50 + 1 + RANDOM % 19) % 20)) $((i * 50 % 10)))
	t0=$(date +%s%N)
	"$BIN/store_put" "/loom/pods/ns$((i * 50 % NNS))/p$((i * 50))" - <<<"$v" || return 1
	"$BIN/loomctl" policy wait --timeout 10 >/dev/null || return 1
	t1=$(date +%s%N)
	lag=$("$BIN/store_get" /loom/policystatus/n1 | jq -r '.eventToCommitMs')
	echo "$lag $(((t1 - t0) / 1000))" | awk '{printf "%.3f %.3f\n", $1, $2 / 1000}'
}

declare -A INC_D INC_W INC_C
start_daemon
applied=0
for n in 10 100 1000; do
	policies "$applied" "$n" >"$T/pol-step.json"
	"$BIN/loomctl" apply -f "$T/pol-step.json" >/dev/null || { say "policy apply failed"; exit 1; }
	applied=$n
	"$BIN/loomctl" policy wait --timeout 60 >/dev/null || { say "policy wait failed at $n"; exit 1; }
	: >"$T/inc"
	for ((r = 0; r < RELABELS; r++)); do relabel_once $((r % 100)) >>"$T/inc" || { say "relabel failed"; exit 1; }; done
	INC_D[$n]=$(cut -d' ' -f1 <"$T/inc" | median)
	INC_W[$n]=$(cut -d' ' -f2 <"$T/inc" | median)
	INC_C[$n]=$("$BIN/store_get" /loom/policystatus/n1 | jq -r '"\(.chains) chains, \(.rules) rules, \(.elements) elements"')
	say "$n policies: relabel -> commit ${INC_D[$n]} ms (daemon), ${INC_W[$n]} ms (wall); ${INC_C[$n]}"
done
stop_daemon

# ---- initial sync: fresh daemon on the full store, three runs
: >"$T/init"
for r in 1 2 3; do
	: >"$T/policyd.log"
	start_daemon
	for ((w = 0; w < 100; w++)); do
		grep -q "in force" "$T/policyd.log" && break
		sleep 0.1
	done
	sed -n 's/.*(\([0-9.]*\) ms from start, commit \([0-9.]*\) ms).*/\1 \2/p' "$T/policyd.log" >>"$T/init"
	stop_daemon
done
INIT=$(cut -d' ' -f1 <"$T/init" | median)
INIT_COMMIT=$(cut -d' ' -f2 <"$T/init" | median)
say "initial sync: $INIT ms (nft commit $INIT_COMMIT ms)"
ip netns del "$NS"

# ---- throughput: two pods on one loom-sim node, iperf3 over the bridge
TP0="" TP1=""
if command -v iperf3 >/dev/null && [[ -x $BIN/loomd && -x $BIN/loom-vxlan ]] &&
	"$BIN/loom-sim" --name "$SIMNAME" up --nodes 1 --mode vxlan >"$T/sim.log" 2>&1; then
	SIMSTORE=file:/run/loom-sim/$SIMNAME/store
	"$BIN/loom-sim" --name "$SIMNAME" pod add n1 ns0/client --label app=client --label role=r0 >/dev/null
	SRV=$("$BIN/loom-sim" --name "$SIMNAME" pod add n1 ns0/server --label app=a0)
	iperf() {
		local bps
		"$BIN/loom-sim" --name "$SIMNAME" exec ns0/server -- sh -c 'iperf3 -s -D -1' >/dev/null 2>&1
		sleep 0.3
		bps=$("$BIN/loom-sim" --name "$SIMNAME" exec ns0/client -- iperf3 -c "$SRV" -t 5 -J 2>/dev/null |
			jq -r '.end.sum_received.bits_per_second')
		awk -v b="$bps" 'BEGIN {printf "%.2f", b / 1e9}'
	}
	TP0=$(iperf)
	# 1,000 policies; the server (app=a0 in ns0) is selected by every 20th,
	# and allowed from the client's ns0 (team t0) role r0 on 5201
	{
		echo '{"apiVersion":"v1","kind":"List","items":['
		echo '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns0","labels":{"team":"t0"}}},'
		jq -c '.items[]' "$T/pol-1000.json" | sed 's/"ns[0-9]*"}/"ns0"}/; s/"port":"http"/"port":5201/' | paste -sd, -
		echo ']}'
	} >"$T/sim-pol.json"
	LOOM_STORE=$SIMSTORE "$BIN/loomctl" apply -f "$T/sim-pol.json" >/dev/null
	LOOM_STORE=$SIMSTORE "$BIN/loomctl" policy wait --timeout 60 >/dev/null
	TP_RULES=$(LOOM_STORE=$SIMSTORE "$BIN/store_get" /loom/policystatus/n1 | jq -r '"\(.chains) chains, \(.rules) rules"')
	TP1=$(iperf)
	"$BIN/loom-sim" --name "$SIMNAME" down >/dev/null 2>&1
	say "iperf3: ${TP0} Gbit/s without policy, ${TP1} Gbit/s with 1,000 policies ($TP_RULES)"
else
	say "skip throughput: needs iperf3, loomd, loom-vxlan and loom-sim up: $(tail -1 "$T/sim.log" 2>/dev/null)"
fi

# ---- the table
verdict() { awk -v v="$1" -v g="$2" 'BEGIN {print (v != "" && v + 0 < g) ? "yes" : "no"}'; }
flat=$(awk -v a="${INC_D[10]}" -v b="${INC_D[1000]}" 'BEGIN {print (b < 2 * a + 1) ? "yes" : "no"}')
tpr=$(awk -v a="$TP0" -v b="$TP1" 'BEGIN {if (a > 0 && b > 0) printf "%.1f", (b / a - 1) * 100; else print ""}')
{
	echo "| measure | 10 policies | 100 policies | 1,000 policies | goal | met |"
	echo "|---|---|---|---|---|---|"
	echo "| initial sync, start -> committed (5,000 pods, 100 local) | | | $INIT ms (commit $INIT_COMMIT ms) | < 1,000 ms | $(verdict "$INIT" 1000) |"
	echo "| relabel -> commit, daemon clock (median of $RELABELS) | ${INC_D[10]} ms | ${INC_D[100]} ms | ${INC_D[1000]} ms | < 10 ms, flat | $(verdict "${INC_D[1000]}" 10), flat: $flat |"
	echo "| relabel -> \`policy wait\` returns, wall (upper bound) | ${INC_W[10]} ms | ${INC_W[100]} ms | ${INC_W[1000]} ms | | |"
	echo "| ruleset size | ${INC_C[10]} | ${INC_C[100]} | ${INC_C[1000]} | | |"
	if [[ -n $TP1 ]]; then
		echo "| iperf3 pod -> pod, one node (Gbit/s) | no policy: $TP0 | | 1,000 policies: $TP1 ($tpr%) | within 5% | $(awk -v r="$tpr" 'BEGIN {print (r > -5) ? "yes" : "no"}') |"
	fi
} | tee ${OUT:+"$OUT"}
