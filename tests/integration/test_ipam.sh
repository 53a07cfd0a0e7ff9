#!/usr/bin/env bash
# loom-ipam exec'd as a runtime does: every spec version, every config form,
# allocation order, requested addresses, the on-disk store, DEL/CHECK/GC/
# STATUS/VERSION, and a table of bad inputs with their codes and messages.
# Where the reference host-local gives the same answer, it is the oracle.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_exec "$LOOM_IPAM"

# mkconf VERSION NAME DATADIR IPAM_JSON [TOPLEVEL_JSON] -> prints a config path.
# The ipam object gets type loom-ipam and the dataDir; TOPLEVEL_JSON is merged
# into the network config (args, runtimeConfig, ...).
mkconf() {
	jq_conf -n --arg v "$1" --arg n "$2" --arg d "$3" --argjson ipam "$4" --argjson top "${5:-{\}}" \
		'{cniVersion: $v, name: $n, type: "bridge"} + $top
		 + {ipam: ({type: "loom-ipam", dataDir: $d} + $ipam)}'
}

# The same config for host-local, with its own store.
refconf() { jq_conf --arg d "$2" '.ipam.type = "host-local" | .ipam.dataDir = $d' "$1"; }

# add_ok NAME PLUGIN CONF [ENV...]: ADD must succeed; prints nothing
add_ok() {
	local name=$1
	shift
	cni_exec "$1" ADD "$2" "${@:3}"
	if [[ $RC -ne 0 ]]; then
		fail "$name: ADD succeeds" "$CTX"
		return 1
	fi
	return 0
}

# owned_by DIR ID IFNAME: address files whose content is exactly ID\r\nIFNAME
owned_by() {
	local f want
	want=$(printf '%s\r\n%s' "$2" "$3" | od -An -c)
	for f in $(addr_files "$1"); do
		[[ "$(od -An -c "$1/$f")" == "$want" ]] && echo "$f"
	done
	return 0
}

# first address (without prefix) of the last result
first_addr() { jqr '.ips[0].address' | cut -d/ -f1; }

is_error_json() {
	jq -e '(.cniVersion | type == "string") and (.code | type == "number")
		and (.msg | type == "string") and (.msg | length > 0)' >/dev/null 2>&1 <<<"$OUT"
}

# expect_error NAME CODE MSG_ERE: the last call failed the way a runtime can report
expect_error() {
	expect_eq "$1: exit status 1" 1 "$RC"
	if is_error_json; then pass "$1: error JSON has cniVersion, code, msg"; else
		fail "$1: error JSON has cniVersion, code, msg" "$CTX"; fi
	if [[ "$2" == *"|"* ]]; then # either code is defensible
		expect_match "$1: code" "^($2)\$" "$(jqr .code)"
	else
		expect_eq "$1: code" "$2" "$(jqr .code)"
	fi
	[[ -n "$3" ]] && expect_match "$1: message" "$3" "$(jqr .msg)"
	return 0
}

V4='{"ranges": [[{"subnet": "10.10.0.0/24", "gateway": "10.10.0.1"}]]}'

echo "== every spec version"
for v in 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
	d=$(new_datadir)
	c=$(mkconf "$v" vers "$d" "$V4")
	CID=ver-$v cni_exec "$LOOM_IPAM" ADD "$c"
	expect_eq "ADD $v: exit 0" 0 "$RC"
	expect_eq "ADD $v: cniVersion echoed" "$v" "$(jqr .cniVersion)"
	expect_eq "ADD $v: address" "10.10.0.2/24" "$(jqr '.ips[0].address')"
	expect_eq "ADD $v: gateway" "10.10.0.1" "$(jqr '.ips[0].gateway')"
	if [[ $v == 0.* ]]; then
		expect_eq "ADD $v: ips[].version present" "4" "$(jqr '.ips[0].version')"
	else
		expect_eq "ADD $v: no ips[].version" "false" "$(jqr '.ips[0] | has("version")')"
	fi
done

