#!/usr/bin/env bash
# The one test command (`npm test`; CI's .ci/run calls exactly this). Installs what it needs, checks
# formatting and lint, builds, runs the unit tests on Node 20 and the Node the image ships (26), then the integration
# tests against a real control plane started by the project's own scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p test-artifacts
log=test-artifacts/test-run.log
: >"$log"
step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)

step "dependencies and build"
bash scripts/ensure-deps.sh

step "format (prettier --check)"
npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
step "lint (eslint)"
npx eslint --max-warnings=0 .
step "import graph (no cycles, type-only imports included)"
node dist/scripts/build/import-cycles.js

run_suite() { # name node-binary args...
  local name=$1 bin=$2 out rc
  shift 2
  step "$name ($("$bin" --version))"
  out=$(mktemp)
  set +e
  "$bin" --test --test-reporter=tap "$@" >"$out" 2>&1
  rc=$?
  set -e
  cat "$out" >>"$log"
  # Failures in full, successes as the runner's own summary lines.
  if [ "$rc" -ne 0 ]; then cat "$out"; else grep -E '^# (tests|pass|fail|skipped|todo|duration_ms) ' "$out" || true; fi
  rm -f "$out"
  return "$rc"
}

# Explicit file lists: Node 20 takes directories, Node 22+ takes globs; both take files.
mapfile -t unit_files < <(find dist/src dist/scripts -name '*.test.js' | sort)
failed=0
run_suite "unit tests" node "${unit_files[@]}" || failed=1
# The second line is the Node the container image and the single file ship (scripts/ensure-node-runtime.sh).
node_image="$(bash scripts/ensure-node-runtime.sh linux-x64)/bin/node"
run_suite "unit tests" "$node_image" "${unit_files[@]}" || failed=1

# Fault probes (issue 15): apply, rollback and collect killed or raced at their file-system calls,
# judged by what is left on disk. Every probe has a hard deadline (test timeouts; children are SIGKILLed).
if [ -d dist/test/faults ]; then
  mapfile -t fault_files < <(find dist/test/faults -name '*.test.js' | sort)
  run_suite "fault tests" node --test-concurrency=1 "${fault_files[@]}" || failed=1
fi

if [ "${CNIDOCTOR_SKIP_INTEGRATION:-0}" != "1" ] && [ -d dist/test/integration ]; then
  step "integration tools (apiserver, etcd, kwok)"
  bash scripts/cluster/ensure-tools.sh
  mapfile -t integration_files < <(find dist/test/integration -name '*.test.js' | sort)
  # A test that runs past 10 minutes fails (its file's after-hooks still stop the cluster) rather
  # than holding the whole run until CI's limit.
  run_suite "integration tests" node --test-concurrency=1 --test-timeout=600000 "${integration_files[@]}" || failed=1
fi

# Packaging (docs/packaging.md): the container image, the single-file kubectl plugin and the npm
# package, each built by its own command and run. A missing tool skips its part with a printed reason;
# nothing here is skipped silently.
if [ "${CNIDOCTOR_SKIP_PACKAGING:-0}" = "1" ]; then
  step "packaging: SKIPPED (CNIDOCTOR_SKIP_PACKAGING=1)"
elif [ -d dist/test/package ]; then
  step "packaging: image, single file, npm package"
  packaging_start=$(date +%s)
  bash scripts/cluster/ensure-tools.sh
  if command -v podman >/dev/null; then
    # Warm caches: ~50 s; a failed build fails the run (the image tests would only repeat it).
    bash scripts/image/build.sh || failed=1
  else
    echo "image: SKIPPED, podman is not installed (apt-get install -y podman buildah skopeo runc);" \
      "the image tests report the same skip"
  fi
  # The single file and its krew archives (dist/sea/), rebuilt so the tests never run a stale one.
  node dist/scripts/sea/build.js || failed=1
  mapfile -t package_files < <(find dist/test/package -name '*.test.js' | sort)
  run_suite "packaging tests" node --test-concurrency=1 "${package_files[@]}" || failed=1
  echo "packaging: $(($(date +%s) - packaging_start)) s"
fi

pass=$(grep -E '^# pass [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
fail=$(grep -E '^# fail [0-9]+' "$log" | awk '{s+=$3} END {print s+0}')
echo
echo "took $(($(date +%s) - start))s; details in $log"
echo "tests: ${pass} passed, ${fail} failed"
[ "$failed" -eq 0 ] && [ "$fail" -eq 0 ]
