#!/usr/bin/env bash
# End to end with a real runtime: podman (CNI backend) runs two containers
# on a network served by loom-bridge + loom-ipam; one reaches the other by
# ping and by TCP; when they are gone podman has called DEL and nothing of
# the pods is left (no veth on the bridge, IPAM store and endpoint records
# empty, no cached CNI result).
#
# Podman makes each container's netns from the ROOT netns, so this is the
# one test whose bridge lives in the machine's root namespace.  It is named
# "loomt<pid>", carries no address (no isGateway, no ipMasq: nothing else of
# the root netns changes), and the EXIT trap deletes it with any leftover.
# Everything else of podman (storage, runroot, tmpdir, containers.conf,
# network config dir, the busybox rootfs) lives under the run's temp dir;
# /etc is never edited.
#
# Podman turns on the root netns's net.ipv4.ip_forward when it sets up a
# network (a new netns inherits that value): this test saves it first and
# restores it at exit, saying so when podman had changed it.
#
# Skips (exit 77, "SKIP: ...") when podman, runc or a static busybox are
# missing, or when this machine cannot run even a container without network.
#
# Debug the test itself with the reference plugins:
#   LOOM_BRIDGE=/usr/lib/cni/bridge LOOM_IPAM_TYPE=host-local LOOM_BIN=... bash test_podman.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

BRIDGE=${LOOM_BRIDGE:-$LOOM_BIN/loom-bridge}
IPAM_TYPE=${LOOM_IPAM_TYPE:-loom-ipam}
NET=loomnet$$
BR=loomt$$
CACHE=/var/lib/cni/results
CACHE_EXISTED=false
[[ -d $CACHE ]] && CACHE_EXISTED=true

ROOT_IP_FORWARD=$(cat /proc/sys/net/ipv4/ip_forward)

need_exec "$BRIDGE"
command -v podman >/dev/null || skip "podman is not installed (apt-get install podman runc)"
command -v runc >/dev/null || skip "runc is not installed (apt-get install runc)"
BUSYBOX=$(command -v busybox || true)
[[ -n "$BUSYBOX" ]] && grep -q 'not a dynamic' <<<"$(ldd "$BUSYBOX" 2>&1)" ||
	skip "no static busybox for the rootfs (apt-get install busybox-static)"

D=$T/podman
ROOTFS=$D/rootfs
mkdir -p "$D"/{net,storage,run,tmp,ipam,state} "$ROOTFS"/{bin,proc,sys,dev,etc,tmp}
cp "$BUSYBOX" "$ROOTFS/bin/busybox"
for c in sh ip ping nc sleep cat echo; do ln -sf busybox "$ROOTFS/bin/$c"; done

cat >"$D/containers.conf" <<-EOF
	[network]
	network_backend = "cni"
	cni_plugin_dirs = ["$(dirname "$BRIDGE")", "$LOOM_BIN", "/usr/lib/cni"]
	network_config_dir = "$D/net"
	# Never podman's own "podman" network (a bridge with an address, iptables
	# rules and a store in /var/lib/cni in the root netns): ours is the default.
	default_network = "$NET"

	[engine]
	runtime = "runc"
	cgroup_manager = "cgroupfs"
	events_logger = "none"
	tmp_dir = "$D/tmp"
EOF
export CONTAINERS_CONF=$D/containers.conf

# A /24 of 10.213.0.0/16 that no route of the root netns covers.
SUBNET=""
for ((i = 0; i < 250; i++)); do
	o=$(((($$ + i) % 250) + 1))
	if [[ -z "$(ip -4 route show match "10.213.$o.1" | grep -v '^default')" ]]; then
		SUBNET="10.213.$o"
		break
	fi
done
[[ -n "$SUBNET" ]] || skip "no free /24 in 10.213.0.0/16 for the test network"

# The plugin runs in the root namespace here: its BPF objects (antiSpoof is
# on by default) are pinned in a bpffs of this run, unmounted by the cleanup
# with every other mount under $D, never in the machine's /sys/fs/bpf.
mkdir -p "$D/bpffs"
mount -t bpf bpf "$D/bpffs" || skip "cannot mount a BPF filesystem for the test's pins"

jq -n --arg net "$NET" --arg br "$BR" --arg t "$(basename "$BRIDGE")" --arg it "$IPAM_TYPE" \
	--arg d "$D/ipam" --arg s "$D/state" --arg sub "$SUBNET.0/24" --arg pin "$D/bpffs/loom" \
	'{cniVersion: "1.0.0", name: $net, plugins: [
		{type: $t, bridge: $br, stateDir: $s, bpfPinDir: $pin,
		 ipam: {type: $it, dataDir: $d, ranges: [[{subnet: $sub}]]}}]}' >"$D/net/$NET.conflist"

PODMAN=(podman --root "$D/storage" --runroot "$D/run" --tmpdir "$D/tmp"
	--runtime runc --cgroup-manager cgroupfs)
RUNOPTS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
# --rootfs is a switch that makes the image argument a rootfs path: it and
# ROOTFS come last, right before the command, or the flags after it would
# become the command (and podman would fall back to its default network).

