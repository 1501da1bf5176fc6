#!/usr/bin/env bash
# `npm run image`: builds the cnidoctor OCI image without a Docker daemon (podman/buildah), from
# files only: a root filesystem cut from Debian packages (glibc, libstdc++, libgcc, libatomic, CA
# certificates, /usr/bin/env), the pinned Node runtime, and the built project with production
# dependencies. Writes dist/image/: the oci-archive tarball, an SPDX SBOM beside it, and the images
# list for air-gapped installs. Layers are ordered base -> Node -> app so a rebuild after a code
# change reuses the first two from podman's cache.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/image/containers.conf}
for tool in podman dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || {
    echo "npm run image: '$tool' not found (apt-get install -y podman buildah skopeo runc)" >&2
    exit 4
  }
done
version=$(node -p 'require("./package.json").version')
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
repo=${CNIDOCTOR_IMAGE_REPO:-ghcr.io/cnidoctor/cnidoctor}
image="$repo:$version"
cache=${CNIDOCTOR_CACHE:-$HOME/.cache/cnidoctor}
debs="$cache/image/debs"
out=dist/image
ctx="$out/context"
[ -f dist/src/cli/bin.js ] || npm run build --silent

# 1. Debian packages, downloaded once (apt-get download needs no install and no root filesystem).
packages=(libc6 libstdc++6 libgcc-s1 libatomic1 ca-certificates coreutils)
mkdir -p "$debs"
for p in "${packages[@]}"; do
  ls "$debs/${p}"_*.deb >/dev/null 2>&1 || (cd "$debs" && apt-get download -q "$p" >/dev/null)
done

rm -rf "$ctx"
mkdir -p "$ctx/base" "$ctx/node/usr/local/bin" "$ctx/app/opt"
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
for p in libc6 libstdc++6 libgcc-s1 libatomic1 ca-certificates; do
  dpkg-deb -x "$debs/${p}"_*.deb "$ctx/base"
done
# Only env from coreutils: the bin scripts' `#!/usr/bin/env node` needs it; no shell is shipped.
dpkg-deb -x "$debs"/coreutils_*.deb "$x/coreutils"
install -D -m 0755 "$x/coreutils/usr/bin/env" "$ctx/base/usr/bin/env"
# What the image does not need: docs, locales' charset converters, the CA source tree's duplicates.
rm -rf "$ctx/base/usr/share/doc" "$ctx/base/usr/share/lintian" "$ctx/base/usr/share/man" \
  "$ctx/base/usr/lib/x86_64-linux-gnu/gconv" "$ctx/base/usr/share/locale" "$ctx/base/sbin" \
  "$ctx/base/usr/sbin" "$ctx/base/usr/bin/ldd" "$ctx/base/usr/bin/"{getconf,getent,iconv,locale,localedef,pldd,tzselect,zdump,catchsegv} \
  "$ctx/base/usr/libexec"
# update-ca-certificates' output, made here: one PEM bundle where OpenSSL (and Node) look.
mkdir -p "$ctx/base/etc/ssl/certs"
find "$ctx/base/usr/share/ca-certificates" -name '*.crt' | sort | xargs cat >"$ctx/base/etc/ssl/certs/ca-certificates.crt"
# Debian's usrmerge: /lib, /lib64 and /bin point into /usr.
for d in lib lib64 bin; do
  if [ -d "$ctx/base/$d" ] && [ ! -L "$ctx/base/$d" ]; then
    mkdir -p "$ctx/base/usr/$d" && cp -a "$ctx/base/$d/." "$ctx/base/usr/$d/" && rm -rf "${ctx:?}/base/$d"
  fi
  ln -sfn "usr/$d" "$ctx/base/$d"
done
mkdir -p "$ctx/base/tmp" "$ctx/base/etc"
chmod 1777 "$ctx/base/tmp"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/usr/sbin/nologin\n' >"$ctx/base/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$ctx/base/etc/group"
printf 'hosts: files dns\n' >"$ctx/base/etc/nsswitch.conf"

# 2. Node: the binary only (no npm, no headers).
runtime=$(bash scripts/ensure-node-runtime.sh linux-x64)
install -m 0755 "$runtime/bin/node" "$ctx/node/usr/local/bin/node"
install -D -m 0644 "$runtime/LICENSE" "$ctx/node/usr/local/share/doc/node/LICENSE"

# 3. The app: exactly what `npm pack` ships, plus production dependencies from the lockfile.
tarball=$(npm pack --silent --pack-destination "$x" | tail -1)
tar -xzf "$x/$tarball" -C "$x"
mv "$x/package" "$ctx/app/opt/cnidoctor"
cp package-lock.json "$ctx/app/opt/cnidoctor/"
(cd "$ctx/app/opt/cnidoctor" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --silent)
rm -f "$ctx/app/opt/cnidoctor/package-lock.json"
mkdir -p "$ctx/app/usr/local/bin"
for b in cnidoctor cnidoctor-agent kubectl-cnidoctor; do
  target=$(node -p "require('./package.json').bin['$b']")
  chmod 0755 "$ctx/app/opt/cnidoctor/$target"
  ln -sfn "/opt/cnidoctor/$target" "$ctx/app/usr/local/bin/$b"
done

cat >"$ctx/Containerfile" <<CF
FROM scratch
COPY base/ /
COPY node/ /
COPY app/ /
ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /tmp
LABEL org.opencontainers.image.title="cnidoctor" \\
  org.opencontainers.image.source="https://github.com/cnidoctor/cnidoctor" \\
  org.opencontainers.image.version="$version" \\
  org.opencontainers.image.revision="$revision" \\
  org.opencontainers.image.licenses="Apache-2.0"
ENTRYPOINT ["cnidoctor"]
CF
# Same mtimes every build, so an unchanged layer hashes the same and podman reuses it.
find "$ctx" -exec touch -h -d '2020-01-01T00:00:00Z' {} +
podman build --quiet --layers -f "$ctx/Containerfile" -t "$image" "$ctx" >/dev/null
file="$out/cnidoctor-$version-amd64.tar"
rm -f "$file"
podman save --quiet --format oci-archive -o "$file" "$image"
node dist/scripts/image/sbom.js --root "$ctx" --debs "$debs" --packages "${packages[*]}" \
  --image "$image" --revision "$revision" --out "$out/cnidoctor-$version-amd64.spdx.json"
echo "$image" >"$out/cnidoctor-images.txt"
echo "$image -> $file ($(du -m "$file" | cut -f1) MB), SBOM and images list in $out/"
