#!/usr/bin/env bash
# Make this machine ready for the Docker sandbox. Idempotent; run as root.
#   1. install docker.io, debootstrap and bubblewrap if missing
#   2. start dockerd (no bridge, no iptables: sandboxes use network "none")
#      in the background if no daemon answers, logging to $DOCKERD_LOG
#   3. wait until `docker info` works
#   4. build the runner image offline (debootstrap, no registry) if missing
# Env: GRADER_SANDBOX_IMAGE (tag), DOCKERD_LOG (default /var/log/grader-dockerd.log)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TAG="${GRADER_SANDBOX_IMAGE:-hidden-grader-runner:1}"
LOG="${DOCKERD_LOG:-/var/log/grader-dockerd.log}"

if [ "$(id -u)" -ne 0 ]; then echo "setup-docker.sh: run as root (sudo)" >&2; exit 1; fi

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
command -v bwrap >/dev/null || missing+=(bubblewrap)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (log: $LOG)"
  mkdir -p "$(dirname "$LOG")"
  nohup dockerd --bridge=none --iptables=false >>"$LOG" 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup-docker.sh: dockerd did not come up; last log lines:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
fi
echo "docker daemon: $(docker info --format '{{.ServerVersion}}')"

if docker image inspect "$TAG" >/dev/null 2>&1; then
  echo "runner image $TAG: present"
else
  echo "runner image $TAG: building offline"
  bash "$HERE/../sandbox/image/build-offline.sh" "$TAG"
fi
