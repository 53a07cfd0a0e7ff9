#!/usr/bin/env bash
# loomd against a real datastore: a file: store in a temp dir (and a real
# etcd, when installed, for the outage test).  Several loomd share the
# store as simulated nodes, each with its own run and state dir.
#
#   two nodes lease two different blocks; a restart keeps the block;
#   a killed node's keys stay until its TTL passes, and only then does
#   another node get its block; an exhausted CIDR is a logged error, not a
#   crash; endpoint records are published and withdrawn, and reconciled at
#   start; a store outage leaves the lease file alone and is caught up.
#
# loomd runs in a netns of its own: with the default (vxlan) backend it
# creates loom.1 and sets forwarding sysctls, which must not reach the
# machine's root netns.  --address is lo's 127.0.0.1 or an address nobody
# holds.

source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netns.sh"
ns_add host
HOSTNS=$NS

LOOMD=$LOOM_BIN/loomd
STORE_PUT=$LOOM_BIN/store_put
STORE_GET=$LOOM_BIN/store_get
for b in "$LOOMD" "$STORE_PUT" "$STORE_GET"; do
	[[ -x "$b" ]] || { echo "missing $b: build the loomd, store_put and store_get targets" >&2; exit 2; }
done

export LOOM_STORE=file:$T/store
declare -A PID=()

# start NAME ARGS...: loomd for node NAME in the background, log in $T/NAME.log
start() {
	local name=$1
	shift
	mkdir -p "$T/$name"
	# One log per run, so a check never reads what an earlier run said.
	[[ -e "$T/$name.log" ]] && mv "$T/$name.log" "$T/$name.log.$(date +%s%N)"
	ip netns exec "$HOSTNS" "$LOOMD" --node "$name" --run-dir "$T/$name/run" --state-dir "$T/$name/ep" \
		--ttl 2 "$@" >>"$T/$name.log" 2>&1 &
	PID[$name]=$!
}

# stop NAME [SIGNAL]: signal one loomd by pid and reap it (bounded)
stop() {
	local pid=${PID[$1]} i
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	# braces: bash's "Killed" job notice goes to this stderr, not the test's
	{ wait "$pid"; } 2>/dev/null
	STOP_RC=$?
	unset "PID[$1]"
}

