#!/usr/bin/env bash
# loom-vxlan exec'd as a runtime does, in throwaway namespaces: the node is
# a netns of this run, the lease file loomd would write is written by hand
# into a temp run dir, and two more namespaces stand for the world outside
# the cluster (198.51.100.0/24) and for another node's pods (10.244.9.0/24,
# routed from the node as the VXLAN device would).
#
# Cases: no lease file (code 11, nothing made); two pods from 10.244.3.2 on
# with the lease's MTU and the cluster route via 10.244.3.1, reaching each
# other and the gateway; traffic leaving the cluster CIDR masqueraded,
# traffic to another node's pod subnet not; CHECK; a 0.3.1 result; DEL
# without the lease file (veth, address, firewall elements, record gone);
# DEL twice.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

mode_plugin_setup "${LOOM_VXLAN:-$LOOM_BIN/loom-vxlan}"
LEASE=$RUN/vxnet.env
vxconf() { mode_conf loom-vxlan vxnet "${1:-1.0.0}"; }
write_lease() {
	printf 'LOOM_NETWORK=10.244.0.0/16\nLOOM_SUBNET=10.244.3.0/24\nLOOM_MTU=1450\nLOOM_IPMASQ=true\n' >"$LEASE"
}
allocs() { addr_files "$DATA/vxnet"; }
v4of() { jq -r '[.ips[]? | .address][0] // "" | split("/")[0]' <<<"$1"; }
pod_link() { ip -n "$1" -j link show dev "${2:-eth0}" 2>/dev/null | jq -r ".[0].$3 // empty"; }
route_via() { ip -n "$1" -4 -j route show "$2" 2>/dev/null | jq -r '.[0].gateway // empty'; }
nft_mentions() {
	local js w
	js=$(nft_json "$1")
	shift
	for w in "$@"; do
		[[ -n "$w" ]] && grep -qF -- "\"$w\"" <<<"$js" && echo "$w"
	done
	return 0
}

ns_adds H=node P1=pod1 P2=pod2 O=out N=peer
CF=$(vxconf)

echo "== no lease file: try again later, nothing made"
cni "$H" "$P1" ADD "$CF" ctr1
expect_eq "no lease: exit status 1" 1 "$RC"
expect_eq "no lease: code 11 (try again later)" 11 "$(jqr .code)"
expect_eq "no lease: message names the file and loomd" \
	"lease file $LEASE not found: is loomd running on this node?" "$(jqr .msg)"
expect_eq "no lease: no link made in the node" "lo" "$(ip -n "$H" -j link show | jq -r '.[].ifname' | xargs)"
expect_eq "no lease: no address taken" "" "$(allocs)"
expect_eq "no lease: no endpoint record" "" "$(records ctr1)"
expect_eq "no lease: pod netns untouched" "lo" "$(ip -n "$P1" -j link show | jq -r '.[].ifname' | xargs)"
cni "$H" "$P1" CHECK "$(as_prev "$CF" '{"cniVersion":"1.0.0"}')" ctr1
expect_eq "no lease: CHECK is code 11 too" 11 "$(jqr .code)"

echo "== two pods on the node's subnet"
write_lease
add_pod_pair "$CF"
A1=$(v4of "$RES1") A2=$(v4of "$RES2")
CTX=$CTX1
expect_eq "pod 1: first address after the gateway" "10.244.3.2/24 10.244.3.1" \
	"$(jq -r '.ips[0] | "\(.address) \(.gateway)"' <<<"$RES1")"
expect_eq "pod 2: the next one" 10.244.3.3 "$A2"
expect_eq "result: cniVersion as requested" 1.0.0 "$(jq -r .cniVersion <<<"$RES1")"
expect_eq "result: routes to the cluster CIDR and default via the gateway" \
	"10.244.0.0/16>10.244.3.1 0.0.0.0/0>10.244.3.1" \
	"$(jq -r '[.routes[] | "\(.dst)>\(.gw)"] | join(" ")' <<<"$RES1")"
expect_eq "pod 1: eth0 MTU is the lease's 1450" 1450 "$(pod_link "$P1" eth0 mtu)"
expect_eq "pod 1: 10.244.0.0/16 via 10.244.3.1" 10.244.3.1 "$(route_via "$P1" 10.244.0.0/16)"
expect_eq "pod 1: default via 10.244.3.1" 10.244.3.1 "$(route_via "$P1" default)"
expect_eq "node: bridge loom0 holds the gateway 10.244.3.1/24" 10.244.3.1/24 \
	"$(ip -n "$H" -j addr show dev loom0 2>/dev/null | jq -r '[.[0].addr_info[]? | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(",")')"
