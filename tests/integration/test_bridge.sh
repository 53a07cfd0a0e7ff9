#!/usr/bin/env bash
# loom-bridge exec'd as a runtime does, against the real kernel, in
# throwaway namespaces: the "host" of every case is a netns of this run
# (netns.sh), each pod is a netns whose veth peer lives in that host.
#
# Cases: two pods reach each other and the gateway; ipMasq (an "outside"
# netns sees the host's address); hairpin; MTU; IPv6 and dual stack;
# default route; CHECK (passes, then names the missing address); DEL twice;
# DEL after the netns is gone (nft rules gone too); a failed ADD leaves
# nothing (IPAM exhausted, bad bridge names); parallel ADDs create one
# bridge; a retried ADD finds its leftover veth; promiscMode+hairpinMode is
# refused; host-local and static IPAM exec'd through CNI_PATH.
#
# To debug the test itself against the reference plugins:
#   LOOM_BRIDGE=/usr/lib/cni/bridge LOOM_IPAM_TYPE=host-local LOOM_BIN=... bash test_bridge.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

BRIDGE=${LOOM_BRIDGE:-$LOOM_BIN/loom-bridge}
IPAM_TYPE=${LOOM_IPAM_TYPE:-loom-ipam}
CNIPATH="$(dirname "$BRIDGE"):$LOOM_BIN:/usr/lib/cni"

need_exec "$BRIDGE"
need_cmd nft nftables

# allocs CONF: address files held in the config's IPAM store
allocs() { addr_files "$(jq -r .ipam.dataDir "$1")/$(jq -r .name "$1")"; }
# state_refs CONF CID: files of the stateDir naming CID (in name or content)
state_refs() {
	local d
	d=$(jq -r .stateDir "$1")
	[[ -d "$d" ]] || return 0
	{ find "$d" -type f -name "*$2*"; grep -rlF -- "$2" "$d"; } 2>/dev/null | sort -u
}

PLUGIN=$BRIDGE # netns.sh's cni HOST POD CMD CONF CID [ENV...]
# add_ok NAME HOST POD CONF CID: ADD must succeed (records a pass/fail)
add_ok() {
	cni "$2" "$3" ADD "$4" "$5"
	if [[ $RC -eq 0 ]] && jq -e '.ips | length > 0' >/dev/null 2>&1 <<<"$OUT"; then
		pass "$1: ADD succeeds with addresses"
		return 0
	fi
	# layer-2-only and non-IP results are not used here: no ips is a failure
	fail "$1: ADD succeeds with addresses" "$CTX"
	return 1
}
v4of() { jq -r '[.ips[]? | select(.address | contains(":") | not) | .address][0] // "" | split("/")[0]' <<<"$1"; }
v6of() { jq -r '[.ips[]? | select(.address | contains(":")) | .address][0] // "" | split("/")[0]' <<<"$1"; }
pod_mac() { jq -r '[.interfaces[]? | select((.sandbox // "") != "") | .mac][0] // ""' <<<"$1" | tr 'A-F' 'a-f'; }
pod_link() { ip -n "$1" -j link show dev "${2:-eth0}" 2>/dev/null | jq -r ".[0].$3 // empty"; }
pod_addrs() { ip -n "$1" -j addr show dev "${2:-eth0}" 2>/dev/null |
	jq -r '.[0].addr_info[]? | select(.scope == "global") | "\(.local)/\(.prefixlen)"' | sort; }
default_via() { ip -n "$1" "-$2" -j route show default 2>/dev/null | jq -r '.[0].gateway // empty'; }
# nft_mentions HOST WORD...: prints the words that occur in HOST's ruleset
nft_mentions() {
	local js w
	js=$(nft_json "$1" | tr 'A-F' 'a-f')
	shift
	for w in "$@"; do
		[[ -n "$w" ]] && grep -qiF -- "$w" <<<"$js" && echo "$w"
	done
	return 0
}

