#!/usr/bin/env bash
# loomctl status and loomctl diags on a loom-sim cluster (vxlan, then bgp;
# 2 nodes), run inside node n1's netns the way an operator runs them on a
# node (`ip netns exec NODE loomctl ...`):
#   status prints the components, lease, IPAM, the vxlan peers or the BGP
#   sessions table, the policy in force and the conflist;
#   --brief exits 0 on a healthy node, and non-zero naming the reason once
#   n1's loomd is killed;
#   -o json carries those fields (checked with jq);
#   diags writes a tarball listing links, addresses, routes, neighbours,
#   FDB, the nft ruleset as JSON, BIRD's protocols (bgp), the conflist,
#   loom's state folders and the status document.
source "$(dirname "$0")/lib.sh"

for b in loom-sim loom-probe loomd loomctl loom-vxlan loom-bgp loom-policyd; do
	[[ -x "$LOOM_BIN/$b" ]] || { echo "missing $LOOM_BIN/$b: build it first" >&2; exit 2; }
done
command -v bird >/dev/null || { echo "SKIP: bird is not installed"; exit 77; }

NAME="" MODE=""
SIM() { "$LOOM_BIN/loom-sim" --name "$NAME" "$@"; }
_st_exit() {
	local rc=$?
	[[ -n "$NAME" ]] && SIM down >/dev/null 2>&1
	_cleanup
	exit "$rc"
}
trap _st_exit EXIT

# CTL ARGS...: loomctl on node n1, its conflist where loom-sim keeps it
CTL() {
	ip netns exec "$NAME-n1" "$LOOM_BIN/loomctl" "$@" --cni-conf-dir "/run/loom-sim/$NAME/nodes/n1/cni"
}
healthy() { CTL status --brief >/dev/null 2>&1; }
wait_for() { # wait_for TRIES CMD...: every 0.2 s
	local i
	for ((i = 0; i < $1; i++)); do "${@:2}" && return 0; sleep 0.2; done
	return 1
}
jqt() { jq -e "$1" "$T/status.json" >/dev/null; }

