# Helpers that run real etcd servers on loopback for the datastore tests.
# Source it after lib.sh; at exit it stops every member it started, by pid,
# and removes their data dirs.  Without etcd the test skips (77).
#
#   etcd_start_single          sets ETCD_URL (http://127.0.0.1:PORT), ETCD_PID
#   etcd_start_cluster         3 members: ETCD_URLS[0..2], ETCD_PIDS[0..2];
#                              ETCD_ENDPOINTS="http://A,http://B,http://C"
#   etcd_stop PID [SIGNAL]     stops one member and waits for it (bounded)
#   etcd_wait_healthy URL SEC  polls /health until it answers true
#   etcd_cleanup               everything stopped and removed (also on exit)
#
# Ports are never assumed: each is picked at random from the ephemeral-free
# range 20000-59999, checked unused, and a member that fails to start (the
# port was taken in between) is retried on new ports.

_ETCD_ROOT=$(mktemp -d /tmp/loom-etcd.XXXXXX)
_ETCD_PIDS=()

_etcd_gone() { ! kill -0 "$1" 2>/dev/null; }
# _etcd_reap PID: waits up to 5 s for PID to end, then kills and reaps it
_etcd_reap() {
	wait_for 5 _etcd_gone "$1"
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

etcd_cleanup() {
	local p
	for p in "${_ETCD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${_ETCD_PIDS[@]}"; do _etcd_reap "$p"; done
	_ETCD_PIDS=()
	rm -rf "$_ETCD_ROOT"
}

on_exit etcd_cleanup

command -v etcd >/dev/null || skip "etcd is required (apt-get install etcd-server etcd-client)"
command -v curl >/dev/null || skip "curl is required"

# _etcd_port_free PORT: nothing listens on 127.0.0.1:PORT
_etcd_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# _etcd_pick_ports N: prints N distinct free ports
_etcd_pick_ports() {
	local n=$1 got=() p tries=0
	while ((${#got[@]} < n && tries < 200)); do
		tries=$((tries + 1))
		p=$((20000 + RANDOM % 40000))
		[[ " ${got[*]} " == *" $p "* ]] && continue
		_etcd_port_free "$p" && got+=("$p")
	done
	echo "${got[@]}"
}

_etcd_healthy() { curl -s -m 1 "$1/health" 2>/dev/null | grep -q '"health":"true"'; }
# etcd_wait_healthy URL SECONDS
etcd_wait_healthy() { wait_for "${2:-10}" _etcd_healthy "$1"; }

# etcd_stop PID [SIGNAL]
etcd_stop() {
	local pid=$1 sig=${2:-TERM}
	kill -"$sig" "$pid" 2>/dev/null
	_etcd_reap "$pid"
	local keep=() p
	for p in "${_ETCD_PIDS[@]}"; do [[ "$p" == "$pid" ]] || keep+=("$p"); done
	_ETCD_PIDS=("${keep[@]}")
	return 0
}

# _etcd_launch NAME CLIENTPORT PEERPORT CLUSTER TOKEN: starts one member in
# the background of this shell (so `wait` reaps it); its pid in _ETCD_LAST.
_etcd_launch() {
	local name=$1 cport=$2 pport=$3 cluster=$4 token=$5
	local dir="$_ETCD_ROOT/$name"
	mkdir -p "$dir"
	etcd --name "$name" --data-dir "$dir/data" \
		--listen-client-urls "http://127.0.0.1:$cport" \
		--advertise-client-urls "http://127.0.0.1:$cport" \
		--listen-peer-urls "http://127.0.0.1:$pport" \
		--initial-advertise-peer-urls "http://127.0.0.1:$pport" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--initial-cluster-token "$token" \
		--heartbeat-interval 50 --election-timeout 500 \
		--listen-metrics-urls "" --log-level error \
		>"$dir/log" 2>&1 &
	_ETCD_LAST=$!
	_ETCD_PIDS+=("$_ETCD_LAST")
}

etcd_start_single() {
	local attempt ports pid
	for ((attempt = 0; attempt < 5; attempt++)); do
		read -r -a ports <<<"$(_etcd_pick_ports 2)"
		((${#ports[@]} == 2)) || continue
		_etcd_launch "single$attempt" "${ports[0]}" "${ports[1]}" \
			"single$attempt=http://127.0.0.1:${ports[1]}" "loom-$$-single$attempt"
		pid=$_ETCD_LAST
		if etcd_wait_healthy "http://127.0.0.1:${ports[0]}" 15; then
			ETCD_URL="http://127.0.0.1:${ports[0]}"
			ETCD_PID=$pid
			return 0
		fi
		etcd_stop "$pid"
	done
	echo "could not start etcd" >&2
	return 1
}

etcd_start_cluster() {
	local attempt ports i cluster ok
	for ((attempt = 0; attempt < 3; attempt++)); do
		read -r -a ports <<<"$(_etcd_pick_ports 6)"
		((${#ports[@]} == 6)) || continue
		cluster=""
		for i in 0 1 2; do
			cluster+="${cluster:+,}m$attempt$i=http://127.0.0.1:${ports[$((2 * i + 1))]}"
		done
		ETCD_URLS=() ETCD_PIDS=()
		for i in 0 1 2; do
			_etcd_launch "m$attempt$i" "${ports[$((2 * i))]}" \
				"${ports[$((2 * i + 1))]}" "$cluster" "loom-$$-c$attempt"
			ETCD_PIDS[i]=$_ETCD_LAST
			ETCD_URLS[i]="http://127.0.0.1:${ports[$((2 * i))]}"
		done
		ok=1
		for i in 0 1 2; do
			etcd_wait_healthy "${ETCD_URLS[i]}" 15 || { ok=0; break; }
		done
		if ((ok)); then
			ETCD_ENDPOINTS="${ETCD_URLS[0]},${ETCD_URLS[1]},${ETCD_URLS[2]}"
			return 0
		fi
		for i in 0 1 2; do etcd_stop "${ETCD_PIDS[i]}"; done
	done
	echo "could not start a 3-member etcd cluster" >&2
	return 1
}