echo "== same answers as host-local (fresh stores, cniVersion 1.0.0)"
resolv=$T/resolv.conf
printf 'nameserver 10.15.0.53\nnameserver 2001:db8::53\nsearch a.example b.example\ndomain example\noptions ndots:2 edns0\n' >"$resolv"
declare -A ORACLE=(
	[ipv4]='{"ranges": [[{"subnet": "10.20.0.0/24"}]]}'
	[ipv4-gateway]='{"ranges": [[{"subnet": "10.20.0.0/24", "gateway": "10.20.0.254"}]]}'
	[ipv6]='{"ranges": [[{"subnet": "fd00:20::/64"}]]}'
	[dual-stack]='{"ranges": [[{"subnet": "10.21.0.0/24"}], [{"subnet": "fd00:21::/64"}]]}'
	[two-ranges-one-set]='{"ranges": [[{"subnet": "10.22.0.0/30"}, {"subnet": "10.22.1.0/24"}]]}'
	[legacy]='{"subnet": "10.23.0.0/16", "rangeStart": "10.23.5.10", "rangeEnd": "10.23.5.20", "gateway": "10.23.0.1"}'
	[range-start]='{"ranges": [[{"subnet": "10.24.0.0/24", "rangeStart": "10.24.0.100", "rangeEnd": "10.24.0.110"}]]}'
	[routes-dns]='{"ranges": [[{"subnet": "10.15.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}, {"dst": "192.168.0.0/16", "gw": "10.15.0.254"}], "resolvConf": "'"$resolv"'"}'
)
for k in "${!ORACLE[@]}"; do
	dl=$(new_datadir)
	dr=$(new_datadir)
	c=$(mkconf 1.0.0 oracle "$dl" "${ORACLE[$k]}")
	r=$(refconf "$c" "$dr")
	ours=() theirs=()
	for i in 1 2 3; do
		CID=oracle-$i cni_exec "$LOOM_IPAM" ADD "$c"
		ours+=("$(jq -cS '{ips, routes: (.routes // []), dns: (.dns // {})}' <<<"$OUT" 2>/dev/null || echo "rc=$RC $OUT")")
		CID=oracle-$i cni_exec "$HOST_LOCAL" ADD "$r"
		theirs+=("$(jq -cS '{ips, routes: (.routes // []), dns: (.dns // {})}' <<<"$OUT" 2>/dev/null || echo "rc=$RC $OUT")")
	done
	CTX="config: ${ORACLE[$k]}"
	expect_eq "$k: three ADDs match host-local's results" "${theirs[*]}" "${ours[*]}"
	expect_eq "$k: same address files as host-local" "$(addr_files "$dr/oracle")" "$(addr_files "$dl/oracle")"
done

echo "== IPv4, IPv6, dual stack, legacy form"
d=$(new_datadir)
c=$(mkconf 1.0.0 v6 "$d" '{"ranges": [[{"subnet": "fd00:30::/120", "gateway": "fd00:30::1"}]]}')
add_ok "IPv6" "$LOOM_IPAM" "$c" && {
	expect_eq "IPv6: one address" 1 "$(jqr '.ips | length')"
	expect_eq "IPv6: address" "fd00:30::2/120" "$(jqr '.ips[0].address')"
	expect_eq "IPv6: store file named in RFC 5952 form" "fd00:30::2" "$(addr_files "$d/v6")"
}
d=$(new_datadir)
c=$(mkconf 0.4.0 dual "$d" '{"ranges": [[{"subnet": "10.31.0.0/24"}], [{"subnet": "fd00:31::/64"}]]}')
add_ok "dual stack" "$LOOM_IPAM" "$c" && {
	expect_eq "dual stack: two addresses" 2 "$(jqr '.ips | length')"
	expect_eq "dual stack: versions (0.4.0)" "4 6" "$(jqr '[.ips[].version] | sort | join(" ")')"
	expect_eq "dual stack: one address per range set" "10.31.0.2/24 fd00:31::2/64" "$(jqr '[.ips[].address] | sort | join(" ")')"
	expect_eq "dual stack: two files" $'10.31.0.2\nfd00:31::2' "$(addr_files "$d/dual")"
}
d=$(new_datadir)
c=$(mkconf 1.0.0 legacy "$d" '{"subnet": "10.32.0.0/24", "gateway": "10.32.0.1", "rangeStart": "10.32.0.40", "rangeEnd": "10.32.0.41"}')
add_ok "legacy form" "$LOOM_IPAM" "$c" && expect_eq "legacy form: rangeStart honoured" "10.32.0.40/24" "$(jqr '.ips[0].address')"

