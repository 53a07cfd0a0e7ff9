#!/usr/bin/env bash
# loom's one entry point for people and CI.
#   ./dev.sh demo        the main job: a two-node VXLAN cluster (loom-sim), pods on
#                        both nodes, everyone reaching everyone, then torn down
#   ./dev.sh demo-bridge loom-bridge wiring two pods on one node, then DEL
#   ./dev.sh demo-ipam   loom-ipam next to the reference host-local on one store
#   ./dev.sh test        every test: clang-format check, build (warnings are errors), unit, kernel
#                        (root) and integration tests, the unit and kernel
#                        tests again under ASan+UBSan, and a short run of
#                        every fuzz target (a skipped test exits 77)
#   ./dev.sh build       configure and build into build/
#   ./dev.sh fuzz [SEC]  build the libFuzzer targets and run each for SEC s
#   ./dev.sh bench       the benchmarks (figures for the README)
#   ./dev.sh format      reformat the tree's C files with .clang-format
#   ./dev.sh package     the Debian package (CPack) in build-package/, checked
#                        with lintian; prints the .deb's path
# Each installs the Debian packages it needs when they are missing.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=${LOOM_BUILD:-$ROOT/build}
JOBS=$(nproc 2>/dev/null || echo 2)

BUILD_PKGS=(cmake make gcc pkg-config libjansson-dev libcmocka-dev libnl-3-dev libnl-route-3-dev libnftables-dev libcurl4-openssl-dev libyaml-dev clang llvm libbpf-dev bpftool libsystemd-dev)
PACKAGE_PKGS=(dpkg-dev lintian file)
TEST_PKGS=(clang libclang-rt-14-dev jq iproute2 iputils-ping nftables containernetworking-plugins podman runc busybox-static etcd-server etcd-client bird2 curl procps systemd python3 python3-yaml prometheus "${PACKAGE_PKGS[@]}")

need_pkgs() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() { # build DIR [cmake args...]
	local dir=$1; shift
	cmake -S "$ROOT" -B "$dir" -DLOOM_WERROR=ON "$@" >/dev/null
	cmake --build "$dir" -j"$JOBS"
}

cmd_build() {
	need_pkgs "${BUILD_PKGS[@]}"
	build "$BUILD"
}

cmd_fuzz() {
	local secs=${1:-60}
	need_pkgs "${BUILD_PKGS[@]}" clang libclang-rt-14-dev
	build "$ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang -DLOOM_FUZZ=ON
	local fails=0 ran=0
	for f in "$ROOT"/build-fuzz/fuzz_*; do
		local name corpus work
		name=$(basename "$f")
		corpus="$ROOT/tests/fuzz/corpus/${name#fuzz_}"
		work=$(mktemp -d)
		[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
		echo "== $name for ${secs}s"
		if "$f" -max_total_time="$secs" -max_len=8192 -timeout=10 -artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
			ran=$((ran + 1))
		else
			fails=$((fails + 1)); tail -n 40 "$work.log"; echo "crash input kept in $work"
			continue
		fi
		rm -rf "$work" "$work.log"
	done
	echo "fuzz: $ran passed, $fails failed"
	[ "$fails" -eq 0 ]
}

# The tree's C files against .clang-format: nothing to reformat.
cmd_format_check() {
	need_pkgs clang-format git
	echo "== format (clang-format --dry-run -Werror over the tree)"
	git -C "$ROOT" ls-files -z '*.c' '*.h' | (cd "$ROOT" && xargs -0 clang-format --dry-run -Werror)
}

cmd_test() {
	need_pkgs "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
	cmd_format_check
	echo "== build (warnings are errors)"
	build "$BUILD"
	echo "== unit, kernel and integration tests"
	ctest --test-dir "$BUILD" --output-on-failure -j"$JOBS"
	echo "== unit and kernel tests again under AddressSanitizer + UndefinedBehaviorSanitizer (clang)"
	build "$ROOT/build-asan" -DCMAKE_C_COMPILER=clang -DLOOM_SANITIZE=ON
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir "$ROOT/build-asan" --output-on-failure -j"$JOBS" -L '^(unit|kernel)$'
	echo "== integration tests against the sanitized binaries"
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --test-dir "$ROOT/build-asan" --output-on-failure -j"$JOBS" -L integration
	echo "== fuzz targets, ${LOOM_FUZZ_SECONDS:-10}s each"
	cmd_fuzz "${LOOM_FUZZ_SECONDS:-10}"
}

cmd_demo() {
	need_pkgs "${BUILD_PKGS[@]}" jq iproute2 iputils-ping nftables busybox-static
	build "$BUILD"
	LOOM_BIN="$BUILD" bash "$ROOT/conf/demo.sh"
}

cmd_demo_bridge() {
	need_pkgs "${BUILD_PKGS[@]}" jq iproute2 nftables busybox-static containernetworking-plugins
	build "$BUILD"
	LOOM_BIN="$BUILD" bash "$ROOT/conf/demo-bridge.sh"
}

cmd_demo_ipam() {
	need_pkgs "${BUILD_PKGS[@]}" jq containernetworking-plugins
	build "$BUILD"
	LOOM_BIN="$BUILD" bash "$ROOT/conf/demo-ipam.sh"
}

cmd_bench() {
	need_pkgs "${BUILD_PKGS[@]}" containernetworking-plugins iproute2 iputils-ping nftables iperf3 jq bird2 etcd-server
	build "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release
	"$ROOT/build-release/ipam_bench" --out "$ROOT/bench/results-ipam.md"
	"$ROOT/build-release/cni_bench" -n 150 --out "$ROOT/bench/results-cni.md"
	"$ROOT/build-release/antispoof_bench" -n 100 -t 5 --bin "$ROOT/build-release" --out "$ROOT/bench/results-antispoof.md"
	bash "$ROOT/bench/overlay_bench.sh" --bin "$ROOT/build-release" --out "$ROOT/bench/results-overlay.md"
	LOOM_BIN="$ROOT/build-release" bash "$ROOT/bench/bgp_bench.sh" 5 | tee "$ROOT/bench/results-bgp.md"
	bash "$ROOT/bench/policy_bench.sh" --bin "$ROOT/build-release" --out "$ROOT/bench/results-policy.md"
}

# The .deb: prefix /usr, plugins in /usr/lib/cni (where Debian's runtimes
# look), only the installed targets built (cmake/install.cmake).
cmd_package() {
	need_pkgs "${BUILD_PKGS[@]}" "${PACKAGE_PKGS[@]}"
	local dir=${LOOM_PACKAGE_BUILD:-$ROOT/build-package} deb
	cmake -S "$ROOT" -B "$dir" -DLOOM_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=/usr -DLOOM_CNI_BINDIR=/usr/lib/cni \
		-DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
	cmake --build "$dir" -j"$JOBS" --target loom_installables >/dev/null
	rm -f "$dir"/loom_*.deb
	(cd "$dir" && cpack -G DEB >/dev/null)
	deb=$(ls "$dir"/loom_*.deb)
	lintian --fail-on error "$deb" >&2
	echo "$deb"
}

case "${1:-}" in
	build) cmd_build ;;
	test) cmd_test ;;
	demo) cmd_demo ;;
	demo-bridge) cmd_demo_bridge ;;
	demo-ipam) cmd_demo_ipam ;;
	fuzz) shift; cmd_fuzz "$@" ;;
	bench) shift; cmd_bench "$@" ;;
	package) cmd_package ;;
	format) need_pkgs clang-format git; git ls-files -z '*.c' '*.h' | xargs -0 clang-format -i ;;
	*) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
