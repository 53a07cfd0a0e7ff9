#!/usr/bin/env bash
# Many pods at once through loom-bridge + loom-ipam on one node: STRESS_WORKERS
# workers (default 32) ADD and DEL STRESS_PODS pods in all (default 2,000 in
# CI; bench/README.md gives the 10,000 run).  Each worker has its own pod
# netns and loops: ADD, check the pod holds its address and reaches its
# gateway (ping), DEL.
#
# A duplicate is caught the moment it happens: a worker claims its address
# (mkdir under $T/claims, atomic) right after ADD and gives the claim back
# right before DEL, so a second live holder finds the claim taken.  At the
# end nothing may be left: address files, veths, nft set elements, antiSpoof
# map elements, endpoint records and temp files.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pods.sh"

STRESS_PODS=${STRESS_PODS:-$((SANITIZED ? 500 : 2000))}
STRESS_WORKERS=${STRESS_WORKERS:-32}
command -v busybox >/dev/null || { fail "busybox is installed" "apt-get install busybox-static"; finish; }

ns_add node; NODE=$NS
SD=$(mktemp -d "$T/state.XXXXXX")
CF=$T/stress.conf
jq -n --arg d "$(new_datadir)" --arg s "$SD" --arg pin "$PIN" \
	'{cniVersion: "1.0.0", name: "stress", type: "loom-bridge", bridge: "stbr0", isGateway: true,
	  ipMasq: true, macspoofchk: true, stateDir: $s, bpfPinDir: $pin,
	  ipam: {type: "loom-ipam", dataDir: $d, ranges: [[{subnet: "10.81.0.0/24", gateway: "10.81.0.1"}]]}}' >"$CF"
mkdir "$T/claims"

# worker W COUNT: COUNT pods one after another in the worker's netns; one
# line per problem in $T/w.W.problems, the count of pods done in $T/w.W.done
worker() {
	local w=$1 count=$2 i cid a ok pod out=$T/w$1 done=0
	pod=$(ns_path "$NS_PREFIX"p"$w")
	for ((i = 0; i < count; i++)); do
		cid=st-$w-$i
		run_plugin "$out" "" "$NODE" "$BRIDGE" ADD "$CF" "$cid" "$pod"
		if [[ "$(<"$out.rc")" != 0 ]]; then
			echo "ADD $cid failed: $(head -c 300 "$out") $(head -c 300 "$out.err")"
			continue
		fi
		a=$(jq -r '.ips[0].address | split("/")[0]' "$out")
		mkdir "$T/claims/$a" 2>/dev/null || echo "DUPLICATE $a given to $cid while another live pod holds it"
		[[ "$(ip -n "$NS_PREFIX"p"$w" -j addr show dev eth0 2>/dev/null |
			jq -r '.[0].addr_info[]? | select(.family == "inet") | .local')" == "$a" ]] ||
			echo "pod $cid does not hold $a on eth0"
		ok=0
		for _ in 1 2 3; do
			nsenter --net="$pod" busybox ping -c1 -W1 10.81.0.1 >/dev/null 2>&1 && { ok=1; break; }
		done
		((ok)) || echo "pod $cid ($a) does not reach its gateway 10.81.0.1"
		rmdir "$T/claims/$a" 2>/dev/null
		run_plugin "$out.del" "" "$NODE" "$BRIDGE" DEL "$CF" "$cid" "$pod"
		[[ "$(<"$out.del.rc")" == 0 ]] || echo "DEL $cid failed: $(head -c 300 "$out.del")"
		(($(sanitizer_reports "$out.err" "$out.del.err"))) && echo "sanitizer report from $cid: $(head -c 600 "$out.err" "$out.del.err")"
		done=$((done + 1))
	done >"$T/w.$w.problems"
	echo "$done" >"$T/w.$w.done"
}

echo "== $STRESS_WORKERS workers, $STRESS_PODS pods in all: ADD, address and ping checked, DEL"
# The first ADD makes the bridge and the tables: once, before the workers.
ns_add warm
run_plugin "$T/warm" "" "$NODE" "$BRIDGE" ADD "$CF" warm "$(ns_path "$NS")"
expect_eq "the first ADD succeeds" 0 "$(<"$T/warm.rc")"
run_plugin "$T/warm.del" "" "$NODE" "$BRIDGE" DEL "$CF" warm "$(ns_path "$NS")"
for ((w = 0; w < STRESS_WORKERS; w++)); do ns_add "p$w" >/dev/null; done
T0=${EPOCHREALTIME/./}
for ((w = 0; w < STRESS_WORKERS; w++)); do
	worker "$w" $(((STRESS_PODS + STRESS_WORKERS - 1 - w) / STRESS_WORKERS)) &
done
wait
T1=${EPOCHREALTIME/./}
DONE=$(($(cat "$T"/w.*.done | paste -sd+)))
PROBLEMS=$(cat "$T"/w.*.problems)
printf '  %d pods ADDed, checked and DELeted in %d.%03d s (%d pods/s with %d workers)\n' "$DONE" \
	$(((T1 - T0) / 1000000)) $(((T1 - T0) / 1000 % 1000)) $((DONE * 1000000 / (T1 - T0 + 1))) "$STRESS_WORKERS"
expect_eq "every pod ADDed and DELeted" "$STRESS_PODS" "$DONE"
CTX="$(head -20 <<<"$PROBLEMS")"
expect_eq "no duplicate address" 0 "$(grep -c DUPLICATE <<<"$PROBLEMS" || true)"
expect_eq "every pod holds its address" 0 "$(grep -c 'does not hold' <<<"$PROBLEMS" || true)"
expect_eq "every pod reaches its gateway" 0 "$(grep -c 'does not reach' <<<"$PROBLEMS" || true)"
expect_eq "no failed ADD or DEL" 0 "$(grep -c failed <<<"$PROBLEMS" || true)"
expect_eq "no sanitizer report" 0 "$(grep -c 'sanitizer report' <<<"$PROBLEMS" || true)"
CTX=""
expect_eq "no address left" 0 "$(count_addrs "$CF")"
expect_eq "no veth left" 0 "$(count_veths "$NODE")"
expect_eq "no nft element left" 0 "$(count_nft_elems "$NODE")"
expect_eq "no antiSpoof map element left" 0 "$(count_map_elems "$NODE")"
expect_eq "no endpoint record left" 0 "$(count_records "$SD")"
expect_eq "no endpoint record temp file left" 0 "$(count_record_temps "$SD")"
expect_eq "no IPAM temp file left" 0 "$(count_store_temps "$CF")"

finish
