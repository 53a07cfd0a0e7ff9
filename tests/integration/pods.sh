# Helpers for the tests that run many pods through the real plugins and then
# count what is left (test_crash.sh, test_stress.sh).  Source after lib.sh
# and netns.sh.
#
# Provides:
#   $BRIDGE $LOOMBPF $REF_BRIDGE $CNIPATH, a bpffs under $T for antiSpoof ($PIN)
#   run_plugin OUT DELAY NODE PLUGIN CMD CONF CID NETNS [ENV...]
#   store_dir CONF, count_addrs CONF, count_store_temps CONF,
#   count_records DIR, count_record_temps DIR, count_veths NODE,
#   count_nft_elems NODE, count_map_elems NODE, count_ipt NODE

BRIDGE=$LOOM_BIN/loom-bridge
LOOMBPF=$LOOM_BIN/loom-bpf
REF_BRIDGE=/usr/lib/cni/bridge
CNIPATH="$LOOM_BIN:/usr/lib/cni"
for b in "$BRIDGE" "$LOOM_IPAM" "$LOOMBPF"; do
	[[ -x "$b" ]] || { fail "binary exists" "not found: $b"; finish; }
done
for c in nft nsenter timeout; do
	command -v "$c" >/dev/null || { fail "$c is installed"; finish; }
done

BPFFS="$T/bpffs"
mkdir -p "$BPFFS"
mount -t bpf bpf "$BPFFS" || { fail "a BPF filesystem can be mounted" "mount -t bpf bpf $BPFFS"; finish; }
PIN="$BPFFS/loom"
test_cleanup() {
	local p
	for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount "$BPFFS" 2>/dev/null || true
}

# ---- running a plugin as a runtime does, optionally killed ----

# run_plugin OUTFILE DELAY NODE PLUGIN CMD CONF CID NETNS [EXTRA_ENV...]
# Runs PLUGIN (in netns NODE unless NODE is "-") with the config on stdin;
# DELAY "" waits for it (bounded at 30 s), else SIGKILL after DELAY seconds.
# Writes stdout to OUTFILE, stderr to OUTFILE.err, the exit status to
# OUTFILE.rc (137: killed) and the duration in microseconds to OUTFILE.us.
run_plugin() {
	local out=$1 delay=$2 node=$3 plugin=$4 cmd=$5 cf=$6 cid=$7 netns=$8
	shift 8
	local pre=() rc=0 t0
	[[ "$node" != - ]] && pre=(nsenter "--net=$(ns_path "$node")")
	t0=${EPOCHREALTIME/./}
	# timeout sends SIGKILL to its whole process group, itself included:
	# 137 either way.  (bash reports "Killed" on this function's stderr.)
	local san=()
	[[ -n "${ASAN_OPTIONS:-}" ]] && san+=("ASAN_OPTIONS=$ASAN_OPTIONS")
	[[ -n "${UBSAN_OPTIONS:-}" ]] && san+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")
	"${pre[@]}" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "${san[@]}" CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME=eth0 CNI_PATH="$CNIPATH" "$@" \
		timeout -s KILL "${delay:-30}" "$plugin" <"$cf" >"$out" 2>"$out.err" || rc=$?
	echo $((${EPOCHREALTIME/./} - t0)) >"$out.us"
	echo "$rc" >"$out.rc"
}

# A random delay in [1 us, MAX_US] as seconds.
rand_delay() {
	local us=$(((RANDOM * 32768 + RANDOM) % $1 + 1))
	printf '%d.%06d' $((us / 1000000)) $((us % 1000000))
}

# Under the sanitizers (dev.sh's second pass sets ASAN_OPTIONS) every plugin
# is several times slower: tests take smaller default counts there.
SANITIZED=0
[[ -n "${ASAN_OPTIONS:-}" ]] && SANITIZED=1

# sanitizer_reports FILE...: how many of the files hold a sanitizer report
sanitizer_reports() {
	grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$@" 2>/dev/null | grep -c . || true
}

# ---- what is left ----

store_dir() { echo "$(jq -r .ipam.dataDir "$1")/$(jq -r .name "$1")"; }
count_addrs() { addr_files "$(store_dir "$1")" 2>/dev/null | grep -c . || true; }
count_store_temps() {
	local d
	d=$(store_dir "$1")
	{ find "$d/.loom-tmp" -type f 2>/dev/null; find "$d/.loom-index" -name '*.new' 2>/dev/null; } | grep -c . || true
}
count_records() { find "$1" -maxdepth 1 -type f -name '*.json' ! -name '.*' 2>/dev/null | grep -c . || true; }
count_record_temps() { find "$1" -maxdepth 1 -type f -name '.*' 2>/dev/null | grep -c . || true; }
count_veths() { host_veths "$1" | grep -c . || true; }
# nft set and map elements in the node, all tables
count_nft_elems() {
	nft_json "$1" | jq '[.nftables[]? | (.set? // .map? // empty) | (.elem // []) | length] | add // 0'
}
count_map_elems() {
	ip netns exec "$1" "$LOOMBPF" --pin-dir "$PIN" --json 2>/dev/null | jq 'length' 2>/dev/null || echo 0
}
# iptables rules and chains the reference bridge made (ipMasq: CNI-*)
count_ipt() { ip netns exec "$1" iptables-save 2>/dev/null | grep -c 'CNI-' || true; }
