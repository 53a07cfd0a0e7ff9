#!/usr/bin/env bash
# Side by side: the same config given to the reference bridge + host-local
# (/usr/lib/cni, 1.1.1) and to loom-bridge + loom-ipam.  Each runs in its own
# host netns with its own pod netns, same bridge name, same container ID,
# fresh stores, so both hand out the same first address.  Compared:
#   result: its top-level keys; interfaces (bridge and container names, a name for the
#           host veth, sandbox); ips (address, gateway, interface); routes; dns
#   pod:    eth0's global addresses, IPv4 and IPv6 routes, eth0's MTU
#   host:   the bridge's addresses and MTU
# A mismatch prints a unified diff (- reference, + loom).
#
# LOOM_COMPAT_SHOW=1 prints the compared pod state of each case.
# Sanity-check the test with the reference on both sides:
#   LOOM_BRIDGE=/usr/lib/cni/bridge LOOM_IPAM_TYPE=host-local LOOM_BIN=... bash test_bridge_compat.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

BRIDGE=${LOOM_BRIDGE:-$LOOM_BIN/loom-bridge}
IPAM_TYPE=${LOOM_IPAM_TYPE:-loom-ipam}
REF=/usr/lib/cni/bridge
CNIPATH="$LOOM_BIN:/usr/lib/cni"

need_exec "$BRIDGE"
if [[ ! -x "$REF" || ! -x /usr/lib/cni/host-local ]]; then
	fail "reference plugins installed" "apt-get install containernetworking-plugins"
	finish
fi

# mkconf SIDE BR IPAM_JSON TOP_JSON: SIDE ref or loom
mkconf() {
	local t it
	if [[ $1 == ref ]]; then t=bridge it=host-local; else t=loom-bridge it=$IPAM_TYPE; fi
	jq_conf -n --arg t "$t" --arg it "$it" --arg br "$2" --arg d "$(new_datadir)" \
		--arg s "$(mktemp -d "$T/state.XXXXXX")" --argjson ipam "$3" --argjson top "$4" \
		'{cniVersion: "1.0.0", name: "compat", type: $t, bridge: $br} + $top
		 + (if $t == "loom-bridge" then {stateDir: $s} else {} end)
		 + {ipam: ({type: $it, dataDir: $d} + $ipam)}'
}

