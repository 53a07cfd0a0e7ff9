#!/usr/bin/env bash
# loomctl against a file: store (and a real etcd when etcd.sh and etcd are
# there): every kind round-trips (apply, get -o yaml, apply again ->
# unchanged), multi-document files and Lists, delete, and a table of invalid
# files refused with kubectl-style messages and nothing written.
set -u
: "${LOOM_SRC:=$(cd "$(dirname "$0")/../.." && pwd)}"
source "$LOOM_SRC/tests/integration/lib.sh"
LOOMCTL=$LOOM_BIN/loomctl
[[ -x $LOOMCTL ]] || { echo "loomctl not built" >&2; exit 2; }

# run CMD...: sets OUT, ERRTXT, RC
run() {
	OUT=$("$LOOMCTL" "$@" 2>"$T/stderr")
	RC=$?
	ERRTXT=$(cat "$T/stderr")
}

# Everything loomctl can see, as JSON: "the store" for before/after checks.
snapshot() {
	local k
	for k in ns po netpol net; do "$LOOMCTL" get "$k" -A -o json; done
}

mkdir -p "$T/m"
cat >"$T/m/ns.yaml" <<'Y'
apiVersion: v1
kind: Namespace
metadata:
  name: prod
  labels: {team: payments, example.com/tier: "1"}
Y
cat >"$T/m/pod.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
  labels: {app: web, version: "1.0"}
spec:
  nodeName: node-1
  containers:
  - name: nginx
    image: nginx
    ports:
    - {name: http, containerPort: 80}
    - {containerPort: 53, protocol: UDP}
Y
cat >"$T/m/netpol.yaml" <<'Y'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-web, namespace: prod}
spec:
  podSelector:
    matchLabels: {app: web}
    matchExpressions:
    - {key: tier, operator: In, values: [a, "true", "80"]}
    - {key: legacy, operator: DoesNotExist}
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    - namespaceSelector: {matchLabels: {team: payments}}
      podSelector: {}
    ports:
    - {port: 8000, endPort: 8080}
    - {port: http}
  egress:
  - to: [{ipBlock: {cidr: "fd00::/48"}}]
    ports: [{port: 53, protocol: UDP}]
Y
cat >"$T/m/net.yaml" <<'Y'
{"apiVersion": "loom.dev/v1", "kind": "Network", "metadata": {"name": "default"},
 "spec": {"cidr": "10.244.0.0/16", "cidr6": "fd00:10:244::/56", "mtu": 1450,
          "backend": {"type": "bgp", "bgp": {"routeReflectors": ["node-a"],
                      "peers": [{"address": "192.0.2.1", "asNumber": 64513}]}}}}
Y
cat >"$T/m/multi.yaml" <<'Y'
# a multi-document file with a List in the middle
apiVersion: v1
kind: Namespace
metadata: {name: dev}
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: dev}
  spec: {containers: [{name: c}]}
- apiVersion: v1
  kind: Pod
  metadata: {name: b, namespace: dev}
  spec: {containers: [{name: c, ports: [{containerPort: 9090}]}]}
---
---
apiVersion: loom.dev/v1
kind: Network
metadata: {name: vx}
spec: {cidr: 10.96.0.0/12, subnetLength: 20, backend: {vxlan: {vni: 42}}}
Y

# name|file contents|expected stderr.  Each file starts with a valid object:
# nothing of it may be written either.
VALID_NS=$'apiVersion: v1\nkind: Namespace\nmetadata: {name: must-not-appear}\n---\n'
INVALID=(
	"pod-port|${VALID_NS}apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    ports: [{containerPort: 70000}]\n|error: FILE: document 2: spec.containers[0].ports[0].containerPort: must be between 1 and 65535"
	"np-port|${VALID_NS}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - ports: [{port: 80}, {port: 65536}]\n|error: FILE: document 2: spec.ingress[0].ports[1].port: must be between 1 and 65535"
	"np-endport|${VALID_NS}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  egress:\n  - ports: [{port: dns, endPort: 60}]\n|error: FILE: document 2: spec.egress[0].ports[0].endPort: may not be specified when \`port\` is non-numeric"
	"np-except|${VALID_NS}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  ingress:\n  - from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.1.0.0/24]}}]\n|error: FILE: document 2: spec.ingress[0].from[0].ipBlock.except[0]: must be a strict subset of \`cidr\`"
	"np-selector|${VALID_NS}apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p}\nspec:\n  podSelector: {matchExpressions: [{key: a, operator: Exists, values: [x]}]}\n|error: FILE: document 2: spec.podSelector.matchExpressions[0].values: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'"
	"ns-name|${VALID_NS}apiVersion: v1\nkind: Namespace\nmetadata: {name: Prod}\n|error: FILE: document 2: metadata.name: \"Prod\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
	"net-vni|${VALID_NS}apiVersion: loom.dev/v1\nkind: Network\nmetadata: {name: n}\nspec: {cidr: 10.0.0.0/8, backend: {vxlan: {vni: 0}}}\n|error: FILE: document 2: spec.backend.vxlan.vni: must be between 1 and 16777215"
	"list-item|apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: ok}}\n- {apiVersion: v1, kind: Service, metadata: {name: s}}\n|error: FILE: document 1: items[1]: kind: unsupported kind \"Service\": supported kinds: Namespace, Pod, NetworkPolicy, Network"
	"yaml-syntax|${VALID_NS}a: [1, 2\n|error: FILE: document 2: line 6, column 1: did not find expected ',' or ']' while parsing a flow sequence"
	"alias|${VALID_NS}a: &x {b: 1}\nc: *x\n|error: FILE: document 2: line 6, column 4: aliases (*name) are not supported"
)

