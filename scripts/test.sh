#!/usr/bin/env bash
# The whole test suite (README's second command): installs the system services the tests start
# (where the machine allows), then lint, typecheck and every workspace's tests (unit, integration
# against real Mosquitto/InfluxDB, end to end), then prints one summary line.
set -euo pipefail
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
cd "$(dirname "$0")/.."
source scripts/system-deps.sh
ensure_system_deps
if [ ! -d node_modules ]; then
  echo "ERROR: dependencies are not installed: run 'npm ci' first" >&2
  exit 1
fi
rm -rf test-results && mkdir -p test-results
echo "== lint (biome)"
npx biome check .
echo "== typecheck"
npx turbo run typecheck --output-logs=errors-only
echo "== tests"
status=0
npx turbo run test --concurrency=1 --continue --output-logs=full || status=$?
node scripts/test-summary.mjs || status=1
exit $status
