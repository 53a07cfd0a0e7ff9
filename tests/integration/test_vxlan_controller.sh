#!/usr/bin/env bash
# loomd's vxlan overlay controller on real namespaces: "nodes" are netns on
# an underlay bridge (192.0.2.0/24) in a fourth netns, sharing a file:
# store; each runs its own loomd (--ttl 3).
#
#   loom.1 has the right vni/local/port/mtu, no learning, the block's first
#   address as /32; every node has a permanent neighbour, an FDB entry and
#   a proto-76 route for every other node, and the /32s ping over the
#   overlay; a third node joins without restarts; a SIGKILLed loomd leaves
#   its dataplane and, once its lease expires, loses its entries on the
#   others; a restart within the TTL changes nothing; stale entries are
#   removed at start, the user's are not; a loom.1 with a wrong port is
#   recreated, with the same VTEP MAC.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netns.sh"

LOOMD=$LOOM_BIN/loomd
LOOMCTL=$LOOM_BIN/loomctl
for b in "$LOOMD" "$LOOMCTL"; do
	[[ -x "$b" ]] || { echo "missing $b: build loomd and loomctl" >&2; exit 2; }
done
command -v bridge >/dev/null || { echo "bridge (iproute2) is required" >&2; exit 2; }
command -v busybox >/dev/null || { echo "busybox is required for ping (apt-get install busybox-static)" >&2; exit 2; }

STORE=file:$T/store
DEV=loom.1
declare -A PID=() ADDR=()

# Every loomd of ours is stopped by pid before lib.sh removes $T.
test_cleanup() {
	local n
	for n in "${!PID[@]}"; do kill -KILL "${PID[$n]}" 2>/dev/null; done
	for n in "${!PID[@]}"; do wait "${PID[$n]}" 2>/dev/null; done
	return 0
}

ns_add ul
UL=$NS
ip -n "$UL" link add br0 type bridge
ip -n "$UL" link set br0 up

# node SHORT N: netns ${NS_PREFIX}SHORT with eth0 = 192.0.2.N/24 on br0
node() {
	ns_add "$1"
	ip -n "$UL" link add "v$1" type veth peer name eth0 netns "$NS"
	ip -n "$UL" link set "v$1" master br0 up
	ip -n "$NS" addr add "192.0.2.$2/24" dev eth0
	ip -n "$NS" link set eth0 up
	ADDR[$1]=192.0.2.$2
}
nsn() { echo "$NS_PREFIX$1"; }

start() {
	local n=$1
	mkdir -p "$T/$n"
	ip netns exec "$(nsn "$n")" "$LOOMD" --node "$n" --address "${ADDR[$n]}" --store "$STORE" \
		--run-dir "$T/$n/run" --state-dir "$T/$n/ep" --ttl 3 >>"$T/$n.log" 2>&1 &
	PID[$n]=$!
}
kill9() {
	kill -KILL "${PID[$1]}" 2>/dev/null
	{ wait "${PID[$1]}"; } 2>/dev/null
	unset "PID[$1]"
}

subnet() { sed -n 's/^LOOM_SUBNET=//p' "$T/$1/run/default.env" 2>/dev/null; }
gw() { local s; s=$(subnet "$1"); echo "${s%/*}"; }
mac() { ip -n "$(nsn "$1")" -o link show "$DEV" 2>/dev/null | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }

# has A B: A holds B's neighbour, FDB entry and route
has() {
	local ns g m
	ns=$(nsn "$1") g=$(gw "$2") m=$(mac "$2")
	[[ -n "$g" && -n "$m" ]] || return 1
	ip -n "$ns" neigh show dev "$DEV" | grep -q "^$g lladdr $m PERMANENT" &&
		bridge -n "$ns" fdb show dev "$DEV" | grep -q "^$m dst ${ADDR[$2]} self permanent" &&
		ip -n "$ns" route show dev "$DEV" proto 76 | grep -q "^$(subnet "$2") via $g onlink"
}
# lacks A MAC GW SUBNET: none of those entries on A
lacks() {
	local ns
	ns=$(nsn "$1")
	! ip -n "$ns" neigh show dev "$DEV" | grep -q "^$3 " &&
		! bridge -n "$ns" fdb show dev "$DEV" | grep -q "^$2 " &&
		! ip -n "$ns" route show dev "$DEV" | grep -q "^$4 "
}
# counts A: "neighbours fdb routes" loom holds on A
counts() {
	local ns
	ns=$(nsn "$1")
	echo "$(ip -n "$ns" neigh show dev "$DEV" nud permanent | grep -c .)" \
		"$(bridge -n "$ns" fdb show dev "$DEV" | grep -c .)" \
		"$(ip -n "$ns" route show dev "$DEV" proto 76 | grep -c .)"
}
mesh_ok() {
	local a b
	for a in "$@"; do for b in "$@"; do
		[[ $a == "$b" ]] || has "$a" "$b" || return 1
	done; done
}
dump() {
	local ns
	ns=$(nsn "$1")
	ip -n "$ns" -d link show "$DEV"
	# the kernel finishes IPv6 DAD on the link-local address on its own
	# clock: its "tentative" flag is not loomd's state
	ip -n "$ns" addr show dev "$DEV" | sed 's/ tentative//'
	bridge -n "$ns" fdb show dev "$DEV"
	ip -n "$ns" neigh show dev "$DEV"
	ip -n "$ns" route show
}
# busybox ping: iputils is not on a minimal Debian (see test_bridge.sh)
ping_ok() { ip netns exec "$(nsn "$1")" busybox ping -c1 -W1 -I "$(gw "$1")" "$(gw "$2")" >/dev/null 2>&1; }

cat >"$T/net.yaml" <<'EOF'
apiVersion: loom.dev/v1
kind: Network
metadata:
  name: default
spec:
  cidr: 10.244.0.0/16
  subnetLength: 24
  backend:
    type: vxlan
EOF
"$LOOMCTL" --store "$STORE" apply -f "$T/net.yaml" >/dev/null || { echo "loomctl apply failed" >&2; exit 2; }

node n1 11
node n2 12
start n1
start n2

# --- two nodes ---
expect_true "n1 and n2 program each other" wait_until 60 mesh_ok n1 n2
for n in n1 n2; do
	link=$(ip -n "$(nsn "$n")" -d link show "$DEV" 2>&1)
	expect_match "$n: $DEV is vxlan id 1, local, dstport 8472, nolearning" \
		"vxlan id 1 local ${ADDR[$n]//./\\.} .*dstport 8472 nolearning" "$link"
	expect_match "$n: $DEV mtu is the underlay's minus 50, up" "mtu 1450 .*state UNKNOWN|<[A-Z,_]*UP[A-Z,_]*> mtu 1450" "$link"
	expect_match "$n: VTEP MAC is locally administered unicast" '^[0-9a-f][26ae]:' "$(mac "$n")"
	expect_eq "$n: $DEV holds only the block's first address as /32" "$(gw "$n")/32" \
		"$(ip -n "$(nsn "$n")" -4 -o addr show dev "$DEV" | awk '{print $4}')"
	expect_eq "$n: one neighbour, fdb entry and route" "1 1 1" "$(counts "$n")"
	expect_eq "$n: ip_forward" 1 "$(ip netns exec "$(nsn "$n")" cat /proc/sys/net/ipv4/ip_forward)"
	if [[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]]; then
		expect_eq "$n: bridge-nf-call-iptables" 1 \
			"$(ip netns exec "$(nsn "$n")" cat /proc/sys/net/bridge/bridge-nf-call-iptables)"
	fi
done
expect_true "n1 pings n2 over the overlay" ping_ok n1 n2
expect_true "n2 pings n1 over the overlay" ping_ok n2 n1

# --- a third node joins ---
node n3 13
start n3
expect_true "n3 joins: all three program each other, no restart" wait_until 60 mesh_ok n1 n2 n3
expect_eq "n1: two of each after the join" "2 2 2" "$(counts n1)"
expect_true "n1 pings n3" ping_ok n1 n3
expect_true "n3 pings n2" ping_ok n3 n2

# --- restart within the TTL changes nothing ---
dump n1 >"$T/n1.before"
dump n2 >"$T/n2.before"
kill9 n1
: >"$T/n1.log"
start n1
expect_true "restarted n1 reconciles: both nodes already right" \
	wait_until 50 grep -q "2 remote node(s), 0 programmed, 2 already right" "$T/n1.log"
dump n1 >"$T/n1.after"
dump n2 >"$T/n2.after"
expect_eq "restart: n1's device, addresses, fdb, neighbours and routes unchanged" \
	"$(cat "$T/n1.before")" "$(cat "$T/n1.after")"
expect_eq "restart: n2 unchanged" "$(cat "$T/n2.before")" "$(cat "$T/n2.after")"
expect_true "restart: n1 still pings n2" ping_ok n1 n2