# norm_result POD_PATH BR: the result fields that must agree, sorted
norm_result() {
	jq -S --arg pod "$1" --arg br "$2" '{
		interfaces: [.interfaces[]? | {
			name: (if (.sandbox // "") != "" or .name == $br then .name
			       elif (.name | type) == "string" and (.name | length) > 0 then "<host veth>"
			       else "<missing>" end),
			sandbox: ((.sandbox // "") | if . == $pod then "<pod netns>" else . end)}],
		ips: [.ips[]? | {address, gateway, interface}],
		routes: ((.routes // []) | sort_by(.dst)),
		dns: (.dns // {})
	}'
}

# pod_state POD HOST BR: what a user sees in the pod and of the bridge
pod_state() {
	local pod=$1 host=$2 br=$3
	echo "eth0 addresses:"
	ip -n "$pod" -j addr show dev eth0 |
		jq -r '.[0].addr_info[]? | select(.scope == "global") | "  \(.local)/\(.prefixlen)"' | sort
	echo "eth0 mtu: $(ip -n "$pod" -j link show dev eth0 | jq -r '.[0].mtu')"
	echo "eth0 state: $(ip -n "$pod" -j link show dev eth0 | jq -r '.[0].operstate')"
	echo "ipv4 routes:"
	ip -n "$pod" -4 -j route show table main |
		jq -r '.[] | "  \(.dst) via=\(.gateway // "-") dev=\(.dev) scope=\(.scope // "-") src=\(.prefsrc // "-")"' | sort
	echo "ipv6 routes:"
	ip -n "$pod" -6 -j route show table main |
		jq -r '.[] | select(.dst | startswith("fe80") | not)
			| "  \(.dst) via=\(.gateway // "-") dev=\(.dev) metric=\(.metric // "-")"' | sort
	echo "bridge $br addresses:"
	ip -n "$host" -j addr show dev "$br" |
		jq -r '.[0].addr_info[]? | select(.scope == "global") | "  \(.local)/\(.prefixlen)"' | sort
	echo "bridge $br mtu: $(ip -n "$host" -j link show dev "$br" | jq -r '.[0].mtu')"
}

# expect_same NAME REF_TEXT LOOM_TEXT: on mismatch the diff is the message
expect_same() {
	if [[ "$2" == "$3" ]]; then
		pass "$1"
	else
		local d
		d=$(diff -u --label reference --label loom <(echo "$2") <(echo "$3"))
		fail "$1" "${d//$'\n'/$'\n       '}"
	fi
}

# case NAME IPAM_JSON TOP_JSON
run_case() {
	local name=$1 ipam=$2 top=$3 br=brc$4
	local hr hl pr pl cr cl rr rl
	ns_add "cr$4"; hr=$NS
	ns_add "cl$4"; hl=$NS
	ns_add "pr$4"; pr=$NS
	ns_add "pl$4"; pl=$NS
	cr=$(mkconf ref "$br" "$ipam" "$top")
	cl=$(mkconf loom "$br" "$ipam" "$top")
	local cenv=(CNI_CONTAINERID=compat-ctr CNI_PATH="$CNIPATH" CNI_IFNAME=eth0)

	ns_cni "$hr" "$REF" ADD "$cr" "${cenv[@]}" CNI_NETNS="$(ns_path "$pr")"
	if [[ $RC -ne 0 ]]; then fail "$name: reference ADD succeeds" "$CTX"; return; fi
	rr=$OUT
	ns_cni "$hl" "$BRIDGE" ADD "$cl" "${cenv[@]}" CNI_NETNS="$(ns_path "$pl")"
	if [[ $RC -ne 0 ]]; then fail "$name: loom ADD succeeds" "$CTX"; return; fi
	pass "$name: both ADDs succeed"
	rl=$OUT

	expect_same "$name: same top-level keys in result" "$(jq -c keys <<<"$rr")" "$(jq -c keys <<<"$rl")"
	expect_same "$name: same interfaces, ips, routes, dns" \
		"$(norm_result "$(ns_path "$pr")" "$br" <<<"$rr")" "$(norm_result "$(ns_path "$pl")" "$br" <<<"$rl")"
	expect_same "$name: same cniVersion in result" "$(jq -r .cniVersion <<<"$rr")" "$(jq -r .cniVersion <<<"$rl")"
	[[ -n "${LOOM_COMPAT_SHOW:-}" ]] && pod_state "$pl" "$hl" "$br" | sed 's/^/    | /'
	expect_same "$name: same pod and bridge state" \
		"$(pod_state "$pr" "$hr" "$br")" "$(pod_state "$pl" "$hl" "$br")"

	ns_cni "$hr" "$REF" DEL "$cr" "${cenv[@]}" CNI_NETNS="$(ns_path "$pr")"
	ns_cni "$hl" "$BRIDGE" DEL "$cl" "${cenv[@]}" CNI_NETNS="$(ns_path "$pl")"
	expect_eq "$name: loom DEL succeeds" 0 "$RC"
	expect_same "$name: same links left in the pod after DEL" \
		"$(ip -n "$pr" -j link show | jq -r '.[].ifname' | sort)" "$(ip -n "$pl" -j link show | jq -r '.[].ifname' | sort)"
}

echo "== IPv4, isGateway + isDefaultGateway, an IPAM route"
run_case "ipv4 gateway" \
	'{"ranges": [[{"subnet": "10.40.0.0/24"}]], "routes": [{"dst": "192.0.2.0/24"}]}' \
	'{"isGateway": true, "isDefaultGateway": true}' 1
echo "== dual stack"
run_case "dual stack" \
	'{"ranges": [[{"subnet": "10.41.0.0/24"}], [{"subnet": "fd00:41::/64"}]]}' \
	'{"isGateway": true, "isDefaultGateway": true}' 2
echo "== mtu"
run_case "mtu 1450" \
	'{"ranges": [[{"subnet": "10.42.0.0/24", "gateway": "10.42.0.254"}]]}' \
	'{"isGateway": true, "mtu": 1450}' 3
echo "== ipMasq"
run_case "ipMasq" \
	'{"ranges": [[{"subnet": "10.43.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}' \
	'{"isGateway": true, "ipMasq": true}' 4
echo "== layer 2 only (no gateway), IPv6 only"
run_case "ipv6 no gateway" \
	'{"ranges": [[{"subnet": "fd00:44::/64", "rangeStart": "fd00:44::10", "rangeEnd": "fd00:44::20"}]]}' \
	'{}' 5

finish