for MODE in vxlan bgp; do
	NAME=lst$$${MODE:0:1}
	OUT=$(SIM up --nodes 2 --mode "$MODE" 2>&1)
	RC=$?
	expect_eq "$MODE: cluster up" 0 "$RC"
	[[ $RC == 0 ]] || { echo "$OUT"; continue; }
	SIM pod add n1 default/a >/dev/null
	SIM pod add n2 default/b >/dev/null

	expect_true "$MODE: status --brief exits 0 on a healthy node" wait_for 150 healthy
	OUT=$(CTL status --brief 2>&1)
	expect_match "$MODE: --brief is one line saying healthy" '^n1 healthy: loomd running, loom-policyd running' "$OUT"
	expect_eq "$MODE: --brief prints one line" 1 "$(wc -l <<<"$OUT")"

	OUT=$(CTL status 2>&1)
	expect_eq "$MODE: status exits 0" 0 "$?"
	expect_match "$MODE: status names node, network and backend" "^Node n1, network default, backend $MODE" "$OUT"
	expect_match "$MODE: status shows the lease's expiry" 'Lease: +10\.244\.[0-9]+\.0/24, expires in [0-9]+s' "$OUT"
	expect_match "$MODE: status shows IPAM used/total" '10\.244\.[0-9]+\.0/24 +1/253 in use' "$OUT"
	if [[ $MODE == vxlan ]]; then
		expect_match "vxlan: the peers table lists n2 with its FDB entry" '\| n2 +\| 192\.0\.2\.12 +\|.*\| programmed +\|' "$OUT"
	else
		expect_match "bgp: the BGP table lists the session to n2" '\| 192\.0\.2\.12 +\| node-to-node mesh \| up +\|.*\| Established' "$OUT"
	fi
	expect_match "$MODE: status shows the policy revision in force" 'Policy: +revision [0-9]+ in force' "$OUT"
	expect_match "$MODE: status shows the conflist" "Conflist: +/run/loom-sim/$NAME/nodes/n1/cni/10-loom.conflist" "$OUT"

	CTL status -o json >"$T/status.json" 2>&1
	expect_eq "$MODE: -o json exits 0" 0 "$?"
	expect_true "$MODE: json: node, network, backend, healthy" \
		jqt ".node == \"n1\" and .network == \"default\" and .backend == \"$MODE\" and .healthy == true and .problems == []"
	expect_true "$MODE: json: loomd and loom-policyd found by pid" \
		jqt '(.components.loomd.pid | type) == "number" and .components["loom-policyd"].state == "running"'
	expect_true "$MODE: json: lease in the store agrees with the lease file, and expires" \
		jqt '.lease.subnet == .lease.leaseFileSubnet and .lease.expiresInSeconds > 0 and .lease.address == "192.0.2.11"'
	expect_true "$MODE: json: IPAM per range" \
		jqt '.ipam.ranges | length == 1 and .[0].used == 1 and .[0].capacity == 253'
	if [[ $MODE == vxlan ]]; then
		expect_true "vxlan: json: the peer n2's FDB and neighbour entries are on loom.1" \
			jqt '.overlay.type == "vxlan" and .overlay.device == "loom.1" and ([.overlay.peers[] | select(.node == "n2" and .fdb and .neighbour and .programmed)] | length) == 1'
	else
		expect_true "bgp: json: BIRD up and the session to n2 Established" \
			jqt '.components.bird.state == "up" and ([.overlay.sessions[] | select(.peerAddress == "192.0.2.12" and .node == "n2" and .info == "Established" and .state == "up")] | length) == 1'
	fi
	expect_true "$MODE: json: the policy in force" \
		jqt '.policy.inSync == true and (.policy.revision | type) == "number" and (.policy.lastApply | test("^[0-9-]+T[0-9:]+Z$"))'
	expect_true "$MODE: json: the conflist path" jqt '.conflist | endswith("/nodes/n1/cni/10-loom.conflist")'

	OUT=$(cd "$T" && CTL diags -o "$T/diags.tgz" 2>&1)
	expect_eq "$MODE: diags exits 0 and names the tarball" "0 $T/diags.tgz" "$? $OUT"
	tar -tzf "$T/diags.tgz" | sed 's|^[^/]*/||' >"$T/diags.list"
	want=(commands.txt status.json ip/links.json ip/addresses.json ip/routes.json ip/neighbours.json ip/fdb.json
		nft/ruleset.json cni/10-loom.conflist state/run/default.env)
	[[ $MODE == bgp ]] && want+=(bird/protocols.txt)
	for f in "${want[@]}"; do
		expect_true "$MODE: diags holds $f" grep -qx "$f" "$T/diags.list"
	done
	expect_true "$MODE: diags holds the endpoint record" grep -qE '^state/endpoints/default:.*\.json$' "$T/diags.list"
	expect_true "$MODE: diags holds the IPAM reservation" grep -qE '^state/ipam/10\.244\.[0-9]+\.[0-9]+$' "$T/diags.list"
	mkdir -p "$T/d" && tar -xzf "$T/diags.tgz" -C "$T/d"
	expect_true "$MODE: diags' nft ruleset is JSON with loom's table" \
		jq -e '[.nftables[] | select(.table.name == "loom")] | length >= 1' "$T"/d/*/nft/ruleset.json >/dev/null
	expect_true "$MODE: diags' links are JSON holding eth0" \
		jq -e '[.[] | select(.ifname == "eth0")] | length == 1' "$T"/d/*/ip/links.json >/dev/null
	rm -rf "$T/d" "$T/diags.tgz"

	SIM node kill n1 >/dev/null
	unhealthy() { ! healthy; }
	expect_true "$MODE: --brief exits non-zero once n1's loomd is killed" wait_for 50 unhealthy
	OUT=$(CTL status --brief 2>&1)
	expect_match "$MODE: ... and says why" '^n1 unhealthy: .*loomd: not running' "$OUT"

	SIM down >/dev/null 2>&1
	NAME=""
done
finish