# --- a killed node's lease expires: the others drop its entries ---
g3=$(gw n3) m3=$(mac n3) s3=$(subnet n3)
kill9 n3
expect_true "n3 killed: its dataplane stays" has n3 n1
expect_true "n3's lease expires: n1 drops its entries" wait_until 80 lacks n1 "$m3" "$g3" "$s3"
expect_true "n3's lease expires: n2 drops its entries" wait_until 30 lacks n2 "$m3" "$g3" "$s3"
expect_true "n1 keeps n2's entries" has n1 n2
expect_eq "n1: one of each again" "1 1 1" "$(counts n1)"

# --- stale entries are removed at start, the user's are left ---
kill9 n1
N1=$(nsn n1)
ip -n "$N1" neigh add 10.244.200.0 lladdr 02:00:00:00:00:99 dev "$DEV" nud permanent
bridge -n "$N1" fdb append 02:00:00:00:00:99 dev "$DEV" dst 192.0.2.99
ip -n "$N1" route add 10.244.200.0/24 via 10.244.200.0 dev "$DEV" onlink proto 76
ip -n "$N1" route add 10.99.0.0/24 dev "$DEV" proto static
dump n2 >"$T/n2.before"
: >"$T/n1.log"
start n1
expect_true "stale: n1 removes the planted entries" \
	wait_until 50 lacks n1 02:00:00:00:00:99 10.244.200.0 10.244.200.0/24
expect_true "stale: n1 keeps n2's entries" has n1 n2
expect_true "stale: the user's own route on $DEV stays" \
	bash -c "ip -n '$N1' route show dev '$DEV' | grep -q '^10.99.0.0/24'"
expect_eq "stale: n2 untouched" "$(cat "$T/n2.before")" "$(dump n2)"

# --- a loom.1 with the wrong port is recreated, same VTEP MAC ---
m1=$(mac n1)
kill9 n1
ip -n "$N1" link del "$DEV"
ip -n "$N1" link add "$DEV" type vxlan id 1 local "${ADDR[n1]}" dstport 4789 nolearning
: >"$T/n1.log"
start n1
expect_true "wrong port: $DEV is recreated with dstport 8472" \
	wait_until 50 bash -c "ip -n '$N1' -d link show '$DEV' | grep -q 'dstport 8472'"
expect_true "wrong port: entries back" wait_until 30 has n1 n2
expect_eq "wrong port: the VTEP MAC is the same" "$m1" "$(mac n1)"
expect_true "wrong port: n1 pings n2" ping_ok n1 n2

# --- the Network's vxlan port changes: every loomd follows (it watches the
# Network), its device recreated with the new port, entries back ---
sed 's/    type: vxlan/    type: vxlan\n    vxlan: {port: 4789}/' "$T/net.yaml" >"$T/net-4789.yaml"
"$LOOMCTL" --store "$STORE" apply -f "$T/net-4789.yaml" >/dev/null
for n in n1 n2; do
	expect_true "port change: $n's $DEV is recreated with dstport 4789" \
		wait_until 50 bash -c "ip -n '$(nsn $n)' -d link show '$DEV' | grep -q 'dstport 4789'"
done
expect_true "port change: n1 and n2 program each other again" wait_until 50 mesh_ok n1 n2
expect_true "port change: n1 pings n2" ping_ok n1 n2
"$LOOMCTL" --store "$STORE" apply -f "$T/net.yaml" >/dev/null
expect_true "port back: n1's $DEV has dstport 8472 again" \
	wait_until 50 bash -c "ip -n '$N1' -d link show '$DEV' | grep -q 'dstport 8472'"
expect_true "port back: n1 and n2 program each other" wait_until 50 mesh_ok n1 n2

for n in "${!PID[@]}"; do
	expect_true "loomd $n still running" kill -0 "${PID[$n]}"
done

# --- SIGTERM: a clean exit (no leak under the sanitizers), dataplane kept ---
kill -TERM "${PID[n2]}"
{ wait "${PID[n2]}"; } 2>/dev/null
rc=$?
unset "PID[n2]"
expect_eq "SIGTERM: loomd n2 exits 0" 0 "$rc"
expect_true "SIGTERM: n2 keeps its entries for n1" has n2 n1
expect_true "SIGTERM: n2 still pings n1" ping_ok n2 n1
if [[ $FAILED -gt 0 ]]; then
	for n in n1 n2 n3; do echo "--- $n.log"; tail -20 "$T/$n.log"; done
fi
finish
