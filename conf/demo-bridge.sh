#!/usr/bin/env bash
# The bridge demo (./dev.sh demo-bridge): loom-bridge + loom-ipam wiring two
# pods on one node, the way a container runtime drives them.  The "node" and both pods are throwaway network
# namespaces; the machine's own namespace is not touched.  Everything is
# removed on exit, pass or fail.
set -euo pipefail
BIN=${LOOM_BIN:?set LOOM_BIN to the build directory}
RUN=loomdemo$$
HOST=$RUN-node
WORK=$(mktemp -d /tmp/loom-demo.XXXXXX)
PING="busybox ping"

cleanup() {
	for ns in "$RUN-pod-a" "$RUN-pod-b" "$HOST"; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT

bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }

cat >"$WORK/10-demo.conf" <<JSON
{
  "cniVersion": "1.1.0",
  "name": "demo",
  "type": "loom-bridge",
  "bridge": "loom0",
  "isGateway": true,
  "ipMasq": true,
  "macspoofchk": true,
  "stateDir": "$WORK/state",
  "ipam": {
    "type": "loom-ipam",
    "ranges": [
      [{ "subnet": "10.88.0.0/24" }],
      [{ "subnet": "2001:db8:88::/64" }]
    ],
    "routes": [{ "dst": "0.0.0.0/0" }],
    "dataDir": "$WORK/ipam"
  }
}
JSON

cni() { # cni COMMAND POD
	ip netns exec "$HOST" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$RUN-$2" \
		CNI_IFNAME=eth0 CNI_PATH="$BIN:/usr/lib/cni" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$2" \
		"$BIN/loom-bridge" <"$WORK/10-demo.conf"
}

ip netns add "$HOST"
ip netns add "$RUN-pod-a"
ip netns add "$RUN-pod-b"
ip -n "$HOST" link set lo up

bold "The network config the runtime hands to loom-bridge (dual stack, masquerade, MAC spoof check)"
cat "$WORK/10-demo.conf"

bold "ADD pod-a and pod-b"
for pod in pod-a pod-b; do
	cni ADD "$pod" >"$WORK/$pod.json"
	printf '%s: %s\n' "$pod" "$(jq -r '[.ips[].address] | join("  ")' "$WORK/$pod.json")"
done

bold "Inside pod-a (its own network namespace)"
ip -n "$RUN-pod-a" -br addr show dev eth0
ip -n "$RUN-pod-a" route show

bold "On the node: the bridge and the pods' host-side veths"
ip -n "$HOST" -br link show master loom0
ip -n "$HOST" -br addr show dev loom0

b4=$(jq -r '.ips[0].address | split("/")[0]' "$WORK/pod-b.json")
b6=$(jq -r '.ips[1].address | split("/")[0]' "$WORK/pod-b.json")
gw=$(jq -r '.ips[0].gateway' "$WORK/pod-a.json")
bold "pod-a pings pod-b over IPv4 and IPv6, and its gateway"
ip netns exec "$RUN-pod-a" $PING -c 2 -W 2 "$b4" | tail -n 2
ip netns exec "$RUN-pod-a" $PING -c 2 -W 2 "$b6" | tail -n 2
ip netns exec "$RUN-pod-a" $PING -c 1 -W 2 "$gw" | tail -n 1

bold "loom's nftables state for these pods: set elements in its own tables, no per-pod chains"
ip netns exec "$HOST" nft list set inet loom_bridge masq4 | grep -A2 elements || true
ip netns exec "$HOST" nft list set bridge loom_bridge allowed | grep -A2 elements || true

bold "DEL both pods (a second DEL is a no-op), then what is left"
cni DEL pod-a
cni DEL pod-b
cni DEL pod-a && echo "second DEL of pod-a: ok"
echo "veths left on the node: $(ip -n "$HOST" -o link show type veth | wc -l)"
echo "addresses left in the store: $(find "$WORK/ipam/demo" -maxdepth 1 -type f -name '*[0-9a-f]' ! -name 'last_reserved_ip.*' | wc -l)"
echo "endpoint records left: $(find "$WORK/state" -type f 2>/dev/null | wc -l)"


bold "Done. ./dev.sh demo is the multi-node overlay; ./dev.sh demo-ipam shows loom-ipam sharing a store with the reference host-local."
