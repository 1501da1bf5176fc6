#!/usr/bin/env bash
# Prints the path of a Node 24 binary, installing the `node@24` npm package into a cache outside the
# repo on first use. Tests run on the machine's Node 20 and on this one.
set -euo pipefail
dir="${CNIDOCTOR_CACHE:-$HOME/.cache/cnidoctor}/node24"
bin="$dir/node_modules/.bin/node"
if ! "$bin" --version 2>/dev/null | grep -q '^v24\.'; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error node@24 >&2
fi
echo "$bin"
