#!/usr/bin/env bash
# Rebuilds the version tables from the shared KDM data into a temp dir and fails if the committed
# data/ differs. Not part of `npm test`: the default tests read nothing outside the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
from="${1:-../shared/data}"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
node dist/scripts/data/build-version-tables.js --from "$from" --out "$out" >/dev/null
if diff -r data "$out"; then echo "data/ is up to date with $from"; else echo "data/ is stale: run npm run data:build" >&2; exit 1; fi