echo "== two pods on one bridge reach each other and the gateway"
ns_adds HA=hA PA1=pA1 PA2=pA2
CA=$(bridge_conf netA brA '{"ranges": [[{"subnet": "10.20.0.0/24", "gateway": "10.20.0.1"}]]}' '{"isGateway": true}')
RES_A1="" RES_A2=""
if add_ok "two pods: pod 1" "$HA" "$PA1" "$CA" ctrA1; then RES_A1=$OUT; fi
if add_ok "two pods: pod 2" "$HA" "$PA2" "$CA" ctrA2; then RES_A2=$OUT; fi
A1=$(v4of "$RES_A1") A2=$(v4of "$RES_A2")
VA1=$(OUT=$RES_A1 result_host_veth brA) VA2=$(OUT=$RES_A2 result_host_veth brA)
CTX="pod1 $A1 ($VA1), pod2 $A2 ($VA2)"
expect_match "two pods: distinct addresses in 10.20.0.0/24" '^10\.20\.0\.[0-9]+ 10\.20\.0\.[0-9]+$' \
	"$A1 $([[ "$A1" != "$A2" ]] && echo "$A2")"
expect_eq "two pods: bridge carries the gateway address" "10.20.0.1/24" \
	"$(ip -n "$HA" -j addr show dev brA 2>/dev/null | jq -r '[.[0].addr_info[]? | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(",")')"
expect_eq "two pods: both host veths are ports of brA" "brA brA" \
	"$(ip -n "$HA" -j link show dev "$VA1" 2>/dev/null | jq -r '.[0].master') $(ip -n "$HA" -j link show dev "$VA2" 2>/dev/null | jq -r '.[0].master')"
expect_eq "two pods: pod 1 eth0 holds its address" "$A1/24" "$(pod_addrs "$PA1" | grep -v : | head -1)"
expect_eq "two pods: pod 1 eth0 is up" "UP" "$(pod_link "$PA1" eth0 operstate)"
expect_true "two pods: pod 1 pings pod 2 ($A2)" pings_retry "$PA1" "$A2"
expect_true "two pods: pod 2 pings pod 1 ($A1)" pings_retry "$PA2" "$A1"
expect_true "two pods: pod 1 pings the gateway" pings_retry "$PA1" 10.20.0.1
expect_true "two pods: the host pings pod 2" pings_retry "$HA" "$A2"
expect_eq "two pods: isGateway alone adds no default route" "" "$(default_via "$PA1" 4)"
expect_eq "two pods: isGateway turns on forwarding in the host" 1 \
	"$(ip netns exec "$HA" cat /proc/sys/net/ipv4/ip_forward)"

echo "== hairpin flag on the bridge port"
CH=$(bridge_conf netH brH '{"ranges": [[{"subnet": "10.26.0.0/24"}]]}' '{"hairpinMode": true}')
ns_add pH; PH=$NS
add_ok "hairpin: ADD" "$HA" "$PH" "$CH" ctrH
VH=$(result_host_veth brH)
hairpin_of() { ip -n "$HA" -d -j link show dev "$1" 2>/dev/null | jq -r '.[0].linkinfo.info_slave_data.hairpin | if . == null then "absent" else tostring end'; }
CTX="host veth $VH; $(ip -n "$HA" -d link show dev "$VH" 2>&1 | tail -2)"
expect_eq "hairpin: hairpinMode true -> port has hairpin on" true "$(hairpin_of "$VH")"
expect_eq "hairpin: default -> port has hairpin off" false "$(hairpin_of "$VA1")"

echo "== CHECK passes, then names the address the pod lost"
if [[ -n "$RES_A1" ]]; then
	CK=$(as_prev "$CA" "$RES_A1")
	cni "$HA" "$PA1" CHECK "$CK" ctrA1
	expect_eq "CHECK: intact pod passes (rc)" 0 "$RC"
	expect_eq "CHECK: intact pod prints nothing" "" "$OUT"
	ip -n "$PA1" addr del "$A1/24" dev eth0
	cni "$HA" "$PA1" CHECK "$CK" ctrA1
	expect_eq "CHECK: pod without its address fails (rc)" 1 "$RC"
	expect_match "CHECK: error message names the missing address $A1" "${A1//./\\.}" "$(jqr .msg)"
	expect_match "CHECK: error message names eth0" 'eth0' "$(jqr .msg)"
