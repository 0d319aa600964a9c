#!/usr/bin/env bash
# Runs the unit tests and the walking-skeleton end-to-end test on Node 24 (the machine's Node is
# 20), with a real Node 24 binary from the npm registry (package `node`), cached under LIVESCOPE_HOME.
set -euo pipefail
cd "$(dirname "$0")/.."
home=${LIVESCOPE_HOME:-$HOME/.cache/livescope}
dir=$home/node24
if [ ! -x "$dir/node_modules/.bin/node" ]; then
  mkdir -p "$dir"
  printf '{ "name": "livescope-node24", "version": "1.0.0", "private": true, "allowScripts": { "node": true } }\n' >"$dir/package.json"
  (cd "$dir" && npm install node@24 --no-audit --no-fund --silent)
fi
node24=$dir/node_modules/.bin/node
echo "Node $("$node24" --version): unit tests"
for p in packages/contracts packages/policy packages/scope-engine packages/enforcer packages/transport packages/store services/scope-worker; do
  (cd "$p" && "$node24" ../../node_modules/vitest/vitest.mjs run --config ../../config/vitest.unit.ts --reporter=dot) || { echo "unit tests of $p fail on Node 24"; exit 1; }
done
echo "Node $("$node24" --version): walking skeleton end to end (worker process on Node 24)"
(cd test && LIVESCOPE_SKIP_INFRA_START=1 "$node24" ../node_modules/vitest/vitest.mjs run --config ../config/vitest.e2e.ts walking-skeleton --reporter=dot)
