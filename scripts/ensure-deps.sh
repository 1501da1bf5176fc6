#!/usr/bin/env bash
# Installs the project's npm dependencies when they are missing or older than package-lock.json,
# and builds (TypeScript, the WebAssembly line kernel, the verified advisory cache). Idempotent and quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
npx tsc -p tsconfig.json
node dist/scripts/build/wasm.js
node dist/scripts/build/advisory-cache.js
