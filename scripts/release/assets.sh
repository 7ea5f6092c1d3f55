#!/bin/sh
# Release step: the files a release ships. The image archives are built from
# dist/ (run `npm run build` first) with `k3vip image build`, no registry or
# daemon:
#   <out>/k3vip-v<version>-all.tar     one multi-arch OCI index (linux/amd64,
#                                       linux/arm64, linux/arm/v7): push-image.sh
#                                       pushes it to the registry
#   <out>/k3vip-v<version>-<arch>.tar  one per arch: the airgap archives attached
#                                       to the GitHub release (the name
#                                       `k3vip install --airgap` and install.sh
#                                       give it in agent/images/)
#   <out>/install.sh                   the committed (generated) install.sh
#   <out>/SHA256SUMS                   of all of them
# The per-arch archives are built from the same cached layers as the index,
# so each one's manifest is the very manifest the index names for its arch
# (verify-image.mjs checks that).
#
# Usage: scripts/release/assets.sh <out-dir>
# Needs what `k3vip image build` needs: npm, apt-get, dpkg-deb, strip
# (binutils-multiarch) and zstd, on Debian 12. Set SOURCE_DATE_EPOCH for
# the files' timestamps (default 0: the same bytes on every build).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 <out-dir>" >&2; exit 2; }
out=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
# K3VIP_CLI: another build of the CLI (the agent bundle beside it goes into the image).
cli=${K3VIP_CLI:-${repo}/dist/k3vip.mjs}
[ -f "${cli}" ] || { echo "$0: ${cli} is missing: run npm run build first" >&2; exit 1; }
version=$(node -p 'require(process.argv[1]).version' "${repo}/package.json")
mkdir -p "${out}"

node "${cli}" image build --arch all --out "${out}/k3vip-v${version}-all.tar" --quiet
for arch in amd64 arm64 arm; do
    node "${cli}" image build --arch "${arch}" --out "${out}/k3vip-v${version}-${arch}.tar" --quiet
done
cp "${repo}/install.sh" "${out}/install.sh"
(cd "${out}" && sha256sum "k3vip-v${version}-all.tar" "k3vip-v${version}-amd64.tar" "k3vip-v${version}-arm64.tar" "k3vip-v${version}-arm.tar" install.sh >SHA256SUMS)
echo "wrote ${out}/k3vip-v${version}-{all,amd64,arm64,arm}.tar, install.sh and SHA256SUMS" >&2
