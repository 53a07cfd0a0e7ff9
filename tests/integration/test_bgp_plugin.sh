#!/usr/bin/env bash
# loom-bgp exec'd as a runtime does, in throwaway namespaces: the node is a
# netns of this run, the lease file loomd would write is written by hand
# into a temp run dir, and another netns stands for the world outside the
# cluster (198.51.100.0/24).
#
# Cases: no lease file (code 11, nothing made); two dual-stack pods routed
# through the node (each a /32 and /128, default via 169.254.1.1 and
# fe80::1, host routes proto 76, no bridge), reaching each other over IPv4
# and IPv6; traffic leaving the cluster CIDR masqueraded; CHECK, and CHECK
# after the pod lost its address; DEL without the lease file, DEL twice;
# DEL after the pod's netns was deleted; an ADD failing on an exhausted
# block leaves nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

mode_plugin_setup "${LOOM_BGP:-$LOOM_BIN/loom-bgp}"
bgpconf() { mode_conf loom-bgp "${1:-bgpnet}"; }
write_lease() {
	printf '%s\n' LOOM_NETWORK=10.245.0.0/16 LOOM_SUBNET=10.245.7.0/26 \
		LOOM_IPV6_NETWORK=fd00:245::/48 LOOM_IPV6_SUBNET=fd00:245:0:7::/64 \
		LOOM_MTU=1500 LOOM_IPMASQ=true >"$RUN/bgpnet.env"
}
allocs() { addr_files "$DATA/${1:-bgpnet}"; }
ipof() { jq -r --arg f "$2" '[.ips[]? | .address | select(test($f))][0] // "" | split("/")[0]' <<<"$1"; }
links() { ip -n "$1" -j link show 2>/dev/null | jq -r '.[].ifname' | LC_ALL=C sort | xargs; }
gw_of() { ip -n "$1" "$2" -j route show default 2>/dev/null | jq -r '.[0] | "\(.gateway) \(.dev)"'; }
host_routes() { ip -n "$1" "${2:--4}" -j route show proto 76 2>/dev/null | jq -r '.[] | "\(.dst) \(.dev) \(.scope // "")"' | LC_ALL=C sort | xargs; }

ns_adds H=node P1=pod1 P2=pod2 O=out
CF=$(bgpconf)

echo "== no lease file: try again later, nothing made"
cni "$H" "$P1" ADD "$CF" ctr1
expect_eq "no lease: code 11 (try again later)" "1 11" "$RC $(jqr .code)"
expect_match "no lease: message names the file" "lease file $RUN/bgpnet.env not found" "$(jqr .msg)"
expect_eq "no lease: no link made in the node" "lo" "$(links "$H")"
expect_eq "no lease: pod netns untouched" "lo" "$(links "$P1")"
expect_eq "no lease: no address taken, no record" "" "$(allocs)$(records ctr1)"

echo "== two routed pods on the node's block"
write_lease
add_pod_pair "$CF"
A1=$(ipof "$RES1" '[.]') A2=$(ipof "$RES2" '[.]')
B1=$(ipof "$RES1" ':') B2=$(ipof "$RES2" ':')
V1=$(jq -r '[.interfaces[] | select((.sandbox // "") == "")][0].name' <<<"$RES1")
V2=$(jq -r '[.interfaces[] | select((.sandbox // "") == "")][0].name' <<<"$RES2")
CTX=$CTX1
expect_eq "pod 1: the block's first host address as a /32, and a /128" \
	"10.245.7.1/32 fd00:245:0:7::1/128" "$(jq -r '[.ips[].address] | join(" ")' <<<"$RES1")"
