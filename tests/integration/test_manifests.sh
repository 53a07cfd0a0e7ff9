#!/usr/bin/env bash
# conf/kubernetes/: every manifest parses and names a kind Kubernetes 1.30+
# serves at that apiVersion; the DaemonSet, RBAC and ConfigMap hang
# together (check_manifests.py); the ConfigMap's Network is one loom's own
# parser accepts (loomctl apply into a throwaway file: store), and its
# conflist is the one loomd writes for that Network.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LOOM_SRC=${LOOM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed"; exit 77; }

OUTDIR=$T/cm
python3 "$LOOM_SRC/tests/integration/check_manifests.py" "$LOOM_SRC/conf/kubernetes" "$OUTDIR" >"$T/check.log"
rc=$?
while IFS= read -r line; do
	case $line in
	"ok   "*) pass "${line#ok   }" ;;
	"FAIL "*) fail "${line#FAIL }" ;;
	esac
done <"$T/check.log"
expect_eq "check_manifests.py exits 0" 0 "$rc"

STORE=file:$T/store
out=$("$LOOM_BIN/loomctl" --store "$STORE" apply -f "$OUTDIR/network.yaml" 2>&1)
expect_eq "loomctl applies the ConfigMap's Network" 0 "$?"
CTX="loomctl: $out"
expect_match "the Network is in the store" '"cidr": *"10\.244\.0\.0/16"' \
	"$("$LOOM_BIN/loomctl" --store "$STORE" get net default -o json 2>&1)"
is_json() { jq -e . "$1" >/dev/null 2>&1; }
expect_true "the ConfigMap's conflist is JSON" is_json "$OUTDIR/10-loom.conflist"

finish
