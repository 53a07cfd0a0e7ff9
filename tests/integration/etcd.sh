# Helpers that run real etcd servers on loopback for the datastore tests.
# Source it (after lib.sh when you use that); it installs its own EXIT trap
# that stops every member it started, by pid, and removes their data dirs,
# then calls lib.sh's _cleanup when that exists.
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

etcd_cleanup() {
	local p i
	for p in "${_ETCD_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${_ETCD_PIDS[@]}"; do
		for ((i = 0; i < 50; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	_ETCD_PIDS=()
	rm -rf "$_ETCD_ROOT"
}

_etcd_exit() {
	local rc=$?
	etcd_cleanup
	if declare -F _cleanup >/dev/null; then _cleanup; fi
	exit "$rc"
}
trap _etcd_exit EXIT
trap 'exit 130' INT TERM

command -v etcd >/dev/null || { echo "etcd is required (apt-get install etcd-server etcd-client)" >&2; exit 2; }
command -v curl >/dev/null || { echo "curl is required" >&2; exit 2; }

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

# etcd_wait_healthy URL SECONDS
etcd_wait_healthy() {
	local url=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 10; i++)); do
		if curl -s -m 1 "$url/health" 2>/dev/null | grep -q '"health":"true"'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# etcd_stop PID [SIGNAL]
etcd_stop() {
	local pid=$1 sig=${2:-TERM} i
	kill -"$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
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
