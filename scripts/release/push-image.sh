#!/bin/sh
# Release step: push an image archive (the multi-arch OCI index assets.sh
# wrote, or one arch) to a registry with skopeo, every digest unchanged:
# `--all` copies the index and every arch's manifest, `--preserve-digests`
# refuses any conversion (skopeo would otherwise be free to recompress), so
# the registry serves the very bytes the airgap archives hold. Prints the
# pushed digest on stdout; verify-image.mjs then reads it back.
#
# Usage: scripts/release/push-image.sh <archive.tar> <registry/repo:tag> [skopeo copy options]
#   scripts/release/push-image.sh out/k3vip-v0.1.0-all.tar ghcr.io/k3vip/k3vip:v0.1.0
#   scripts/release/push-image.sh all.tar 127.0.0.1:5000/k3vip:v0.1.0 --dest-tls-verify=false
# Credentials: `skopeo login <registry>` first, or --dest-creds user:token.
set -eu

[ $# -ge 2 ] || { echo "usage: $0 <archive.tar> <registry/repo:tag> [skopeo copy options]" >&2; exit 2; }
archive=$1
dest=$2
shift 2
[ -f "${archive}" ] || { echo "$0: ${archive} is not a file" >&2; exit 2; }
case ${dest} in
    docker://*) dest=${dest#docker://} ;;
esac

# The archive's one image, by the tag `k3vip image build` gave it (OCI
# ref.name), and the digest of what it names (the index, or one manifest).
index=$(tar -xOf "${archive}" index.json 2>/dev/null) || { echo "$0: ${archive} has no index.json: not an OCI archive (k3vip image build --format oci)" >&2; exit 1; }
fields=$(printf '%s' "${index}" | tr ',' '\n')
tag=$(printf '%s\n' "${fields}" | sed -n 's/^"org\.opencontainers\.image\.ref\.name":"\([^"]*\)".*/\1/p' | head -n 1)
want=$(printf '%s\n' "${fields}" | sed -n 's/^"digest":"\(sha256:[0-9a-f]\{64\}\)".*/\1/p' | head -n 1)
if [ -z "${tag}" ] || [ -z "${want}" ]; then
    echo "$0: ${archive}'s index.json names no tagged image" >&2
    exit 1
fi

digestfile=$(mktemp)
trap 'rm -f "${digestfile}"' EXIT INT
skopeo copy --all --preserve-digests --digestfile "${digestfile}" "$@" "oci-archive:${archive}:${tag}" "docker://${dest}" >&2
got=$(cat "${digestfile}")
if [ "${got}" != "${want}" ]; then
    echo "$0: the registry got ${got}, not the archive's ${want}" >&2
    exit 1
fi
printf '%s\n' "${got}"
