#!/usr/bin/env bash
# loom-bridge's anti-spoofing (antiSpoof, the tc/BPF program of
# bpf/antispoof.bpf.c) against the real kernel, in throwaway namespaces:
# pods A, B and C on one bridge of a node netns.
#
# Cases: every pod gets a map element and a tc filter; B's own traffic
# flows; B forging A's IPv4 address or a foreign MAC reaches nothing and
# the drop counters (loom-bpf) rise; a policy that lets only A reach C is
# not bypassed by B forging A's address (and is, once B's filter is removed:
# the control that shows the test can fail); antiSpoof false attaches
# nothing; DEL leaves no element and no filter, also when the veth went
# first; failed ADDs (IPAM exhausted, endpoint record unwritable after the
# filter is attached) leave neither.
#
# The policy is a real NetworkPolicy (pod=c allows ingress only from
# pod=a) enforced by loom-policyd, run inside the node netns on a file:
# store under $T: Namespace and Pods applied with loomctl, the endpoint
# keys loomd would write (/loom/endpoints/<node>/<cid>/eth0) put with
# store_put from the ADD results.  It matches pods by address in
# `table inet loom`, so bridged traffic must pass br_netfilter: the node
# netns gets bridge-nf-call-iptables=1, as loomd sets it.
#
# The BPF objects are pinned in a bpffs mounted under $T for this run
# (bpfPinDir): `ip netns exec` remounts /sys, so /sys/fs/bpf is not shared
# between the plugin's runs here.  The trap unmounts it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

