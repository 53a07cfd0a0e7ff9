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

# 2. compaction while a watch is behind
D=$(mktemp -d "$T/compact.XXXXXX")
"$LOSS" compact "etcd:$ETCD_URL" /loom/test-compact/ "$D" >"$D/out" 2>"$D/err" &
PID=$!
if wait_for 20 test -e "$D/compact"; then
	ETCDCTL_API=3 etcdctl --endpoints="$ETCD_URL" compact "$(cat "$D/compact")" >/dev/null 2>"$D/ctl" ||
		fail "etcdctl compact" "$(cat "$D/ctl")"
	touch "$D/go"
fi
wait "$PID"
RC=$?
CTX="stdout: $(cat "$D/out") stderr: $(cat "$D/err")"
expect_eq "a watch behind a compaction resyncs to the right state" 0 "$RC"
expect_true "no sanitizer report (compaction)" no_sanitizer_report "$D/err"
[[ $RC -eq 0 ]] && echo "     $(cat "$D/out")"
etcd_stop "$ETCD_PID"

# 3. member loss
etcd_start_cluster || { fail "start a 3-member etcd cluster"; finish; }
pass "3-member etcd cluster on ${ETCD_ENDPOINTS}"
D=$(mktemp -d "$T/loss.XXXXXX")
"$LOSS" loss "etcd:$ETCD_ENDPOINTS" /loom/test-loss/ "$D" >"$D/out" 2>"$D/err" &
PID=$!
if wait_for 40 test -e "$D/ready"; then
	# the client starts on the first endpoint, its watch too: that one goes
	etcd_stop "${ETCD_PIDS[0]}" TERM
	touch "$D/go"
fi
wait "$PID"
RC=$?
CTX="stdout: $(cat "$D/out") stderr: $(tail -c 2000 "$D/err")"
expect_eq "losing a member mid-run: reads, writes and the watch go on" 0 "$RC"
expect_true "no sanitizer report (member loss)" no_sanitizer_report "$D/err"
[[ $RC -eq 0 ]] && echo "     $(cat "$D/out")"
# the survivors hold every key
N=$(ETCDCTL_API=3 etcdctl --endpoints="${ETCD_URLS[1]}" get --prefix --keys-only /loom/test-loss/ 2>/dev/null |
	grep -c .)
expect_eq "the surviving members hold every write" 300 "$N"

finish
