#!/usr/bin/env bash
# The Debian package, as README's Install section builds it: `./dev.sh
# package` (CPack, into $LOOM_BIN/package so a rerun is incremental), then
#   dpkg-deb -c    the plugins in /usr/lib/cni, daemons in /usr/sbin, tools
#                  in /usr/bin, the units, copyright and the examples;
#   dpkg-deb -f    the Depends the binaries need;
#   dpkg-deb -x    into a temporary root: every plugin answers VERSION from
#                  there, and loom-bridge + loom-ipam from there give a pod
#                  in a throwaway netns its address (ADD) and take it back
#                  (DEL);
#   lintian        no errors.
# The first run builds loom once more (prefix /usr); later runs rebuild
# only what changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/netns.sh"

LOOM_SRC=${LOOM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

started=$SECONDS
DEB=$(LOOM_PACKAGE_BUILD=$LOOM_BIN/package bash "$LOOM_SRC/dev.sh" package 2>"$T/package.log")
rc=$?
echo "# ./dev.sh package took $((SECONDS - started)) s"
if [[ $rc -ne 0 || ! -f "$DEB" ]]; then
	fail "./dev.sh package builds a .deb" "rc=$rc" "$(tail -n 30 "$T/package.log")"
	finish
fi
pass "./dev.sh package builds $(basename "$DEB")"

LIST=$(dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\./|/|')
for p in /usr/lib/cni/loom-bridge /usr/lib/cni/loom-vxlan /usr/lib/cni/loom-bgp /usr/lib/cni/loom-ipam \
	/usr/sbin/loomd /usr/sbin/loom-policyd \
	/usr/bin/loomctl /usr/bin/loom-bpf /usr/bin/loom-sim /usr/bin/loom-probe \
	/lib/systemd/system/loomd.service /lib/systemd/system/loom-policyd.service \
	/usr/share/doc/loom/copyright /usr/share/doc/loom/changelog.Debian.gz \
	/usr/share/doc/loom/examples/loom.default /usr/share/doc/loom/examples/kubernetes/daemonset.yaml; do
	expect_true "package holds $p" grep -qxF -- "$p" <<<"$LIST"
done
expect_eq "no plugin outside /usr/lib/cni" "" "$(grep -E '/loom-(bridge|vxlan|bgp|ipam)$' <<<"$LIST" | grep -v '^/usr/lib/cni/')"
expect_eq "nothing under /opt or /usr/local" "" "$(grep -E '^/(opt|usr/local)/' <<<"$LIST")"

DEPENDS=$(dpkg-deb -f "$DEB" Depends)
for d in libc6 libjansson4 libnl-3-200 libbpf1 libcurl4 libyaml-0-2 libnftables1 libsystemd0; do
	expect_match "Depends names $d" "(^|, )$d( |,|$)" "$DEPENDS"
done
expect_match "Recommends bird2 (bgp mode)" "(^|, )bird2( |,|$)" "$(dpkg-deb -f "$DEB" Recommends)"
expect_match "Maintainer is set" '^.+ <[^@ ]+@[^@ ]+>$' "$(dpkg-deb -f "$DEB" Maintainer)"

ROOT=$T/root
dpkg-deb -x "$DEB" "$ROOT"
CNIDIR=$ROOT/usr/lib/cni
for p in loom-bridge loom-vxlan loom-bgp loom-ipam; do
	cni_exec "$CNIDIR/$p" VERSION - 
	expect_match "unpacked $p answers VERSION" '"1\.0\.0"' "$(jq -c .supportedVersions <<<"$OUT" 2>/dev/null)"
done

# ADD and DEL through the unpacked plugins: loom-bridge execs loom-ipam
# found through CNI_PATH, as a runtime would have it.
ns_add host
H=$NS
ns_add pod
P=$NS
CONF=$T/pkgnet.conf
jq -n --arg d "$T/ipam" --arg s "$T/state" '{cniVersion: "1.0.0", name: "pkgnet", type: "loom-bridge",
	bridge: "pkgbr0", isGateway: true, stateDir: $s, antiSpoof: false,
	ipam: {type: "loom-ipam", dataDir: $d, ranges: [[{subnet: "10.98.0.0/24"}]]}}' >"$CONF"
ns_cni "$H" "$CNIDIR/loom-bridge" ADD "$CONF" CNI_CONTAINERID=pkg1 CNI_NETNS="$(ns_path "$P")" CNI_PATH="$CNIDIR"
ADDR=$(jq -r '.ips[0].address // empty' <<<"$OUT" 2>/dev/null)
expect_match "unpacked loom-bridge + loom-ipam: ADD gives an address" '^10\.98\.0\.[0-9]+/24$' "$ADDR"
expect_eq "the pod's eth0 holds it" "$ADDR" \
	"$(ip -n "$P" -j addr show dev eth0 2>/dev/null | jq -r '[.[0].addr_info[]? | select(.family == "inet") | "\(.local)/\(.prefixlen)"][0] // ""')"
pings() { ip netns exec "$1" ping -c1 -W2 "$2" >/dev/null 2>&1; }
expect_true "the node reaches the pod" pings "$H" "${ADDR%/*}"
ns_cni "$H" "$CNIDIR/loom-bridge" DEL "$CONF" CNI_CONTAINERID=pkg1 CNI_NETNS="$(ns_path "$P")" CNI_PATH="$CNIDIR"
expect_eq "DEL succeeds" 0 "$RC"
expect_eq "DEL removes the pod's veth" "" "$(host_veths "$H")"
expect_eq "DEL releases the address" "" "$(addr_files "$T/ipam/pkgnet")"

# The packaged units run the packaged daemons and pass systemd-analyze
# verify (ExecStart pointed into the unpacked root).
for u in loomd loom-policyd; do
	expect_eq "$u.service runs /usr/sbin/$u" "/usr/sbin/$u" \
		"$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$ROOT/lib/systemd/system/$u.service")"
	sed "s|^ExecStart=/|ExecStart=$ROOT/|" "$ROOT/lib/systemd/system/$u.service" >"$T/$u.service"
done
OUT=$(cd "$T" && systemd-analyze verify loomd.service loom-policyd.service 2>&1)
expect_eq "systemd-analyze verify of the packaged units: clean" "0 ''" "$? $(printf '%q' "$OUT")"

LINT=$(lintian "$DEB" 2>&1)
expect_eq "lintian: no errors" "" "$(grep '^E:' <<<"$LINT")"

finish
