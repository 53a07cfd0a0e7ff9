#!/usr/bin/env bash
# loomd's start-up sweep of the IPAM store (--ipam-data-dir): what a machine
# crash leaves — reservations whose pod has no endpoint record — is released
# once at start, with a log line each; a reservation with a record, one
# younger than the grace period (an ADD in flight), and every other CNI
# network's reservations in the same dataDir stay.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netns.sh"
ns_add host
HOSTNS=$NS
LOOMD=$LOOM_BIN/loomd
STORE_PUT=$LOOM_BIN/store_put
need_exec "$LOOMD" "$STORE_PUT"
export LOOM_STORE=file:$T/store

DATA=$T/ipam
EP=$T/ep
mkdir -p "$DATA/default" "$DATA/other" "$EP"
: >"$DATA/default/lock"
: >"$DATA/other/lock"
# reserve NET ADDR CONTAINER IFNAME [AGE]: a host-local-format reservation
reserve() {
	printf '%s\r\n%s' "$3" "$4" >"$DATA/$1/$2"
	[[ -n ${5:-} ]] && touch -d "$5" "$DATA/$1/$2"
	return 0
}
reserve default 10.244.0.5 dead-ctr eth0 '10 minutes ago'
reserve default 10.244.0.6 live-ctr eth0 '10 minutes ago'
reserve default 10.244.0.7 young-ctr eth0
reserve other 10.88.0.5 podman-ctr eth0 '10 minutes ago'
echo '{}' >"$EP/default:live-ctr:eth0.json"

printf '{"apiVersion":"loom.dev/v1","kind":"Network","metadata":{"name":"default"},"spec":{"cidr":"10.244.0.0/16","subnetLength":24}}' |
	ip netns exec "$HOSTNS" "$STORE_PUT" /loom/config/default - >/dev/null || fail "Network written"

ip netns exec "$HOSTNS" "$LOOMD" --node n1 --address 127.0.0.1 --run-dir "$T/run" --state-dir "$EP" \
	--ipam-data-dir "$DATA" --once >"$T/loomd.log" 2>&1 || fail "loomd --once" "$(tail -n 5 "$T/loomd.log")"

expect_true "a reservation with no endpoint record is released" test ! -e "$DATA/default/10.244.0.5"
expect_true "its release is logged, naming address and container" \
	grep -q 'released 10.244.0.5 of default (container dead-ctr' "$T/loomd.log"
expect_true "a reservation with an endpoint record stays" test -e "$DATA/default/10.244.0.6"
expect_true "a reservation younger than the grace period stays" test -e "$DATA/default/10.244.0.7"
expect_true "another CNI network's reservation stays" test -e "$DATA/other/10.88.0.5"
expect_true "the sweep's summary is logged" grep -q 'ipam sweep of .*: 1 released, 2 kept' "$T/loomd.log"

# without --ipam-data-dir nothing is swept
reserve default 10.244.0.8 dead-too eth0 '10 minutes ago'
ip netns exec "$HOSTNS" "$LOOMD" --node n1 --address 127.0.0.1 --run-dir "$T/run" --state-dir "$EP" \
	--once >"$T/loomd2.log" 2>&1 || fail "loomd --once without --ipam-data-dir" "$(tail -n 5 "$T/loomd2.log")"
expect_true "no sweep without --ipam-data-dir" test -e "$DATA/default/10.244.0.8"
finish
