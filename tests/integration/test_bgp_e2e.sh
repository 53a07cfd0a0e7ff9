#!/bin/bash
# bgp mode end to end on loom-sim: three nodes, one BIRD each driven by
# loomd.  Pods on different nodes reach each other (ICMP, TCP, UDP); other
# nodes' blocks are `proto bird` routes; a node whose BIRD dies has its
# block withdrawn on the others and back once loomd restarts BIRD; a node
# whose BIRD goes silent (stopped, TCP open) loses its block on the others
# within the hold time and gets it back; loomctl nodes shows the sessions; a
# deleted pod leaves no host route; a fourth node joins without any other
# BIRD restarting.
set -u
BIN=${LOOM_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build}
export LOOM_BIN=$BIN
SIM="$BIN/loom-sim"
for b in loom-sim loomd loom-bgp loomctl; do
	[ -x "$BIN/$b" ] || { echo "SKIP: $BIN/$b not built"; exit 77; }
done
command -v bird >/dev/null || { echo "SKIP: bird (bird2) not installed"; exit 77; }
NAME=bgpe2e$$
NAME=${NAME:0:16}
DIR=/run/loom-sim/$NAME
STOPPED=""
cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	"$SIM" --name "$NAME" down >/dev/null 2>&1
}
trap cleanup EXIT
fails=0
ok() { echo "ok   - $*"; }
bad() { echo "FAIL - $*"; fails=$((fails + 1)); }
# wait_for SECONDS CMD...: bounded polling, no fixed sleeps
wait_for() {
	local t=$(($1 * 10)); shift
	while [ $t -gt 0 ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; t=$((t - 1)); done
	return 1
}
sim() { "$SIM" --name "$NAME" "$@"; }
nsx() { ip netns exec "$NAME-$1" "${@:2}"; }
bird_pid() { cat "$DIR/nodes/$1/run/bird-default.pid" 2>/dev/null; }
block_of() { sed -n 's/^LOOM_SUBNET=//p' "$DIR/nodes/$1/run/default.env"; }
has_bird_route() { nsx "$1" ip route show "$2" proto bird | grep -q .; }
no_route() { ! nsx "$1" ip route show "$2" | grep -q .; }

sim up --nodes 3 --mode bgp >/dev/null || { echo "FAIL - loom-sim up --mode bgp"; exit 1; }
for n in n1 n2 n3; do wait_for 20 test -s "$DIR/nodes/$n/run/default.env" || bad "$n: no lease file"; done

# Every node learns the two other blocks from BIRD.
for n in n1 n2 n3; do
	for m in n1 n2 n3; do
		[ $n = $m ] && continue
		b=$(block_of $m)
		if wait_for 30 has_bird_route $n "$b"; then ok "$n: $m's block $b is proto bird"
		else bad "$n: no proto bird route to $m's block $b"; nsx $n ip route; fi
	done
done

sim pod add n1 default/a >/dev/null && sim pod add n2 default/b >/dev/null &&
	sim pod add n3 default/c >/dev/null || bad "pod add"
A=$(jq -r '.pods[] | select(.pod=="default/a") | .address' < <(sim matrix --json))
B=$(jq -r '.pods[] | select(.pod=="default/b") | .address' < <(sim matrix --json))
C=$(jq -r '.pods[] | select(.pod=="default/c") | .address' < <(sim matrix --json))
for proto in tcp udp; do
	r=$(sim matrix --proto $proto --json | jq -r '"\(.reachable)/\(.total)"')
	[ "$r" = "9/9" ] && ok "matrix $proto: $r" || bad "matrix $proto: $r"
done
for pair in "a $B" "a $C" "b $A" "b $C" "c $A" "c $B"; do
	set -- $pair
	if sim exec default/$1 -- ping -c1 -W2 "$2" >/dev/null 2>&1; then ok "icmp $1 -> $2"
	else bad "icmp $1 -> $2"; fi
done

# The pod routes are the plugin's (proto 76), not BIRD's; BIRD left them be.
nsx n2 ip route show "$B" | grep -q "proto 76" && ok "n2: pod route $B is proto 76" ||
	bad "n2: pod route $B missing or not proto 76"

# Status published for loomctl: every session Established.
st=$(find "$DIR/store" -name '*bgpstatus*n1' -type f 2>/dev/null | head -1)
if wait_for 10 bash -c "grep -ao '\"state\":\"Established\"' '$st' | wc -l | grep -qx 2"; then
	ok "n1's /loom/bgpstatus: 2 sessions Established"
else bad "n1's /loom/bgpstatus: $(grep -ao '{\"node.*' "$st")"; fi

# loomctl nodes shows them: a PEERS column, n1's two sessions by node name.
STORE=$(jq -r .storeUrl "$DIR/state.json")
out=$("$BIN/loomctl" --store "$STORE" nodes 2>&1)
if grep -E '^n1 ' <<<"$out" | grep -qE 'n2:Established\([0-9]+/[0-9]+\) n3:Established|n3:Established\([0-9]+/[0-9]+\) n2:Established' &&
	head -1 <<<"$out" | grep -q PEERS; then ok "loomctl nodes: n1's sessions to n2 and n3 Established"
else bad "loomctl nodes: $out"; fi
out=$("$BIN/loomctl" --store "$STORE" nodes -o wide 2>&1)
grep -E '^n1 ' <<<"$out" | grep -qE 'n2\[192\.[0-9.]+ AS64512\]:Established' &&
	ok "loomctl nodes -o wide: peer address and AS" || bad "loomctl nodes -o wide: $out"

# n2's BIRD dies while its loomd is held: n2's block leaves n1 and n3.
B2=$(block_of n2)
STOPPED=$(cat "$DIR/pids/loomd-n2.pid")
kill -STOP "$STOPPED"
kill -KILL "$(bird_pid n2)"
for n in n1 n3; do
	if wait_for 12 no_route $n "$B2"; then ok "$n: n2's block withdrawn after its BIRD stopped"
	else bad "$n: n2's block still routed: $(nsx $n ip route show "$B2")"
		nsx $n birdc -s "$DIR/nodes/$n/run/bird-default.ctl" show protocols; fi
done
kill -CONT "$STOPPED"; STOPPED=""
for n in n1 n3; do
	if wait_for 30 has_bird_route $n "$B2"; then ok "$n: n2's block back once loomd restarted BIRD"
	else bad "$n: n2's block did not come back"; fi
done
wait_for 10 sim exec default/a -- ping -c1 -W1 "$B" && ok "icmp a -> b again" || bad "icmp a -> b after BIRD restart"

# n3's BIRD goes silent (SIGSTOP: its TCP sessions stay open, no keepalive
# leaves): the hold time loom-sim sets (6 s) takes n3's block off n1 and n2.
B3=$(block_of n3)
STOPPED=$(bird_pid n3)
t0=$SECONDS
kill -STOP "$STOPPED"
for n in n1 n2; do
	if wait_for 12 no_route $n "$B3"; then ok "$n: silent n3's block withdrawn within the hold time ($((SECONDS - t0)) s)"
	else bad "$n: silent n3's block still routed after $((SECONDS - t0)) s"; fi
done
kill -CONT "$STOPPED"; STOPPED=""
for n in n1 n2; do
	if wait_for 30 has_bird_route $n "$B3"; then ok "$n: n3's block back once its BIRD speaks again"
	else bad "$n: n3's block did not come back"; fi
done

# A deleted pod leaves no host route.
sim pod del default/b >/dev/null || bad "pod del"
no_route n2 "$B/32" && ok "n2: no host route to deleted pod $B" || bad "n2: host route to $B left"

# A fourth node joins; the other BIRDs reload, none restarts.
P1=$(bird_pid n1) P2=$(bird_pid n2) P3=$(bird_pid n3)
sim node add >/dev/null || bad "node add"
wait_for 20 test -s "$DIR/nodes/n4/run/default.env"
B4=$(block_of n4)
for n in n1 n2 n3; do
	if wait_for 30 has_bird_route $n "$B4"; then ok "$n: n4's block $B4 is proto bird"
	else bad "$n: no route to n4's block"; fi
done
[ "$P1 $P2 $P3" = "$(bird_pid n1) $(bird_pid n2) $(bird_pid n3)" ] &&
	ok "n1..n3 kept their BIRD (pids $P1 $P2 $P3)" || bad "a BIRD restarted: $P1 $P2 $P3 -> $(bird_pid n1) $(bird_pid n2) $(bird_pid n3)"
sim pod add n4 default/d >/dev/null || bad "pod add on n4"
D=$(jq -r '.pods[] | select(.pod=="default/d") | .address' < <(sim matrix --json))
wait_for 20 sim exec default/a -- ping -c1 -W1 "$D" && ok "icmp a -> d (n4)" || bad "icmp a -> d (n4)"

# The Network's bgp settings change: loomd sees the key change and hands
# the new section to the controller, which re-renders BIRD's config and
# reloads it; no BIRD restarts.
P1=$(bird_pid n1) P2=$(bird_pid n2)
jq '.spec.backend.bgp.holdTime = 9' "$DIR/manifests/network.json" >"$DIR/manifests/network-hold9.json"
"$BIN/loomctl" --store "$STORE" apply -f "$DIR/manifests/network-hold9.json" >/dev/null || bad "apply a new holdTime"
for n in n1 n2 n3 n4; do
	if wait_for 10 grep -q "hold time 9;" "$DIR/nodes/$n/run/bird-default.conf"; then ok "$n: BIRD's config has the new hold time"
	else bad "$n: BIRD's config kept its hold time: $(grep 'hold time' "$DIR/nodes/$n/run/bird-default.conf" | head -1)"; fi
done
[ "$P1 $P2" = "$(bird_pid n1) $(bird_pid n2)" ] && ok "a changed bgp section reloads BIRD, no restart" ||
	bad "a BIRD restarted on a bgp section change"
wait_for 20 sim exec default/a -- ping -c1 -W1 "$D" && ok "icmp a -> d after the change" || bad "icmp a -> d after the change"

echo "$fails failure(s)"
[ $fails -eq 0 ]
