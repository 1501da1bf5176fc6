#!/usr/bin/env bash
# Installs everything the test cluster (scripts/cluster/) needs, and nothing when it is already there:
#   - promtool/prometheus (Debian prometheus), chromium, and podman, buildah, skopeo and runc for
#     the packaging tests (all from Debian),
#   - etcd built from go.etcd.io/etcd/server/v3 via the wrapper module harness/etcd-bin, cached in
#     ~/.cache/cnidoctor/etcd/<version>/bin (Debian's etcd 3.4 cannot serve the apiserver's
#     streaming lists, and a newer etcd starts and answers faster),
#   - kube-apiserver, kube-controller-manager, kube-scheduler built from k8s.io/kubernetes via the
#     wrapper module harness/k8s-bins/go.mod, cached in ~/.cache/cnidoctor/k8s/<version>/bin,
#   - kwok, cached in ~/.cache/cnidoctor/kwok/<version>/bin.
#   - helm, cached in ~/.cache/cnidoctor/helm/<version>/bin (renders and lints the agent chart).
# Warm runs only check `--version` of each binary, so this is cheap to call before every test run.
# Binaries never go into the repository; the cache is keyed by version so a bump rebuilds.
set -euo pipefail

K8S_VERSION="v1.37.2"
KWOK_VERSION="v0.8.0"
ETCD_VERSION="v3.6.16"
CACHE_ROOT="${CNIDOCTOR_CACHE:-$HOME/.cache/cnidoctor}"
K8S_BIN="$CACHE_ROOT/k8s/$K8S_VERSION/bin"
KWOK_BIN="$CACHE_ROOT/kwok/$KWOK_VERSION/bin"
ETCD_BIN="$CACHE_ROOT/etcd/$ETCD_VERSION/bin"
HELM_VERSION="v3.19.0"
HELM_BIN="$CACHE_ROOT/helm/$HELM_VERSION/bin"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WRAPPER_DIR="$REPO_ROOT/harness/k8s-bins"
ETCD_WRAPPER_DIR="$REPO_ROOT/harness/etcd-bin"

log() { printf '[ensure-tools] %s\n' "$*" >&2; }

# Run a command as root: directly when we are root, via sudo otherwise.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_debian_packages() {
  local missing=()
  [ -x /usr/bin/promtool ] || missing+=(prometheus)
  # Headless Chromium renders the HTML report to a screenshot in the integration tests.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The packaging tests build and run OCI images without a Docker daemon (docs/packaging.md):
  # podman with runc (crun refuses this cgroup layout), buildah for the glibc-only test image,
  # skopeo to read the oci-archive tarball.
  [ -x /usr/bin/podman ] || missing+=(podman)
  [ -x /usr/bin/buildah ] || missing+=(buildah)
  [ -x /usr/bin/skopeo ] || missing+=(skopeo)
  [ -x /usr/sbin/runc ] || [ -x /usr/bin/runc ] || missing+=(runc)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "promtool, chromium, podman, buildah, skopeo and runc present"
    return
  fi
  log "installing ${missing[*]} from Debian"
  # policy-rc.d exit 101 stops the packages' services from auto-starting: a system prometheus
  # would only hold ports and CPU.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    created_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  if [ "$created_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
}

# True when every kube binary exists and reports the wanted version.
kube_bins_current() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    [ -x "$K8S_BIN/$b" ] || return 1
    "$K8S_BIN/$b" --version 2>/dev/null | grep -qx "Kubernetes $K8S_VERSION" || return 1
  done
}