test_cleanup() {
	"${PODMAN[@]}" rm -f -a -t 0 >/dev/null 2>&1
	restore_ip_forward
	local v
	for v in $(ip -j link show master "$BR" 2>/dev/null | jq -r '.[].ifname'); do
		ip link del "$v" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	rm -f "$CACHE/$NET-"* 2>/dev/null
	# libcni makes its result cache on first use; leave no empty one behind
	$CACHE_EXISTED || rmdir "$CACHE" 2>/dev/null
	# podman mounts a shm per container under the runroot; unmount whatever
	# is left before the temp dir is removed.
	local m
	for m in $(awk -v d="$D" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
	return 0
}

restore_ip_forward() {
	local now
	now=$(cat /proc/sys/net/ipv4/ip_forward)
	[[ "$now" == "$ROOT_IP_FORWARD" ]] && return 0
	echo "podman set the root netns's ip_forward to $now: restored to $ROOT_IP_FORWARD"
	echo "$ROOT_IP_FORWARD" >/proc/sys/net/ipv4/ip_forward
}

# What of the root netns must be the same afterwards (besides our bridge
# and ip_forward, which podman may change and the cleanup restores).
root_state() {
	ip -j link show | jq -r --arg br "$BR" '.[] | select(.ifname != $br) | .ifname' | sort
	nft list ruleset 2>/dev/null
}
ROOT_BEFORE=$(root_state)

# Can this machine run a container at all?  Without network, so a failure
# here is the environment's, not loom's.
if ! PROBE=$(timeout 60 "${PODMAN[@]}" run --rm "${RUNOPTS[@]}" --network none --rootfs "$ROOTFS" /bin/echo probe-ok 2>&1) ||
	[[ "$PROBE" != *probe-ok* ]]; then
	skip "podman cannot run a container here: ${PROBE:0:300}"
fi
echo "== podman runs containers (network none): ok"
cni_netns() { ip netns list | awk '$1 ~ /^cni-/ {print $1}' | sort; }
NETNS_BEFORE=$(cni_netns)

echo "== two containers on the $NET network (bridge $BR, $SUBNET.0/24)"
ERR=$T/podman.err
# A: listens on TCP 7777, prints what it receives, then stays for the ping.
# nc's stdin is a pipe that stays open: with podman's /dev/null it could
# see EOF and close the connection before B's message arrives.
A=$(timeout 60 "${PODMAN[@]}" run -d --name "a$$" --network "$NET" "${RUNOPTS[@]}" --log-driver k8s-file \
	--rootfs "$ROOTFS" /bin/sh -c 'sleep 600 | nc -l -p 7777' 2>"$ERR") || true
if [[ -z "$A" ]]; then
	fail "container A starts on the loom network" "$(head -c 1500 "$ERR")"
	finish
fi
pass "container A starts on the loom network"
AIP=$("${PODMAN[@]}" inspect -f "{{(index .NetworkSettings.Networks \"$NET\").IPAddress}}" "$A" 2>/dev/null)
expect_match "container A has an address in $SUBNET.0/24" "^${SUBNET//./\\.}\.[0-9]+$" "$AIP"
expect_eq "A's host veth is a port of $BR" 1 "$(ip -j link show master "$BR" | jq length)"
expect_eq "IPAM store holds A's address" "$AIP" "$(addr_files "$D/ipam/$NET")"

OUTB=$(timeout 60 "${PODMAN[@]}" run --rm --network "$NET" "${RUNOPTS[@]}" --cap-add NET_RAW \
	--rootfs "$ROOTFS" /bin/sh -c "ip -4 -o addr show dev eth0; ping -c1 -W2 $AIP && echo PING-OK;
		echo hello-from-b | nc -w 2 $AIP 7777 && echo NC-OK" 2>&1)
CTX="container B said: $OUTB"
expect_match "container B has an address in $SUBNET.0/24" "inet ${SUBNET//./\\.}\.[0-9]+/24" "$OUTB"
expect_match "container B pings container A" 'PING-OK' "$OUTB"
expect_match "container B connects to A over TCP" 'NC-OK' "$OUTB"
# nc in A exits after the connection; its stdout is A's log.
wait_for 15 bash -c '"$@" logs "'"$A"'" 2>/dev/null | grep -q hello-from-b' _ "${PODMAN[@]}"
expect_match "container A received B's message" 'hello-from-b' "$("${PODMAN[@]}" logs "$A" 2>&1)"
expect_eq "B's address released when B exited (podman called DEL)" "$AIP" "$(addr_files "$D/ipam/$NET")"

"${PODMAN[@]}" rm -f -t 0 "$A" >/dev/null 2>&1
expect_eq "no containers left" "" "$("${PODMAN[@]}" ps -a -q 2>&1)"
expect_eq "no veth left on $BR" 0 "$(ip -j link show master "$BR" 2>/dev/null | jq length)"
expect_eq "IPAM store empty" "" "$(addr_files "$D/ipam/$NET")"
expect_eq "no endpoint record left" "" "$(find "$D/state" -type f 2>/dev/null)"
expect_eq "no cached CNI result of $NET left" "" "$(ls "$CACHE" 2>/dev/null | grep -F -- "$NET-")"
expect_eq "no container netns left" "$NETNS_BEFORE" "$(cni_netns)"
ROOT_AFTER=$(root_state)
if [[ "$ROOT_BEFORE" == "$ROOT_AFTER" ]]; then pass "root netns unchanged (links, nft)"; else
	fail "root netns unchanged (links, nft)" "$(diff <(echo "$ROOT_BEFORE") <(echo "$ROOT_AFTER"))"; fi
restore_ip_forward
expect_eq "root netns's ip_forward as before the test" "$ROOT_IP_FORWARD" "$(cat /proc/sys/net/ipv4/ip_forward)"

finish
