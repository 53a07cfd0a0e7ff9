#!/usr/bin/env bash
# Runs a conflist the way libcni does, for test_conflist.sh: ADD execs each
# plugin in order with the list's name and cniVersion put into its entry,
# runtimeConfig for each capability it declares, and the previous plugin's
# result as prevResult; DEL execs them in reverse with the ADD's result as
# prevResult.  Plugins run in the node's network namespace only (nsenter
# --net, as a runtime on that node would), and this script is meant to run
# under `unshare -m`: it mounts a tmpfs on /var/lib/cni and a fresh bpffs on
# /sys/fs/bpf, so the IPAM store and antiSpoof's pins vanish with it.
#
# usage: unshare -m --propagation private bash conflist_chain.sh HOSTNS PODNS CONFLIST CNI_PATH
# Prints "ok   what" / "FAIL what: detail" lines.
set -u
HOSTNS=$1 PODNS=$2 CONFLIST=$3 CNIPATH=$4
CID=chain1
PORTS='[{"hostPort": 18080, "containerPort": 80, "protocol": "tcp"}]'
check() { # check WHAT COND_RC [DETAIL]
	if [[ $2 -eq 0 ]]; then echo "ok   $1"; else echo "FAIL $1: ${3:-}"; fi
}

mount -t tmpfs tmpfs /var/lib/cni || { echo "FAIL private /var/lib/cni: cannot mount"; exit 0; }
mount -t bpf bpf /sys/fs/bpf || { echo "FAIL private /sys/fs/bpf: cannot mount"; exit 0; }

# plugin_conf INDEX PREV_RESULT: the libcni view of plugin INDEX
plugin_conf() {
	jq --argjson i "$1" --argjson prev "$2" --argjson ports "$PORTS" '
		. as $l | $l.plugins[$i]
		| . + {cniVersion: $l.cniVersion, name: $l.name}
		| if (.capabilities.portMappings // false) then . + {runtimeConfig: {portMappings: $ports}} else . end
		| if $prev != null then . + {prevResult: $prev} else . end
		| del(.capabilities)' "$CONFLIST"
}
# run_plugin CMD INDEX PREV: execs it, sets OUT and RC
run_plugin() {
	local type conf
	type=$(jq -r ".plugins[$2].type" "$CONFLIST")
	conf=$(plugin_conf "$2" "$3")
	RC=0
	OUT=$(nsenter --net="/var/run/netns/$HOSTNS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
		CNI_COMMAND="$1" CNI_CONTAINERID=$CID CNI_NETNS="/var/run/netns/$PODNS" CNI_IFNAME=eth0 \
		CNI_PATH="$CNIPATH" timeout 30 "$(find_plugin "$type")" <<<"$conf" 2>/dev/null) || RC=$?
}
find_plugin() {
	local d
	IFS=: read -ra dirs <<<"$CNIPATH"
	for d in "${dirs[@]}"; do [[ -x "$d/$1" ]] && { echo "$d/$1"; return; }; done
	echo "/nonexistent/$1"
}

N=$(jq '.plugins | length' "$CONFLIST")
PREV=null
ok=0
for ((i = 0; i < N; i++)); do
	run_plugin ADD "$i" "$PREV"
	check "chain ADD: $(jq -r ".plugins[$i].type" "$CONFLIST") succeeds" "$RC" "rc=$RC $OUT"
	[[ $RC -eq 0 ]] || { ok=1; break; }
	PREV=$OUT
done
ADDR=$(jq -r '.ips[0].address // empty' <<<"$PREV" 2>/dev/null)
[[ $ok -eq 0 ]] && [[ $ADDR == 10.244.* ]]
check "chain ADD: the pod gets an address from the node's block ($ADDR)" $?
ip -n "$PODNS" -o addr show dev eth0 2>/dev/null | grep -qF "${ADDR:-none}"
check "chain ADD: the pod's eth0 holds it" $?
nsenter --net="/var/run/netns/$HOSTNS" iptables-save -t nat 2>/dev/null | grep -q -- '--dport 18080'
check "chain ADD: portmap's DNAT for hostPort 18080 is in the node" $?

for ((i = N - 1; i >= 0; i--)); do
	run_plugin DEL "$i" "$PREV"
	check "chain DEL: $(jq -r ".plugins[$i].type" "$CONFLIST") succeeds" "$RC" "rc=$RC $OUT"
done
! nsenter --net="/var/run/netns/$HOSTNS" iptables-save -t nat 2>/dev/null | grep -q -- '--dport 18080'
check "chain DEL: the DNAT is gone" $?
[[ -z "$(ip -n "$HOSTNS" -o link show type veth 2>/dev/null)" ]]
check "chain DEL: the pod's veth is gone" $?
