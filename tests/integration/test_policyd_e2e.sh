#!/usr/bin/env bash
# loom-policyd end to end on loom-sim (2 nodes, vxlan then bgp mode), after the
# Kubernetes upstream NetworkPolicy model: namespaces x, y, z (label
# ns=<name>), pods a, b, c in each (label pod=<name>) spread over both
# nodes, each serving TCP and UDP on 80 and 81 (container ports named
# serve-80-tcp, serve-80-udp, serve-81-tcp, serve-81-udp).
#
# Each case applies policies with loomctl, waits with `loomctl policy wait`
# and compares the full reachability matrix (loom-sim matrix --json) with
# the one computed from the case's rules: two small bash predicates,
# ing_ok and egr_ok (SRC DST PORT PROTO -> true/false), stand for what the
# case's policies allow; a connection is expected when both hold (or when a
# pod talks to itself: that never leaves its netns, as upstream's
# AllowLoopback).  Same-node pairs cross the bridge (br_netfilter), the
# others the vxlan device (or, in bgp mode, the node's routed uplink), so
# both paths are checked every time.
#
# The same cases run once per mode in LOOM_POLICY_MODES (default
# "vxlan bgp"; bgp is skipped without BIRD): one cluster per mode, torn
# down before the next; policies are deleted between cases.

source "$(dirname "$0")/lib.sh"

need_bins loom-sim loom-probe loomd loomctl loom-vxlan loom-policyd
[[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ]] ||
	skip "no br_netfilter in this kernel (bridged traffic would bypass the rules)"

MODES=${LOOM_POLICY_MODES:-vxlan bgp}
MODE=""
CTL() { "$LOOM_BIN/loomctl" "$@"; }

declare -A LABEL ADDR # "x/a" -> value of label pod, pod address
PODS=()

# add_pod NODE NS/NAME LABEL
add_pod() {
	local a
	a=$(sim pod add "$1" "$2" --label "pod=$3" --port serve-80-tcp:tcp:80 \
		--port serve-80-udp:udp:80 --port serve-81-tcp:tcp:81 --port serve-81-udp:udp:81) || return 1
	ADDR[$2]=$a
	LABEL[$2]=$3
	PODS+=("$2")
}

# loom-sim writes a bare Namespace with each pod: label them after.
label_namespaces() {
	local ns
	for ns in x y z; do
		printf -- '---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {ns: %s}}\n' \
			"$ns" "$ns"
	done | CTL apply -f - >/dev/null
}

# all 81 pairs reachable (no policy yet): in bgp mode BIRD has converged
all_reach() {
	[[ $(sim matrix --port 80 --proto tcp --json 2>/dev/null | jq -r '"\(.reachable)/\(.total)"') == 81/81 ]]
}

# cluster_up MODE: a fresh 2-node cluster of that mode with the 9 pods
cluster_up() {
	local out i=0 ns p t
	MODE=$1
	sim_cluster "$(printf 'lp%s%s' "${MODE:0:1}" $$ | cut -c1-12)"
	export LOOM_STORE=file:/run/loom-sim/$NAME/store
	LABEL=() ADDR=() PODS=()
	out=$(sim up --nodes 2 --mode "$MODE" 2>&1) || { fail "[$MODE] loom-sim up --mode $MODE" "$out"; return 1; }
	for ns in x y z; do
		for p in a b c; do
			add_pod "n$((i % 2 + 1))" "$ns/$p" "$p" || { fail "[$MODE] pod $ns/$p starts"; return 1; }
			i=$((i + 1))
		done
	done
	label_namespaces
	CTL policy wait --timeout 60 >/dev/null || fail "[$MODE] policy daemons report in"
	# bgp: BIRD needs a few seconds before the other node's block is routed
	wait_for 60 all_reach && return 0
	fail "[$MODE] every pod reaches every other before the first policy" \
		"$(sim matrix --port 80 --proto tcp --json 2>&1 | jq -c '{reachable, total}')"
	return 1
}

