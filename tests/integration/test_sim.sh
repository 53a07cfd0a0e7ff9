#!/usr/bin/env bash
# loom-sim end to end: a cluster of namespaces made, used and removed.
#
#   bridge mode, 2 nodes: pods on both nodes get addresses from their node's
#   subnet; pods on one node reach each other over TCP and UDP, pods on
#   different nodes do not (no overlay in this mode); extra ports are
#   served; exec, status and pod del do what they say; a duplicate pod and
#   an unknown mode are refused; down leaves no namespace, process, mount or state
#   dir, also when state.json was lost (a crashed run).
#   vxlan mode (when loom-vxlan is built), 2 nodes: every pod reaches every
#   pod over TCP and UDP.

source "$(dirname "$0")/lib.sh"

SIM=$LOOM_BIN/loom-sim
for b in loom-sim loom-probe loomd loomctl loom-bridge; do
	[[ -x "$LOOM_BIN/$b" ]] || { echo "missing $LOOM_BIN/$b: build it first" >&2; exit 2; }
done

NAME=lsim$$
NAMES=("$NAME")
_sim_exit() {
	local rc=$? n
	for n in "${NAMES[@]}"; do "$SIM" --name "$n" down >/dev/null 2>&1; done
	_cleanup
	exit "$rc"
}
trap _sim_exit EXIT

sim() { "$SIM" --name "$NAME" "$@"; }

# leftovers NAME: prints whatever of cluster NAME is still on the machine
leftovers() {
	local n=$1
	ip netns list | awk '{print $1}' | grep -E "^$n-" | sed 's/^/netns /'
	pgrep -af "/run/loom-sim/$n/" | sed 's/^/process /'
	grep -F "/run/loom-sim/$n/" /proc/mounts | sed 's/^/mount /'
	[[ -e /run/loom-sim/$n ]] && echo "dir /run/loom-sim/$n"
	return 0
}

# reach JSON FROM TO: true/false from a matrix --json
reach() {
	jq -r --arg f "$2" --arg t "$3" '
		(.pods | map(.pod) | index($f)) as $i | (.pods | map(.pod) | index($t)) as $j |
		.results[$i][$j]' <<<"$1"
}

# ---- refused up front, nothing made
OUT=$(sim up --nodes 2 --mode ipip 2>&1)
RC=$?
expect_eq "an unknown mode is refused (exit 2)" 2 "$RC"
expect_match "the refusal names the mode and the ones there are" 'unknown mode "ipip".*vxlan, bgp or bridge' "$OUT"
expect_eq "a refused up leaves nothing" "" "$(leftovers "$NAME")"

# ---- bridge mode
OUT=$(sim up --nodes 2 --mode bridge 2>&1)
RC=$?
expect_eq "up --mode bridge succeeds" 0 "$RC"
[[ $RC == 0 ]] || { echo "$OUT"; finish; }
expect_true "state.json describes 2 nodes" \
	jq -e >/dev/null '.nodes == 2 and .mode == "bridge" and (.nodeList | length) == 2' "/run/loom-sim/$NAME/state.json"
expect_true "node namespaces reach each other over the underlay" \
	ip netns exec "$NAME-n1" busybox ping -c1 -W2 192.0.2.12 >/dev/null

A=$(sim pod add n1 default/a --label app=web)
B=$(sim pod add n1 default/b --port web:tcp:8080)
C=$(sim pod add n2 other/c)
expect_match "pod on n1 gets an address from n1's subnet" '^10\.244\.1\.[0-9]+$' "$A"
expect_match "second pod on n1 too" '^10\.244\.1\.[0-9]+$' "$B"
expect_match "pod on n2 gets an address from n2's subnet" '^10\.244\.2\.[0-9]+$' "$C"
OUT=$(sim pod add n1 default/a 2>&1)
expect_match "adding an existing pod is refused" "exists" "$OUT"

OUT=$(LOOM_STORE=file:/run/loom-sim/$NAME/store "$LOOM_BIN/loomctl" get pods -A -o json 2>&1)
expect_eq "Pod objects carry nodeName, labels and ports" "n1 web 8080" \
	"$(jq -r '.items[] | select(.metadata.name == "b" or .metadata.name == "a") | .spec.nodeName' <<<"$OUT" | sort -u) $(jq -r '.items[] | select(.metadata.name == "a") | .metadata.labels.app' <<<"$OUT") $(jq -r '.items[] | select(.metadata.name == "b") | .spec.containers[0].ports[0].containerPort' <<<"$OUT")"

