#!/usr/bin/env bash
# Plugins killed with SIGKILL in the middle of ADD, then cleaned up the way a
# runtime does it: nothing may stay behind, and no address may ever be held
# by two live pods.
#
# Two parts, each run against loom and then against the reference plugins
# (bridge + host-local in /usr/lib/cni, whose figures are printed beside
# loom's and never asserted):
#   1. IPAM alone: CRASH_IPAM_ADDS ADDs, CRASH_WIDTH at once, each killed
#      after a random delay between 0 and ~1.3x a measured ADD.  A killed
#      ADD is followed by its DEL (the runtime retries the attachment), except
#      one in three, whose runtime "forgot" it: GC (CNI 1.1,
#      cni.dev/valid-attachments) must release those.  Half of the live pods
#      are deleted after each wave, so addresses are reused under fire.
#   2. loom-bridge + loom-ipam (antiSpoof, ipMasq and macspoofchk on, so
#      every kind of state is made): CRASH_BRIDGE_ADDS ADDs on one node, the
#      same kills, each pod in its own netns; DEL after the kill, one in
#      three after the netns was already deleted (a runtime that lost the
#      sandbox), then all live pods deleted.
# After each part it counts: address files, veths, nft set elements,
# antiSpoof map elements, endpoint records and their temp files, IPAM temp
# files.  loom must leave zero of each, except what loom-bridge is known to
# leak today (nft elements and `.<net>:<id>:<if>.<pid>.tmp` records of pods
# whose ADD died before it wrote its record): those are printed, and
# asserted zero only with BRIDGE_LEAKS_FIXED=1 (flip the default when
# plugins/ fixes them).
#
# No test-only hooks in the plugins: kill points come from timing alone
# (coreutils `timeout -s KILL` with a sub-millisecond delay).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"
source "$(dirname "${BASH_SOURCE[0]}")/pods.sh"

BRIDGE_LEAKS_FIXED=${BRIDGE_LEAKS_FIXED:-0}
CRASH_IPAM_ADDS=${CRASH_IPAM_ADDS:-$((SANITIZED ? 200 : 300))}
CRASH_BRIDGE_ADDS=${CRASH_BRIDGE_ADDS:-$((SANITIZED ? 100 : 200))}
# The reference is slower and only printed: fewer of its pods by default.
CRASH_REF_IPAM_ADDS=${CRASH_REF_IPAM_ADDS:-$CRASH_IPAM_ADDS}
CRASH_REF_BRIDGE_ADDS=${CRASH_REF_BRIDGE_ADDS:-$((CRASH_BRIDGE_ADDS / 2))}
CRASH_WIDTH=${CRASH_WIDTH:-8}
CRASH_REFERENCE=${CRASH_REFERENCE:-1}

if [[ ! -x "$REF_BRIDGE" || ! -x "$HOST_LOCAL" ]]; then
	echo "reference plugins not found in /usr/lib/cni: their figures are skipped"
	CRASH_REFERENCE=0
fi

# max_delay_us NODE PLUGIN CONF NETNS_MAKER: 1.3x the median duration (us)
# of CRASH_WIDTH unkilled ADDs run at once, measured the same way the killed
# ones run (so a kill delay drawn from [0, this] falls anywhere in an ADD,
# or just after it); then their DELs.  The machine's load changes under a
# run: adapt_delay keeps about half of each wave killed.
max_delay_us() {
	local node=$1 plugin=$2 cf=$3 mk=$4 i ns=() med w
	# A first ADD makes what every later one shares (bridge, tables, store):
	# not part of the measure.
	w=$($mk warm)
	run_plugin "$T/warm" "" "$node" "$plugin" ADD "$cf" warm "$w"
	run_plugin "$T/warm.del" "" "$node" "$plugin" DEL "$cf" warm "$w"
	[[ "$w" == "$TEST_NETNS" ]] || ns_del "$(basename "$w")"
	for ((i = 0; i < CRASH_WIDTH; i++)); do ns+=("$($mk "m$i")"); done
	for ((i = 0; i < CRASH_WIDTH; i++)); do
		run_plugin "$T/m$i" "" "$node" "$plugin" ADD "$cf" "measure-$i" "${ns[$i]}" &
	done
	wait
	med=$(cat "$T"/m*.us | sort -n | sed -n "$((CRASH_WIDTH / 2 + 1))p")
	for ((i = 0; i < CRASH_WIDTH; i++)); do
		run_plugin "$T/m$i.del" "" "$node" "$plugin" DEL "$cf" "measure-$i" "${ns[$i]}"
		[[ "${ns[$i]}" == "$TEST_NETNS" ]] || ns_del "$(basename "${ns[$i]}")"
	done
	rm -f "$T"/m*.us
	echo $((med * 13 / 10 + 1))
}

