# Shared helpers for the integration tests: source it, then call `finish`
# last.  Every test runs the real plugin binaries the way a container
# runtime does (CNI_* environment, config on stdin, result on stdout).
# This is the one helper library of the scripts: a helper two tests need
# lives here (or in netns.sh for namespace helpers), not in the tests.
#
# Provides:
#   $T                    per-run temp dir, removed on any exit
#   $LOOM_IPAM, $HOST_LOCAL  the plugin under test and the reference oracle
#   cni_exec PLUGIN CMD CONFFILE [ENV...]
#                         sets OUT (stdout), RC (exit status), ERRTXT (stderr);
#                         runs inside netns $CNI_EXEC_NETNS when that is set
#   new_datadir           prints a fresh store dir under $T
#   jq_conf JQ_ARGS...    jq's output as a new config file under $T; prints
#                         its path (a bad filter ends the test: exit 2)
#   addr_files DIR        the address files of one network dir, sorted
#   expect_eq / expect_match / expect_true / fail / pass
#   finish                prints "N passed, M failed" and exits nonzero on failure
#   skip REASON           prints "SKIP: REASON" and exits 77 (ctest: skipped)
#   need_exec PATH...     every PATH is an executable, or the test fails now
#   need_bins NAME...     need_exec for $LOOM_BIN/NAME...
#   need_cmd CMD PACKAGE [CMD PACKAGE...]  each CMD is on PATH, or the test fails now
#   wait_for SECONDS CMD...  runs CMD until it succeeds, for at most SECONDS
#                         of wall-clock time (and at least once): tests wait
#                         on the event, never on a fixed sleep
#   on_exit FUNC          FUNC runs at exit (in order), before $T is removed;
#                         a test's own `test_cleanup`, when defined, runs first
#   sim ARGS...           loom-sim on cluster $NAME; sim_cluster NAME sets NAME
#                         and takes the cluster down at exit
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

skip() {
	echo "SKIP: $*"
	exit 77
}

command -v jq >/dev/null || skip "jq is required (apt-get install jq)"

need_exec() {
	local b missing=0
	for b in "$@"; do
		[[ -x "$b" ]] || { fail "binary exists: $b" "build it first (or install the test packages)"; missing=1; }
	done
	((missing == 0)) || finish
}
need_cmd() {
	while (($# >= 2)); do
		command -v "$1" >/dev/null || { fail "$1 is installed" "apt-get install $2"; finish; }
		shift 2
	done
}
need_bins() {
	local b paths=()
	for b in "$@"; do paths+=("$LOOM_BIN/$b"); done
	need_exec "${paths[@]}"
}

T=$(mktemp -d /tmp/loom-it.XXXXXX)
_EXIT_HOOKS=()
on_exit() { _EXIT_HOOKS+=("$1"); }

# A background child still running when we leave (only after an interrupt)
# would write into $T after its removal: stop our own children, by PID, and
# reap them first.
_cleanup() {
	local p h
	if declare -F test_cleanup >/dev/null; then test_cleanup || true; fi
	for h in "${_EXIT_HOOKS[@]}"; do "$h" || true; done
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
_lib_exit() {
	local rc=$?
	_cleanup
	exit "$rc"
}
trap _lib_exit EXIT
trap 'exit 130' INT TERM

wait_for() {
	local secs=$1 end
	shift
	end=$((${EPOCHREALTIME/./} + secs * 1000000))
	while :; do
		"$@" && return 0
		((${EPOCHREALTIME/./} < end)) || return 1
		sleep 0.1
	done
}

NAME=${NAME:-}
_SIM_CLUSTERS=()
sim() { "$LOOM_BIN/loom-sim" --name "$NAME" "$@"; }
_sim_down_all() {
	local n
	for n in "${_SIM_CLUSTERS[@]}"; do "$LOOM_BIN/loom-sim" --name "$n" down >/dev/null 2>&1; done
	return 0
}
sim_cluster() {
	NAME=$1
	_SIM_CLUSTERS+=("$1")
	((${#_SIM_CLUSTERS[@]} > 1)) || on_exit _sim_down_all
}

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
# With CNI_EXEC_NETNS set, the plugin runs inside that netns.
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
	[[ -n "${ASAN_OPTIONS:-}" ]] && args+=("ASAN_OPTIONS=$ASAN_OPTIONS")
	[[ -n "${UBSAN_OPTIONS:-}" ]] && args+=("UBSAN_OPTIONS=$UBSAN_OPTIONS")
	for kv in "${!env[@]}"; do
		args+=("$kv=${env[$kv]}")
	done
	local in=$conf where="" pre=()
	[[ "$conf" == "-" ]] && in=/dev/null
	if [[ -n "${CNI_EXEC_NETNS:-}" ]]; then
		pre=(ip netns exec "$CNI_EXEC_NETNS")
		where="[netns $CNI_EXEC_NETNS] "
	fi
	local errf
	errf=$(mktemp "$T/stderr.XXXXXX")
	RC=0
	OUT=$("${pre[@]}" env -i "${args[@]}" timeout 30 "$plugin" <"$in" 2>"$errf") || RC=$?
	ERRTXT=$(<"$errf")
	rm -f "$errf"
	# A sanitizer build reports on stderr; any report is a failure of its own.
	if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' <<<"$ERRTXT"; then
		fail "no sanitizer report from $(basename "$plugin") $cmd" "${ERRTXT:0:2000}"
	fi
	local shown
	shown=$(jq -c . <<<"$OUT" 2>/dev/null) || shown=$(printf '%q' "${OUT:0:400}")
	CTX="call: $where$(basename "$plugin") ${args[*]:1} < $conf ($(jq -c . "$in" 2>/dev/null)) -> rc=$RC stdout=$shown stderr=${ERRTXT:0:300}"
}

jq_conf() {
	local f
	f=$(mktemp "$T/conf.XXXXXX")
	jq "$@" >"$f" || { echo "bad test config: jq $*" >&2; exit 2; }
	echo "$f"
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