echo "== rangeStart/rangeEnd, exhaustion"
d=$(new_datadir)
c=$(mkconf 1.0.0 rse "$d" '{"ranges": [[{"subnet": "10.33.0.0/24", "rangeStart": "10.33.0.100", "rangeEnd": "10.33.0.102"}]]}')
got=""
for i in 1 2 3; do
	CID=rse-$i cni_exec "$LOOM_IPAM" ADD "$c"
	got+="$(first_addr) "
done
expect_eq "rangeStart..rangeEnd handed out in order" "10.33.0.100 10.33.0.101 10.33.0.102 " "$got"
before=$(addr_files "$d/rse")
CID=rse-4 cni_exec "$LOOM_IPAM" ADD "$c"
expect_error "exhausted range" 101 ""
expect_eq "exhausted range: no file left" "$before" "$(addr_files "$d/rse")"

echo "== gateway, network, broadcast never handed out"
d=$(new_datadir)
c=$(mkconf 1.0.0 gw "$d" '{"ranges": [[{"subnet": "10.34.0.0/29", "gateway": "10.34.0.3"}]]}')
got=""
for i in 1 2 3 4 5 6; do
	CID=gw-$i cni_exec "$LOOM_IPAM" ADD "$c"
	[[ $RC -eq 0 ]] && got+="$(first_addr) "
done
expect_eq "/29 with gateway .3: five addresses, none of .0 .3 .7" "10.34.0.1 10.34.0.2 10.34.0.4 10.34.0.5 10.34.0.6 " "$got"
expect_eq "/29: sixth ADD is exhausted" 101 "$(jqr .code)"

echo "== allocation continues after the last reserved address"
d=$(new_datadir)
c=$(mkconf 1.0.0 cont "$d" "$V4")
CID=A cni_exec "$LOOM_IPAM" ADD "$c"; a=$(first_addr)
CID=B cni_exec "$LOOM_IPAM" ADD "$c"; b=$(first_addr)
CID=A cni_exec "$LOOM_IPAM" DEL "$c"
CID=C cni_exec "$LOOM_IPAM" ADD "$c"; cc=$(first_addr)
expect_eq "ADD A, ADD B, DEL A, ADD C: addresses" "10.10.0.2 10.10.0.3 10.10.0.4" "$a $b $cc"
expect_eq "last_reserved_ip.0 holds C's address" "10.10.0.4" "$(cat "$d/cont/last_reserved_ip.0" 2>/dev/null)"

echo "== /31 and /32"
d=$(new_datadir)
c=$(mkconf 1.0.0 p31 "$d" '{"ranges": [[{"subnet": "10.35.0.0/31"}]]}')
got=""
for i in 1 2; do
	CID=p31-$i cni_exec "$LOOM_IPAM" ADD "$c"
	got+="$(jqr '.ips[0].address') "
done
expect_eq "/31: both addresses (RFC 3021)" "10.35.0.0/31 10.35.0.1/31 " "$got"
CID=p31-3 cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "/31: third ADD is exhausted" 101 "$(jqr .code)"
d=$(new_datadir)
c=$(mkconf 1.0.0 p32 "$d" '{"ranges": [[{"subnet": "10.35.1.7/32"}]]}')
CID=p32-1 cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "/32: its single address" "10.35.1.7/32" "$(jqr '.ips[0].address')"
CID=p32-2 cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "/32: second ADD is exhausted" 101 "$(jqr .code)"
d=$(new_datadir)
c=$(mkconf 1.0.0 p128 "$d" '{"ranges": [[{"subnet": "fd00:35::7/128"}]]}')
CID=p128 cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "/128: its single address" "fd00:35::7/128" "$(jqr '.ips[0].address')"