expect_eq "node: loom0 MTU 1450" 1450 "$(pod_link "$H" loom0 mtu)"
expect_true "pod 1 pings pod 2" pings_retry "$P1" "$A2"
expect_true "pod 2 pings pod 1" pings_retry "$P2" "$A1"
expect_true "pod 1 pings the gateway" pings_retry "$P1" 10.244.3.1
expect_eq "records: one per pod" 2 "$(ls "$STATE" | wc -l)"

echo "== ipMasq: out of the cluster masqueraded, to other nodes' pods not"
ip -n "$H" link add up0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.51.100.1/24 dev up0 && ip -n "$H" link set up0 up
ip -n "$O" addr add 198.51.100.2/24 dev eth0 && ip -n "$O" link set eth0 up
ip -n "$H" link add nd0 type veth peer name eth0 netns "$N"
ip -n "$H" addr add 192.0.2.1/24 dev nd0 && ip -n "$H" link set nd0 up
ip -n "$N" addr add 192.0.2.2/24 dev eth0 && ip -n "$N" link set eth0 up
# Another node's pod subnet, reached as the VXLAN device's route would.
ip -n "$N" addr add 10.244.9.1/24 dev lo
ip -n "$N" route add 10.244.3.0/24 via 192.0.2.1
ip -n "$H" route add 10.244.9.0/24 via 192.0.2.2
probe_ns "$O" 198.51.100.1 10.244.3.0/24
probe_ns "$N" 192.0.2.1 10.244.3.0/24
CTX="host ruleset: $(ip netns exec "$H" nft list ruleset 2>&1 | tr '\n\t' '  ' | cut -c1-900)"
expect_true "pod 1 pings the outside 198.51.100.2 (no route back to pods there)" pings_retry "$P1" 198.51.100.2
expect_eq "outside: counted packets from the node's address" yes "$(at_least_one "$(count_from "$O" from-host)")"
expect_eq "outside: counted none from the pod subnet" 0 "$(count_from "$O" from-pod)"
expect_true "pod 1 pings 10.244.9.1 on another node's subnet" pings_retry "$P1" 10.244.9.1
expect_eq "other node: counted packets from the pod's own address" yes "$(at_least_one "$(count_from "$N" from-pod)")"
expect_eq "other node: counted none from the node's address" 0 "$(count_from "$N" from-host)"

echo "== CHECK, and a 0.3.1 result"
cni "$H" "$P1" CHECK "$(as_prev "$CF" "$RES1")" ctr1
expect_eq "CHECK with prevResult passes" "0 " "$RC $OUT"
ns_add pod3; P3=$NS
cni "$H" "$P3" ADD "$(vxconf 0.3.1)" ctr3
expect_eq "0.3.1: ADD succeeds, ips carry version 4" "0 0.3.1 4" \
	"$RC $(jqr .cniVersion) $(jq -r '.ips[0].version' <<<"$OUT" 2>/dev/null)"
cni "$H" "$P3" DEL "$(vxconf 0.3.1)" ctr3
expect_eq "0.3.1: DEL succeeds" 0 "$RC"

echo "== DEL without the lease file"
rm -f "$LEASE"
V1=$(jq -r '[.interfaces[] | select((.sandbox // "") == "" and .name != "loom0")][0].name' <<<"$RES1")
cni "$H" "$P1" DEL "$CF" ctr1
expect_eq "DEL: succeeds without the lease" "0 " "$RC $OUT"
expect_eq "DEL: host veth gone" "" "$(ip -n "$H" link show dev "$V1" 2>/dev/null)"
expect_eq "DEL: pod's eth0 gone" "" "$(ip -n "$P1" link show dev eth0 2>/dev/null)"
expect_eq "DEL: address released" "10.244.3.3" "$(allocs | xargs)"
expect_eq "DEL: nft elements of the pod gone" "" "$(nft_mentions "$H" "$A1" | xargs)"
expect_eq "DEL: pod 2's stay" "$A2" "$(nft_mentions "$H" "$A2" | xargs)"
expect_eq "DEL: endpoint record removed" "" "$(records ctr1)"
cni "$H" "$P1" DEL "$CF" ctr1
expect_eq "DEL twice: succeeds" "0 " "$RC $OUT"
ns_del "$P2"
cni "$H" "$P2" DEL "$CF" ctr2
expect_eq "DEL of pod 2 (lease and netns gone): succeeds" 0 "$RC"
expect_eq "DEL: store empty" "" "$(allocs)"
expect_eq "DEL: no veth left in the node" "nd0 up0" "$(host_veths "$H" | xargs)"
expect_eq "DEL: no pod address left in the ruleset" "" "$(nft_mentions "$H" "$A1" "$A2" 10.244.3.4 | xargs)"
expect_eq "DEL: no record left" "" "$(ls "$STATE")"

finish