build_kube_bins() {
  if kube_bins_current; then
    log "kube binaries $K8S_VERSION cached in $K8S_BIN"
    return
  fi
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION (cold: 10-25 min on 2 cores)"
  local start major minor build_date ldflags pkg
  start=$(date +%s)
  major="${K8S_VERSION#v}"; major="${major%%.*}"
  minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
  build_date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  # Stamp exactly the module version: unstamped binaries report v0.0.0-master and kubectl/kwok
  # then guess the feature set; a wrong minor breaks the emulation-version checks.
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit=0000000000000000000000000000000000000000"
    ldflags+=" -X $pkg.buildDate=$build_date"
  done
  mkdir -p "$K8S_BIN.tmp"
  (
    cd "$WRAPPER_DIR"
    # -mod=mod lets go.sum gaps be filled from the proxy instead of failing on a fresh machine;
    # GOTOOLCHAIN=local keeps the build on the installed Go rather than downloading another one.
    # providerless drops the in-tree cloud providers: smaller binaries, shorter build.
    CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -p 2 -tags providerless \
      -ldflags "$ldflags" -o "$K8S_BIN.tmp/" \
      k8s.io/kubernetes/cmd/kube-apiserver \
      k8s.io/kubernetes/cmd/kube-controller-manager \
      k8s.io/kubernetes/cmd/kube-scheduler
  )
  # Move into place only after all three linked, so an interrupted build never looks current.
  mkdir -p "$K8S_BIN"
  mv -f "$K8S_BIN.tmp"/* "$K8S_BIN/"
  rmdir "$K8S_BIN.tmp"
  kube_bins_current || { log "built binaries do not report $K8S_VERSION"; exit 1; }
  log "kube binaries built in $(($(date +%s) - start)) s"
}

# The wrapper module pins the server version (go.etcd.io/etcd/api/v3/version carries it, so no
# stamping is needed); cold it takes 1-5 min on 2 cores, far less than the kube binaries.
# etcd prints four lines: read them whole, since `| grep -q` may close the pipe early and pipefail
# would then count etcd's SIGPIPE as a mismatch.
etcd_current() {
  local out
  [ -x "$ETCD_BIN/etcd" ] || return 1
  out=$("$ETCD_BIN/etcd" --version 2>/dev/null) || return 1
  [[ "$out" == *"etcd Version: ${ETCD_VERSION#v}"* ]]
}

build_etcd() {
  if etcd_current; then
    log "etcd $ETCD_VERSION cached in $ETCD_BIN"
    return
  fi
  log "building etcd $ETCD_VERSION (cold: 1-5 min, module downloads included)"
  local start
  start=$(date +%s)
  mkdir -p "$ETCD_BIN.tmp"
  (
    cd "$ETCD_WRAPPER_DIR"
    CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local go build -trimpath -p 2 -ldflags "-s -w" \
      -o "$ETCD_BIN.tmp/etcd" .
  )
  mkdir -p "$ETCD_BIN"
  mv -f "$ETCD_BIN.tmp/etcd" "$ETCD_BIN/etcd"
  rmdir "$ETCD_BIN.tmp"
  etcd_current || { log "built etcd does not report $ETCD_VERSION"; exit 1; }
  log "etcd built in $(($(date +%s) - start)) s"
}

install_kwok() {
  if [ -x "$KWOK_BIN/kwok" ] && "$KWOK_BIN/kwok" --version 2>/dev/null | grep -q "$KWOK_VERSION"; then
    log "kwok $KWOK_VERSION cached in $KWOK_BIN"
    return
  fi
  log "installing kwok $KWOK_VERSION"
  local start
  start=$(date +%s)
  mkdir -p "$KWOK_BIN"
  # Run outside the repository so no module of ours influences the install.
  (cd / && CGO_ENABLED=0 GOBIN="$KWOK_BIN" GOTOOLCHAIN=local go install -p 2 "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION")
  log "kwok installed in $(($(date +%s) - start)) s"
}

# helm is a Go module like kwok: built from the module proxy, no downloaded binary.
install_helm() {
  if [ -x "$HELM_BIN/helm" ] && "$HELM_BIN/helm" version --short 2>/dev/null | grep -q "$HELM_VERSION"; then
    log "helm $HELM_VERSION cached in $HELM_BIN"
    return
  fi
  log "installing helm $HELM_VERSION (cold: ~2 min)"
  mkdir -p "$HELM_BIN"
  (cd / && CGO_ENABLED=0 GOBIN="$HELM_BIN" GOTOOLCHAIN=local go install -p 2 \
    -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
}

ensure_debian_packages
build_kube_bins
build_etcd
install_kwok
install_helm
log "ready: $K8S_BIN, $ETCD_BIN, $KWOK_BIN"
