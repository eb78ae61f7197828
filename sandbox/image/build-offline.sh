#!/usr/bin/env bash
# Build the runner image without any container registry:
#   debootstrap a minimal Debian with python3 from the Debian mirror, prune it,
#   and `docker import` it. Needs root, debootstrap and the docker CLI; ~40 s.
# Usage: build-offline.sh [TAG]   (env: DEBIAN_MIRROR, DEBIAN_SUITE)
set -euo pipefail
TAG="${1:-hidden-grader-runner:1}"
SUITE="${DEBIAN_SUITE:-bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if [ "$(id -u)" -ne 0 ]; then echo "build-offline.sh: must run as root" >&2; exit 1; fi
for tool in debootstrap docker tar; do
  command -v "$tool" >/dev/null || { echo "build-offline.sh: $tool not found (apt-get install -y debootstrap docker.io)" >&2; exit 1; }
done

ROOTFS="$(mktemp -d /var/tmp/grader-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

echo "debootstrap $SUITE from $MIRROR into $ROOTFS ..."
debootstrap --variant=minbase --include=python3 "$SUITE" "$ROOTFS" "$MIRROR" >"$ROOTFS.log" 2>&1 \
  || { tail -n 30 "$ROOTFS.log" >&2; rm -f "$ROOTFS.log"; exit 1; }
rm -f "$ROOTFS.log"

# Keep it lean: caches, package lists, docs, man pages and translations are
# never used by a sandboxed program.
rm -rf "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/log/* \
       "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
       "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/cache/debconf/*-old
mkdir -p "$ROOTFS/work" && chmod 0755 "$ROOTFS/work"

echo "importing as $TAG ..."
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  -c 'USER 65534:65534' \
  -c 'WORKDIR /work' \
  -c 'CMD ["python3"]' \
  -m "grader runner: debootstrap $SUITE minbase + python3" \
  - "$TAG"
docker run --rm --network none "$TAG" python3 -c 'import sys; print("image ok:", sys.version.split()[0])'