# adapt_delay MAX_US KILLED OF: the next wave's bound, nudged so that about
# half of a wave is killed
adapt_delay() {
	if (($2 == 0)); then echo $(($1 * 2 / 5 + 1))
	elif (($2 == $3)); then echo $(($1 * 2))
	elif (($2 * 10 < $3 * 3)); then echo $(($1 * 3 / 5 + 1))
	elif (($2 * 10 > $3 * 7)); then echo $(($1 * 3 / 2))
	else echo "$1"; fi
}

# took_address CID: CID's ADD completed: its address goes into the caller's
# live[] (address -> container ID); a second live holder counts in the
# caller's dups.  (bash's dynamic scope: the caller's locals.)
took_address() {
	local a
	completed=$((completed + 1))
	a=$(jq -r '.ips[0].address | split("/")[0]' "$T/$1")
	if [[ -n "${live[$a]:-}" ]]; then
		dups=$((dups + 1))
		echo "  DUPLICATE: $a given to $1 while ${live[$a]} holds it" >&2
	fi
	live[$a]=$1
}

# wave_killed CID...: how many of these ADDs were killed
wave_killed() {
	local cid k=0
	for cid in "$@"; do [[ "$(<"$T/$cid.rc")" == 137 ]] && k=$((k + 1)); done
	echo "$k"
}

# kills_landed NAME KILLED COMPLETED ADDS: the test did its job, some ADDs
# killed and some not (the delay bound adapts to the load to keep it so)
kills_landed() {
	expect_true "$1: kills landed inside ADD (some killed, some completed)" \
		test "$2" -gt $(($4 / 20)) -a "$3" -gt $(($4 / 20))
}

no_netns() { echo "$TEST_NETNS"; }
pod_netns() { ns_add "$1" >/dev/null; ns_path "$NS"; }

# ---- part 1: IPAM alone ----