# wait_for SECONDS COMMAND...: poll until the command succeeds
wait_for() {
	local secs=$1 i
	shift
	for ((i = 0; i < secs * 10; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

alive() { kill -0 "${PID[$1]}" 2>/dev/null; }
key_exists() { "$STORE_GET" "$1" >/dev/null 2>&1; }
key_gone() { ! key_exists "$1"; }
log_has() { grep -qE -- "$2" "$T/$1.log" 2>/dev/null; }
subnet_of() { sed -n 's/^LOOM_SUBNET=//p' "$T/$1/run/${2:-default}.env" 2>/dev/null; }
has_lease_file() { [[ -s "$T/$1/run/${2:-default}.env" ]]; }

network() { # network NAME CIDR LEN [EXTRA_SPEC_JSON]
	printf '{"apiVersion":"loom.dev/v1","kind":"Network","metadata":{"name":"%s"},"spec":{"cidr":"%s","subnetLength":%s%s}}' \
		"$1" "$2" "$3" "${4:+,$4}" | ip netns exec "$HOSTNS" "$STORE_PUT" "/loom/config/$1" -
}

# record DIR NETWORK CID IFNAME IP: an endpoint record as loom-bridge writes it
# (temp dotfile renamed into place)
record() {
	local dir=$1 net=$2 cid=$3 ifn=$4 ip=$5
	mkdir -p "$dir"
	printf '{"plugin":"loom-bridge","network":"%s","containerID":"%s","ifname":"%s","hostVeth":"veth%s","bridge":"cni0","mac":"0a:58:0a:f4:00:05","ips":["%s"],"netns":"/run/netns/%s","podNamespace":"ns1","podName":"pod-%s","ipMasq":true,"macspoofchk":false}' \
		"$net" "$cid" "$ifn" "${cid:0:8}" "$ip" "$cid" "$cid" >"$dir/.$net:$cid:$ifn.json.1.tmp"
	mv "$dir/.$net:$cid:$ifn.json.1.tmp" "$dir/$net:$cid:$ifn.json"
}

# --- registration, waiting for the Network, two nodes ----------------------

start node-a --address 127.0.0.1
expect_true "loomd waits (and says so) while the Network is missing" \
	wait_for 5 log_has node-a 'waiting for the Network: /loom/config/default does not exist'
expect_true "no lease file without a Network" bash -c "! test -e '$T/node-a/run/default.env'"
network default 10.244.0.0/16 24
start node-b --address 192.0.2.99
expect_true "node-a writes its lease file once the Network exists" wait_for 10 has_lease_file node-a
expect_true "node-b writes its lease file" wait_for 10 has_lease_file node-b
A_SUB=$(subnet_of node-a)
B_SUB=$(subnet_of node-b)
expect_match "node-a leased a /24 of the cidr" '^10\.244\.[0-9]+\.0/24$' "$A_SUB"
expect_match "node-b leased a /24 of the cidr" '^10\.244\.[0-9]+\.0/24$' "$B_SUB"
expect_true "the two nodes hold different blocks ($A_SUB, $B_SUB)" test "$A_SUB" != "$B_SUB"
expect_eq "lease file: network" "LOOM_NETWORK=10.244.0.0/16" "$(grep ^LOOM_NETWORK= "$T/node-a/run/default.env")"
LO_MTU=$(cat /sys/class/net/lo/mtu 2>/dev/null || echo 1500)
expect_eq "lease file: MTU is lo's minus the vxlan overhead (--address on lo)" \
	"LOOM_MTU=$((LO_MTU - 50))" "$(grep ^LOOM_MTU= "$T/node-a/run/default.env")"
expect_eq "lease file: MTU 1450 when no interface holds --address" \
	"LOOM_MTU=1450" "$(grep ^LOOM_MTU= "$T/node-b/run/default.env")"
# A changed Network reaches running nodes (loomd watches its key): a new
# MTU is a new lease file, the blocks stay.
network default 10.244.0.0/16 24 '"mtu":1400'
expect_true "a changed Network reaches a running loomd (lease file MTU 1400)" \
	wait_for 10 grep -qx LOOM_MTU=1400 "$T/node-b/run/default.env"
expect_true "node-b logs the change" log_has node-b 'the Network changed: registering again'
expect_eq "the changed Network keeps node-b's block" "$B_SUB" "$(subnet_of node-b)"
network default 10.244.0.0/16 24
expect_true "and back (MTU 1450)" wait_for 10 grep -qx LOOM_MTU=1450 "$T/node-b/run/default.env"
OUT=$("$STORE_GET" /loom/nodes/node-a)
expect_eq "node key: address" "127.0.0.1" "$(jqr .address)"
expect_eq "node key: subnet" "$A_SUB" "$(jqr .subnet)"
OUT=$("$STORE_GET" "/loom/subnets/default/${B_SUB/\//_}")
expect_eq "subnet key names its owner" "node-b" "$(jqr .node)"

# --- restart keeps the block; SIGTERM does not release it ------------------

stop node-a TERM
expect_eq "SIGTERM: clean exit" 0 "$STOP_RC"
expect_true "SIGTERM keeps the node key (no revoke)" key_exists /loom/nodes/node-a
start node-a --address 127.0.0.1
expect_true "restarted node-a logs its lease" wait_for 10 log_has node-a 'kept lease|granted lease'
expect_true "restarted node-a is registered" wait_for 10 key_exists /loom/nodes/node-a
expect_eq "restarted node-a keeps its block" "$A_SUB" "$(subnet_of node-a)"
expect_true "restart within the TTL reuses the lease" log_has node-a 'kept lease'

# --- endpoint publishing -----------------------------------------------------

record "$T/node-a/ep" default cid1 eth0 10.244.9.5/24
KEY=/loom/endpoints/node-a/cid1/eth0
expect_true "a new record is published" wait_for 5 key_exists "$KEY"
OUT=$("$STORE_GET" "$KEY")
expect_eq "endpoint value" \
	'{"containerID":"cid1","hostVeth":"vethcid1","ifname":"eth0","ips":["10.244.9.5/24"],"mac":"0a:58:0a:f4:00:05","network":"default","node":"node-a","podName":"pod-cid1","podNamespace":"ns1"}' \
	"$(jq -cS . <<<"$OUT")"
record "$T/node-a/ep" other cid9 eth0 10.99.0.5/24
record "$T/node-a/ep" default cid2 net1 10.244.9.6/24
expect_true "a second record is published" wait_for 5 key_exists /loom/endpoints/node-a/cid2/net1
expect_true "another network's record is not published" key_gone /loom/endpoints/node-a/cid9/eth0
rm "$T/node-a/ep/default:cid1:eth0.json"
expect_true "a removed record withdraws its endpoint" wait_for 5 key_gone "$KEY"
expect_true "the other endpoint stays" key_exists /loom/endpoints/node-a/cid2/net1

# Reconcile at start: while node-a is down a pod goes, another comes, and a
# stale key lingers; the restart diffs them.
stop node-a TERM
rm "$T/node-a/ep/default:cid2:net1.json"
record "$T/node-a/ep" default cid3 eth0 10.244.9.7/24
echo '{"node":"node-a","network":"default","containerID":"old","ifname":"eth0","ips":[]}' |
	"$STORE_PUT" /loom/endpoints/node-a/old/eth0 -
echo '{"node":"node-a","network":"other","containerID":"keep","ifname":"eth0","ips":[]}' |
	"$STORE_PUT" /loom/endpoints/node-a/keep/eth0 -
start node-a --address 127.0.0.1
expect_true "reconcile: a record made while down is published" \
	wait_for 10 key_exists /loom/endpoints/node-a/cid3/eth0
expect_true "reconcile: a record removed while down is withdrawn" \
	wait_for 5 key_gone /loom/endpoints/node-a/cid2/net1
expect_true "reconcile: a stale key is deleted" wait_for 5 key_gone /loom/endpoints/node-a/old/eth0
expect_true "reconcile: another network's key is left alone" key_exists /loom/endpoints/node-a/keep/eth0

# --- a killed node keeps its keys until the TTL -------------------------------

stop node-b KILL
expect_true "killed node-b: node key still there within the TTL" key_exists /loom/nodes/node-b
expect_true "killed node-b: subnet key still there within the TTL" \
	key_exists "/loom/subnets/default/${B_SUB/\//_}"
expect_true "killed node-b: node key gone after the TTL" wait_for 10 key_gone /loom/nodes/node-b
expect_true "killed node-b: subnet key gone after the TTL" \
	wait_for 5 key_gone "/loom/subnets/default/${B_SUB/\//_}"
expect_true "node-a lives on across node-b's expiry" key_exists /loom/nodes/node-a

# --- exhausted CIDR, and reclaiming a dead node's block ------------------------

network small 10.250.0.0/24 25
start s1 --network small --address 192.0.2.1
start s2 --network small --address 192.0.2.2
expect_true "s1 leases a block of the small network" wait_for 10 has_lease_file s1 small
expect_true "s2 leases a block of the small network" wait_for 10 has_lease_file s2 small
S2_SUB=$(subnet_of s2 small)
start s3 --network small --address 192.0.2.3
expect_true "third node on a full /24 of /25s logs a clear error" \
	wait_for 10 log_has s3 'no free /25 left in 10.250.0.0/24'
expect_true "the exhausted node keeps running" alive s3
stop s2 KILL
sleep 0.5
expect_true "s3 does not get s2's block before s2's TTL passed" \
	bash -c "! test -e '$T/s3/run/small.env'"
expect_true "s3 gets s2's block after the TTL" wait_for 20 has_lease_file s3 small
expect_eq "s3's block is the one s2 held" "$S2_SUB" "$(subnet_of s3 small)"
expect_true "s3 logs its registration after the error" log_has s3 'leased subnet'

# --- --once and --release-on-exit ---------------------------------------------

RC=0
ip netns exec "$HOSTNS" "$LOOMD" --node once-1 --address 192.0.2.5 --run-dir "$T/once-1/run" --state-dir "$T/once-1/ep" \
	--once >"$T/once-1.log" 2>&1 || RC=$?
expect_eq "--once: exit 0 after one sync" 0 "$RC"
expect_true "--once: lease file written" has_lease_file once-1
RC=0
ip netns exec "$HOSTNS" "$LOOMD" --node once-2 --address 192.0.2.6 --network nosuch --run-dir "$T/once-2/run" \
	--state-dir "$T/once-2/ep" --once >"$T/once-2.log" 2>&1 || RC=$?
expect_eq "--once without a Network: exit 1" 1 "$RC"
start rel --address 192.0.2.7 --release-on-exit
expect_true "rel registers" wait_for 10 key_exists /loom/nodes/rel
stop rel TERM
expect_true "--release-on-exit: node key gone at once" key_gone /loom/nodes/rel

# --- store outage (etcd) -------------------------------------------------------

etcd_up() { # etcd_up CPORT PPORT DIR   (in loomd's netns, on its loopback)
	ip netns exec "$HOSTNS" etcd --name loomd-test --data-dir "$3" \
		--listen-client-urls "http://127.0.0.1:$1" --advertise-client-urls "http://127.0.0.1:$1" \
		--listen-peer-urls "http://127.0.0.1:$2" --initial-advertise-peer-urls "http://127.0.0.1:$2" \
		--initial-cluster "loomd-test=http://127.0.0.1:$2" --initial-cluster-state new \
		--listen-metrics-urls "" --log-level error >>"$T/etcd.log" 2>&1 &
	ETCD_PID=$!
	wait_for 15 ip netns exec "$HOSTNS" curl -s -m 1 -o /dev/null "http://127.0.0.1:$1/health"
}
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if command -v etcd >/dev/null && command -v curl >/dev/null; then
	CP=$((20000 + RANDOM % 20000))
	PP=$((CP + 1))
	for ((i = 0; i < 20; i++)); do
		port_free "$CP" && port_free "$PP" && break
		CP=$((20000 + RANDOM % 20000)) PP=$((CP + 1))
	done
	if etcd_up "$CP" "$PP" "$T/etcd"; then
		E=etcd:http://127.0.0.1:$CP
		LOOM_STORE=$E network default 10.244.0.0/16 24
		start e1 --address 192.0.2.9 --store "$E"
		expect_true "etcd: e1 registers" wait_for 10 has_lease_file e1
		cp "$T/e1/run/default.env" "$T/e1.env.before"
		kill -TERM "$ETCD_PID"
		wait "$ETCD_PID" 2>/dev/null
		expect_true "etcd down: loomd logs the outage" \
			wait_for 10 log_has e1 'store unreachable: .*retrying'
		record "$T/e1/ep" default cid5 eth0 10.244.1.5/24
		sleep 1.5
		expect_true "etcd down: loomd keeps running" alive e1
		expect_true "etcd down: the lease file is untouched" cmp -s "$T/e1.env.before" "$T/e1/run/default.env"
		expect_eq "etcd down: the outage is logged once" 1 "$(grep -c 'store unreachable' "$T/e1.log")"
		etcd_up "$CP" "$PP" "$T/etcd" || fail "etcd restarts on its data dir"
		expect_true "etcd back: loomd says so" wait_for 15 log_has e1 'store reachable again'
		expect_true "etcd back: the record made during the outage is published" \
			wait_for 10 ip netns exec "$HOSTNS" env LOOM_STORE="$E" "$STORE_GET" /loom/endpoints/e1/cid5/eth0 >/dev/null
		expect_true "etcd back: the node key is there" \
			wait_for 10 ip netns exec "$HOSTNS" env LOOM_STORE="$E" "$STORE_GET" /loom/nodes/e1 >/dev/null
		expect_eq "etcd back: same block" "$(sed -n 's/^LOOM_SUBNET=//p' "$T/e1.env.before")" "$(subnet_of e1)"
		stop e1 TERM
		kill -TERM "$ETCD_PID"
		wait "$ETCD_PID" 2>/dev/null
	else
		fail "etcd starts on 127.0.0.1:$CP" "$(tail -5 "$T/etcd.log" 2>/dev/null)"
	fi
else
	echo "skip: etcd outage test (etcd or curl not installed)"
fi

# --- every loomd exits cleanly; no sanitizer reports --------------------------

for n in "${!PID[@]}"; do
	stop "$n" TERM
	expect_eq "$n exits 0 on SIGTERM" 0 "$STOP_RC"
done
if grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T"/*.log* >/dev/null 2>&1; then
	fail "no sanitizer report from loomd" "$(grep -hE -A5 'Sanitizer|runtime error' "$T"/*.log* | head -40)"
fi

finish