else
	fail "CHECK: needs pod 1"
fi

echo "== DEL twice"
cni "$HA" "$PA2" DEL "$CA" ctrA2
expect_eq "DEL twice: first DEL succeeds" "0 " "$RC $OUT"
expect_eq "DEL twice: host veth gone" "" "$(host_veths "$HA" | grep -xF -- "$VA2")"
expect_eq "DEL twice: pod eth0 gone" "" "$(pod_link "$PA2" eth0 ifname)"
expect_eq "DEL twice: address released" "" "$(allocs "$CA" | grep -xF -- "$A2")"
expect_eq "DEL twice: endpoint record removed" "" "$(state_refs "$CA" ctrA2)"
cni "$HA" "$PA2" DEL "$CA" ctrA2
expect_eq "DEL twice: second DEL succeeds" "0 " "$RC $OUT"
cni "$HA" "$PA1" DEL "$CA" ctrA1
expect_eq "DEL: pod 1 (after CHECK removed its address) succeeds" 0 "$RC"
expect_eq "DEL: store of netA empty" "" "$(allocs "$CA")"

echo "== MTU"
CM=$(bridge_conf netM brM '{"ranges": [[{"subnet": "10.27.0.0/24"}]]}' '{"mtu": 1400}')
ns_add pM; PM=$NS
if add_ok "mtu: ADD" "$HA" "$PM" "$CM" ctrM; then
	VM=$(result_host_veth brM)
	expect_eq "mtu: pod eth0 has mtu 1400" 1400 "$(pod_link "$PM" eth0 mtu)"
	expect_eq "mtu: host veth has mtu 1400" 1400 "$(pod_link "$HA" "$VM" mtu)"
fi

echo "== promiscMode with hairpinMode is refused"
CP=$(bridge_conf netP brP '{"ranges": [[{"subnet": "10.28.0.0/24"}]]}' '{"promiscMode": true, "hairpinMode": true}')
ns_add pP; PP=$NS
BEFORE=$(host_veths "$HA")
cni "$HA" "$PP" ADD "$CP" ctrP
expect_eq "promisc+hairpin: exit status 1" 1 "$RC"
expect_eq "promisc+hairpin: code 7 (invalid config)" 7 "$(jqr .code)"
expect_match "promisc+hairpin: message names both" 'promisc.*hairpin|hairpin.*promisc' "$(jqr .msg)"
expect_eq "promisc+hairpin: no veth made" "$BEFORE" "$(host_veths "$HA")"
expect_eq "promisc+hairpin: no address taken" "" "$(allocs "$CP")"

echo "== ipMasq: the outside sees the host's address"
ns_adds HM=hM OM=oM PM1=pM1 PM2=pM2
ip -n "$HM" link add up0 type veth peer name eth0 netns "$OM"
ip -n "$HM" addr add 198.51.100.1/24 dev up0 && ip -n "$HM" link set up0 up
ip -n "$OM" addr add 198.51.100.2/24 dev eth0 && ip -n "$OM" link set eth0 up
# The outside counts what arrives by source address in its input hook:
# nft counters see every packet whatever socket (if any) gets it, need no
# listener that has to report its peer, and nothing else runs in that netns.
probe_ns "$OM" 198.51.100.1 10.21.0.0/24
CMQ=$(bridge_conf netQ brQ '{"ranges": [[{"subnet": "10.21.0.0/24", "gateway": "10.21.0.1"}]]}' \
	'{"isDefaultGateway": true, "ipMasq": true, "macspoofchk": true}')
RES_M1=""
if add_ok "ipMasq: ADD" "$HM" "$PM1" "$CMQ" ctrQ1; then RES_M1=$OUT; fi
M1=$(v4of "$RES_M1") MAC1=$(pod_mac "$RES_M1")
expect_eq "isDefaultGateway: pod default route via 10.21.0.1" 10.21.0.1 "$(default_via "$PM1" 4)"
expect_eq "isDefaultGateway: implies isGateway (bridge has 10.21.0.1)" 10.21.0.1/24 \
	"$(ip -n "$HM" -j addr show dev brQ 2>/dev/null | jq -r '[.[0].addr_info[]? | select(.family == "inet") | "\(.local)/\(.prefixlen)"] | join(",")')"