echo "== routes and dns"
d=$(new_datadir)
c=$(mkconf 1.1.0 rd "$d" "${ORACLE[routes-dns]}")
add_ok "routes/dns" "$LOOM_IPAM" "$c" && {
	expect_eq "routes in result" '[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"10.15.0.254"}]' "$(jqr '.routes | map({dst, gw} | with_entries(select(.value != null)))' | jq -c .)"
	expect_eq "dns nameservers" "10.15.0.53 2001:db8::53" "$(jqr '.dns.nameservers | join(" ")')"
	expect_eq "dns search" "a.example b.example" "$(jqr '.dns.search | join(" ")')"
	expect_eq "dns domain" "example" "$(jqr '.dns.domain')"
	expect_eq "dns options" "ndots:2 edns0" "$(jqr '.dns.options | join(" ")')"
}

echo "== requested addresses"
d=$(new_datadir)
c=$(mkconf 1.0.0 req "$d" '{"ranges": [[{"subnet": "10.16.0.0/24"}]]}' '{"args": {"cni": {"ips": ["10.16.0.50"]}}}')
CID=req-args cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "args.cni.ips" "10.16.0.50/24" "$(jqr '.ips[0].address')"
c=$(mkconf 1.0.0 req "$d" '{"ranges": [[{"subnet": "10.16.0.0/24"}]]}' '{"runtimeConfig": {"ips": ["10.16.0.51/24"]}}')
CID=req-rc cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "runtimeConfig.ips" "10.16.0.51/24" "$(jqr '.ips[0].address')"
c=$(mkconf 1.0.0 req "$d" '{"ranges": [[{"subnet": "10.16.0.0/24"}]]}')
CID=req-env cni_exec "$LOOM_IPAM" ADD "$c" CNI_ARGS=IP=10.16.0.52
expect_eq "CNI_ARGS IP=" "10.16.0.52/24" "$(jqr '.ips[0].address')"
CID=req-env2 cni_exec "$LOOM_IPAM" ADD "$c" "CNI_ARGS=IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;FOO=bar;IP=10.16.0.53"
expect_eq "CNI_ARGS IP= with IgnoreUnknown and K8S_POD_*" "10.16.0.53/24" "$(jqr '.ips[0].address')"
d2=$(new_datadir)
c=$(mkconf 1.0.0 reqd "$d2" '{"ranges": [[{"subnet": "10.16.1.0/24"}], [{"subnet": "fd00:16::/64"}]]}' '{"args": {"cni": {"ips": ["fd00:16::99", "10.16.1.99"]}}}')
CID=req-dual cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "dual stack, both requested" "10.16.1.99/24 fd00:16::99/64" "$(jqr '[.ips[].address] | sort | join(" ")')"
before=$(addr_files "$d/req")
c=$(mkconf 1.0.0 req "$d" '{"ranges": [[{"subnet": "10.16.0.0/24"}]]}')
CID=req-taken cni_exec "$LOOM_IPAM" ADD "$c" CNI_ARGS=IP=10.16.0.50
expect_error "requested address taken" 102 "10\.16\.0\.50"
expect_eq "requested address taken: store unchanged" "$before" "$(addr_files "$d/req")"
expect_eq "requested address taken: owner unchanged" "req-args" "$(head -c 8 "$d/req/10.16.0.50" 2>/dev/null)"

echo "== the store file"
d=$(new_datadir)
c=$(mkconf 1.0.0 st "$d" '{"ranges": [[{"subnet": "10.17.0.0/24"}], [{"subnet": "fd00:17::/64"}]]}')
CID=store-ctr IFNAME=net1 cni_exec "$LOOM_IPAM" ADD "$c"
expect_eq "store: file per address" $'10.17.0.2\nfd00:17::2' "$(addr_files "$d/st")"
for f in 10.17.0.2 fd00:17::2; do
	expect_eq "store $f: content is <id>\\r\\n<ifname>" "$(printf 'store-ctr\r\nnet1' | od -An -c)" "$(od -An -c "$d/st/$f" 2>/dev/null)"
	expect_eq "store $f: mode 0600" 600 "$(stat -c %a "$d/st/$f" 2>/dev/null)"
done

