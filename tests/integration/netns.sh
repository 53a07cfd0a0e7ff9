# Network-namespace helpers for the integration tests that wire real
# interfaces.  Source it after lib.sh:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
#
# Every namespace of a run is named "$NS_PREFIX<short name>" (NS_PREFIX is
# "lt<pid>-"), so the EXIT trap can remove all of them, pass or fail, without
# touching any other run's.  The machine's root netns is never changed: the
# "host" of a test is a namespace too.
#
# Provides:
#   ns_add SHORT            creates ${NS_PREFIX}SHORT (lo up, forwarding off);
#                           sets NS to its name
#   ns_adds VAR=SHORT...    ns_add for each, setting VAR to the namespace's name
#   ns_del NAME             deletes it (missing is fine)
#   ns_path NAME            /var/run/netns/NAME
#   ns_cni HOST PLUGIN CMD CONFFILE [ENV...]
#                           cni_exec, but run inside netns HOST (OUT, RC, ERRTXT, CTX)
#   cni HOST POD CMD CONFFILE CID [ENV...]
#                           $PLUGIN in HOST for the pod netns POD, container CID
#                           (CNI_PATH=$CNIPATH when that is set)
#   pings NS ADDR [PING_ARGS...]  one busybox ping from NS (iputils is not on
#                           a minimal Debian; busybox-static is a test peer)
#   pings_retry NS ADDR [PING_ARGS...]  the same, retried for up to 10 s:
#                           what "NS reaches ADDR" checks use (a fresh
#                           neighbour, IPv6 DAD, a loaded machine)
#   probe_ns NS HOST_ADDR POD_CIDR  an input-hook counter table in NS counting
#                           packets by source: from-host, from-pod (nft
#                           counters see every packet, need no listener)
#   count_from NS COMMENT   packets counted by NS's `ip probe input` rule COMMENT
#   at_least_one N          "yes" when N >= 1, else "count=N"
#   mode_plugin_setup PLUGIN  for loom-vxlan/loom-bgp tests: $PLUGIN, and
#                           $RUN (the lease file's dir), $STATE, $DATA under $T
#   mode_conf TYPE NAME [VERSION]  a config path for that plugin: runDir,
#                           stateDir, dataDir as above, antiSpoof off (its
#                           pins under /sys/fs/bpf are no netns's:
#                           test_antispoof.sh covers it)
#   bridge_conf NAME BRIDGE IPAM_JSON [TOP_JSON]  a loom-bridge config path,
#                           its own IPAM dataDir (ipam.type $IPAM_TYPE, default
#                           loom-ipam) and stateDir under $T
#   records CID             the endpoint records in $STATE naming CID
#   add_pod_pair CONF       ADD ctr1 (pod netns $P1) and ctr2 ($P2) on node $H:
#                           RES1/RES2 their results ("" on failure), CTX1 the
#                           first call's context; each ADD must succeed
#   host_veths HOST         names of the veth links in HOST, sorted
#   nft_json HOST           the nft ruleset of HOST as JSON ("{}" if nft fails)
#   mkbrconf FILE JSON      writes JSON as a config (validates it with jq)
#   as_prev CONFFILE RESULT prints a config path with RESULT as prevResult
#   result_host_veth BRIDGE host veth name from $OUT (the interface without
#                           sandbox that is not BRIDGE)

NS_PREFIX="lt$$-"
NS_RUN_DIR=/var/run/netns

ip netns list >/dev/null 2>&1 || skip "ip netns does not work here (need root and iproute2)"

# Remove every namespace of this run (at exit, pass or fail; a test's own
# test_cleanup runs before it).
ns_cleanup_all() {
	local n
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -F -- "$NS_PREFIX"); do
		[[ "$n" == "$NS_PREFIX"* ]] && ip netns del "$n" 2>/dev/null
	done
	return 0
}
on_exit ns_cleanup_all

ns_add() {
	NS="$NS_PREFIX$1"
	ip netns add "$NS" || { echo "cannot create netns $NS" >&2; exit 2; }
	ip -n "$NS" link set lo up
	# A new netns inherits the root netns's IPv4/IPv6 settings (podman turns
	# ip_forward on there): start from forwarding off, whatever the machine
	# holds, so a check of it sees what the test's own code turned on.
	ip netns exec "$NS" sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward
		echo 0 >/proc/sys/net/ipv6/conf/all/forwarding' 2>/dev/null
}