ip netns exec "$HM" sysctl -qw net.ipv4.ip_forward=1
CTX="pod $M1; host ruleset: $(ip netns exec "$HM" nft list ruleset 2>&1 | tr '\n\t' '  ' | cut -c1-900)"
expect_true "ipMasq: pod pings the outside 198.51.100.2 (which has no route back to the pod)" \
	pings_retry "$PM1" 198.51.100.2
expect_eq "ipMasq: outside counted packets from the host address" yes \
	"$(at_least_one "$(count_from "$OM" from-host)")"
expect_eq "ipMasq: outside counted no packet from the pod subnet" 0 "$(count_from "$OM" from-pod)"
expect_eq "ipMasq+macspoofchk: host ruleset holds the pod's address and MAC" "$M1 $MAC1" \
	"$(nft_mentions "$HM" "$M1" "$MAC1" | xargs)"
# The pod-to-pod path stays unmasqueraded within the subnet: pod 2 sees pod 1.
RES_M2=""
if add_ok "ipMasq: second pod" "$HM" "$PM2" "$CMQ" ctrQ2; then RES_M2=$OUT; fi
M2=$(v4of "$RES_M2") MAC2=$(pod_mac "$RES_M2") VM2=$(result_host_veth brQ)
expect_true "ipMasq: pods still reach each other" pings_retry "$PM2" "$M1"
cni "$HM" "$PM1" DEL "$CMQ" ctrQ1
expect_eq "ipMasq: DEL succeeds" 0 "$RC"
expect_eq "ipMasq: DEL removes the pod's nft rules/elements" "" "$(nft_mentions "$HM" "$M1" "$MAC1" ctrQ1 | xargs)"

echo "== DEL after the pod's netns is gone"
ns_del "$PM2"
wait_for 10 bash -c "! ip -n '$HM' link show dev '$VM2' >/dev/null 2>&1"
cni "$HM" "$PM2" DEL "$CMQ" ctrQ2
expect_eq "DEL without netns: succeeds" "0 " "$RC $OUT"
expect_eq "DEL without netns: address released" "" "$(allocs "$CMQ")"
expect_eq "DEL without netns: ipMasq and macspoofchk rules gone" "" \
	"$(nft_mentions "$HM" "$M2" "$MAC2" ctrQ2 | xargs)"
expect_eq "DEL without netns: endpoint record removed" "" "$(state_refs "$CMQ" ctrQ2)"
expect_eq "DEL without netns: no veth left in the host" "" "$(host_veths "$HM" | grep -vx up0)"
cni "$HM" "$PM2" DEL "$CMQ" ctrQ2
expect_eq "DEL without netns: twice succeeds" 0 "$RC"

echo "== IPv6 and dual stack"
ns_adds H6=h6 P61=p61 P62=p62
C6=$(bridge_conf net6 br6 '{"ranges": [[{"subnet": "fd00:10:22::/64", "gateway": "fd00:10:22::1"}]]}' '{"isDefaultGateway": true}')
R61="" R62=""
if add_ok "ipv6: pod 1" "$H6" "$P61" "$C6" ctr61; then R61=$OUT; fi
if add_ok "ipv6: pod 2" "$H6" "$P62" "$C6" ctr62; then R62=$OUT; fi
X61=$(v6of "$R61") X62=$(v6of "$R62")
expect_match "ipv6: pod 1 eth0 holds its address" "^${X61:-none}/64$" "$(pod_addrs "$P61")"
expect_eq "ipv6: address usable at once (not tentative)" "" \
	"$(ip -n "$P61" -6 addr show dev eth0 scope global tentative 2>/dev/null)"
expect_eq "ipv6: default route via fd00:10:22::1" fd00:10:22::1 "$(default_via "$P61" 6)"
expect_true "ipv6: pod 1 pings pod 2 ($X62)" pings_retry "$P61" "$X62"
expect_true "ipv6: pod 2 pings the gateway" pings_retry "$P62" fd00:10:22::1
cni "$H6" "$P61" DEL "$C6" ctr61
cni "$H6" "$P62" DEL "$C6" ctr62
expect_eq "ipv6: DELs release every address" "" "$(allocs "$C6")"