echo "== DEL"
CID=store-ctr IFNAME=net1 cni_exec "$LOOM_IPAM" DEL "$c" -CNI_NETNS
expect_eq "DEL without CNI_NETNS: exit 0" 0 "$RC"
expect_eq "DEL: prints nothing" "" "$OUT"
expect_eq "DEL: both files gone" "" "$(addr_files "$d/st")"
CID=store-ctr IFNAME=net1 cni_exec "$LOOM_IPAM" DEL "$c"
expect_eq "DEL again (idempotent): exit 0" 0 "$RC"
CID=never-added cni_exec "$LOOM_IPAM" DEL "$c"
expect_eq "DEL of an unknown container: exit 0" 0 "$RC"
CID=two IFNAME=eth0 cni_exec "$LOOM_IPAM" ADD "$c"
CID=two IFNAME=eth1 cni_exec "$LOOM_IPAM" ADD "$c"
eth1_files=$(owned_by "$d/st" two eth1)
CID=two IFNAME=eth0 cni_exec "$LOOM_IPAM" DEL "$c"
expect_eq "DEL releases by container ID and interface: the other interface's addresses stay" "$eth1_files" "$(addr_files "$d/st")"
d=$(new_datadir)
c=$(mkconf 1.0.0 nodir "$d" "$V4")
CID=x cni_exec "$LOOM_IPAM" DEL "$c"
expect_eq "DEL on a store never written: exit 0" 0 "$RC"

echo "== CHECK"
d=$(new_datadir)
c=$(mkconf 0.4.0 chk "$d" "$V4")
CID=chk cni_exec "$LOOM_IPAM" ADD "$c"
CID=chk cni_exec "$LOOM_IPAM" CHECK "$c"
expect_eq "CHECK after ADD: exit 0" 0 "$RC"
CID=chk cni_exec "$LOOM_IPAM" DEL "$c"
CID=chk cni_exec "$LOOM_IPAM" CHECK "$c"
expect_error "CHECK after DEL" 105 "chk|not found|no (ip|address|allocation)|missing"
c=$(mkconf 0.3.1 chk "$d" "$V4")
CID=chk cni_exec "$LOOM_IPAM" CHECK "$c"
expect_error "CHECK with cniVersion 0.3.1" 1 "CHECK|0\.3\.1|version"

echo "== GC"
for key in cni.dev/valid-attachments cni.dev/attachments; do
	d=$(new_datadir)
	c=$(mkconf 1.1.0 gc "$d" '{"ranges": [[{"subnet": "10.18.0.0/24"}], [{"subnet": "fd00:18::/64"}]]}')
	for id in keep gone1 gone2; do CID=$id cni_exec "$LOOM_IPAM" ADD "$c"; done
	CID=keep IFNAME=eth1 cni_exec "$LOOM_IPAM" ADD "$c"
	want=$(owned_by "$d/gc" keep eth0)
	g=$(jq_conf --arg k "$key" '.[$k] = [{containerID: "keep", ifname: "eth0"}]' "$c")
	cni_exec "$LOOM_IPAM" GC "$g" -CNI_CONTAINERID -CNI_NETNS -CNI_IFNAME
	expect_eq "GC ($key): exit 0" 0 "$RC"
	expect_eq "GC ($key): only keep/eth0's two addresses remain" "2 $want" "$(addr_files "$d/gc" | wc -l) $(addr_files "$d/gc")"
done

echo "== STATUS"
d=$(new_datadir)
c=$(mkconf 1.1.0 status "$d" "$V4")
cni_exec "$LOOM_IPAM" STATUS "$c" -CNI_CONTAINERID -CNI_NETNS -CNI_IFNAME
expect_eq "STATUS on a healthy store: exit 0" 0 "$RC"
touch "$T/regular-file"
c=$(mkconf 1.1.0 status "$T/regular-file/sub" "$V4")
cni_exec "$LOOM_IPAM" STATUS "$c" -CNI_CONTAINERID -CNI_NETNS -CNI_IFNAME
expect_error "STATUS with an unwritable dataDir" 50 ""

echo "== VERSION"
printf '{"cniVersion": "1.1.0"}' >"$T/version.json"
cni_exec "$LOOM_IPAM" VERSION "$T/version.json" -CNI_CONTAINERID -CNI_NETNS -CNI_IFNAME
expect_eq "VERSION: exit 0" 0 "$RC"
expect_eq "VERSION: supportedVersions" "0.3.0 0.3.1 0.4.0 1.0.0 1.1.0" "$(jqr '.supportedVersions | sort | join(" ")')"
expect_eq "VERSION: cniVersion" "1.1.0" "$(jqr .cniVersion)"

