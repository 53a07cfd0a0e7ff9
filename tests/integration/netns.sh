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
#   ns_add SHORT            creates ${NS_PREFIX}SHORT (lo up); sets NS to its name
#   ns_del NAME             deletes it (missing is fine)
#   ns_path NAME            /var/run/netns/NAME
#   ns_cni HOST PLUGIN CMD CONFFILE [ENV...]
#                           cni_exec, but run inside netns HOST (OUT, RC, ERRTXT, CTX)
#   host_veths HOST         names of the veth links in HOST, sorted
#   nft_json HOST           the nft ruleset of HOST as JSON ("{}" if nft fails)
#   wait_until TRIES CMD... polls CMD every 0.1 s, at most TRIES times
#   mkbrconf FILE JSON      writes JSON as a config (validates it with jq)
#   as_prev CONFFILE RESULT prints a config path with RESULT as prevResult
#   result_host_veth BRIDGE host veth name from $OUT (the interface without
#                           sandbox that is not BRIDGE)

NS_PREFIX="lt$$-"
NS_RUN_DIR=/var/run/netns

ip netns list >/dev/null 2>&1 || { echo "ip netns does not work here (need root and iproute2)" >&2; exit 2; }

# Remove every namespace of this run.  Also called from the EXIT trap below,
# before lib.sh's own cleanup (which removes $T).
ns_cleanup_all() {
	local n
	for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -F -- "$NS_PREFIX"); do
		[[ "$n" == "$NS_PREFIX"* ]] && ip netns del "$n" 2>/dev/null
	done
	return 0
}
_netns_exit() {
	local rc=$?
	# Extra cleanup hooks of a test (e.g. podman's root-netns bridge) first.
	if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
	ns_cleanup_all
	_cleanup
	exit $rc
}
trap _netns_exit EXIT

ns_add() {
	NS="$NS_PREFIX$1"
	ip netns add "$NS" || { echo "cannot create netns $NS" >&2; exit 2; }
	ip -n "$NS" link set lo up
}

ns_del() {
	ip netns del "$1" 2>/dev/null || true
}

ns_path() { echo "$NS_RUN_DIR/$1"; }

# ns_cni HOST PLUGIN CMD CONFFILE [ENV...]: as lib.sh's cni_exec (same
# defaults and ENV syntax), with the plugin running in netns HOST.
ns_cni() {
	local host=$1 plugin=$2 cmd=$3 conf=$4
	shift 4
	declare -A env=(
		[CNI_COMMAND]=$cmd
		[CNI_CONTAINERID]=${CID:-ctr-default}
		[CNI_NETNS]=$TEST_NETNS
		[CNI_IFNAME]=${IFNAME:-eth0}
		[CNI_PATH]=$(dirname "$plugin")
	)
	[[ "$cmd" == "-" ]] && unset 'env[CNI_COMMAND]'
	local kv
	for kv in "$@"; do
		if [[ "$kv" == -* ]]; then
			unset "env[${kv#-}]"
		else
			env[${kv%%=*}]=${kv#*=}
		fi
	done
	local args=(PATH=/usr/sbin:/usr/bin:/sbin:/bin)
	[[ -n "${ASAN_OPTIONS:-}" ]] && args+=("ASAN_OPTIONS=$ASAN_OPTIONS")
	[[ -n "${UBSAN_OPTIONS:-}" ]] && args+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")
	for kv in "${!env[@]}"; do
		args+=("$kv=${env[$kv]}")
	done
	local errf
	errf=$(mktemp "$T/stderr.XXXXXX")
	RC=0
	OUT=$(ip netns exec "$host" env -i "${args[@]}" timeout 30 "$plugin" <"$conf" 2>"$errf") || RC=$?
	ERRTXT=$(<"$errf")
	rm -f "$errf"
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$ERRTXT"; then
		fail "no sanitizer report from $(basename "$plugin") $cmd" "${ERRTXT:0:2000}"
	fi
	local shown
	shown=$(jq -c . <<<"$OUT" 2>/dev/null) || shown=$(printf '%q' "${OUT:0:400}")
	CTX="call: [netns $host] $(basename "$plugin") ${args[*]:1} < $conf ($(jq -c . "$conf" 2>/dev/null)) -> rc=$RC stdout=$shown stderr=${ERRTXT:0:300}"
}

host_veths() {
	ip -n "$1" -j link show type veth 2>/dev/null | jq -r '.[].ifname' | LC_ALL=C sort
}

nft_json() {
	ip netns exec "$1" nft -j list ruleset 2>/dev/null || echo '{}'
}

wait_until() {
	local tries=$1 i
	shift
	for ((i = 0; i < tries; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

mkbrconf() {
	jq . <<<"$2" >"$1" || { echo "bad test config: $2" >&2; exit 2; }
}

as_prev() {
	local f
	f=$(mktemp "$T/conf.XXXXXX")
	jq --argjson r "$2" '. + {prevResult: $r}' "$1" >"$f"
	echo "$f"
}

result_host_veth() {
	jq -r --arg br "$1" '[.interfaces[]? | select((.sandbox // "") == "" and .name != $br)][0].name // empty' \
		<<<"$OUT" 2>/dev/null
}