BRIDGE=$LOOM_BIN/loom-bridge
LOOMBPF=$LOOM_BIN/loom-bpf
CNIPATH="$LOOM_BIN:/usr/lib/cni"
POLICYD=$LOOM_BIN/loom-policyd
LOOMCTL=$LOOM_BIN/loomctl
STOREPUT=$LOOM_BIN/store_put
need_exec "$BRIDGE" "$LOOMBPF" "$POLICYD" "$LOOMCTL" "$STOREPUT"
need_cmd nft nftables tc iproute2
[[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] ||
	{ fail "br_netfilter is loaded" "modprobe br_netfilter: policy cannot see bridged traffic"; finish; }

BPFFS="$T/bpffs"
mkdir -p "$BPFFS"
if ! mount -t bpf bpf "$BPFFS"; then
	fail "a BPF filesystem can be mounted" "mount -t bpf bpf $BPFFS failed"
	finish
fi
PD=""
test_cleanup() {
	if [[ -n $PD ]]; then
		kill "$PD" 2>/dev/null
		wait "$PD" 2>/dev/null
	fi
	umount "$BPFFS" 2>/dev/null || true
}
export LOOM_STORE=file:$T/store
PIN="$BPFFS/loom"

# conf NAME BRIDGE SUBNET [TOP_JSON] -> a config path (own dataDir, stateDir)
conf() {
	bridge_conf "$1" "$2" "{\"ranges\": [[{\"subnet\": \"$3\"}]]}" \
		"$(jq -c --arg pin "$PIN" '{isGateway: true, bpfPinDir: $pin} + .' <<<"${4:-{\}}")"
}
PLUGIN=$BRIDGE # netns.sh's cni HOST POD CMD CONF CID [ENV...]
v4of() { jq -r '[.ips[]? | .address | select(contains(":") | not)][0] // "" | split("/")[0]' <<<"$1"; }
ifindex_of() { ip -n "$1" -j link show dev "$2" 2>/dev/null | jq -r '.[0].ifindex // empty'; }
# stats NODE: loom-bpf's JSON for the node
stats() { ip netns exec "$1" "$LOOMBPF" --pin-dir "$PIN" --json 2>/dev/null || echo '[]'; }
# counter NODE IFINDEX FIELD: a jq path into that interface's entry, 0 when none
counter() { stats "$1" | jq -r --argjson i "$2" "[.[] | select(.ifindex == \$i) | $3][0] // 0"; }
has_entry() { stats "$1" | jq -r --argjson i "$2" '[.[] | select(.ifindex == $i and .allowed)] | length'; }
n_entries() { stats "$1" | jq -r 'length'; }
filter_on() { tc -n "$1" filter show dev "$2" ingress 2>/dev/null | grep -c loom_antispoof || true; }
# echo_in POD SRC: ICMP echo requests from SRC that reached POD (nft counter)
echo_in() {
	ip netns exec "$1" nft -j list counter inet spy from_"${2//./_}" 2>/dev/null |
		jq -r '[.nftables[]? | .counter? | select(.) | .packets][0] // 0'
}
spy_on() { # POD SRC
	ip netns exec "$1" nft -f - <<-NFT
		table inet spy {
			counter from_${2//./_} {}
			chain in { type filter hook input priority -10; ip saddr $2 icmp type echo-request counter name from_${2//./_}; }
		}
	NFT
}

echo "== three pods, each with a map element and a tc filter"
ns_adds N=node PA=pa PB=pb PC=pc
CF=$(conf asnet br-as 10.40.0.0/24)
declare -A ADDR VETH IDX IPS
for p in A B C; do
	pod=P$p
	cni "$N" "${!pod}" ADD "$CF" "ctr$p"
	expect_eq "pod $p: ADD succeeds" 0 "$RC"
	ADDR[$p]=$(v4of "$OUT")
	IPS[$p]=$(jq -c '[.ips[]? | .address]' <<<"$OUT")
	VETH[$p]=$(jq -r '[.interfaces[]? | select((.sandbox // "") == "" and .name != "br-as")][0].name // ""' <<<"$OUT")
	IDX[$p]=$(ifindex_of "$N" "${VETH[$p]}")
	CTX="pod $p ${ADDR[$p]} on ${VETH[$p]} (ifindex ${IDX[$p]}); loom-bpf: $(stats "$N" | jq -c .)"
	expect_eq "pod $p: map element for its host veth" 1 "$(has_entry "$N" "${IDX[$p]:-0}")"
	expect_eq "pod $p: tc filter on the host veth's ingress" 1 "$(filter_on "$N" "${VETH[$p]}")"
done
expect_match "pin dir holds prog and maps" '^allowed counters prog$' \
	"$(ls "$PIN"/net*/ 2>/dev/null | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')"
expect_true "the filter runs in direct-action mode" \
	grep -q direct-action <<<"$(tc -n "$N" filter show dev "${VETH[B]}" ingress)"

echo "== B's own traffic flows"
expect_true "B reaches C" pings_retry "$PB" "${ADDR[C]}"
expect_true "B reaches the gateway" pings_retry "$PB" 10.40.0.1
expect_eq "B: no drops of its own traffic but link-local/ND" "0 0 0" \
	"$(counter "$N" "${IDX[B]}" .dropped.ipv4) $(counter "$N" "${IDX[B]}" .dropped.ipv6) $(counter "$N" "${IDX[B]}" .dropped.mac)"
expect_true "B's passed counter rises" test "$(counter "$N" "${IDX[B]}" .passPackets)" -gt 0

echo "== the policy (loom-policyd): only A may reach C"
ip netns exec "$N" sysctl -qw net.bridge.bridge-nf-call-iptables=1
out=$("$LOOMCTL" apply -f - 2>&1 <<EOF
---
apiVersion: v1
kind: Namespace
metadata: {name: as}
$(for p in a b c; do printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: as, labels: {pod: %s}}\nspec: {nodeName: n1, containers: [{name: c}]}\n' "$p" "$p"; done)
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: c-from-a, namespace: as}
spec:
  podSelector: {matchLabels: {pod: c}}
  ingress:
  - from:
    - podSelector: {matchLabels: {pod: a}}
EOF
)
expect_eq "loomctl applies the Namespace, Pods and NetworkPolicy" 0 "$?"
[[ -n $out ]] && CTX="loomctl apply: $out"
for p in A B C; do
	pod=${p,,}
	jq -n --argjson ips "${IPS[$p]}" --arg n "$pod" '{ips: $ips, podNamespace: "as", podName: $n}' |
		"$STOREPUT" "/loom/endpoints/n1/ctr$p/eth0" -
	expect_eq "pod $p: endpoint key written" 0 "$?"
done
ip netns exec "$N" "$POLICYD" --node n1 --store "$LOOM_STORE" 2>>"$T/policyd.log" &
PD=$!
CTX="loom-policyd: $(tail -5 "$T/policyd.log" 2>/dev/null)"
expect_true "loomctl policy wait: loom-policyd has it in force" \
	"$LOOMCTL" policy wait --timeout 20
CTX="loom-policyd: $(tail -5 "$T/policyd.log"); table: $(ip netns exec "$N" nft list table inet loom 2>&1 | head -40)"
expect_true "the node's inet loom table names C's address" \
	grep -qF "${ADDR[C]}" <<<"$(ip netns exec "$N" nft list table inet loom 2>/dev/null)"
spy_on "$PC" "${ADDR[A]}"
expect_true "policy: A reaches C" pings_retry "$PA" "${ADDR[C]}"
expect_true "policy: B (as itself) does not reach C" bash -c "! ip netns exec $PB busybox ping -c1 -W1 ${ADDR[C]} >/dev/null 2>&1"

echo "== B forges A's address"
ip -n "$PB" addr add "${ADDR[A]}/32" dev eth0
before_in=$(echo_in "$PC" "${ADDR[A]}") before_drop=$(counter "$N" "${IDX[B]}" .dropped.ipv4)
for i in 1 2 3; do pings "$PB" "${ADDR[C]}" -I "${ADDR[A]}"; done
CTX="loom-bpf: $(stats "$N" | jq -c .)"
expect_eq "forged IPv4: nothing from B as A arrives in C" "$before_in" "$(echo_in "$PC" "${ADDR[A]}")"
expect_true "forged IPv4: B's ipv4 drop counter rose by 3 or more" \
	test "$(counter "$N" "${IDX[B]}" .dropped.ipv4)" -ge $((before_drop + 3))
expect_true "forged IPv4: B's own address still reaches the gateway" pings_retry "$PB" 10.40.0.1 -I "${ADDR[B]}"

echo "== B forges a MAC"
MAC_B=$(ip -n "$PB" -j link show dev eth0 | jq -r '.[0].address')
ip -n "$PB" link set eth0 address 02:00:5e:00:be:ef
before=$(counter "$N" "${IDX[B]}" .dropped.mac)
expect_true "forged MAC: B reaches nothing" bash -c "! ip netns exec $PB busybox ping -c2 -W1 10.40.0.1 >/dev/null 2>&1"
expect_true "forged MAC: B's mac drop counter rose" test "$(counter "$N" "${IDX[B]}" .dropped.mac)" -gt "$before"
ip -n "$PB" link set eth0 address "$MAC_B"
expect_true "forged MAC: B's own MAC works again" pings_retry "$PB" 10.40.0.1

echo "== control: without B's filter the forged address does bypass the policy"
tc -n "$N" filter del dev "${VETH[B]}" ingress
before_in=$(echo_in "$PC" "${ADDR[A]}")
for i in 1 2; do pings "$PB" "${ADDR[C]}" -I "${ADDR[A]}"; done
expect_true "control: forged pings from B arrive in C without the filter" \
	test "$(echo_in "$PC" "${ADDR[A]}")" -gt "$before_in"

echo "== antiSpoof false attaches nothing"
ns_add poff; POFF=$NS
CFOFF=$(conf offnet br-off 10.41.0.0/24 '{"antiSpoof": false}')
entries=$(n_entries "$N")
cni "$N" "$POFF" ADD "$CFOFF" ctrOff
expect_eq "antiSpoof false: ADD succeeds" 0 "$RC"
VOFF=$(jq -r '[.interfaces[]? | select((.sandbox // "") == "" and .name != "br-off")][0].name // ""' <<<"$OUT")
expect_eq "antiSpoof false: no tc filter" 0 "$(filter_on "$N" "$VOFF")"
expect_eq "antiSpoof false: no map element" "$entries" "$(n_entries "$N")"

echo "== DEL"
cni "$N" "$PB" DEL "$CF" ctrB
expect_eq "DEL B succeeds" 0 "$RC"
expect_eq "DEL B: no map element" 0 "$(has_entry "$N" "${IDX[B]}")"
expect_eq "DEL B: no counters" 0 "$(stats "$N" | jq --argjson i "${IDX[B]}" '[.[] | select(.ifindex == $i)] | length')"
expect_eq "DEL B: veth and its filter gone" "" "$(tc -n "$N" filter show dev "${VETH[B]}" ingress 2>/dev/null)"
ip -n "$N" link del "${VETH[C]}"
cni "$N" "$PC" DEL "$CF" ctrC
expect_eq "DEL C after its veth was deleted succeeds" 0 "$RC"
expect_eq "DEL C after its veth was deleted: no map element" 0 "$(has_entry "$N" "${IDX[C]}")"
cni "$N" "$PC" DEL "$CF" ctrC
expect_eq "DEL C twice succeeds" 0 "$RC"

echo "== failed ADDs leave no element and no filter"
ns_adds PX1=px1 PX2=px2
CFX=$(conf xnet br-x 10.42.0.0/30 '{"isGateway": false}')
jq '.ipam.ranges = [[{subnet: "10.42.0.0/30", rangeStart: "10.42.0.2", rangeEnd: "10.42.0.2"}]]' "$CFX" >"$CFX.1" && mv "$CFX.1" "$CFX"
cni "$N" "$PX1" ADD "$CFX" ctrX1
expect_eq "exhausted: first ADD succeeds" 0 "$RC"
entries=$(n_entries "$N") veths=$(host_veths "$N")
cni "$N" "$PX2" ADD "$CFX" ctrX2
expect_eq "exhausted: second ADD fails" 1 "$RC"
expect_eq "exhausted: map elements unchanged" "$entries" "$(n_entries "$N")"
expect_eq "exhausted: no new veth (so no filter)" "$veths" "$(host_veths "$N")"

ns_add pr; PR=$NS
: >"$T/not-a-dir"
CFR=$(conf rnet br-r 10.43.0.0/24)
jq --arg s "$T/not-a-dir/state" '.stateDir = $s' "$CFR" >"$CFR.1" && mv "$CFR.1" "$CFR"
cni "$N" "$PR" ADD "$CFR" ctrR
expect_eq "record unwritable (after the filter): ADD fails" 1 "$RC"
expect_eq "record unwritable: map elements unchanged" "$entries" "$(n_entries "$N")"
expect_eq "record unwritable: no new veth (so no filter)" "$veths" "$(host_veths "$N")"

finish
