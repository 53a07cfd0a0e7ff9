#!/usr/bin/env bash
# The etcd backend against real etcd servers on loopback:
#   1. the shared datastore suite (store_suite) against one etcd
#   2. a watch behind a compaction resyncs (etcdctl compact)
#   3. a 3-member cluster losing the member the client talks to mid-run:
#      reads, writes and the watch go on
# Skips (exit 77) when etcd is not installed.
HERE=$(dirname "$0")
source "$HERE/lib.sh"
command -v etcdctl >/dev/null || skip "etcdctl not installed (apt-get install etcd-client)"
source "$HERE/etcd.sh"

LOSS=$LOOM_BIN/etcd_member_loss
SUITE=$LOOM_BIN/store_suite

no_sanitizer_report() {
	! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"
}

etcd_start_single || { fail "start one etcd"; finish; }
pass "one etcd on $ETCD_URL"

# 1. the shared suite
if [[ -x "$SUITE" ]]; then
	OUT=$(timeout 60 "$SUITE" "etcd:$ETCD_URL" 2>&1)
	RC=$?
	CTX="store_suite etcd:$ETCD_URL: ${OUT: -2000}"
	expect_eq "store suite passes against etcd" 0 "$RC"
else
	fail "store suite passes against etcd" "$SUITE is not built"
fi

# drive MODE STORE READY SECONDS ACTION LABEL: etcd_member_loss MODE on STORE
# (keys under /loom/test-MODE/) in the background; once it writes READY, run
# ACTION and let it go on; it must exit 0 without a sanitizer report.
drive() {
	local mode=$1 store=$2 ready=$3 secs=$4 action=$5 label=$6 pid rc
	D=$(mktemp -d "$T/$mode.XXXXXX")
	"$LOSS" "$mode" "$store" "/loom/test-$mode/" "$D" >"$D/out" 2>"$D/err" &
	pid=$!
	if wait_for "$secs" test -e "$D/$ready"; then
		"$action"
		touch "$D/go"
	fi
	wait "$pid"
	rc=$?
	CTX="stdout: $(cat "$D/out") stderr: $(tail -c 2000 "$D/err")"
	expect_eq "$label" 0 "$rc"
	expect_true "no sanitizer report ($mode)" no_sanitizer_report "$D/err"
	[[ $rc -eq 0 ]] && echo "     $(cat "$D/out")"
}
compact_now() {
	ETCDCTL_API=3 etcdctl --endpoints="$ETCD_URL" compact "$(cat "$D/compact")" >/dev/null 2>"$D/ctl" ||
		fail "etcdctl compact" "$(cat "$D/ctl")"
}
# the client starts on the first endpoint, its watch too: that one goes
lose_first_member() { etcd_stop "${ETCD_PIDS[0]}" TERM; }

# 2. compaction while a watch is behind
drive compact "etcd:$ETCD_URL" compact 20 compact_now "a watch behind a compaction resyncs to the right state"
etcd_stop "$ETCD_PID"

# 3. member loss
etcd_start_cluster || { fail "start a 3-member etcd cluster"; finish; }
pass "3-member etcd cluster on ${ETCD_ENDPOINTS}"
drive loss "etcd:$ETCD_ENDPOINTS" ready 40 lose_first_member \
	"losing a member mid-run: reads, writes and the watch go on"
# the survivors hold every key
N=$(ETCDCTL_API=3 etcdctl --endpoints="${ETCD_URLS[1]}" get --prefix --keys-only /loom/test-loss/ 2>/dev/null |
	grep -c .)
expect_eq "the surviving members hold every write" 300 "$N"

finish
