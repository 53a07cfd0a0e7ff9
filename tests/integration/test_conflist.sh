#!/usr/bin/env bash
# loomd --write-conflist DIR, and telling systemd it is ready (Type=notify):
#   no conflist and no READY=1 while the Network is missing (no lease);
#   once the lease is held DIR/10-loom.conflist appears, a conflist a
#   runtime takes (JSON, cniVersion, the network's name, [loom-vxlan,
#   portmap] with the portMappings capability, loomd's run and state dirs),
#   the same as the Kubernetes ConfigMap's but for those dirs;
#   READY=1 comes once, after the lease file and the conflist exist;
#   WATCHDOG=1 pings arrive while $WATCHDOG_USEC is set;
#   every other file of DIR is left as it was, and no temp file stays;
#   a bgp Network turns the plugin into loom-bgp.
# The conflist run as libcni runs it (conflist_chain.sh): loom-vxlan, then
# the reference portmap with a hostPort, ADD and DEL.
# loom-policyd: READY=1 after its first commit, then watchdog pings.
# The "service manager" is notify_listen.py on a socket in $T; both daemons
# run with only the capabilities their systemd unit leaves them
# (CapabilityBoundingSet= of conf/systemd/*.service.in, through setpriv).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

LOOM_SRC=${LOOM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
command -v python3 >/dev/null || { echo "SKIP: python3 is not installed"; exit 77; }
ns_add host
HOSTNS=$NS
export LOOM_STORE=file:$T/store
NETD=$T/net.d RUN=$T/run EP=$T/ep
LEASE=$RUN/default.env CONFLIST=$NETD/10-loom.conflist

# Somebody else's files in the folder, to be left alone.
mkdir -p "$NETD/sub"
printf '{"cniVersion":"1.0.0","name":"other","plugins":[{"type":"bridge"}]}\n' >"$NETD/05-other.conflist"
printf '{"cniVersion":"0.4.0","name":"x","type":"host-local"}\n' >"$NETD/99-x.conf"
echo keep >"$NETD/sub/file"
touch -d '2020-01-01' "$NETD/05-other.conflist"
# (the folder's own mtime changes with any rename in it: not compared)
snapshot() { (cd "$NETD" && find . -mindepth 1 -path ./10-loom.conflist -prune -o -printf '%p %s %T@ %m\n' | LC_ALL=C sort && sha256sum 05-other.conflist 99-x.conf sub/file); }
BEFORE=$(snapshot)

# as_unit UNIT: setpriv's arguments for the unit's capability bounding set
as_unit() {
	local caps
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$LOOM_SRC/conf/systemd/$1.service.in" |
		tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/+\L\1/p' | paste -sd, -)
	echo "setpriv --bounding-set=-all,$caps --inh-caps=-all --no-new-privs"
}
command -v setpriv >/dev/null || { echo "SKIP: setpriv is not installed (util-linux)"; exit 77; }
LOOMD_PRIV=$(as_unit loomd)
POLICYD_PRIV=$(as_unit loom-policyd)
echo "# loomd runs as: $LOOMD_PRIV; loom-policyd as: $POLICYD_PRIV"

# listen NAME FILE...: a notification socket for one daemon
listen() {
	local name=$1
	shift
	python3 "$LOOM_SRC/tests/integration/notify_listen.py" "$T/$name.sock" "$T/$name.notify" "$@" &
	LISTENER=$!
	wait_for 20 test -S "$T/$name.sock"
}
notified() { grep -q -- "$2" "$T/$1.notify" 2>/dev/null; }
count_notified() { grep -c -- "$2" "$T/$1.notify" 2>/dev/null; }

listen loomd "$LEASE" "$CONFLIST"
ip netns exec "$HOSTNS" env NOTIFY_SOCKET="$T/loomd.sock" WATCHDOG_USEC=400000 \
	$LOOMD_PRIV "$LOOM_BIN/loomd" --node n1 --address 127.0.0.1 --run-dir "$RUN" --state-dir "$EP" \
	--ttl 5 --write-conflist "$NETD" >"$T/loomd.log" 2>&1 &
LOOMD=$!

expect_true "loomd waits for the Network" \
	wait_for 20 grep -q 'waiting for the Network' "$T/loomd.log"
expect_true "no conflist without a lease" test ! -e "$CONFLIST"
expect_true "no READY=1 without a lease" bash -c "! grep -q READY=1 '$T/loomd.notify' 2>/dev/null"
expect_true "WATCHDOG=1 pings while waiting" wait_for 20 notified loomd WATCHDOG=1

printf '{"apiVersion":"loom.dev/v1","kind":"Network","metadata":{"name":"default"},"spec":{"cidr":"10.244.0.0/16","subnetLength":24}}' |
	ip netns exec "$HOSTNS" "$LOOM_BIN/store_put" /loom/config/default -
expect_true "the conflist appears once the lease is held" wait_for 20 test -s "$CONFLIST"
expect_true "READY=1 once in sync" wait_for 20 notified loomd READY=1
CTX="notifications: $(tr '\n' '|' <"$T/loomd.notify" 2>/dev/null)"
expect_eq "READY=1 after the lease file and the conflist existed" "files=yes" \
	"$(grep READY=1 "$T/loomd.notify" | head -1 | grep -o 'files=[a-z]*')"
# what the unit's capabilities must allow: sysctls, the vxlan device
expect_eq "with the unit's capabilities loomd turns on forwarding" 1 \
	"$(ip netns exec "$HOSTNS" sysctl -n net.ipv4.ip_forward 2>/dev/null)"
has_link() { ip -n "$HOSTNS" link show "$1" >/dev/null 2>&1; }
expect_true "with the unit's capabilities loomd creates its vxlan device" has_link loom.1
N=$(count_notified loomd WATCHDOG=1)
more_pings() { (($(count_notified loomd WATCHDOG=1) > N)); }
expect_true "WATCHDOG=1 keeps coming" wait_for 20 more_pings
CTX="conflist: $(cat "$CONFLIST" 2>/dev/null)"
is_json() { jq -e . "$1" >/dev/null 2>&1; }
expect_true "the conflist is JSON" is_json "$CONFLIST"
expect_eq "cniVersion, name" "1.0.0 default" "$(jq -r '"\(.cniVersion) \(.name)"' "$CONFLIST")"
expect_eq "plugins: loom-vxlan, then portmap" "loom-vxlan portmap" "$(jq -r '[.plugins[].type] | join(" ")' "$CONFLIST")"
expect_eq "portmap asks for portMappings" true "$(jq -r '.plugins[1].capabilities.portMappings' "$CONFLIST")"
expect_eq "loom-vxlan reads loomd's run and state dirs" "$RUN $EP" \
	"$(jq -r '.plugins[0] | "\(.runDir) \(.stateDir)"' "$CONFLIST")"
expect_eq "the lease file names the conflist's network" "$(jq -r .name "$CONFLIST")" \
	"$(basename "$(ls "$RUN"/*.env)" .env)"
python3 -c 'import yaml' 2>/dev/null &&
	expect_eq "the Kubernetes ConfigMap ships this conflist (dirs aside)" \
		"$(python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["data"]["10-loom.conflist"])' \
			"$LOOM_SRC/conf/kubernetes/configmap.yaml" | jq -cS .)" \
		"$(jq -cS 'del(.plugins[0].runDir, .plugins[0].stateDir)' "$CONFLIST")"
expect_eq "the folder's other files are untouched" "$BEFORE" "$(snapshot)"

# A runtime takes it: the chain run as libcni runs it (conflist_chain.sh),
# with the reference portmap after loom-vxlan.
if [[ -x /usr/lib/cni/portmap ]] && command -v iptables-save >/dev/null && command -v unshare >/dev/null; then
	ns_add pod
	PODNS=$NS
	while IFS= read -r line; do
		case $line in
		"ok   "*) pass "${line#ok   }" ;;
		"FAIL "*) fail "${line#FAIL }" ;;
		esac
	done < <(unshare -m --propagation private bash "$LOOM_SRC/tests/integration/conflist_chain.sh" \
		"$HOSTNS" "$PODNS" "$CONFLIST" "$LOOM_BIN:/usr/lib/cni" 2>&1)
else
	echo "# skipped the chain: needs /usr/lib/cni/portmap (containernetworking-plugins), iptables, unshare"
fi
expect_eq "no temp file left in the folder" "05-other.conflist 10-loom.conflist 99-x.conf sub" \
	"$(ls -A "$NETD" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "READY=1 is sent once" 1 "$(count_notified loomd READY=1)"

# The Network turns to bgp: the conflist follows at the next registration.
# --bird-socket names a BIRD that is not there, so loomd starts none (its
# controller fails after the conflist is written; --once then exits 1).
kill "$LOOMD"; { wait "$LOOMD"; } 2>/dev/null
expect_true "STOPPING=1 on SIGTERM" wait_for 20 notified loomd STOPPING=1
printf '{"apiVersion":"loom.dev/v1","kind":"Network","metadata":{"name":"default"},"spec":{"cidr":"10.244.0.0/16","subnetLength":24,"backend":{"type":"bgp"}}}' |
	ip netns exec "$HOSTNS" "$LOOM_BIN/store_put" /loom/config/default -
ip netns exec "$HOSTNS" $LOOMD_PRIV "$LOOM_BIN/loomd" --node n1 --address 127.0.0.1 --run-dir "$RUN" \
	--state-dir "$EP" --ttl 5 --write-conflist "$NETD" --bird-socket "$T/no-bird.ctl" --once \
	>>"$T/loomd.log" 2>&1
CTX="loomd log: $(tail -n 5 "$T/loomd.log")"
expect_eq "bgp: the conflist chains loom-bgp and portmap" "loom-bgp portmap" \
	"$(jq -r '[.plugins[].type] | join(" ")' "$CONFLIST" 2>/dev/null)"
expect_eq "the folder's other files are still untouched" "$BEFORE" "$(snapshot)"
kill "$LISTENER"; { wait "$LISTENER"; } 2>/dev/null

# loom-policyd: READY=1 once table inet loom is committed.
if command -v nft >/dev/null; then
	listen policyd
	ip netns exec "$HOSTNS" env NOTIFY_SOCKET="$T/policyd.sock" WATCHDOG_USEC=400000 \
		$POLICYD_PRIV "$LOOM_BIN/loom-policyd" --node n1 >"$T/policyd.log" 2>&1 &
	POLICYD=$!
	expect_true "loom-policyd: READY=1 after its first commit" wait_for 20 notified policyd READY=1
	CTX="policyd: $(cat "$T/policyd.log")"
	expect_true "loom-policyd: the table is in force when READY=1 comes" \
		ip netns exec "$HOSTNS" nft list table inet loom >/dev/null
	expect_true "loom-policyd: WATCHDOG=1 pings" wait_for 20 notified policyd WATCHDOG=1
	kill "$POLICYD"; { wait "$POLICYD"; } 2>/dev/null
	expect_true "loom-policyd: STOPPING=1 on SIGTERM" wait_for 20 notified policyd STOPPING=1
	kill "$LISTENER"; { wait "$LISTENER"; } 2>/dev/null
fi

for log in "$T/loomd.log" "$T/policyd.log"; do
	[[ -e $log ]] || continue
	expect_eq "no sanitizer report in $(basename "$log")" "" \
		"$(grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log")"
done

finish
