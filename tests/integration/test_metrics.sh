#!/usr/bin/env bash
# The daemons' HTTP endpoints as a scraper and a kubelet probe see them,
# on lib/daemon/httpd.c + metrics.c (tests/daemon/httpd_demo.c stands in
# for a daemon; test_daemon_metrics.sh scrapes the real loomd and
# loom-policyd): /healthz 200;
# /readyz 503 with its reason, then 200; /metrics in the Prometheus text
# format with its content type, clean under `promtool check metrics`
# (Debian's prometheus package), over HTTP/1.1 with curl.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEMO=$LOOM_BIN/httpd_demo
[[ -x $DEMO ]] || { echo "missing $DEMO: build the httpd_demo target" >&2; exit 2; }
command -v curl >/dev/null || { echo "SKIP: curl is not installed"; exit 77; }

# poll_until TRIES CMD...: every 0.1 s, at most TRIES times
poll_until() {
	local i
	for ((i = 0; i < $1; i++)); do "${@:2}" && return 0; sleep 0.1; done
	return 1
}

"$DEMO" 127.0.0.1:0 >"$T/demo.out" 2>&1 &
PID=$!
poll_until 50 grep -q '^port ' "$T/demo.out"
PORT=$(sed -n 's/^port //p' "$T/demo.out")
URL=http://127.0.0.1:$PORT
get() { curl -s -o "$T/body" -w '%{http_code} %{content_type}' --max-time 10 "$URL$1"; }

expect_eq "/healthz answers 200" "200" "$(get /healthz | cut -d' ' -f1)"
expect_eq "/readyz is 503 until in sync" "503" "$(get /readyz | cut -d' ' -f1)"
expect_match "/readyz says why" "not ready: " "$(cat "$T/body")"
kill -USR1 "$PID"
ready() { [[ $(get /readyz | cut -d' ' -f1) == 200 ]]; }
expect_true "/readyz answers 200 once in sync" poll_until 50 ready
expect_eq "unknown paths are 404" "404" "$(get /nope | cut -d' ' -f1)"
expect_eq "/metrics: 200 in the text format 0.0.4" "200 text/plain; version=0.0.4; charset=utf-8" "$(get /metrics)"
cp "$T/body" "$T/metrics.txt"
for m in loom_build_info loom_dataplane_apply_duration_seconds_bucket loom_dataplane_apply_errors_total \
	loom_lease_renewals_total loom_bgp_peer_up loom_ipam_addresses_in_use loom_ipam_addresses_capacity; do
	expect_true "/metrics has $m" grep -q "^$m[{ ]" "$T/metrics.txt"
done
if command -v promtool >/dev/null; then
	OUT=$(promtool check metrics <"$T/metrics.txt" 2>&1)
	expect_eq "promtool check metrics: clean" "0 ''" "$? $(printf '%q' "$OUT")"
else
	fail "promtool is installed" "apt-get install prometheus (./dev.sh test installs it)"
fi
# A scrape that never finishes its request does not stop the next one.
exec 7<>/dev/tcp/127.0.0.1/"$PORT"
printf 'GET /metr' >&7
expect_eq "a stalled client does not block others" "200" "$(get /healthz | cut -d' ' -f1)"
exec 7>&-

kill "$PID"
{ wait "$PID"; } 2>/dev/null
finish
