#!/usr/bin/env bash
# Compatibility pass on another supported Node.js major (default 22; CI runs everything else on 24):
# the unit tests and the walking-skeleton end-to-end test, with a real Node binary from the npm
# registry (scripts/node.sh). The infrastructure must be up.
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:-22}
bin=$(bash scripts/node.sh "$major")
node=$bin/node
echo "Node $("$node" --version): unit tests"
for p in packages/contracts packages/policy packages/scope-engine packages/enforcer packages/transport packages/store packages/runtime packages/cli services/scope-worker; do
  (cd "$p" && PATH="$bin:$PATH" "$node" ../../node_modules/vitest/vitest.mjs run --config ../../config/vitest.unit.ts --reporter=dot) || { echo "unit tests of $p fail on Node $major"; exit 1; }
done
# The worker runs from its build, as in production (npm test has built it in CI).
[ -f services/scope-worker/dist/main.js ] || npx turbo run build --filter=@livescope/e2e^... --output-logs=errors-only
echo "Node $("$node" --version): walking skeleton end to end (worker process on Node $major)"
(cd test && PATH="$bin:$PATH" LIVESCOPE_SKIP_INFRA_START=1 "$node" ../node_modules/vitest/vitest.mjs run --config ../config/vitest.e2e.ts walking-skeleton --reporter=dot)