expect_eq "pod 2: the next ones" "10.245.7.2 fd00:245:0:7::2" "$A2 $B2"
expect_eq "result: on-link gateway route and default routes" \
	"169.254.1.1/32> 0.0.0.0/0>169.254.1.1 ::/0>fe80::1" \
	"$(jq -r '[.routes[] | "\(.dst)>\(.gw // "")"] | join(" ")' <<<"$RES1")"
expect_match "host veth named lbg + 8 hex digits" '^lbg[0-9a-f]{8}$' "$V1"
expect_eq "pod 1: eth0 holds exactly its /32 and /128 (global)" "10.245.7.1/32 fd00:245:0:7::1/128" \
	"$(ip -n "$P1" -j addr show dev eth0 scope global | jq -r '[.[0].addr_info[] | select(.local) | "\(.local)/\(.prefixlen)"] | join(" ")')"
expect_eq "pod 1: default via 169.254.1.1 dev eth0" "169.254.1.1 eth0" "$(gw_of "$P1" -4)"
expect_eq "pod 1: 169.254.1.1 on link" "169.254.1.1 link" \
	"$(ip -n "$P1" -j route show 169.254.1.1 | jq -r '.[0] | "\(.dst) \(.scope)"')"
expect_eq "pod 1: default via fe80::1 dev eth0" "fe80::1 eth0" "$(gw_of "$P1" -6)"
HMAC=$(ip -n "$H" -j link show dev "$V1" | jq -r '.[0].address')
expect_eq "pod 1: gateways resolve to the host veth's MAC, permanently" \
	"169.254.1.1=$HMAC:PERMANENT fe80::1=$HMAC:PERMANENT" \
	"$(ip -n "$P1" -j neigh show dev eth0 | jq -r '[.[] | select(.dst == "169.254.1.1" or .dst == "fe80::1") | "\(.dst)=\(.lladdr):\(.state[0])"] | join(" ")')"
expect_eq "pod 1: eth0 MTU is the lease's 1500" 1500 "$(ip -n "$P1" -j link show dev eth0 | jq -r '.[0].mtu')"
expect_eq "node: /32 routes proto 76 scope link over the host veths" \
	"$(printf '%s\n' "10.245.7.1 $V1 link" "10.245.7.2 $V2 link" | LC_ALL=C sort | xargs)" "$(host_routes "$H")"
expect_eq "node: /128 routes proto 76" \
	"$(printf '%s\n' "fd00:245:0:7::1 $V1" "fd00:245:0:7::2 $V2" | LC_ALL=C sort | xargs)" \
	"$(ip -n "$H" -6 -j route show proto 76 | jq -r '.[] | "\(.dst) \(.dev)"' | LC_ALL=C sort | xargs)"
expect_eq "node: no bridge" "" "$(ip -n "$H" -j link show type bridge | jq -r '.[].ifname')"
expect_eq "node: forwarding on" "1 1" \
	"$(ip netns exec "$H" cat /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv6/conf/all/forwarding | xargs)"
expect_true "pod 1 pings pod 2 (routed by the node)" pings_retry "$P1" "$A2"
expect_true "pod 2 pings pod 1" pings_retry "$P2" "$A1"
expect_true "pod 1 pings pod 2 over IPv6" pings_retry "$P1" "$B2"
expect_eq "records: one per pod" 2 "$(ls "$STATE" | wc -l)"

echo "== ipMasq: traffic leaving the cluster CIDR is masqueraded"
ip -n "$H" link add up0 type veth peer name eth0 netns "$O"
ip -n "$H" addr add 198.51.100.1/24 dev up0 && ip -n "$H" link set up0 up
ip -n "$O" addr add 198.51.100.2/24 dev eth0 && ip -n "$O" link set eth0 up
probe_ns "$O" 198.51.100.1 10.245.0.0/16
CTX="node ruleset: $(ip netns exec "$H" nft list ruleset 2>&1 | tr '\n\t' '  ' | cut -c1-900)"
expect_true "pod 1 pings the outside 198.51.100.2 (it has no route back to pods)" pings_retry "$P1" 198.51.100.2
expect_eq "outside: counted packets from the node's address" yes "$(at_least_one "$(count_from "$O" from-host)")"
expect_eq "outside: counted none from the pods' addresses" 0 "$(count_from "$O" from-pod)"

echo "== CHECK"
cni "$H" "$P1" CHECK "$(as_prev "$CF" "$RES1")" ctr1
expect_eq "CHECK with prevResult passes" "0 " "$RC $OUT"
cni "$H" "$P2" CHECK "$(as_prev "$CF" "$RES2")" ctr2
expect_eq "CHECK of pod 2 passes" "0 " "$RC $OUT"
ip -n "$P2" addr del "$A2/32" dev eth0
cni "$H" "$P2" CHECK "$(as_prev "$CF" "$RES2")" ctr2
expect_eq "CHECK after the address was removed: fails" 1 "$RC"
expect_match "CHECK names the missing address" "address $A2/32 .*missing" "$(jqr .msg)"

echo "== DEL without the lease file, twice"
rm -f "$RUN/bgpnet.env"
cni "$H" "$P1" DEL "$CF" ctr1
expect_eq "DEL: succeeds without the lease" "0 " "$RC $OUT"
expect_eq "DEL: host veth gone" "" "$(ip -n "$H" link show dev "$V1" 2>/dev/null)"
expect_eq "DEL: pod's eth0 gone" "lo" "$(links "$P1")"
expect_eq "DEL: only pod 2's host routes left" "10.245.7.2 $V2 link" "$(host_routes "$H")"
expect_eq "DEL: addresses released" "10.245.7.2 fd00:245:0:7::2" "$(allocs | xargs)"
expect_eq "DEL: nft elements of the pod gone" "" "$(nft_json "$H" | grep -oF "\"$A1\"")"
expect_eq "DEL: endpoint record removed" "" "$(records ctr1)"
cni "$H" "$P1" DEL "$CF" ctr1
expect_eq "DEL twice: succeeds" "0 " "$RC $OUT"

