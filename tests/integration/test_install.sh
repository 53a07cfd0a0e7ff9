#!/usr/bin/env bash
# `cmake --install` as README's Install section runs it, into a DESTDIR:
# the plugins in the CNI bin dir (LOOM_CNI_BINDIR, /opt/cni/bin unless the
# build was configured otherwise), daemons in sbin, tools in bin, the
# systemd units in systemd's unit dir, examples under share/doc/loom.
# Then the units: `systemd-analyze verify` is clean (their ExecStart
# pointed into the DESTDIR, where the binaries are), they are Type=notify
# with a watchdog, restart on failure, hold only the capabilities loom
# needs, and run the binaries where the install put them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v systemd-analyze >/dev/null || { echo "SKIP: systemd-analyze is not installed (apt-get install systemd)"; exit 77; }
cache() { sed -n "s/^$1:[A-Z]*=//p" "$LOOM_BIN/CMakeCache.txt"; }
PREFIX=$T/prefix
DEST=$T/dest
CNIBIN=$(cache LOOM_CNI_BINDIR)
UNITDIR=$(cache LOOM_SYSTEMD_UNITDIR)
[[ $CNIBIN == /* ]] || CNIBIN=$PREFIX/$CNIBIN
[[ $UNITDIR == /* ]] || UNITDIR=$PREFIX/$UNITDIR

out=$(DESTDIR=$DEST cmake --install "$LOOM_BIN" --prefix "$PREFIX" 2>&1)
expect_eq "DESTDIR=$DEST cmake --install succeeds" 0 "$?"
CTX="installed: $(cd "$DEST" && find . -type f | sort | tr '\n' ' ')"
for p in loom-bridge loom-vxlan loom-bgp loom-ipam; do
	expect_true "plugin $p in the CNI bin dir ($CNIBIN)" test -x "$DEST$CNIBIN/$p"
done
for p in loomd loom-policyd; do
	expect_true "daemon $p in sbin" test -x "$DEST$PREFIX/sbin/$p"
done
for p in loomctl loom-bpf loom-sim loom-probe; do
	expect_true "tool $p in bin" test -x "$DEST$PREFIX/bin/$p"
done
for f in copyright examples/loom.default examples/kubernetes/daemonset.yaml; do
	expect_true "share/doc/loom/$f" test -s "$DEST$PREFIX/share/doc/loom/$f"
done
expect_eq "nothing outside DESTDIR" "" "$(grep -o "Installing: [^ ]*" <<<"$out" | grep -v "Installing: $DEST/")"
expect_eq "the plugins only in the CNI bin dir" "" \
	"$(find "$DEST" -name 'loom-bridge' -o -name 'loom-ipam' | grep -v "^$DEST$CNIBIN/")"
expect_eq "the CNI plugins do not link libsystemd" "" \
	"$(for p in loom-bridge loom-vxlan loom-bgp loom-ipam; do ldd "$DEST$CNIBIN/$p" | grep -o 'libsystemd[^ ]*'; done)"

VERIFY=$T/verify
mkdir -p "$VERIFY"
for u in loomd loom-policyd; do
	UNIT=$DEST$UNITDIR/$u.service
	expect_true "$u.service in systemd's unit dir ($UNITDIR)" test -s "$UNIT"
	[[ -s $UNIT ]] || continue
	expect_eq "$u.service runs the installed $u" "$PREFIX/sbin/$u" \
		"$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$UNIT")"
	for kv in Type=notify Restart=on-failure WatchdogSec=30s NoNewPrivileges=yes ProtectSystem=strict \
		StateDirectory=loom "RestrictAddressFamilies=AF_NETLINK AF_UNIX AF_INET AF_INET6"; do
		expect_true "$u.service: $kv" grep -qxF -- "$kv" "$UNIT"
	done
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
	expect_match "$u.service: CAP_NET_ADMIN, nothing beyond the network" \
		'^CAP_NET_ADMIN( CAP_NET_RAW)?( CAP_NET_BIND_SERVICE)?$' "$caps"
	sed "s|^ExecStart=/|ExecStart=$DEST/|" "$UNIT" >"$VERIFY/$u.service"
done
expect_true "loomd.service keeps /run/loom across restarts" \
	grep -qxF RuntimeDirectoryPreserve=yes "$DEST$UNITDIR/loomd.service"
expect_true "loomd.service may write the conflist folder" \
	grep -q '^ReadWritePaths=.*/etc/cni/net.d' "$DEST$UNITDIR/loomd.service"
expect_true "loomd.service passes --write-conflist" grep -q -- '--write-conflist /etc/cni/net.d' "$DEST$UNITDIR/loomd.service"
OUT=$(cd "$VERIFY" && systemd-analyze verify loomd.service loom-policyd.service 2>&1)
expect_eq "systemd-analyze verify: clean" "0 ''" "$? $(printf '%q' "$OUT")"

finish
