#!/bin/sh
# Release step, first: the pushed tag, package.json, the generated files and
# the image reference agree. Prints the image reference the release pushes
# (the manifest's default image, e.g. ghcr.io/k3vip/k3vip:v0.1.0) on stdout:
# the workflow pushes exactly what every installed DaemonSet names.
#
# Usage: scripts/release/check-version.sh <tag>     (e.g. v0.1.0, $GITHUB_REF_NAME)
set -eu

[ $# -eq 1 ] || { echo "usage: $0 <tag>" >&2; exit 2; }
tag=$1
repo=$(cd "$(dirname "$0")/../.." && pwd)
version=$(node -p 'require(process.argv[1]).version' "${repo}/package.json")
fail() {
    echo "$0: $*" >&2
    exit 1
}

[ "${tag}" = "v${version}" ] || fail "the tag ${tag} is not v${version}, package.json's version: bump package.json (and run npm run gen), or tag v${version}"
sh_version=$(sed -n "s/^K3VIP_VERSION='\(.*\)'$/\1/p" "${repo}/install.sh")
[ "${sh_version}" = "${version}" ] || fail "install.sh is for ${sh_version:-no version}, not ${version}: run npm run gen and commit it"
image=$(sed -n "s/^DEFAULT_IMAGE='\(.*\)'$/\1/p" "${repo}/install.sh")
case ${image} in
    *:"v${version}") ;;
    *) fail "install.sh's default image ${image:-(none)} is not tagged v${version}: run npm run gen and commit it" ;;
esac
(cd "${repo}" && node --import tsx scripts/gen.ts --check) || fail "generated files are stale: run npm run gen and commit them"
printf '%s\n' "${image}"