echo "== DEL after the pod's netns was deleted"
ns_del "$P2"
cni "$H" "$P2" DEL "$CF" ctr2
expect_eq "DEL (netns gone): succeeds" "0 " "$RC $OUT"
expect_eq "DEL (netns gone): no host route left" "" "$(host_routes "$H" -4)$(host_routes "$H" -6)"
expect_eq "DEL (netns gone): no veth but the outside link" "up0" "$(host_veths "$H" | xargs)"
expect_eq "DEL (netns gone): store empty, no record" "" "$(allocs)$(ls "$STATE")"
expect_eq "DEL: no pod address left in the ruleset" "" "$(nft_json "$H" | grep -oE '"10\.245\.7\.[0-9]+"')"

echo "== a failed ADD (block exhausted) leaves nothing"
printf '%s\n' LOOM_NETWORK=10.245.0.0/16 LOOM_SUBNET=10.245.8.0/32 LOOM_MTU=1500 >"$RUN/tiny.env"
TF=$(bgpconf tiny)
ns_adds P3=pod3 P4=pod4
cni "$H" "$P3" ADD "$TF" ctr3
expect_eq "/32 block: the first pod gets its only address" "0 10.245.8.0/32" "$RC $(jqr '.ips[0].address')"
BEFORE_LINKS=$(links "$H") BEFORE_ROUTES=$(host_routes "$H") BEFORE_NFT=$(nft_json "$H" | jq -S -c .)
cni "$H" "$P4" ADD "$TF" ctr4
expect_eq "second pod: ADD fails" 1 "$RC"
expect_match "second pod: says the block is exhausted" "no (more )?(free|available)|exhausted|full" "$(jqr .msg)"
expect_eq "failed ADD: the pod's netns untouched" "lo" "$(links "$P4")"
expect_eq "failed ADD: no new link in the node" "$BEFORE_LINKS" "$(links "$H")"
expect_eq "failed ADD: no new host route" "$BEFORE_ROUTES" "$(host_routes "$H")"
expect_eq "failed ADD: ruleset unchanged" "$BEFORE_NFT" "$(nft_json "$H" | jq -S -c .)"
expect_eq "failed ADD: no record, the first pod's address kept" "10.245.8.0" "$(records ctr4)$(allocs tiny | xargs)"
cni "$H" "$P3" DEL "$TF" ctr3
expect_eq "tiny: DEL succeeds" "0 " "$RC $OUT"
expect_eq "tiny: nothing left" "up0||" "$(host_veths "$H" | xargs)|$(host_routes "$H")|$(allocs tiny)$(ls "$STATE")"

finish