ns_adds() {
	local kv
	for kv in "$@"; do
		ns_add "${kv#*=}"
		printf -v "${kv%%=*}" '%s' "$NS"
	done
}

ns_del() {
	ip netns del "$1" 2>/dev/null || true
}

ns_path() { echo "$NS_RUN_DIR/$1"; }

# ns_cni HOST PLUGIN CMD CONFFILE [ENV...]: as lib.sh's cni_exec (same
# defaults and ENV syntax), with the plugin running in netns HOST.
ns_cni() {
	local host=$1
	shift
	CNI_EXEC_NETNS=$host cni_exec "$@"
}

cni() {
	local host=$1 pod=$2 cmd=$3 cf=$4 cid=$5
	shift 5
	ns_cni "$host" "$PLUGIN" "$cmd" "$cf" CNI_CONTAINERID="$cid" CNI_NETNS="$(ns_path "$pod")" \
		${CNIPATH:+CNI_PATH="$CNIPATH"} "$@"
}

pings() { ip netns exec "$1" busybox ping -c1 -W1 "${@:3}" "$2" >/dev/null 2>&1; }
pings_retry() { wait_for 10 pings "$@"; }

probe_ns() {
	ip netns exec "$1" nft -f - <<-EOF
		table ip probe {
			chain input {
				type filter hook input priority 0; policy accept;
				ip saddr $2 counter comment "from-host"
				ip saddr $3 counter comment "from-pod"
			}
		}
	EOF
}

count_from() {
	ip netns exec "$1" nft -j list chain ip probe input 2>/dev/null |
		jq -r --arg c "$2" '[.nftables[].rule? | select(.comment == $c) | .expr[] | .counter? | select(.) | .packets][0] // "none"'
}
at_least_one() { [[ "$1" =~ ^[0-9]+$ && $1 -ge 1 ]] && echo yes || echo "count=$1"; }

mode_plugin_setup() {
	PLUGIN=$1
	need_exec "$PLUGIN"
	need_cmd nft nftables busybox busybox-static
	RUN=$T/run STATE=$T/state DATA=$(new_datadir)
	mkdir -p "$RUN"
}

mode_conf() {
	jq_conf -n --arg r "$RUN" --arg s "$STATE" --arg d "$DATA" --arg t "$1" --arg n "$2" \
		--arg v "${3:-1.0.0}" \
		'{cniVersion: $v, name: $n, type: $t, runDir: $r, stateDir: $s, dataDir: $d,
		  antiSpoof: false}'
}

bridge_conf() {
	jq_conf -n --arg n "$1" --arg br "$2" --arg d "$(new_datadir)" \
		--arg s "$(mktemp -d "$T/state.XXXXXX")" --arg it "${IPAM_TYPE:-loom-ipam}" \
		--argjson ipam "$3" --argjson top "${4:-{\}}" \
		'{cniVersion: "1.0.0", name: $n, type: "loom-bridge", bridge: $br, stateDir: $s} + $top
		 + {ipam: ({type: $it, dataDir: $d} + $ipam)}'
}

records() { ls "$STATE" 2>/dev/null | grep -F -- "$1" || true; }

add_pod_pair() {
	RES1="" RES2=""
	cni "$H" "$P1" ADD "$1" ctr1 && RES1=$OUT
	CTX1=$CTX
	expect_eq "pod 1: ADD succeeds" 0 "$RC"
	cni "$H" "$P2" ADD "$1" ctr2 && RES2=$OUT
	expect_eq "pod 2: ADD succeeds" 0 "$RC"
}

host_veths() {
	ip -n "$1" -j link show type veth 2>/dev/null | jq -r '.[].ifname' | LC_ALL=C sort
}

nft_json() {
	ip netns exec "$1" nft -j list ruleset 2>/dev/null || echo '{}'
}

mkbrconf() {
	jq . <<<"$2" >"$1" || { echo "bad test config: $2" >&2; exit 2; }
}

as_prev() { jq_conf --argjson r "$2" '. + {prevResult: $r}' "$1"; }

result_host_veth() {
	jq -r --arg br "$1" '[.interfaces[]? | select((.sandbox // "") == "" and .name != $br)][0].name // empty' \
		<<<"$OUT" 2>/dev/null
}
