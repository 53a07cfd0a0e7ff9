#!/usr/bin/env bash
# vxlan mode end to end, on a loom-sim cluster (lease TTL 30 s, so a loomd
# restart never races it; the lease of a node that left is expired
# explicitly with store_put --expire, as its TTL passing would):
#
#   two nodes, two pods each: pods on different nodes reach each other over
#   ICMP, TCP and UDP; the largest ping that fits the pod MTU crosses nodes
#   with DF set, one byte more does not; loomd SIGKILLed and restarted on a
#   node leaves every VXLAN entry as it was (no duplicate, no stale) while
#   cross-node pings in both directions lose nothing; a third node joins and
#   its pod is reachable from the others, whose loomd keep running and whose
#   entries for each other stay as they were; that node's loomd dies and,
#   once its lease expires, its route, FDB entry and neighbour are gone from
#   the others while the others still reach each other.

source "$(dirname "$0")/lib.sh"

need_bins loom-sim loom-probe loomd loomctl loom-vxlan store_put
command -v ping >/dev/null && ping -V 2>&1 | grep -q iputils ||
	{ echo "iputils ping is required (apt-get install iputils-ping)" >&2; exit 2; }

sim_cluster lvx$$
TTL=30
RUN=/run/loom-sim/$NAME
DEV=loom.1

# reach JSON FROM TO: true/false from a matrix --json
reach() {
	jq -r --arg f "$2" --arg t "$3" '
		(.pods | map(.pod) | index($f)) as $i | (.pods | map(.pod) | index($t)) as $j |
		.results[$i][$j]' <<<"$1"
}

# vxlan_state NODE: the node's routes, FDB entries and permanent neighbours
# on the VXLAN device, and the device itself (MAC, MTU, VNI, port), sorted
vxlan_state() {
	local ns=$NAME-$1
	{
		ip -n "$ns" route show dev "$DEV" | sed 's/^/route /'
		bridge -n "$ns" fdb show dev "$DEV" | sed 's/^/fdb /'
		ip -n "$ns" neigh show dev "$DEV" nud permanent | sed 's/^/neigh /'
		ip -n "$ns" -d -o link show dev "$DEV" |
			grep -oE 'mtu [0-9]+|link/ether [0-9a-f:]+|vxlan id [0-9]+|dstport [0-9]+' | sed 's/^/link /'
	} | LC_ALL=C sort
}

# alive PID: running, not a zombie waiting for a reaper
alive() { local st; st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) && [[ -n $st && $st != Z* ]]; }
loomd_pid() { cat "$RUN/pids/loomd-$1.pid" 2>/dev/null; }
pod_ip() { jq -r .address "$RUN/pods/$1.json" 2>/dev/null; }
vtep_mac() { ip -n "$NAME-$1" -o link show dev "$DEV" | grep -oE 'link/ether [0-9a-f:]+' | cut -d' ' -f2; }