# ipam_round LABEL PLUGIN CONF COUNT: prints "adds killed completed dup leaked_addrs leaked_temps gc_rc"
# and leaves the live list in $T/LABEL.live
ipam_round() {
	local label=$1 plugin=$2 cf=$3 count=$4
	local max_us i w n=0 killed=0 completed=0 dups=0
	declare -A live=()   # addr -> cid
	local forgotten=() cid out rc a
	max_us=$(max_delay_us - "$plugin" "$cf" no_netns)
	echo "  $label: ADD takes ~$((max_us * 10 / 13)) us here with $CRASH_WIDTH at once; kills spread over 0..$max_us us" >&2
	for ((w = 0; n < count; w++)); do
		local batch=()
		for ((i = 0; i < CRASH_WIDTH && n < count; i++, n++)); do
			cid="$label-$n"
			batch+=("$cid")
			run_plugin "$T/$cid" "$(rand_delay "$max_us")" - "$plugin" ADD "$cf" "$cid" "$TEST_NETNS" 2>/dev/null &
		done
		wait
		max_us=$(adapt_delay "$max_us" "$(wave_killed "${batch[@]}")" "${#batch[@]}")
		for cid in "${batch[@]}"; do
			rc=$(<"$T/$cid.rc")
			if [[ "$rc" == 0 ]]; then
				took_address "$cid"
			else
				[[ "$rc" == 137 ]] && killed=$((killed + 1))
				if ((RANDOM % 3 == 0)); then
					forgotten+=("$cid")
				else
					run_plugin "$T/$cid.del" "" - "$plugin" DEL "$cf" "$cid" "$TEST_NETNS"
				fi
			fi
		done
		# Every live pod's address file still names it.
		for a in "${!live[@]}"; do
			if [[ "$(cat "$(store_dir "$cf")/$a" 2>/dev/null)" != "${live[$a]}"$'\r\n'"eth0" ]]; then
				dups=$((dups + 1))
				echo "  LOST: $a of ${live[$a]} is held by '$(cat "$(store_dir "$cf")/$a" 2>/dev/null)'" >&2
			fi
		done
		# Delete half of the live pods: their addresses come round again.
		for a in "${!live[@]}"; do
			if ((RANDOM % 2)); then
				run_plugin "$T/${live[$a]}.del" "" - "$plugin" DEL "$cf" "${live[$a]}" "$TEST_NETNS"
				unset "live[$a]"
			fi
		done
	done
	# GC with the attachments the runtime still has: the forgotten ones go.
	local valid gcf
	valid=$(for a in "${!live[@]}"; do printf '%s\n' "${live[$a]}"; done |
		jq -R '{containerID: ., ifname: "eth0"}' | jq -s -c .)
	gcf=$T/$label.gc.json
	jq --argjson v "$valid" '. + {cniVersion: "1.1.0", "cni.dev/valid-attachments": $v}' "$cf" >"$gcf"
	run_plugin "$T/$label.gc" "" - "$plugin" GC "$gcf" "" ""
	local gc_rc leaked_gc
	gc_rc=$(<"$T/$label.gc.rc")
	leaked_gc=$(($(count_addrs "$cf") - ${#live[@]}))
	for a in "${!live[@]}"; do
		run_plugin "$T/${live[$a]}.del" "" - "$plugin" DEL "$cf" "${live[$a]}" "$TEST_NETNS"
	done
	echo "$n $killed $completed $dups $leaked_gc $(count_addrs "$cf") $(count_store_temps "$cf") $gc_rc ${#forgotten[@]}"
}

ipam_conf() { # NAME IPAM_TYPE -> path
	local f=$T/$1.conf d
	d=$(new_datadir)
	jq -n --arg n "$1" --arg d "$d" --arg t "$2" \
		'{cniVersion: "1.0.0", name: $n, type: "bridge",
		  ipam: {type: $t, dataDir: $d, ranges: [[{subnet: "10.77.0.0/24"}]]}}' >"$f"
	echo "$f"
}

echo "== 1. IPAM: $CRASH_IPAM_ADDS ADDs, $CRASH_WIDTH at once, SIGKILL at random points, DEL, GC"
read -r L_N L_KILLED L_DONE L_DUP L_GCLEFT L_ADDRS L_TEMPS L_GCRC L_FORGOT < <(ipam_round loom "$LOOM_IPAM" "$(ipam_conf crashl loom-ipam)" "$CRASH_IPAM_ADDS")
printf '  loom-ipam:  %d ADDs, %d killed, %d completed; %d forgotten by the runtime; after GC %d stale left; after DEL: %d addresses, %d temp files; %d duplicates\n' \
	"$L_N" "$L_KILLED" "$L_DONE" "$L_FORGOT" "$L_GCLEFT" "$L_ADDRS" "$L_TEMPS" "$L_DUP"
if ((CRASH_REFERENCE)); then
	read -r R_N R_KILLED R_DONE R_DUP R_GCLEFT R_ADDRS R_TEMPS R_GCRC R_FORGOT < <(ipam_round ref "$HOST_LOCAL" "$(ipam_conf crashr host-local)" "$CRASH_REF_IPAM_ADDS")
	printf '  host-local: %d ADDs, %d killed, %d completed; %d forgotten by the runtime; after GC (rc %s) %d stale left; after DEL: %d addresses; %d duplicates\n' \
		"$R_N" "$R_KILLED" "$R_DONE" "$R_FORGOT" "$R_GCRC" "$R_GCLEFT" "$R_ADDRS" "$R_DUP"
fi
kills_landed IPAM "$L_KILLED" "$L_DONE" "$L_N"
expect_eq "IPAM: no address held by two live pods" 0 "$L_DUP"
expect_eq "IPAM: GC succeeds" 0 "$L_GCRC"
expect_eq "IPAM: GC releases every reservation not in cni.dev/valid-attachments" 0 "$L_GCLEFT"
expect_eq "IPAM: no address left after DEL" 0 "$L_ADDRS"
expect_eq "IPAM: no temp file left" 0 "$L_TEMPS"

# ---- part 2: loom-bridge + loom-ipam on a node ----

bridge_conf() { # NAME TYPE IPAM_TYPE BRIDGE -> path
	local f=$T/$1.conf d s
	d=$(new_datadir)
	s=$(mktemp -d "$T/state.XXXXXX")
	if [[ "$2" == loom-bridge ]]; then
		jq -n --arg n "$1" --arg d "$d" --arg s "$s" --arg t "$3" --arg br "$4" --arg pin "$PIN" \
			'{cniVersion: "1.0.0", name: $n, type: "loom-bridge", bridge: $br, isGateway: true,
			  ipMasq: true, macspoofchk: true, stateDir: $s, bpfPinDir: $pin,
			  ipam: {type: $t, dataDir: $d, ranges: [[{subnet: "10.78.0.0/24"}]]}}' >"$f"
	else
		jq -n --arg n "$1" --arg d "$d" --arg t "$3" --arg br "$4" \
			'{cniVersion: "1.0.0", name: $n, type: "bridge", bridge: $br, isGateway: true,
			  ipMasq: true, macspoofchk: true,
			  ipam: {type: $t, dataDir: $d, ranges: [[{subnet: "10.79.0.0/24"}]]}}' >"$f"
	fi
	echo "$f"
}

