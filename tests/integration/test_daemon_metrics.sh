#!/usr/bin/env bash
# The real daemons' HTTP endpoints: loomd and loom-policyd started with
# --metrics-address on the loopback of a throwaway node netns (file store),
# scraped from inside that netns the way a kubelet probe and Prometheus on
# the node would:
#   /healthz 200 from the start; /readyz 503 with the reason while loomd has
#   no Network to register in, 200 once it is in sync; loom-policyd's /readyz
#   200 once its table is in force; /metrics of both clean under
#   `promtool check metrics`, with the metrics each daemon owns; a daemon
#   with a bad --metrics-address refuses to start, saying why;
#   loomctl status finds both daemons' addresses on their command lines
#   and reports their /readyz (503 and its reason while loomd waits for a
#   Network); loomctl diags holds both /metrics snapshots;
#   bgp mode, two node netns on one link (when BIRD is installed): loomd
#   exports loom_bgp_peer_up 1 for its Established peer and one overlay peer.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

for b in loomd loom-policyd store_put; do
	[[ -x $LOOM_BIN/$b ]] || { echo "missing $LOOM_BIN/$b: build it first" >&2; exit 2; }
done
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }
command -v promtool >/dev/null || { echo "SKIP: promtool is not installed (package prometheus)"; exit 77; }
command -v nft >/dev/null || { echo "SKIP: nft is not installed"; exit 77; }

ns_add node
NODE=$NS
ip -n "$NODE" link add eth0 type veth peer name eth0p
ip -n "$NODE" addr add 192.0.2.11/24 dev eth0
ip -n "$NODE" link set eth0 up
ip -n "$NODE" link set eth0p up
export LOOM_STORE=file:$T/store
LOOMD_ADDR=127.0.0.1:9650
POLICYD_ADDR=127.0.0.1:9651