echo "== unwritable dataDir"
c=$(mkconf 1.0.0 unw "$T/regular-file/sub" "$V4")
CID=unw cni_exec "$LOOM_IPAM" ADD "$c"
expect_error "ADD with dataDir under a regular file" 103 "regular-file|dataDir|store"

echo "== bad inputs"
# Every row runs against one store that already holds 10.9.0.5 for "holder";
# an error must leave that store exactly as it was.
TD=$(new_datadir)
ok_conf='{"cniVersion":"1.0.0","name":"tbl","type":"bridge","ipam":{"type":"loom-ipam","dataDir":"@D@","ranges":[[{"subnet":"10.9.0.0/24"}]]}}'
tbl_conf() { # tbl_conf JQ_EXPR -> ok_conf modified
	jq -c "$1" <<<"$ok_conf"
}
printf '%s' "${ok_conf//@D@/$TD}" >"$T/holder.json"
CID=holder cni_exec "$LOOM_IPAM" ADD "$T/holder.json" CNI_ARGS=IP=10.9.0.5
expect_eq "table setup: holder gets 10.9.0.5" "10.9.0.5/24" "$(jqr '.ips[0].address')"

ROWS=0
# every file with its size and every directory (whose own size says nothing)
tree_state() {
	find "$1" \( -type d -printf '%P/\n' \) -o -printf '%P %s\n' | LC_ALL=C sort
}
# row DESCRIPTION ENV_OVERRIDES CONFIG CODE MESSAGE_ERE
row() {
	local desc=$1 envs=$2 conf=$3 code=$4 re=$5
	local f before after
	ROWS=$((ROWS + 1))
	f=$(mktemp "$T/row.XXXXXX")
	printf '%s' "${conf//@D@/$TD}" >"$f"
	before=$(tree_state "$TD")
	# shellcheck disable=SC2086 # envs is a word list on purpose
	CID=row-$ROWS cni_exec "$LOOM_IPAM" ADD "$f" $envs
	after=$(tree_state "$TD")
	printf -- '-- row %-45s rc=%s out=%s\n' "$desc:" "$RC" "$(jq -c . <<<"$OUT" 2>/dev/null || printf '%q' "$OUT")"
	expect_error "row [$desc]" "$code" "$re"
	expect_eq "row [$desc]: store unchanged" "$before" "$after"
}
R0='.ipam.ranges[0][0]'
row "malformed JSON" "" '{"cniVersion": "1.0.0", "name": ' 6 'json|decode|parse'
row "config not an object" "" '["cniVersion", "1.0.0"]' 6 'object'
row "empty stdin" "" '' 6 ''
row "unknown cniVersion" "" "$(tbl_conf '.cniVersion = "9.9.9"')" 1 '9\.9\.9'
row "missing cniVersion" "" "$(tbl_conf 'del(.cniVersion)')" 1 'cniVersion|version'
row "cniVersion not a string" "" "$(tbl_conf '.cniVersion = 1')" 7 'cniVersion'
row "missing name" "" "$(tbl_conf 'del(.name)')" 7 'name'
row "bad network name" "" "$(tbl_conf '.name = "bad/name"')" 7 'name'
row "missing ipam" "" "$(tbl_conf 'del(.ipam)')" 7 'ipam'
row "empty ranges" "" "$(tbl_conf '.ipam.ranges = []')" 7 'range'
row "overlapping ranges (one set)" "" "$(tbl_conf '.ipam.ranges = [[{subnet: "10.9.0.0/24"}, {subnet: "10.9.0.128/25"}]]')" 7 'overlap'
row "overlapping ranges (two sets)" "" "$(tbl_conf '.ipam.ranges = [[{subnet: "10.9.0.0/24"}], [{subnet: "10.9.0.0/16"}]]')" 7 'overlap'
row "rangeStart outside its subnet" "" "$(tbl_conf "$R0.rangeStart = \"10.8.0.5\"")" 7 'rangeStart'
row "rangeStart not an address" "" "$(tbl_conf "$R0.rangeStart = \"banana\"")" 7 'rangeStart'
row "rangeEnd outside its subnet" "" "$(tbl_conf "$R0.rangeEnd = \"10.9.1.5\"")" 7 'rangeEnd'
row "gateway outside its subnet" "" "$(tbl_conf "$R0.gateway = \"10.8.0.1\"")" 7 'gateway'
row "rangeEnd before rangeStart" "" "$(tbl_conf "$R0.rangeStart = \"10.9.0.50\" | $R0.rangeEnd = \"10.9.0.40\"")" 7 'rangeEnd|rangeStart'
row "subnet with host bits" "" "$(tbl_conf "$R0.subnet = \"10.9.0.1/24\"")" 7 'subnet|host bits'
row "subnet not a prefix" "" "$(tbl_conf "$R0.subnet = \"10.9.0.0\"")" 7 'subnet'
row "missing subnet" "" "$(tbl_conf "$R0 = {rangeStart: \"10.9.0.10\"}")" 7 'subnet'
row "unknown key in a range" "" "$(tbl_conf "$R0.bogusKey = \"zzzvalue\"")" 2 'bogusKey.*zzzvalue|zzzvalue.*bogusKey'
row "missing CNI_COMMAND" "-CNI_COMMAND" "$ok_conf" 4 'CNI_COMMAND'
row "unknown CNI_COMMAND" "CNI_COMMAND=FROB" "$ok_conf" 4 'CNI_COMMAND|FROB'
row "missing CNI_CONTAINERID" "-CNI_CONTAINERID" "$ok_conf" 4 'CNI_CONTAINERID'
row "missing CNI_IFNAME" "-CNI_IFNAME" "$ok_conf" 4 'CNI_IFNAME'
row "missing CNI_NETNS (ADD)" "-CNI_NETNS" "$ok_conf" 4 'CNI_NETNS'
row "missing CNI_PATH" "-CNI_PATH" "$ok_conf" 4 'CNI_PATH'
row "bad container ID characters" "CNI_CONTAINERID=bad/id!" "$ok_conf" 4 'CNI_CONTAINERID|container'
row "interface name too long" "CNI_IFNAME=abcdefghijklmnopq" "$ok_conf" 4 'CNI_IFNAME|interface'
row "interface name with a slash" "CNI_IFNAME=eth/0" "$ok_conf" 4 'CNI_IFNAME|interface'
row "unknown CNI_ARGS key" "CNI_ARGS=FOO=bar" "$ok_conf" 4 'FOO'
row "malformed CNI_ARGS pair" "CNI_ARGS=IP" "$ok_conf" 4 'CNI_ARGS'
# A bad value in CNI_ARGS is both bad environment (4) and an invalid
# requested address (7); the message must name the key and the value.
row "CNI_ARGS IP= not an address" "CNI_ARGS=IP=10.9.0.300" "$ok_conf" '4|7' 'IP.*10\.9\.0\.300'
row "requested address taken" "CNI_ARGS=IP=10.9.0.5" "$ok_conf" 102 '10\.9\.0\.5'
row "requested address outside every range" "CNI_ARGS=IP=10.77.0.5" "$ok_conf" 102 '10\.77\.0\.5'
row "requested in args.cni.ips, taken" "" "$(tbl_conf '.args = {cni: {ips: ["10.9.0.5"]}}')" 102 '10\.9\.0\.5'
row "requested network address" "CNI_ARGS=IP=10.9.0.0" "$ok_conf" 102 '10\.9\.0\.0'
row "same container and interface twice" "CNI_CONTAINERID=holder" "$ok_conf" 106 'holder|duplicate|already'
row "CHECK with cniVersion 0.3.1" "CNI_COMMAND=CHECK" "$(tbl_conf '.cniVersion = "0.3.1"')" 1 'CHECK|0\.3\.1|version'
row "GC with cniVersion 1.0.0" "CNI_COMMAND=GC" "$ok_conf" 1 'GC|1\.0\.0|version'
expect_eq "table: holder still owns 10.9.0.5" "holder" "$(head -c 6 "$TD/tbl/10.9.0.5" 2>/dev/null)"

finish
