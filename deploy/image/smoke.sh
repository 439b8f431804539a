#!/usr/bin/env bash
# Build the Bananas image with podman and smoke-run it, on a machine that can reach Debian's
# package mirror but no image registry: the base is made with debootstrap (Debian bookworm,
# Python 3.11, pip, redis-server), then the top-level Dockerfile is built on it with
# --build-arg BASE=…, and the container is started against a private redis-server on loopback:
# it must answer /health/live and /health/ready, run a job, and drain on SIGTERM (exit 0).
#   make image-smoke        (as root; installs podman, buildah and debootstrap where missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${BANANAS_IMAGE_WORK:-.bananas/image}
base=localhost/bananas-base:bookworm
image=localhost/bananas:smoke
py=${PYTHON:-.venv/bin/python}

for tool in podman debootstrap; do
  command -v "$tool" >/dev/null || { apt-get update -qq && apt-get install -y -qq podman buildah debootstrap; }
done

if ! podman image exists "$base"; then
  mkdir -p "$work"
  [ -x "$work/rootfs/usr/bin/python3" ] || debootstrap --variant=minbase \
    --include=python3,python3-pip,python3-venv,redis-server,ca-certificates bookworm "$work/rootfs"
  tar -C "$work/rootfs" -c . | podman import - localhost/bananas-rootfs:bookworm
  # This machine's trust store goes into the base, so pip inside the build trusts what the
  # host trusts (a TLS-inspecting proxy's CA, for example).
  cp /etc/ssl/certs/ca-certificates.crt "$work/ca-certificates.crt"
  printf 'FROM localhost/bananas-rootfs:bookworm\nCOPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt\nRUN ln -sf /usr/bin/python3 /usr/local/bin/python\nENV PIP_BREAK_SYSTEM_PACKAGES=1\n' \
    | podman build --isolation chroot -t "$base" -f - "$work"
fi

podman build --format docker --isolation chroot --network host --build-arg BASE="$base" -t "$image" -f Dockerfile . >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log"; exit 1; }
echo "built $image ($(podman image inspect "$image" --format '{{.Size}}') bytes)"
"$py" deploy/image/smoke_run.py "$image"
