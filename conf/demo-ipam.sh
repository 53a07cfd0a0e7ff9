#!/usr/bin/env bash
# The main job, for now: loom-ipam at work, the way a container runtime
# drives it, side by side with the reference host-local on one store.
# Everything lives in a temp directory that is removed on exit.
set -euo pipefail
BIN=${LOOM_BIN:?set LOOM_BIN to the build directory}
REF=/usr/lib/cni/host-local
WORK=$(mktemp -d /tmp/loom-demo.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

bold() { if [ -t 1 ]; then printf '\n\033[1m%s\033[0m\n' "$*"; else printf '\n== %s\n' "$*"; fi; }

cat >"$WORK/net.json" <<JSON
{
  "cniVersion": "1.1.0",
  "name": "demo",
  "type": "loom-ipam",
  "ipam": {
    "type": "loom-ipam",
    "ranges": [
      [{ "subnet": "10.22.0.0/29" }],
      [{ "subnet": "2001:db8:22::/64", "rangeStart": "2001:db8:22::10" }]
    ],
    "routes": [{ "dst": "0.0.0.0/0" }],
    "dataDir": "$WORK/store"
  }
}
JSON

cni() { # cni PLUGIN COMMAND CONTAINER_ID [CNI_ARGS]
	env CNI_COMMAND="$2" CNI_CONTAINERID="$3" CNI_NETNS=/var/run/netns/"$3" \
		CNI_IFNAME=eth0 CNI_PATH="$BIN:/usr/lib/cni" CNI_ARGS="${4:-}" "$1" <"$WORK/net.json"
}

bold "The network config a runtime hands to the plugin (dual stack)"
cat "$WORK/net.json"

bold "ADD pod-a and pod-b: one address from each range set"
cni "$BIN/loom-ipam" ADD pod-a | jq -c '.ips[] | {address, gateway}'
cni "$BIN/loom-ipam" ADD pod-b | jq -c '.ips[] | {address, gateway}'

bold "ADD pod-c asking for a specific address (CNI_ARGS IP=10.22.0.6)"
cni "$BIN/loom-ipam" ADD pod-c "IgnoreUnknown=1;K8S_POD_NAME=c;IP=10.22.0.6" | jq -c '.ips[] | .address'

bold "The same version-0.3.1 request gets a 0.3.1 result (ips carry \"version\")"
sed 's/"1.1.0"/"0.3.1"/' "$WORK/net.json" >"$WORK/net031.json"
env CNI_COMMAND=ADD CNI_CONTAINERID=pod-old CNI_NETNS=/x CNI_IFNAME=eth0 CNI_PATH="$BIN" \
	"$BIN/loom-ipam" <"$WORK/net031.json" | jq -c '{cniVersion, ips}'

bold "The reference host-local shares the store: it skips what loom holds"
if [ -x "$REF" ]; then
	sed 's/"1.1.0"/"1.0.0"/' "$WORK/net.json" >"$WORK/net100.json"
	env CNI_COMMAND=ADD CNI_CONTAINERID=pod-ref CNI_NETNS=/x CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
		"$REF" <"$WORK/net100.json" | jq -c '.ips[] | .address'
else
	echo "(host-local not installed; skipped)"
fi

bold "The store on disk (host-local's format: one file per address)"
(cd "$WORK/store/demo" && for f in *; do [ -f "$f" ] && printf '%-22s %s\n' "$f" "$(tr '\r\n' ' /' <"$f")"; done)

bold "The /29 has 5 usable addresses besides the gateway; the next ADD is refused clearly"
cni "$BIN/loom-ipam" ADD pod-d >/dev/null || true
cni "$BIN/loom-ipam" ADD pod-e | jq -c . || true

bold "DEL everything (DEL is idempotent: the second one is a no-op)"
for id in pod-a pod-b pod-c pod-old pod-ref pod-d pod-e; do cni "$BIN/loom-ipam" DEL "$id"; done
cni "$BIN/loom-ipam" DEL pod-a && echo "second DEL of pod-a: ok"
left=$(find "$WORK/store/demo" -maxdepth 1 -type f -name '*[0-9]' ! -name 'last_reserved_ip.*' | wc -l)
echo "address files left in the store: $left"
