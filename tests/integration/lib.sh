# Shared helpers for the integration tests: source it, then call `finish`
# last.  Every test runs the real plugin binaries the way a container
# runtime does (CNI_* environment, config on stdin, result on stdout).
#
# Provides:
#   $T                    per-run temp dir, removed on any exit
#   $LOOM_IPAM, $HOST_LOCAL  the plugin under test and the reference oracle
#   cni_exec PLUGIN CMD CONFFILE [ENV...]
#                         sets OUT (stdout), RC (exit status), ERRTXT (stderr)
#   new_datadir           prints a fresh store dir under $T
#   addr_files DIR        the address files of one network dir, sorted
#   expect_eq / expect_match / expect_true / fail / pass
#   finish                prints "N passed, M failed" and exits nonzero on failure
#
# No network namespace is needed for IPAM: CNI_NETNS is only a string.

set -u
set -o pipefail

LOOM_BIN=${LOOM_BIN:-}
if [[ -z "$LOOM_BIN" ]]; then
	echo "LOOM_BIN is not set: point it at the cmake build dir (ctest sets it)" >&2
	exit 2
fi
LOOM_IPAM=${LOOM_IPAM:-$LOOM_BIN/loom-ipam}
HOST_LOCAL=${HOST_LOCAL:-/usr/lib/cni/host-local}
# A netns path that does not exist: IPAM must not care.
TEST_NETNS=/var/run/netns/loom-test-x

command -v jq >/dev/null || { echo "jq is required (apt-get install jq)" >&2; exit 2; }

T=$(mktemp -d /tmp/loom-it.XXXXXX)
# A background child still running when we leave (only after an interrupt)
# would write into $T after its removal: stop our own children, by PID, and
# reap them first.
_cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	# A plugin those children started may still be finishing its write:
	# retry, bounded, until the tree is gone.
	local i
	for ((i = 0; i < 50; i++)); do
		rm -rf "$T" 2>/dev/null && return
		sleep 0.1
	done
	rm -rf "$T"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

PASSED=0
FAILED=0
FAILED_NAMES=()

pass() {
	PASSED=$((PASSED + 1))
	printf 'ok   %s\n' "$1"
}

# fail NAME [DETAIL...]
fail() {
	local name=$1
	shift
	FAILED=$((FAILED + 1))
	FAILED_NAMES+=("$name")
	printf 'FAIL %s\n' "$name"
	local line
	for line in "$@"; do
		printf '       %s\n' "$line"
	done
}

# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
	if [[ "$2" == "$3" ]]; then
		pass "$1"
	else
		fail "$1" "expected: $(printf '%q' "$2")" "actual:   $(printf '%q' "$3")" "${CTX:-}"
	fi
}

# expect_match NAME ERE ACTUAL   (case-insensitive extended regex)
expect_match() {
	if grep -qiE -- "$2" <<<"$3"; then
		pass "$1"
	else
		fail "$1" "expected to match: /$2/" "actual: $(printf '%q' "$3")" "${CTX:-}"
	fi
}

# expect_true NAME COMMAND...   passes when the command exits 0
expect_true() {
	local name=$1
	shift
	if "$@"; then
		pass "$name"
	else
		fail "$name" "command failed: $*" "${CTX:-}"
	fi
}

# cni_exec PLUGIN CMD CONFFILE [ENV...]
# Runs PLUGIN with a runtime's clean environment.  Defaults:
#   CNI_CONTAINERID=$CID (or ctr-default), CNI_NETNS=$TEST_NETNS,
#   CNI_IFNAME=$IFNAME (or eth0), CNI_PATH=<dir of PLUGIN>
# ENV entries are KEY=VALUE (set/override) or -KEY (leave unset).
# CMD "-" leaves CNI_COMMAND unset.  CONFFILE "-" feeds empty stdin.
# Sets OUT, RC, ERRTXT; CTX describes the call for failure messages.
cni_exec() {
	local plugin=$1 cmd=$2 conf=$3
	shift 3
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
	for kv in "${!env[@]}"; do
		args+=("$kv=${env[$kv]}")
	done
	local in=$conf
	[[ "$conf" == "-" ]] && in=/dev/null
	local errf
	errf=$(mktemp "$T/stderr.XXXXXX")
	RC=0
	OUT=$(env -i "${args[@]}" timeout 30 "$plugin" <"$in" 2>"$errf") || RC=$?
	ERRTXT=$(<"$errf")
	rm -f "$errf"
	# A sanitizer build reports on stderr; any report is a failure of its own.
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$ERRTXT"; then
		fail "no sanitizer report from $(basename "$plugin") $cmd" "${ERRTXT:0:2000}"
	fi
	local shown
	shown=$(jq -c . <<<"$OUT" 2>/dev/null) || shown=$(printf '%q' "${OUT:0:400}")
	CTX="call: $(basename "$plugin") ${args[*]:1} < $conf -> rc=$RC stdout=$shown stderr=${ERRTXT:0:200}"
}

# new_datadir: a fresh, empty store root under $T
new_datadir() {
	mktemp -d "$T/store.XXXXXX"
}

# addr_files DIR: names of the address files in a network's store dir
# (everything but the lock and the last_reserved_ip.N cursors), sorted.
addr_files() {
	[[ -d "$1" ]] || return 0
	find "$1" -mindepth 1 -maxdepth 1 -type f ! -name lock ! -name 'last_reserved_ip.*' \
		-printf '%f\n' | LC_ALL=C sort
}

# count_lines TEXT: number of non-empty lines
count_lines() {
	if [[ -z "$1" ]]; then echo 0; else wc -l <<<"$1" | tr -d ' '; fi
}

# jqr FILTER: run jq -r on $OUT; prints "<invalid json>" when it is not JSON
jqr() {
	jq -r "$1" <<<"$OUT" 2>/dev/null || echo "<invalid json>"
}

finish() {
	echo
	if ((FAILED > 0)); then
		echo "failed:"
		local n
		for n in "${FAILED_NAMES[@]}"; do echo "  $n"; done
	fi
	echo "$PASSED passed, $FAILED failed"
	((FAILED == 0))
	exit $?
}