for proto in tcp udp; do
	M=$(sim matrix --proto "$proto" --port 80 --json)
	expect_eq "$proto: pods on one node reach each other" "true true" \
		"$(reach "$M" default/a default/b) $(reach "$M" default/b default/a)"
	expect_eq "$proto: a pod reaches itself" "true" "$(reach "$M" other/c other/c)"
	expect_eq "$proto: pods on different nodes do not (no overlay in bridge mode)" "false false" \
		"$(reach "$M" default/a other/c) $(reach "$M" other/c default/b)"
done
M=$(sim matrix --port 8080 --json)
expect_eq "a declared port is served only by its pod" "true false" \
	"$(reach "$M" default/a default/b) $(reach "$M" default/b default/a)"

OUT=$(sim matrix | cat)
expect_match "piped matrix is plain text with . and X" '^ +1 +default/a +n1 .* \. +\. +X$' "$OUT"
expect_eq "piped matrix has no colour codes" "" "$(grep -c $'\033' <<<"$OUT" | grep -v '^0$')"

OUT=$(sim exec default/a -- ip -o -4 addr show dev eth0)
expect_match "exec runs inside the pod" "inet $A/24" "$OUT"

OUT=$(sim status)
expect_match "status shows n1's loomd running" '^n1 .* running' "$OUT"
expect_match "status shows n2's loomd running" '^n2 .* running' "$OUT"
expect_match "status lists pods with node and address" "other/c +n2 +$C" "$OUT"

OUT=$(sim pod del default/b 2>&1)
expect_match "pod del succeeds" "deleted" "$OUT"
expect_eq "pod del removes the pod's netns" "no" "$(ip netns list | grep -q "^$NAME-p-default-b" && echo yes || echo no)"
expect_eq "matrix no longer probes a deleted pod" 2 "$(sim matrix --json | jq '.pods | length')"
OUT=$(LOOM_STORE=file:/run/loom-sim/$NAME/store "$LOOM_BIN/loomctl" get pods -A 2>&1)
expect_eq "pod del removes the Pod object" "" "$(grep -E '^default +b ' <<<"$OUT")"

OUT=$(sim down 2>&1)
expect_match "down succeeds" "down" "$OUT"
expect_eq "down leaves nothing behind" "" "$(leftovers "$NAME")"

# ---- a crashed run: state.json lost, down still cleans by prefix
NAME=lsim$$c
NAMES+=("$NAME")
if sim up --nodes 1 --mode bridge >/dev/null 2>&1 && sim pod add n1 default/a >/dev/null; then
	rm -f "/run/loom-sim/$NAME/state.json"
	sim down >/dev/null 2>&1
	expect_eq "down without state.json leaves nothing behind" "" "$(leftovers "$NAME")"
else
	fail "1-node cluster for the crash test comes up"
fi

# ---- vxlan mode, when the plugin exists
if [[ -x "$LOOM_BIN/loom-vxlan" ]]; then
	NAME=lsim$$v
	NAMES+=("$NAME")
	OUT=$(sim up --nodes 2 --mode vxlan 2>&1)
	RC=$?
	expect_eq "up --mode vxlan succeeds" 0 "$RC"
	if [[ $RC == 0 ]]; then
		sim pod add n1 default/a >/dev/null
		sim pod add n1 default/b >/dev/null
		sim pod add n2 default/c >/dev/null
		sim pod add n2 default/d >/dev/null
		for proto in tcp udp; do
			M=$(sim matrix --proto "$proto" --json)
			expect_eq "vxlan $proto: every pod reaches every pod across nodes" "16/16" \
				"$(jq -r '"\(.reachable)/\(.total)"' <<<"$M")"
		done
		sim down >/dev/null 2>&1
		expect_eq "vxlan: down leaves nothing behind" "" "$(leftovers "$NAME")"
	else
		echo "$OUT"
	fi
else
	echo "skip vxlan mode: $LOOM_BIN/loom-vxlan not built"
fi

finish
