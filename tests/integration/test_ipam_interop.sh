#!/usr/bin/env bash
# The on-disk store is byte-compatible with the reference host-local's, both
# ways: one store, both plugins taking turns on it.  host-local 1.1.1 speaks
# cniVersion up to 1.0.0, so every config here is 1.0.0.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_exec "$LOOM_IPAM" "$HOST_LOCAL"

# confs NAME DATADIR RANGES_JSON: writes $T/NAME.loom.json and $T/NAME.ref.json,
# the same network on the same store, differing only in ipam.type.
confs() {
	jq -n --arg n "$1" --arg d "$2" --argjson r "$3" \
		'{cniVersion: "1.0.0", name: $n, type: "bridge",
		  ipam: {type: "loom-ipam", dataDir: $d, ranges: $r}}' >"$T/$1.loom.json"
	jq '.ipam.type = "host-local"' "$T/$1.loom.json" >"$T/$1.ref.json"
}
L() { cni_exec "$LOOM_IPAM" "$@"; }
R() { cni_exec "$HOST_LOCAL" "$@"; }
addrs() { jqr '[.ips[].address | split("/")[0]] | sort | join(" ")'; }

echo "== host-local writes, loom-ipam reads, respects and releases"
d=$(new_datadir)
confs h2l "$d" '[[{"subnet": "10.40.0.0/24"}]]'
lc=$T/h2l.loom.json rc=$T/h2l.ref.json
CID=hl-1 R ADD "$rc"; expect_eq "host-local ADD hl-1" "10.40.0.2" "$(addrs)"
CID=hl-2 R ADD "$rc"; expect_eq "host-local ADD hl-2" "10.40.0.3" "$(addrs)"
CID=hl-1 R DEL "$rc"
CID=lm-1 L ADD "$lc"
expect_eq "loom ADD continues after host-local's last_reserved_ip.0 (not the freed .2, not the taken .3)" "10.40.0.4" "$(addrs)"
CID=lm-2 L ADD "$lc" CNI_ARGS=IP=10.40.0.3
expect_eq "loom: host-local's address requested -> refused (code 102)" "1 102" "$RC $(jqr .code)"
expect_match "loom: refusal names the address" '10\.40\.0\.3' "$(jqr .msg)"
CID=hl-2 L CHECK "$lc"
expect_eq "loom CHECK of host-local's allocation: exit 0" 0 "$RC"
CID=hl-2 L DEL "$lc"
expect_eq "loom DEL of host-local's allocation: exit 0" 0 "$RC"
expect_eq "loom DEL by container ID removed host-local's file" "10.40.0.4" "$(addr_files "$d/h2l")"
CID=hl-3 R ADD "$rc"
expect_eq "host-local continues after loom's last_reserved_ip.0" "10.40.0.5" "$(addrs)"

echo "== loom-ipam writes, host-local reads, respects and releases"
d=$(new_datadir)
confs l2h "$d" '[[{"subnet": "10.41.0.0/24"}]]'
lc=$T/l2h.loom.json rc=$T/l2h.ref.json
CID=lm-a L ADD "$lc"; expect_eq "loom ADD lm-a" "10.41.0.2" "$(addrs)"
CID=lm-b L ADD "$lc"; expect_eq "loom ADD lm-b" "10.41.0.3" "$(addrs)"
CID=hl-a R ADD "$rc"
expect_eq "host-local gets another address (after loom's last reserved)" "10.41.0.4" "$(addrs)"
CID=hl-b R ADD "$rc" CNI_ARGS=IP=10.41.0.2
expect_eq "host-local: loom's address requested -> refused" 1 "$RC"
CID=lm-a R CHECK "$rc"
expect_eq "host-local CHECK of loom's allocation: exit 0" 0 "$RC"
CID=lm-a R ADD "$rc"
expect_match "host-local sees loom's lm-a/eth0 as a duplicate" 'duplicate|allocated to lm-a' "$(jqr .msg)"
CID=lm-a R DEL "$rc"
expect_eq "host-local DEL of loom's allocation: exit 0" 0 "$RC"
expect_eq "host-local DEL removed loom's file" $'10.41.0.3\n10.41.0.4' "$(addr_files "$d/l2h")"
CID=lm-b IFNAME=eth9 R DEL "$rc"
expect_eq "host-local DEL with another ifname leaves loom's file" $'10.41.0.3\n10.41.0.4' "$(addr_files "$d/l2h")"
CID=lm-b R DEL "$rc"
CID=hl-a L DEL "$lc"
expect_eq "store empty after both released" "" "$(addr_files "$d/l2h")"

echo "== byte-identical files for the same allocation"
dl=$(new_datadir) dr=$(new_datadir)
confs byl "$dl" '[[{"subnet": "10.42.0.0/24"}], [{"subnet": "fd00:42::/64"}]]'
jq --arg d "$dr" '.ipam.dataDir = $d | .ipam.type = "host-local"' "$T/byl.loom.json" >"$T/byr.json"
CID=0123456789abcdef IFNAME=net7 L ADD "$T/byl.loom.json"
CID=0123456789abcdef IFNAME=net7 R ADD "$T/byr.json"
expect_eq "same file names" "$(addr_files "$dr/byl")" "$(addr_files "$dl/byl")"
for f in $(addr_files "$dr/byl") last_reserved_ip.0 last_reserved_ip.1; do
	expect_eq "$f: same bytes as host-local's" "$(od -An -c "$dr/byl/$f" 2>&1)" "$(od -An -c "$dl/byl/$f" 2>&1)"
done
expect_true "lock file at <dir>/lock" test -f "$dl/byl/lock"

echo "== mixed dual stack"
d=$(new_datadir)
confs dual "$d" '[[{"subnet": "10.43.0.0/24"}], [{"subnet": "fd00:43::/64"}]]'
lc=$T/dual.loom.json rc=$T/dual.ref.json
CID=hl-d R ADD "$rc"; expect_eq "host-local dual ADD" "10.43.0.2 fd00:43::2" "$(addrs)"
CID=lm-d L ADD "$lc"; expect_eq "loom dual ADD gets the next pair" "10.43.0.3 fd00:43::3" "$(addrs)"
CID=hl-e R ADD "$rc"; expect_eq "host-local dual ADD after loom" "10.43.0.4 fd00:43::4" "$(addrs)"
CID=hl-d L DEL "$lc"
expect_eq "loom DEL releases host-local's pair" $'10.43.0.3\n10.43.0.4\nfd00:43::3\nfd00:43::4' "$(addr_files "$d/dual")"
CID=lm-d R DEL "$rc"
expect_eq "host-local DEL releases loom's pair" $'10.43.0.4\nfd00:43::4' "$(addr_files "$d/dual")"
g=$T/dual.gc.json
jq '.cniVersion = "1.1.0" | .["cni.dev/valid-attachments"] = []' "$lc" >"$g"
L GC "$g" -CNI_CONTAINERID -CNI_NETNS -CNI_IFNAME
expect_eq "loom GC (1.1.0) releases host-local's remaining pair" "0 " "$RC $(addr_files "$d/dual")"

finish
