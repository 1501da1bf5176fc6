#!/usr/bin/env bash
# The test image for the single file: glibc and the C++ runtime the Node binary links against
# (libc6, libstdc++6, libgcc-s1, libatomic1), from the same Debian packages and the same download
# cache as the product image (scripts/image/build.sh), and nothing else: no Node, no shell.
# Built with buildah from scratch; prints the image name. The executable is mounted at run time.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CONTAINERS_CONF=${CONTAINERS_CONF:-$PWD/scripts/image/containers.conf}
for tool in buildah dpkg-deb apt-get; do
  command -v "$tool" >/dev/null || {
    echo "glibc-image.sh: '$tool' not found (apt-get install -y podman buildah runc)" >&2
    exit 4
  }
done
image=localhost/cnidoctor-sea-glibc:test
cache=${CNIDOCTOR_CACHE:-$HOME/.cache/cnidoctor}
debs="$cache/image/debs"
packages=(libc6 libstdc++6 libgcc-s1 libatomic1)
mkdir -p "$debs"
for p in "${packages[@]}"; do
  ls "$debs/${p}"_*.deb >/dev/null 2>&1 || (cd "$debs" && apt-get download -q "$p" >/dev/null)
done
# Rebuilt only when the packages change.
stamp=$(cd "$debs" && for p in "${packages[@]}"; do ls "${p}"_*.deb; done | sha256sum | cut -c1-16)
if [ "$(buildah inspect --type image --format '{{index .OCIv1.Config.Labels "cnidoctor.test"}}' "$image" 2>/dev/null)" = "debs:$stamp" ]; then
  echo "$image"
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
for p in "${packages[@]}"; do dpkg-deb -x "$debs/${p}"_*.deb "$root"; done
rm -rf "$root/usr/share" "$root/sbin" "$root/usr/sbin" "$root/usr/bin" "$root/usr/libexec" "$root/usr/lib/x86_64-linux-gnu/gconv"
# Debian's usrmerge: /lib and /lib64 point into /usr.
for d in lib lib64; do
  if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
    mkdir -p "$root/usr/$d" && cp -a "$root/$d/." "$root/usr/$d/" && rm -rf "${root:?}/$d"
  fi
  ln -sfn "usr/$d" "$root/$d"
done
mkdir -p "$root/tmp" "$root/usr/local/bin"
chmod 1777 "$root/tmp"
c=$(buildah from scratch)
buildah copy --quiet "$c" "$root" / >/dev/null
buildah config --user 65532:65532 --workingdir /tmp --env PATH=/usr/local/bin:/usr/bin:/bin \
  --label "cnidoctor.test=debs:$stamp" "$c"
buildah commit --quiet --rm "$c" "$image" >/dev/null
echo "$image"