ns_adds PD1=pD1 PD2=pD2
CD=$(bridge_conf netD brD '{"ranges": [[{"subnet": "10.22.0.0/24"}], [{"subnet": "fd00:10:23::/64"}]]}' '{"isDefaultGateway": true}')
RD1="" RD2=""
if add_ok "dual: pod 1" "$H6" "$PD1" "$CD" ctrD1; then RD1=$OUT; fi
if add_ok "dual: pod 2" "$H6" "$PD2" "$CD" ctrD2; then RD2=$OUT; fi
expect_eq "dual: result has one address of each family" "4 6" \
	"$(jq -r '[.ips[]? | if (.address | contains(":")) then 6 else 4 end] | sort | map(tostring) | join(" ")' <<<"$RD1")"
expect_eq "dual: pod eth0 holds both" "$(v4of "$RD1")/24 $(v6of "$RD1")/64" "$(pod_addrs "$PD1" | sort -t: -k1,1 | xargs)"
expect_eq "dual: IPv4 default route via the gateway" 10.22.0.1 "$(default_via "$PD1" 4)"
expect_eq "dual: IPv6 default route via the gateway" fd00:10:23::1 "$(default_via "$PD1" 6)"
expect_true "dual: pod 1 pings pod 2 over IPv4" pings_retry "$PD1" "$(v4of "$RD2")"
expect_true "dual: pod 1 pings pod 2 over IPv6" pings_retry "$PD1" "$(v6of "$RD2")"
cni "$H6" "$PD1" DEL "$CD" ctrD1
cni "$H6" "$PD2" DEL "$CD" ctrD2
expect_eq "dual: DELs release every address" "" "$(allocs "$CD")"

echo "== a failed ADD leaves nothing"
ns_adds HX=hX PX1=pX1 PX2=pX2
CX=$(bridge_conf netX brX '{"ranges": [[{"subnet": "10.23.0.0/24", "rangeStart": "10.23.0.10", "rangeEnd": "10.23.0.10"}]]}' \
	'{"ipMasq": true, "macspoofchk": true}')
add_ok "exhausted: first pod takes the only address" "$HX" "$PX1" "$CX" ctrX1
# snapshot_host HOST: links (name, kind, master) and the whole nft ruleset
# (one line per link and per nft object, so a mismatch prints as a diff)
snapshot_host() {
	ip -n "$1" -d -j link show | jq -c '.[] | {ifname, kind: .linkinfo.info_kind, master}' | LC_ALL=C sort
	nft_json "$1" | jq -S -c '.nftables[]? | select(has("metainfo") | not)'
}
expect_left_nothing() { # NAME CONF CID POD BEFORE ALLOCS_BEFORE
	local now
	now=$(snapshot_host "$HX")
	if [[ "$now" == "$5" ]]; then pass "$1: host links and nft ruleset unchanged"; else
		fail "$1: host links and nft ruleset unchanged" "$(diff <(echo "$5") <(echo "$now") | grep '^[<>]')" "$CTX"; fi
	expect_eq "$1: no new allocation in the dataDir" "$6" "$(allocs "$2")"
	expect_eq "$1: no endpoint record" "" "$(state_refs "$2" "$3")"
	expect_eq "$1: no eth0 in the pod" "" "$(pod_link "$4" eth0 ifname)"
}
BEFORE=$(snapshot_host "$HX") ALLOC_BEFORE=$(allocs "$CX")
cni "$HX" "$PX2" ADD "$CX" ctrX2
expect_eq "exhausted: second ADD fails" 1 "$RC"
expect_match "exhausted: message says the range is full" 'no (free|more|ip )?(address|ip)?.*(free|available|left)|exhaust|full' "$(jqr .msg)"
expect_left_nothing "exhausted" "$CX" ctrX2 "$PX2" "$BEFORE" "$ALLOC_BEFORE"