# get ADDR PATH: "CODE" with the body in $T/body, from inside the node
get() {
	ip netns exec "$NODE" curl -s -o "$T/body" -w '%{http_code}' --max-time 10 "http://$1$2"
}
code_is() { [[ $(get "$2" "$3") == "$1" ]]; }
no_sanitizer_report() { ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/*.log; }

mkdir -p "$T/run" "$T/ep"
ip netns exec "$NODE" "$LOOM_BIN/loomd" --node n1 --address 192.0.2.11 --run-dir "$T/run" \
	--state-dir "$T/ep" --ttl 5 --metrics-address "$LOOMD_ADDR" >"$T/loomd.log" 2>&1 &
LOOMD_PID=$!
ip netns exec "$NODE" "$LOOM_BIN/loom-policyd" --node n1 --metrics-address "$POLICYD_ADDR" \
	>"$T/policyd.log" 2>&1 &
POLICYD_PID=$!

expect_true "loomd: /healthz answers 200" wait_for 10 code_is 200 "$LOOMD_ADDR" /healthz
expect_eq "loomd: /readyz is 503 while there is no Network" 503 "$(get "$LOOMD_ADDR" /readyz)"
expect_match "loomd: /readyz says why" "^not ready: .*(Network|registering)" "$(cat "$T/body")"
CTL() { ip netns exec "$NODE" "$LOOM_BIN/loomctl" "$@" --cni-conf-dir "$T/cni"; }
OUT=$(CTL status --brief 2>&1)
expect_eq "loomctl status --brief: exit 1 while loomd is not ready" 1 "$?"
expect_match "... giving loomd's /readyz reason" "^n1 unhealthy: .*loomd: not ready: " "$OUT"

printf '{"apiVersion":"loom.dev/v1","kind":"Network","metadata":{"name":"default"},"spec":{"cidr":"10.244.0.0/16","subnetLength":24,"backend":{"type":"vxlan"}}}' |
	ip netns exec "$NODE" "$LOOM_BIN/store_put" /loom/config/default -
expect_true "loomd: /readyz answers 200 once in sync" wait_for 15 code_is 200 "$LOOMD_ADDR" /readyz
expect_true "loom-policyd: /healthz answers 200" wait_for 10 code_is 200 "$POLICYD_ADDR" /healthz
expect_true "loom-policyd: /readyz answers 200 once its table is in force" \
	wait_for 15 code_is 200 "$POLICYD_ADDR" /readyz

# loomd's endpoint records count in its block's usage
SUBNET=$(sed -n 's/^LOOM_SUBNET=//p' "$T/run/default.env")
POD_IP=${SUBNET%.0/24}.7
printf '{"network":"default","containerID":"c1","ifname":"eth0","hostVeth":"veth1","ips":["%s/24"]}' \
	"$POD_IP" >"$T/ep/default:c1:eth0.json"

for d in loomd:$LOOMD_ADDR policyd:$POLICYD_ADDR; do
	name=${d%%:*} addr=${d#*:}
	expect_eq "$name: /metrics answers 200" 200 "$(get "$addr" /metrics)"
	cp "$T/body" "$T/$name.metrics"
	OUT=$(promtool check metrics <"$T/$name.metrics" 2>&1)
	expect_eq "$name: promtool check metrics is clean" "0 ''" "$? $(printf '%q' "$OUT")"
done
for m in loom_build_info loom_lease_renewals_total loom_store_watch_restarts_total loom_overlay_peers \
	loom_ipam_addresses_in_use loom_ipam_addresses_capacity loom_dataplane_apply_duration_seconds_bucket \
	loom_dataplane_apply_errors_total; do
	expect_true "loomd exports $m" grep -q "^$m[{ ]" "$T/loomd.metrics"
done
expect_true "loomd: one address in use in its block $SUBNET" \
	grep -qx "loom_ipam_addresses_in_use{range=\"$SUBNET\"} 1" "$T/loomd.metrics"
expect_true "loomd: a /24 block holds 253 pod addresses" \
	grep -qx "loom_ipam_addresses_capacity{range=\"$SUBNET\"} 253" "$T/loomd.metrics"
for m in loom_build_info loom_dataplane_apply_duration_seconds_bucket loom_dataplane_apply_errors_total \
	loom_policies loom_policy_rules loom_policy_set_elements loom_store_watch_restarts_total; do
	expect_true "loom-policyd exports $m" grep -q "^$m[{ ]" "$T/policyd.metrics"
done
expect_true "loom-policyd: its first commit is in the histogram" \
	grep -qE '^loom_dataplane_apply_duration_seconds_count [1-9]' "$T/policyd.metrics"
expect_eq "unknown paths are 404" 404 "$(get "$LOOMD_ADDR" /nope)"

CTL status -o json >"$T/status.json" 2>&1
expect_true "loomctl status: both daemons ready by their /readyz, found on their command lines" \
	jq -e ".components.loomd.state == \"ready\" and .components.loomd.alive and .components.loomd.metricsAddress == \"$LOOMD_ADDR\" and
	       .components[\"loom-policyd\"].state == \"ready\" and .components[\"loom-policyd\"].metricsAddress == \"$POLICYD_ADDR\"" \
	"$T/status.json" >/dev/null
OUT=$(CTL diags -o "$T/diags.tgz" 2>&1)
expect_eq "loomctl diags: exit 0" "0 $T/diags.tgz" "$? $OUT"
for f in metrics/loomd.txt metrics/loom-policyd.txt; do
	expect_true "loomctl diags holds $f" grep -qE "^[^/]+/$f\$" <(tar -tzf "$T/diags.tgz")
done

# a renewal is counted (ttl 5: a keep-alive every ~1.7 s)
renewed() { get "$LOOMD_ADDR" /metrics >/dev/null && grep -qE '^loom_lease_renewals_total\{result="success"\} [1-9]' "$T/body"; }
expect_true "loomd: lease renewals are counted" wait_for 10 renewed

OUT=$(ip netns exec "$NODE" timeout 10 "$LOOM_BIN/loom-policyd" --node n2 --metrics-address nowhere 2>&1)
expect_eq "a bad --metrics-address: exit 1" 1 "$?"
expect_match "... saying why" "metrics-address nowhere: cannot serve" "$OUT"

kill "$LOOMD_PID" "$POLICYD_PID"
{ wait "$LOOMD_PID" "$POLICYD_PID"; } 2>/dev/null
ip netns exec "$NODE" nft delete table inet loom 2>/dev/null

# ---- bgp mode: two nodes, each loomd starting its BIRD
if ! command -v bird >/dev/null; then
	echo "bird is not installed: the bgp part is skipped"
	expect_true "no sanitizer report from the daemons" no_sanitizer_report
	finish
fi
export LOOM_STORE=file:$T/store-bgp
ns_add b1
B1=$NS
ns_add b2
B2=$NS
ip -n "$B1" link add eth0 type veth peer name eth0 netns "$B2"
ip -n "$B1" addr add 192.0.2.21/24 dev eth0
ip -n "$B2" addr add 192.0.2.22/24 dev eth0
ip -n "$B1" link set eth0 up
ip -n "$B2" link set eth0 up
printf '{"apiVersion":"loom.dev/v1","kind":"Network","metadata":{"name":"default"},"spec":{"cidr":"10.245.0.0/16","subnetLength":24,"backend":{"type":"bgp"}}}' |
	"$LOOM_BIN/store_put" /loom/config/default -
BGP_PIDS=()
for i in 1 2; do
	ns=B$i
	mkdir -p "$T/b$i/run" "$T/b$i/ep"
	ip netns exec "${!ns}" "$LOOM_BIN/loomd" --node "b$i" --address "192.0.2.2$i" --run-dir "$T/b$i/run" \
		--state-dir "$T/b$i/ep" --ttl 5 --metrics-address "$LOOMD_ADDR" >"$T/b$i.log" 2>&1 &
	BGP_PIDS+=($!)
done
NODE=$B1
peer_up() {
	get "$LOOMD_ADDR" /metrics >/dev/null &&
		grep -qx 'loom_bgp_peer_up{peer="192.0.2.22"} 1' "$T/body" && cp "$T/body" "$T/bgp.metrics"
}
expect_true "bgp: loom_bgp_peer_up{peer} is 1 once the session to b2 is Established" wait_for 60 peer_up
expect_true "bgp: loom_overlay_peers counts b2" grep -qx 'loom_overlay_peers 1' "$T/bgp.metrics"
OUT=$(promtool check metrics <"$T/bgp.metrics" 2>&1)
expect_eq "bgp: promtool check metrics is clean" "0 ''" "$? $(printf '%q' "$OUT")"
kill "${BGP_PIDS[@]}"
{ wait "${BGP_PIDS[@]}"; } 2>/dev/null
# the BIRDs loomd started (they outlive loomd on purpose) end on SIGTERM
BIRDS=()
for i in 1 2; do
	pid=$(cat "$T/b$i/run/bird-default.pid" 2>/dev/null) && BIRDS+=("$pid")
done
kill "${BIRDS[@]}" 2>/dev/null
birds_gone() {
	local p
	for p in "${BIRDS[@]}"; do kill -0 "$p" 2>/dev/null && return 1; done
	[[ ${#BIRDS[@]} == 2 ]]
}
expect_true "bgp: the BIRDs loomd started end on SIGTERM" wait_for 10 birds_gone
kill -KILL "${BIRDS[@]}" 2>/dev/null
expect_true "no sanitizer report from the daemons" no_sanitizer_report
finish
