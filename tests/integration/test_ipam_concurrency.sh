#!/usr/bin/env bash
# Many plugin processes on one store at once: no address is ever handed out
# twice, releases all land, and loom-ipam shares host-local's lock.
# Each round starts its processes behind a gate (a FIFO the children block
# on) so the execs really overlap instead of trickling in as bash forks.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_exec "$LOOM_IPAM" "$HOST_LOCAL"

GATE=$T/gate
mkfifo "$GATE"
# Held open read-write so children never block in open(), only in read.
exec 9<>"$GATE"
PIDS=()

# spawn TAG PLUGIN CMD CONF CID: one gated child; result in $T/TAG.{out,rc}
spawn() {
	local tag=$1 plugin=$2 cmd=$3 conf=$4 cid=$5
	(
		read -r _ <"$GATE"
		CID=$cid cni_exec "$plugin" "$cmd" "$conf"
		printf '%s' "$OUT" >"$T/$tag.out"
		echo "$RC" >"$T/$tag.rc"
	) &
	PIDS+=($!)
}

# release: open the gate for every spawned child and wait for all of them
release() {
	local i
	for ((i = 0; i < ${#PIDS[@]}; i++)); do echo >&9; done
	wait "${PIDS[@]}"
	PIDS=()
}

# summarize TAG COUNT: sets OKS (successes), ADDRS (their addresses, one per
# line, sorted), CODES (error codes of the failures, sorted)
summarize() {
	local i rc
	OKS=0 ADDRS="" CODES=""
	for ((i = 1; i <= $2; i++)); do
		rc=$(cat "$T/$1.$i.rc" 2>/dev/null || echo missing)
		if [[ "$rc" == 0 ]]; then
			OKS=$((OKS + 1))
			ADDRS+=$(jq -r '.ips[].address' "$T/$1.$i.out" 2>/dev/null)$'\n'
		else
			CODES+="$(jq -r .code "$T/$1.$i.out" 2>/dev/null || echo "rc=$rc") "
		fi
	done
	ADDRS=$(grep -v '^$' <<<"$ADDRS" | LC_ALL=C sort)
	CODES=$(tr ' ' '\n' <<<"$CODES" | grep -v '^$' | LC_ALL=C sort | tr '\n' ' ')
}

# conf NAME DATADIR IPAM_TYPE RANGES_JSON -> path
conf() {
	local f=$T/$1.$3.json
	jq -n --arg n "$1" --arg d "$2" --arg t "$3" --argjson r "$4" \
		'{cniVersion: "1.0.0", name: $n, type: "bridge",
		  ipam: {type: $t, dataDir: $d, ranges: $r}}' >"$f"
	echo "$f"
}

# every address file holds the container ID that got that address
files_match_owners() {
	local dir=$1 tag=$2 n=$3 i a
	for ((i = 1; i <= n; i++)); do
		[[ "$(cat "$T/$tag.$i.rc" 2>/dev/null)" == 0 ]] || continue
		a=$(jq -r '.ips[0].address | split("/")[0]' "$T/$tag.$i.out")
		[[ "$(head -c "${#tag}" "$dir/$a" 2>/dev/null)" == "$tag" ]] || return 1
		[[ "$(od -An -c "$dir/$a")" == "$(printf '%s\r\neth0' "$tag-$i" | od -An -c)" ]] || return 1
	done
}

for n in 32 64; do
	echo "== $n loom-ipam ADDs at once, then $n DELs at once"
	d=$(new_datadir)
	c=$(conf round "$d" loom-ipam '[[{"subnet": "10.50.0.0/24"}]]')
	tag=add$n
	for ((i = 1; i <= n; i++)); do spawn "$tag.$i" "$LOOM_IPAM" ADD "$c" "$tag-$i"; done
	release
	summarize "$tag" "$n"
	CTX="failure codes: $CODES; first failure: $(for ((i = 1; i <= n; i++)); do [[ "$(cat "$T/$tag.$i.rc")" != 0 ]] && { cat "$T/$tag.$i.out"; break; }; done)"
	expect_eq "$n ADDs: all succeed" "$n" "$OKS"
	expect_eq "$n ADDs: $n distinct addresses" "$n" "$(sort -u <<<"$ADDRS" | grep -c .)"
	expect_eq "$n ADDs: $n files in the store" "$n" "$(addr_files "$d/round" | grep -c .)"
	expect_true "$n ADDs: each file names the container that got it" files_match_owners "$d/round" "$tag" "$n"
	tag=del$n
	for ((i = 1; i <= n; i++)); do spawn "$tag.$i" "$LOOM_IPAM" DEL "$c" "add$n-$i"; done
	release
	summarize "$tag" "$n"
	expect_eq "$n DELs: all succeed" "$n" "$OKS"
	expect_eq "$n DELs: no address file left" "" "$(addr_files "$d/round")"
done

echo "== 16 host-local + 16 loom-ipam ADDs at once on one store"
d=$(new_datadir)
lc=$(conf mixed "$d" loom-ipam '[[{"subnet": "10.51.0.0/24"}], [{"subnet": "fd00:51::/64"}]]')
rc=$(conf mixed "$d" host-local '[[{"subnet": "10.51.0.0/24"}], [{"subnet": "fd00:51::/64"}]]')
for ((i = 1; i <= 32; i++)); do
	# interleaved so neither plugin gets a head start
	if ((i % 2)); then spawn "mixed.$i" "$LOOM_IPAM" ADD "$lc" "mixed-$i"; else
		spawn "mixed.$i" "$HOST_LOCAL" ADD "$rc" "mixed-$i"; fi
done
release
summarize mixed 32
CTX="failure codes: $CODES"
expect_eq "mixed: all 32 succeed" 32 "$OKS"
expect_eq "mixed: 64 distinct addresses (32 IPv4 + 32 IPv6)" 64 "$(sort -u <<<"$ADDRS" | grep -c .)"
expect_eq "mixed: 64 files" 64 "$(addr_files "$d/mixed" | grep -c .)"
for ((i = 1; i <= 32; i++)); do
	if ((i % 2)); then spawn "mdel.$i" "$HOST_LOCAL" DEL "$rc" "mixed-$i"; else
		spawn "mdel.$i" "$LOOM_IPAM" DEL "$lc" "mixed-$i"; fi
done
release
summarize mdel 32
expect_eq "mixed: each plugin releases the other's, all 32 DELs succeed" 32 "$OKS"
expect_eq "mixed: store empty" "" "$(addr_files "$d/mixed")"

echo "== 12 ADDs at once on a range of 8"
d=$(new_datadir)
c=$(conf small "$d" loom-ipam '[[{"subnet": "10.52.0.0/24", "rangeStart": "10.52.0.10", "rangeEnd": "10.52.0.17"}]]')
for ((i = 1; i <= 12; i++)); do spawn "small.$i" "$LOOM_IPAM" ADD "$c" "small-$i"; done
release
summarize small 12
CTX="addresses: $(tr '\n' ' ' <<<"$ADDRS") codes: $CODES"
expect_eq "range of 8: exactly 8 succeed" 8 "$OKS"
expect_eq "range of 8: the 4 others fail as exhausted (101)" "101 101 101 101 " "$CODES"
expect_eq "range of 8: no duplicate, the whole range used" \
	"$(printf '10.52.0.%s/24\n' 10 11 12 13 14 15 16 17)" "$(sort -u <<<"$ADDRS")"
expect_eq "range of 8: 8 files" 8 "$(addr_files "$d/small" | grep -c .)"

finish