ns_adds PX3=pX3 PX4=pX4
ip -n "$HX" link add notabr type veth peer name notabr-peer
CB=$(bridge_conf netB notabr '{"ranges": [[{"subnet": "10.24.0.0/24"}]]}' '{"ipMasq": true, "macspoofchk": true}')
BEFORE=$(snapshot_host "$HX")
cni "$HX" "$PX3" ADD "$CB" ctrB
expect_eq "bridge is a veth: ADD fails" 1 "$RC"
expect_match "bridge is a veth: message names it" 'notabr' "$(jqr .msg)"
expect_left_nothing "bridge is a veth" "$CB" ctrB "$PX3" "$BEFORE" ""

CL=$(bridge_conf netL thisnameistoolong0 '{"ranges": [[{"subnet": "10.24.1.0/24"}]]}' '{"ipMasq": true}')
BEFORE=$(snapshot_host "$HX")
cni "$HX" "$PX4" ADD "$CL" ctrL
expect_eq "bridge name too long: ADD fails" 1 "$RC"
expect_eq "bridge name too long: code 7 (invalid config)" 7 "$(jqr .code)"
expect_match "bridge name too long: message names the field" 'bridge' "$(jqr .msg)"
expect_left_nothing "bridge name too long" "$CL" ctrL "$PX4" "$BEFORE" ""

echo "== parallel ADDs on a bridge that does not exist yet"
NPAR=12
ns_add hP; HPAR=$NS
PODS=()
for ((i = 0; i < NPAR; i++)); do ns_add "pp$i"; PODS+=("$NS"); done
CPAR=$(bridge_conf netPar brPar '{"ranges": [[{"subnet": "10.29.0.0/24"}]]}' '{"isGateway": true}')
for ((i = 0; i < NPAR; i++)); do
	(
		cni "$HPAR" "${PODS[$i]}" ADD "$CPAR" "ctrPar$i"
		printf '%s' "$RC" >"$T/par$i.rc"
		printf '%s' "$OUT" >"$T/par$i.out"
		printf '%s' "$ERRTXT" >"$T/par$i.err"
	) &
done
wait
PAR_OK=0 PAR_BAD=()
for ((i = 0; i < NPAR; i++)); do
	if [[ "$(<"$T/par$i.rc")" == 0 ]]; then PAR_OK=$((PAR_OK + 1)); else
		PAR_BAD+=("pod $i: rc=$(<"$T/par$i.rc") $(<"$T/par$i.out") $(head -c 300 "$T/par$i.err")"); fi
done
CTX="${PAR_BAD[*]:-}"
expect_eq "parallel: all $NPAR ADDs succeed" "$NPAR" "$PAR_OK"
expect_eq "parallel: exactly one bridge" brPar "$(ip -n "$HPAR" -j link show type bridge | jq -r '.[].ifname' | xargs)"
expect_eq "parallel: $NPAR ports on it" "$NPAR" "$(ip -n "$HPAR" -j link show master brPar | jq length)"
expect_eq "parallel: $NPAR distinct addresses" "$NPAR" \
	"$(cat "$T"/par*.out | jq -r '.ips[]?.address' 2>/dev/null | sort -u | wc -l)"
expect_eq "parallel: $NPAR allocations" "$NPAR" "$(allocs "$CPAR" | wc -l)"
expect_true "parallel: first pod pings the last" pings_retry "${PODS[0]}" "$(v4of "$(<"$T/par$((NPAR - 1)).out")")"

