#!/usr/bin/env bash
# Installs the Debian packages k3vip's lab, tests and image builder use.
# Run as root on Debian 12; CI runs it from .ci/run.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (apt-get install, and the lab needs ip netns)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck/dash/busybox: install.sh lint and runs; iproute2/arping/tcpdump/
# ndisc6: the netns lab; mariadb/postgresql/etcd: datastore preflight;
# runc/umoci/skopeo/qemu-user-static/zstd/binutils-multiarch: the image;
# docker-registry: a real OCI registry for the release path's round trip
# (test/lab/release.test.ts starts it on loopback; its service is not used);
# bird2/gobgpd: BGP peers; openssl: lab certificates; strace: slows fsync so
# the installer's SIGKILL test lands between steps; util-linux: flock(1);
# faketime (libfaketime): bench:chaos steps one agent's wall clock.
apt-get install -y -q --no-install-recommends \
  shellcheck dash busybox-static iproute2 iputils-arping tcpdump ndisc6 \
  mariadb-server mariadb-client postgresql etcd-server etcd-client \
  runc umoci skopeo qemu-user-static zstd binutils-multiarch docker-registry bird2 gobgpd \
  openssl ca-certificates strace util-linux procps faketime >/dev/null