# bridge_round LABEL PLUGIN CONF NODE COUNT: prints
# "adds killed completed dups delfail addrs veths nft map records rectemps storetemps ipt"
bridge_round() {
	local label=$1 plugin=$2 cf=$3 node=$4 count=$5
	local max_us i n=0 killed=0 completed=0 dups=0 delfail=0 cid rc a ns
	declare -A live=() pod_ns=()
	max_us=$(max_delay_us "$node" "$plugin" "$cf" pod_netns)
	echo "  $label: ADD takes ~$((max_us * 10 / 13)) us here with $CRASH_WIDTH at once; kills spread over 0..$max_us us" >&2
	while ((n < count)); do
		local batch=()
		for ((i = 0; i < CRASH_WIDTH && n < count; i++, n++)); do
			cid="$label-$n"
			batch+=("$cid")
			ns_add "$label$n" >/dev/null
			pod_ns[$cid]=$NS
		done
		for cid in "${batch[@]}"; do
			run_plugin "$T/$cid" "$(rand_delay "$max_us")" "$node" "$plugin" ADD "$cf" "$cid" \
				"$(ns_path "${pod_ns[$cid]}")" 2>/dev/null &
		done
		wait
		max_us=$(adapt_delay "$max_us" "$(wave_killed "${batch[@]}")" "${#batch[@]}")
		for cid in "${batch[@]}"; do
			rc=$(<"$T/$cid.rc")
			ns=${pod_ns[$cid]}
			if [[ "$rc" == 0 ]]; then
				took_address "$cid"
				continue
			fi
			[[ "$rc" == 137 ]] && killed=$((killed + 1))
			# A runtime that lost the sandbox deletes it first.
			((RANDOM % 3 == 0)) && ns_del "$ns"
			run_plugin "$T/$cid.del" "" "$node" "$plugin" DEL "$cf" "$cid" "$(ns_path "$ns")"
			[[ "$(<"$T/$cid.del.rc")" == 0 ]] || delfail=$((delfail + 1))
			ns_del "$ns"
		done
		# Half of the live pods go, the netns first for one in three.
		for a in "${!live[@]}"; do
			((RANDOM % 2)) || continue
			cid=${live[$a]}
			ns=${pod_ns[$cid]}
			((RANDOM % 3 == 0)) && ns_del "$ns"
			run_plugin "$T/$cid.del" "" "$node" "$plugin" DEL "$cf" "$cid" "$(ns_path "$ns")"
			[[ "$(<"$T/$cid.del.rc")" == 0 ]] || delfail=$((delfail + 1))
			ns_del "$ns"
			unset "live[$a]"
		done
	done
	# The pods still live go too (their reachability is test_stress.sh's).
	for a in "${!live[@]}"; do
		cid=${live[$a]}
		run_plugin "$T/$cid.del" "" "$node" "$plugin" DEL "$cf" "$cid" "$(ns_path "${pod_ns[$cid]}")"
		[[ "$(<"$T/$cid.del.rc")" == 0 ]] || delfail=$((delfail + 1))
		ns_del "${pod_ns[$cid]}"
	done
	local sd
	sd=$(jq -r '.stateDir // ""' "$cf")
	echo "$n $killed $completed $dups $delfail $(count_addrs "$cf") $(count_veths "$node")" \
		"$(count_nft_elems "$node") $(count_map_elems "$node")" \
		"$(count_records "${sd:-/nonexistent}") $(count_record_temps "${sd:-/nonexistent}")" \
		"$(count_store_temps "$cf") $(count_ipt "$node")"
}