# ---- two nodes, two pods each
OUT=$(sim up --nodes 2 --mode vxlan --ttl "$TTL" 2>&1)
RC=$?
expect_eq "up --nodes 2 --mode vxlan succeeds" 0 "$RC"
[[ $RC == 0 ]] || { echo "$OUT"; finish; }
declare -A IP
for p in n1:default/a n1:default/b n2:default/c n2:default/d; do
	IP[${p#*:}]=$(sim pod add "${p%%:*}" "${p#*:}")
done
expect_match "pods on n1 and n2 get addresses from different node subnets" \
	'^10\.244\.([0-9]+)\.[0-9]+ 10\.244\.\1\.[0-9]+ 10\.244\.[0-9]+\.[0-9]+$' \
	"${IP[default/a]} ${IP[default/b]} ${IP[default/c]}"
[[ ${IP[default/a]%.*} != "${IP[default/c]%.*}" ]] || fail "n1 and n2 pods share a subnet" "${IP[*]}"

# ---- ICMP, TCP, UDP across nodes
for pair in default/a:default/c default/c:default/a default/b:default/d default/d:default/a; do
	from=${pair%%:*} to=${pair#*:}
	expect_true "icmp: $from (n${from: -1}) pings $to across nodes" \
		wait_for 10 sim exec "$from" -- ping -c1 -W2 "${IP[$to]}" >/dev/null
done
for proto in tcp udp; do
	M=$(sim matrix --proto "$proto" --port 80 --json)
	expect_eq "$proto: every pod reaches every pod" "16/16" "$(jq -r '"\(.reachable)/\(.total)"' <<<"$M")"
	expect_eq "$proto: n1 -> n2 and n2 -> n1 explicitly" "true true true true" \
		"$(reach "$M" default/a default/c) $(reach "$M" default/c default/a) $(reach "$M" default/b default/d) $(reach "$M" default/d default/b)"
done

# ---- MTU: the largest DF ping crosses, one byte more is refused
MTU=$(sim exec default/a -- ip -o link show dev eth0 | grep -oE 'mtu [0-9]+' | cut -d' ' -f2)
UL_MTU=$(ip -n "$NAME-n1" -o link show dev eth0 | grep -oE 'mtu [0-9]+' | cut -d' ' -f2)
expect_eq "pod MTU is the underlay's minus 50" "$((UL_MTU - 50))" "$MTU"
OUT=$(sim exec default/a -- ping -M do -c1 -W2 -s $((MTU - 28)) "${IP[default/c]}" 2>&1)
expect_match "a $((MTU - 28))-byte DF ping (a $MTU-byte packet) crosses n1 -> n2" \
	"1 received" "$OUT"
OUT=$(sim exec default/c -- ping -M do -c1 -W2 -s $((MTU - 28)) "${IP[default/b]}" 2>&1)
expect_match "and n2 -> n1" "1 received" "$OUT"
OUT=$(sim exec default/a -- ping -M do -c1 -W2 -s $((MTU - 27)) "${IP[default/c]}" 2>&1)
expect_match "one byte more with DF does not go out" "message too long|0 received" "$OUT"

# ---- loomd SIGKILLed and restarted on n1: dataplane untouched
B1=$(vxlan_state n1) B2=$(vxlan_state n2)
OLD=$(loomd_pid n1)
RECONCILED=$(grep -c "$DEV: .*remote node" "$RUN/logs/loomd-n1.log")
sim exec default/c -- ping -q -i 0.2 -c 20 -W1 "${IP[default/a]}" >"$T/ping-ca" 2>&1 &
P1=$!
sim exec default/a -- ping -q -i 0.2 -c 20 -W1 "${IP[default/d]}" >"$T/ping-ad" 2>&1 &
P2=$!
sleep 0.5
sim node kill n1 >/dev/null
expect_eq "loomd on n1 is gone after SIGKILL" "no" "$(alive "$OLD" && echo yes || echo no)"
sleep 0.3
sim node start n1 >/dev/null
NEW=$(loomd_pid n1)
# the restarted loomd reconciles once at start: wait for its report
reconciled() { (($(grep -c "$DEV: .*remote node" "$RUN/logs/loomd-n1.log") > RECONCILED)); }
wait_for 20 reconciled
sleep 0.5
wait "$P1" "$P2"
expect_true "loomd runs again on n1 with a new pid" eval '[[ -n $NEW && $NEW != "$OLD" ]] && alive "$NEW"'
expect_match "n2 pod -> n1 pod: no ping lost while n1's loomd was killed and restarted" \
	" 20 received, 0% packet loss" "$(cat "$T/ping-ca")"
expect_match "n1 pod -> n2 pod: none lost either" " 20 received, 0% packet loss" "$(cat "$T/ping-ad")"
CTX="before:
$B1
after:
$(vxlan_state n1)"
expect_eq "n1's VXLAN device, routes, FDB and neighbours are as before the restart" "$B1" "$(vxlan_state n1)"
CTX=""
expect_eq "n2's are untouched too" "$B2" "$(vxlan_state n2)"
expect_eq "one route, one FDB entry, one neighbour per remote node, no duplicate" "1 1 1" \
	"$(grep -c '^route ' <<<"$B1") $(grep -c '^fdb ' <<<"$B1") $(grep -c '^neigh ' <<<"$B1")"

# ---- a third node joins
P1N=$(loomd_pid n1) P2N=$(loomd_pid n2)
B1=$(vxlan_state n1) B2=$(vxlan_state n2)
T0=$(date +%s%N)
expect_eq "node add makes n3" "n3" "$(sim node add 2>&1)"
IP[default/e]=$(sim pod add n3 default/e)
wait_for 30 sim exec default/a -- ping -c1 -W1 "${IP[default/e]}" >/dev/null 2>&1
echo "   (n3's pod reachable from n1 after $((($(date +%s%N) - T0) / 1000000)) ms)"
for proto in tcp udp; do
	M=$(sim matrix --proto "$proto" --json)
	expect_eq "$proto: with n3, every pod reaches every pod" "25/25" "$(jq -r '"\(.reachable)/\(.total)"' <<<"$M")"
done
expect_true "icmp: n3's pod pings pods on n1 and n2" \
	wait_for 10 sim exec default/e -- sh -c "ping -c1 -W2 ${IP[default/a]} && ping -c1 -W2 ${IP[default/d]}" >/dev/null
expect_eq "n1's and n2's loomd were not restarted by the join" "$P1N $P2N" "$(loomd_pid n1) $(loomd_pid n2)"
expect_true "n1's and n2's loomd still run" eval 'alive "$P1N" && alive "$P2N"'
MAC3=$(vtep_mac n3)
N3RE="192\.0\.2\.13|$MAC3|${IP[default/e]%.*}\."
expect_eq "n1 and n2 gained exactly one route, FDB entry and neighbour for n3" "3 3" \
	"$(grep -cE "$N3RE" <<<"$(vxlan_state n1)") $(grep -cE "$N3RE" <<<"$(vxlan_state n2)")"
expect_eq "n1's entries for n2 are as before the join" "$B1" "$(vxlan_state n1 | grep -vE "$N3RE")"
expect_eq "n2's entries for n1 are as before the join" "$B2" "$(vxlan_state n2 | grep -vE "$N3RE")"

# ---- n3 removed: its loomd dies, its lease expires, its entries go
n3_gone() { [[ -z $(vxlan_state n1 | grep -E "$N3RE") && -z $(vxlan_state n2 | grep -E "$N3RE") ]]; }
sim node kill n3 >/dev/null
LOOM_STORE=$(jq -r .storeUrl "$RUN/state.json") "$LOOM_BIN/store_put" --expire /loom/nodes/n3 ||
	fail "store_put --expire /loom/nodes/n3"
T0=$(date +%s)
wait_for 30 n3_gone
echo "   (n3's entries gone $(($(date +%s) - T0)) s after its lease expired)"
for n in n1 n2; do
	S=$(vxlan_state "$n")
	CTX="$S"
	expect_eq "$n: no route to n3's subnet left" "" "$(grep '^route ' <<<"$S" | grep -E "$N3RE")"
	expect_eq "$n: no FDB entry for n3's VTEP left" "" "$(grep '^fdb ' <<<"$S" | grep -E "$N3RE")"
	expect_eq "$n: no neighbour for n3's gateway left" "" "$(grep '^neigh ' <<<"$S" | grep -E "$N3RE")"
	expect_eq "$n: the entries for the remaining node stay" "1 1 1" \
		"$(grep -c '^route ' <<<"$S") $(grep -c '^fdb ' <<<"$S") $(grep -c '^neigh ' <<<"$S")"
	CTX=""
done
expect_true "n1 and n2 pods still reach each other after n3 left" \
	sim exec default/a -- ping -c1 -W2 "${IP[default/c]}" >/dev/null

OUT=$(sim down 2>&1)
expect_match "down succeeds" "down" "$OUT"
expect_eq "down leaves no namespace, process or dir" "" \
	"$(ip netns list | grep -E "^$NAME-"; pgrep -af "$RUN/"; [[ -e $RUN ]] && echo "$RUN")"

finish