echo "== a retried ADD finds its leftovers"
ns_adds HR=hR PR=pR
CR=$(bridge_conf netR brR '{"ranges": [[{"subnet": "10.30.0.0/24"}]]}')
if add_ok "retry: ADD" "$HR" "$PR" "$CR" ctrR; then
	VR=$(result_host_veth brR) OUT_R=$OUT
	# The runtime lost the answer and asks again: same container, same
	# netns.  Succeeding (idempotent) or failing are both defensible; not
	# duplicating the pod's veth or address, or tearing down what the first
	# ADD made, is not optional.
	cni "$HR" "$PR" ADD "$CR" ctrR
	CTX="$CTX; veths: $(host_veths "$HR" | xargs)"
	expect_eq "retry: repeated ADD keeps one host veth, same name" "$VR" "$(host_veths "$HR" | xargs)"
	expect_eq "retry: repeated ADD keeps one allocation" 1 "$(allocs "$CR" | wc -l)"
	expect_eq "retry: pod keeps eth0 with its address" "$(v4of "$OUT_R")/24" "$(pod_addrs "$PR")"
	cni "$HR" "$PR" DEL "$CR" ctrR
	# A crashed ADD leaves the pair it made in one request: host end under
	# the derived name, pod end already in the pod, no address yet.
	ip -n "$HR" link add "$VR" type veth peer name eth0 netns "$PR"
	cni "$HR" "$PR" ADD "$CR" ctrR
	CTX="$CTX; veths: $(host_veths "$HR" | xargs)"
	expect_eq "retry: ADD over its leftover pair succeeds" 0 "$RC"
	expect_eq "retry: the leftover is reused or replaced under the same name" "$VR" "$(host_veths "$HR" | xargs)"
	expect_eq "retry: host end is a port of brR" brR "$(pod_link "$HR" "$VR" master)"
	expect_eq "retry: pod eth0 has the new address" "$(v4of "$OUT")/24" "$(pod_addrs "$PR")"
	cni "$HR" "$PR" DEL "$CR" ctrR
	# Someone else's link under the derived name (its peer is not in the
	# pod) is not ours to delete: ADD picks another name and leaves it.
	ip -n "$HR" link add "$VR" type veth peer name foreign0
	cni "$HR" "$PR" ADD "$CR" ctrR
	CTX="$CTX; veths: $(host_veths "$HR" | xargs)"
	expect_eq "retry: ADD next to a foreign link named $VR succeeds" 0 "$RC"
	expect_eq "retry: the foreign pair is left alone (exists, not enslaved)" "foreign0 -" \
		"$(pod_link "$HR" foreign0 ifname) $(ip -n "$HR" -j link show dev "$VR" 2>/dev/null | jq -r '.[0].master // "-"')"
	expect_eq "retry: pod has eth0 on another host veth" 1 "$(ip -n "$HR" -j link show master brR | jq length)"
	cni "$HR" "$PR" DEL "$CR" ctrR
	expect_eq "retry: DEL leaves the store empty" "" "$(allocs "$CR")"
	expect_eq "retry: DEL leaves only the foreign pair" "$(printf 'foreign0\n%s' "$VR")" "$(host_veths "$HR")"
fi

echo "== IPAM plugins exec'd through CNI_PATH"
ns_adds HI=hI PI1=pI1 PI2=pI2
CI1=$(bridge_conf netI1 brI '{"type": "host-local", "ranges": [[{"subnet": "10.31.0.0/24"}]]}')
if add_ok "host-local: ADD" "$HI" "$PI1" "$CI1" ctrI1; then
	I1=$(v4of "$OUT")
	expect_eq "host-local: pod has the address" "$I1/24" "$(pod_addrs "$PI1")"
	expect_eq "host-local: host-local's store holds it" "$I1" "$(allocs "$CI1")"
	cni "$HI" "$PI1" DEL "$CI1" ctrI1
	expect_eq "host-local: DEL succeeds" 0 "$RC"
	expect_eq "host-local: DEL released it" "" "$(allocs "$CI1")"
fi
CI2=$(bridge_conf netI2 brI '{"type": "static", "addresses": [{"address": "10.31.1.5/24", "gateway": "10.31.1.1"}],
	"routes": [{"dst": "0.0.0.0/0"}]}')
if add_ok "static: ADD" "$HI" "$PI2" "$CI2" ctrI2; then
	expect_eq "static: pod has 10.31.1.5/24" "10.31.1.5/24" "$(pod_addrs "$PI2")"
	expect_eq "static: default route via 10.31.1.1" 10.31.1.1 "$(default_via "$PI2" 4)"
	cni "$HI" "$PI2" DEL "$CI2" ctrI2
	expect_eq "static: DEL succeeds" 0 "$RC"
	expect_eq "static: veth gone" "" "$(host_veths "$HI")"
fi

finish
