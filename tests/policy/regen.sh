#!/bin/bash
# Regenerate tests/policy/golden/*.nft from *.json with the compiler in
# build dir $1 (cmake --build BUILD --target policy-golden-regen), then
# review the diff: the .nft files are the contract.  A plain case is one
# state compiled once; a seq_*.json is a sequence of changes, and its .nft
# holds each step's batch (tests/unit/test_policy_golden.c).
set -euo pipefail
build=${1:?usage: regen.sh BUILD_DIR}
LOOM_POLICY_REGEN=1 "$build/test_policy_golden"