echo "== 2. loom-bridge: $CRASH_BRIDGE_ADDS ADDs, $CRASH_WIDTH at once, SIGKILL at random points, DEL (some after the netns)"
ns_add node; NODE=$NS
read -r B_N B_KILLED B_DONE B_DUP B_DELFAIL B_ADDRS B_VETHS B_NFT B_MAP B_REC B_RECTMP B_STMP B_IPT \
	< <(bridge_round lb "$BRIDGE" "$(bridge_conf crashb loom-bridge loom-ipam crbr0)" "$NODE" "$CRASH_BRIDGE_ADDS")
printf '  loom-bridge + loom-ipam:    %d ADDs, %d killed, %d completed, %d DELs failed; left: %d addresses, %d veths, %d nft elements, %d antiSpoof map elements, %d records, %d record temp files, %d IPAM temp files; %d duplicates\n' \
	"$B_N" "$B_KILLED" "$B_DONE" "$B_DELFAIL" "$B_ADDRS" "$B_VETHS" "$B_NFT" "$B_MAP" "$B_REC" "$B_RECTMP" "$B_STMP" "$B_DUP"
if ((CRASH_REFERENCE)); then
	ns_add rnode; RNODE=$NS
	read -r Q_N Q_KILLED Q_DONE Q_DUP Q_DELFAIL Q_ADDRS Q_VETHS Q_NFT Q_MAP Q_REC Q_RECTMP Q_STMP Q_IPT \
		< <(bridge_round rb "$REF_BRIDGE" "$(bridge_conf crashq bridge host-local crbr1)" "$RNODE" "$CRASH_REF_BRIDGE_ADDS")
	printf '  bridge + host-local (ref.): %d ADDs, %d killed, %d completed, %d DELs failed; left: %d addresses, %d veths, %d iptables lines (CNI-*); %d duplicates\n' \
		"$Q_N" "$Q_KILLED" "$Q_DONE" "$Q_DELFAIL" "$Q_ADDRS" "$Q_VETHS" "$Q_IPT" "$Q_DUP"
fi
kills_landed bridge "$B_KILLED" "$B_DONE" "$B_N"
expect_eq "bridge: no address held by two live pods" 0 "$B_DUP"
expect_eq "bridge: every DEL succeeds" 0 "$B_DELFAIL"
expect_eq "bridge: no address left" 0 "$B_ADDRS"
expect_eq "bridge: no veth left" 0 "$B_VETHS"
expect_eq "bridge: no antiSpoof map element left" 0 "$B_MAP"
expect_eq "bridge: no endpoint record left" 0 "$B_REC"
expect_eq "bridge: no IPAM temp file left" 0 "$B_STMP"
if ((BRIDGE_LEAKS_FIXED)); then
	expect_eq "bridge: no nft element left" 0 "$B_NFT"
	expect_eq "bridge: no endpoint record temp file left" 0 "$B_RECTMP"
else
	echo "  known loom-bridge leaks, not asserted until BRIDGE_LEAKS_FIXED=1: $B_NFT nft elements, $B_RECTMP record temp files"
fi

finish