suite() { # suite LABEL: runs against $LOOM_STORE
	local label=$1 k f before after name content want

	# every kind round-trips
	for k in ns pod netpol net; do
		run apply -f "$T/m/$k.yaml"
		expect_match "$label: apply $k creates" ' created$' "$OUT"
		run get "$k" -A -o yaml
		printf '%s\n' "$OUT" >"$T/$k.out.yaml"
		expect_eq "$label: get $k -o yaml exits 0" 0 "$RC"
		run apply -f "$T/$k.out.yaml"
		expect_match "$label: re-apply of get -o yaml output of $k is unchanged" '^[a-z0-9.]+/[a-z0-9-]+ unchanged$' "$OUT"
		run apply -f "$T/m/$k.yaml"
		expect_match "$label: re-apply of the original $k is unchanged" ' unchanged$' "$OUT"
	done
	run get netpol allow-web -n prod -o json
	expect_eq "$label: defaults stored (policyTypes)" '["Ingress","Egress"]' "$(jq -c .spec.policyTypes <<<"$OUT")"
	expect_eq "$label: defaults stored (protocol TCP)" 'TCP' "$(jq -r '.spec.ingress[0].ports[0].protocol' <<<"$OUT")"
	expect_eq "$label: quoted label values stay strings" '["a","true","80"]' "$(jq -c '.spec.podSelector.matchExpressions[0].values' <<<"$OUT")"
	run get net default -o json
	expect_eq "$label: network bgp defaults" '64512 true' "$(jq -r '"\(.spec.backend.bgp.asNumber) \(.spec.backend.bgp.nodeToNodeMesh)"' <<<"$OUT")"
	run get pods -n prod
	expect_eq "$label: pods table" $'NAME   NODE     PORTS\nweb    node-1   http:80/TCP,53/UDP' "$OUT"
	run get po
	expect_eq "$label: no pods in default" 'No resources found in default namespace.' "$ERRTXT"

	# a change is "configured"
	sed 's/node-1/node-2/' "$T/m/pod.yaml" | "$LOOMCTL" apply -f - >"$T/out" 2>&1
	expect_eq "$label: changed pod from stdin is configured" 'pod/web configured' "$(cat "$T/out")"

	# multi-document file with a List
	run apply -f "$T/m/multi.yaml"
	expect_eq "$label: multi-document apply" $'namespace/dev created\npod/a created\npod/b created\nnetwork.loom.dev/vx created' "$OUT"
	run apply -f "$T/m/multi.yaml"
	expect_eq "$label: multi-document re-apply" $'namespace/dev unchanged\npod/a unchanged\npod/b unchanged\nnetwork.loom.dev/vx unchanged' "$OUT"
	run get pods -n dev -o yaml
	printf '%s\n' "$OUT" >"$T/dev.yaml"
	run apply -f "$T/dev.yaml"
	expect_eq "$label: List output re-applies unchanged" $'pod/a unchanged\npod/b unchanged' "$OUT"
	run get networks
	expect_eq "$label: networks table" $'NAME      CIDR            SUBNET-LENGTH   BACKEND\ndefault   10.244.0.0/16   24              bgp\nvx        10.96.0.0/12    20              vxlan' "$OUT"
	run get networks -o wide
	expect_eq "$label: networks table, wide: the mode's settings" \
		$'NAME      CIDR            SUBNET-LENGTH   BACKEND                   CIDR6              SUBNET-LENGTH6   MTU\ndefault   10.244.0.0/16   24              bgp(as=64512)             fd00:10:244::/56   64               1450\nvx        10.96.0.0/12    20              vxlan(vni=42,port=8472)   <none>             <none>           auto' "$OUT"

	# the invalid table: refused, the message, nothing written
	before=$(snapshot)
	for f in "${INVALID[@]}"; do
		name=${f%%|*}; f=${f#*|}; content=${f%%|*}; want=${f#*|}
		printf '%b' "$content" >"$T/$name.yaml"
		run apply -f "$T/$name.yaml"
		expect_eq "$label: invalid $name exits 1" 1 "$RC"
		expect_eq "$label: invalid $name message" "${want//FILE/$T/$name.yaml}" "$ERRTXT"
		expect_eq "$label: invalid $name prints nothing on stdout" "" "$OUT"
	done
	after=$(snapshot)
	expect_eq "$label: nothing written by invalid files" "$before" "$after"
	run get ns must-not-appear
	expect_eq "$label: the valid first document was not written" 'error: namespaces "must-not-appear" not found' "$ERRTXT"

	# delete
	run delete pod web -n prod
	expect_eq "$label: delete pod" 'pod "web" deleted' "$OUT"
	run delete pod web -n prod
	expect_eq "$label: delete missing pod fails" '1|error: pods "web" not found in namespace "prod"' "$RC|$ERRTXT"
	run delete -f "$T/m/multi.yaml"
	expect_eq "$label: delete -f" $'namespace "dev" deleted\npod "a" deleted\npod "b" deleted\nnetwork.loom.dev "vx" deleted' "$OUT"
	run get pods -A -o json
	expect_eq "$label: no pods left" '0' "$(jq '.items | length' <<<"$OUT")"
	for k in netpol/allow-web ns/prod net/default; do
		if [[ $k == netpol/* ]]; then run delete "${k%/*}" "${k#*/}" -n prod; else run delete "${k%/*}" "${k#*/}"; fi
		expect_eq "$label: delete $k" 0 "$RC"
	done
	expect_eq "$label: store empty at the end" '0 0 0 0' "$(for k in ns po netpol net; do "$LOOMCTL" get $k -A -o json | jq '.items|length'; done | xargs)"

	# usage errors
	run get deployments
	expect_eq "$label: unknown kind" '1|error: the server doesn'"'"'t have a resource type "deployments"' "$RC|$ERRTXT"
	run apply -f "$T/nonexistent.yaml"
	expect_match "$label: missing file" "^error: $T/nonexistent.yaml: cannot open: No such file" "$ERRTXT"
	run nodes
	expect_eq "$label: nodes on an empty store" '0|No nodes registered' "$RC|$ERRTXT"
	run ipam
	expect_eq "$label: ipam on an empty store" '0|No endpoints recorded' "$RC|$ERRTXT"
}

export LOOM_STORE="file:$T/store"
suite file
# --store wins over LOOM_STORE
"$LOOMCTL" --store "file:$T/other" apply -f "$T/m/ns.yaml" >/dev/null 2>&1
expect_eq "file: --store overrides LOOM_STORE" '1|0' \
	"$(LOOM_STORE=file:$T/other "$LOOMCTL" get ns -o json | jq '.items|length')|$("$LOOMCTL" get ns -A -o json | jq '.items|length')"

if [[ -f $LOOM_SRC/tests/integration/etcd.sh ]] && command -v etcd >/dev/null; then
	source "$LOOM_SRC/tests/integration/etcd.sh"
	etcd_start_single
	export LOOM_STORE="etcd:$ETCD_URL"
	suite etcd
	# nodes and ipam read what loomd writes: put the records by hand, node-1
	# on a 30 s lease as loomd does, node-2 on none
	b64() { printf '%s' "$1" | base64 -w0; }
	node() { printf '{"name":"%s","address":"%s","network":"default","subnet":"%s","renewedAt":"%s"}' "$@"; }
	now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	lease=$(curl -sf "$ETCD_URL/v3/lease/grant" -d '{"TTL":"30"}' | jq -r .ID)
	curl -sf "$ETCD_URL/v3/kv/put" -d "{\"key\":\"$(b64 /loom/nodes/node-1)\",\"value\":\"$(b64 "$(node node-1 192.0.2.11 10.244.3.0/24 "$now")")\",\"lease\":\"$lease\"}" >/dev/null
	curl -sf "$ETCD_URL/v3/kv/put" -d "{\"key\":\"$(b64 /loom/nodes/node-2)\",\"value\":\"$(b64 "$(node node-2 192.0.2.12 10.244.4.0/24 "$now")")\"}" >/dev/null
	curl -sf "$ETCD_URL/v3/kv/put" -d "{\"key\":\"$(b64 /loom/endpoints/node-1/abc/eth0)\",\"value\":\"$(b64 '{"node":"node-1","network":"default","containerID":"abc","ifname":"eth0","ips":["10.244.3.5/24","fd00::5/64"],"podNamespace":"prod","podName":"web"}')\"}" >/dev/null
	run nodes
	expect_eq "etcd: nodes header" 'NAME ADDRESS SUBNET REGISTERED EXPIRES-IN' "$(head -n1 <<<"$OUT" | xargs)"
	expect_match "etcd: nodes shows the lease's time left" '^node-1 +192\.0\.2\.11 +10\.244\.3\.0/24 +[0-9]+s ago +(2[0-9]|30)s$' "$(sed -n 2p <<<"$OUT")"
	expect_match "etcd: a node without a lease" '^node-2 +192\.0\.2\.12 +10\.244\.4\.0/24 +[0-9]+s ago +-$' "$(sed -n 3p <<<"$OUT")"
	curl -sf "$ETCD_URL/v3/lease/revoke" -d "{\"ID\":\"$lease\"}" >/dev/null
	run nodes
	expect_eq "etcd: a revoked lease takes its node" '0|node-2' "$RC|$(tail -n +2 <<<"$OUT" | cut -d' ' -f1 | xargs)"
	run ipam
	expect_eq "etcd: ipam" $'NODE     POD        IPS\nnode-1   prod/web   10.244.3.5/24,fd00::5/64' "$OUT"
else
	echo "skip: etcd suite (no tests/integration/etcd.sh or etcd binary)"
fi
finish