cluster_down() {
	sim down >/dev/null 2>&1 || fail "[$MODE] loom-sim down"
	NAME=""
}

# ---- expectations
ns_of() { echo "${1%/*}"; }
lbl() { echo "${LABEL[$1]}"; }
# the case's rules; every case redefines what it restricts
reset_rules() {
	ing_ok() { true; }
	egr_ok() { true; }
}

# apply: policies as YAML on stdin, then wait until every node has them
apply() {
	local out
	out=$(CTL apply -f - 2>&1) || { fail "apply for [$MODE] $CASE" "$out"; return 1; }
	CTL policy wait --timeout 60 >/dev/null || fail "policy wait for [$MODE] $CASE"
}

# netpol NS NAME: the head of a NetworkPolicy (the spec follows)
netpol() {
	printf -- '---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n' "$2" "$1"
}

delete_policies() {
	local ns n
	while read -r ns n _; do
		[[ -n "$n" && "$ns" != NAMESPACE ]] && CTL delete netpol "$n" -n "$ns" >/dev/null
	done < <(CTL get netpol -A 2>/dev/null)
	CTL policy wait --timeout 60 >/dev/null || fail "policy wait after deleting [$MODE] $CASE's policies"
}

# check PORT PROTO: the matrix against ing_ok/egr_ok
check() {
	local port=$1 proto=$2 m order=() want="" got s d row
	m=$(sim matrix --port "$port" --proto "$proto" --json) || { fail "[$MODE] $CASE $proto/$port: matrix" "$m"; return; }
	mapfile -t order < <(jq -r '.pods[].pod' <<<"$m")
	got=$(jq -r '[.results[][] | if . then "1" else "0" end] | join("")' <<<"$m")
	for s in "${order[@]}"; do
		for d in "${order[@]}"; do
			if [[ $s == "$d" ]] || { egr_ok "$s" "$d" "$port" "$proto" && ing_ok "$s" "$d" "$port" "$proto"; }; then
				want+=1
			else
				want+=0
			fi
		done
	done
	if [[ "$want" == "$got" ]]; then
		pass "[$MODE] $CASE: $proto/$port matrix (${#order[@]}x${#order[@]})"
		return
	fi
	# the diff: . allowed, X denied; where they differ: + unexpectedly
	# allowed, - unexpectedly denied
	local lines=("row: from, column: to") n=${#order[@]} i j w g
	row=$(printf '%-5s' '')
	for d in "${order[@]}"; do row+=" $d"; done
	lines+=("$row")
	for ((i = 0; i < n; i++)); do
		row=$(printf '%-5s' "${order[i]}")
		for ((j = 0; j < n; j++)); do
			w=${want:i*n+j:1} g=${got:i*n+j:1}
			if [[ $w == "$g" ]]; then
				[[ $g == 1 ]] && row+="   ." || row+="   X"
			else
				[[ $g == 1 ]] && row+="   +" || row+="   -"
			fi
		done
		lines+=("$row")
	done
	fail "[$MODE] $CASE: $proto/$port matrix" "${lines[@]}"
}

# ---- cases
run_cases() {
	CASE="no policy"
	reset_rules
	check 80 tcp

	CASE="default deny ingress"
	reset_rules
	apply <<<"$(netpol x deny-in; printf '  podSelector: {}\n  policyTypes: [Ingress]\n')"
	ing_ok() { [[ $(ns_of "$2") != x ]]; }
	check 80 tcp
	delete_policies

	CASE="default deny egress"
	reset_rules
	apply <<<"$(netpol x deny-out; printf '  podSelector: {}\n  policyTypes: [Egress]\n')"
	egr_ok() { [[ $(ns_of "$1") != x ]]; }
	check 80 tcp
	check 80 udp
	delete_policies

	CASE="allow from a namespace"
	reset_rules
	apply <<-EOF
	$(netpol x from-y)
	  podSelector: {}
	  ingress:
	  - from:
	    - namespaceSelector: {matchLabels: {ns: y}}
	EOF
	ing_ok() { [[ $(ns_of "$2") != x || $(ns_of "$1") == y ]]; }
	check 80 tcp
	delete_policies

	CASE="from a pod in a namespace (both selectors in one peer)"
	reset_rules
	apply <<-EOF
	$(netpol x a-from-y-b)
	  podSelector: {matchLabels: {pod: a}}
	  ingress:
	  - from:
	    - namespaceSelector: {matchLabels: {ns: y}}
	      podSelector: {matchLabels: {pod: b}}
	EOF
	ing_ok() { [[ $2 != x/a || ( $(ns_of "$1") == y && $(lbl "$1") == b ) ]]; }
	check 80 tcp
	delete_policies

	CASE="namespace and pod selectors as separate peers"
	reset_rules
	apply <<-EOF
	$(netpol x a-from-y-or-b)
	  podSelector: {matchLabels: {pod: a}}
	  ingress:
	  - from:
	    - namespaceSelector: {matchLabels: {ns: y}}
	    - podSelector: {matchLabels: {pod: b}}
	EOF
	ing_ok() { [[ $2 != x/a || $(ns_of "$1") == y || ( $(ns_of "$1") == x && $(lbl "$1") == b ) ]]; }
	check 80 tcp
	delete_policies

	CASE="matchExpressions"
	reset_rules
	apply <<-EOF
	$(netpol x exprs)
	  podSelector: {matchExpressions: [{key: pod, operator: In, values: [a, b]}]}
	  ingress:
	  - from:
	    - namespaceSelector: {matchExpressions: [{key: ns, operator: NotIn, values: [x, y]}]}
	      podSelector: {matchExpressions: [{key: pod, operator: Exists}, {key: absent, operator: DoesNotExist}]}
	EOF
	ing_ok() { [[ $(ns_of "$2") != x || $(lbl "$2") == c || $(ns_of "$1") == z ]]; }
	check 80 tcp
	delete_policies

	CASE="ipBlock with except"
	reset_rules
	apply <<-EOF
	$(netpol x a-from-block)
	  podSelector: {matchLabels: {pod: a}}
	  ingress:
	  - from:
	    - ipBlock: {cidr: 10.244.0.0/16, except: [${ADDR[y/b]}/32, ${ADDR[z/c]}/32]}
	EOF
	ing_ok() { [[ $2 != x/a || ( $1 != y/b && $1 != z/c ) ]]; }
	check 80 tcp
	delete_policies

	CASE="named ports"
	reset_rules
	apply <<-EOF
	$(netpol x named)
	  podSelector: {}
	  ingress:
	  - ports:
	    - port: serve-81-tcp
	    - port: serve-80-udp
	      protocol: UDP
	EOF
	ing_ok() { [[ $(ns_of "$2") != x || "$3/$4" == 81/tcp || "$3/$4" == 80/udp ]]; }
	check 80 tcp
	check 81 tcp
	check 80 udp
	check 81 udp
	delete_policies

	CASE="endPort"
	reset_rules
	apply <<-EOF
	$(netpol y range)
	  podSelector: {}
	  ingress:
	  - ports:
	    - port: 81
	      endPort: 90
	EOF
	ing_ok() { [[ $(ns_of "$2") != y || ( $4 == tcp && $3 -ge 81 && $3 -le 90 ) ]]; }
	check 80 tcp
	check 81 tcp
	delete_policies

	CASE="multiple policies add up"
	reset_rules
	apply <<-EOF
	$(netpol x a-from-b)
	  podSelector: {matchLabels: {pod: a}}
	  ingress:
	  - from:
	    - podSelector: {matchLabels: {pod: b}}
	$(netpol x a-from-z)
	  podSelector: {matchLabels: {pod: a}}
	  ingress:
	  - from:
	    - namespaceSelector: {matchLabels: {ns: z}}
	EOF
	ing_ok() { [[ $2 != x/a || $1 == x/b || $(ns_of "$1") == z ]]; }
	check 80 tcp

	CASE="one of two policies deleted"
	CTL delete netpol a-from-z -n x >/dev/null
	CTL policy wait --timeout 60 >/dev/null || fail "[$MODE] $CASE: policy wait"
	ing_ok() { [[ $2 != x/a || $1 == x/b ]]; }
	check 80 tcp

	CASE="last policy deleted restores access"
	CTL delete netpol a-from-b -n x >/dev/null
	CTL policy wait --timeout 60 >/dev/null || fail "[$MODE] $CASE: policy wait"
	reset_rules
	check 80 tcp

	# relabel POD VALUE: the Pod object with label pod=VALUE
	relabel() {
		CTL get pod "${1#*/}" -n "${1%/*}" -o json | jq --arg v "$2" '.metadata.labels.pod = $v' | apply
		LABEL[$1]=$2
	}

	CASE="pod relabelled enters a policy"
	reset_rules
	apply <<-EOF
	$(netpol y deny-a)
	  podSelector: {matchLabels: {pod: a}}
	  ingress: []
	$(netpol z only-from-b)
	  podSelector: {}
	  ingress:
	  - from:
	    - namespaceSelector: {}
	      podSelector: {matchLabels: {pod: b}}
	EOF
	relabel y/b a   # target side: y/b becomes isolated
	relabel x/c b   # peer side: x/c becomes allowed into z
	ing_ok() {
		[[ $(ns_of "$2") == y && $(lbl "$2") == a ]] && return 1
		[[ $(ns_of "$2") != z || $(lbl "$1") == b ]]
	}
	check 80 tcp

	CASE="pod relabelled leaves a policy"
	relabel y/b b
	relabel x/c c
	check 80 tcp
	delete_policies

	CASE="a new pod in a selected namespace"
	reset_rules
	apply <<-EOF
	$(netpol x from-y)
	  podSelector: {}
	  ingress:
	  - from:
	    - namespaceSelector: {matchLabels: {ns: y}}
	EOF
	add_pod n2 y/d d || fail "[$MODE] $CASE: pod y/d starts"
	label_namespaces # pod add rewrote Namespace y without its labels
	CTL policy wait --timeout 60 >/dev/null || fail "[$MODE] $CASE: policy wait"
	ing_ok() { [[ $(ns_of "$2") != x || $(ns_of "$1") == y ]]; }
	check 80 tcp
	sim pod del y/d >/dev/null
	unset 'LABEL[y/d]' 'ADDR[y/d]'
	delete_policies

	CASE="egress to an ipBlock"
	reset_rules
	apply <<-EOF
	$(netpol x a-to-block)
	  podSelector: {matchLabels: {pod: a}}
	  policyTypes: [Egress]
	  egress:
	  - to:
	    - ipBlock: {cidr: ${ADDR[y/b]}/32}
	EOF
	egr_ok() { [[ $1 != x/a || $2 == y/b ]]; }
	check 80 tcp
	delete_policies

	CASE="UDP"
	reset_rules
	apply <<-EOF
	$(netpol y udp-80)
	  podSelector: {}
	  policyTypes: [Ingress, Egress]
	  ingress:
	  - ports: [{protocol: UDP, port: 80}]
	  egress:
	  - ports: [{protocol: UDP}]
	EOF
	ing_ok() { [[ $(ns_of "$2") != y || "$3/$4" == 80/udp ]]; }
	egr_ok() { [[ $(ns_of "$1") != y || $4 == udp ]]; }
	check 80 udp
	check 81 udp
	check 80 tcp
	delete_policies

	CASE="after every case"
	reset_rules
	check 80 tcp

}

for m in $MODES; do
	if [[ $m == bgp ]] && { [[ ! -x "$LOOM_BIN/loom-bgp" ]] || ! command -v bird >/dev/null; }; then
		echo "skip: bgp mode (loom-bgp or bird not available)"
		continue
	fi
	t0=$SECONDS
	cluster_up "$m" && run_cases
	cluster_down
	echo "# $m mode: $((SECONDS - t0)) s"
done

finish
