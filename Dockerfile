# syntax=docker/dockerfile:1
# The k3vip agent image for people who publish to their own registry:
#   docker buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 \
#     -t <registry>/k3vip:v<version> --push .
# Without a registry, `k3vip image build` writes the same image as an archive
# (k3vip install puts it in the airgap images dir). Both get their files from
# the same code: the build stage runs `k3vip image rootfs`, which fetches Node
# from npm's node-linux-* packages and the libraries, ip and arping from
# Debian, exactly as the archive builder does (src/image/).

# Runs on the build machine whatever the target: it only downloads and copies.
FROM --platform=$BUILDPLATFORM node:20-bookworm-slim AS build
# binutils-multiarch: strip for the target arch's Node binary.
RUN apt-get update \
 && apt-get install -y --no-install-recommends binutils-multiarch ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" would build before src/ is copied; esbuild runs without its postinstall.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY scripts/ scripts/
COPY src/ src/
# Writes dist/k3vip.mjs (the CLI that builds the rootfs) and dist/agent.mjs (the agent the rootfs gets).
RUN node scripts/build.mjs
ARG TARGETARCH
ARG TARGETVARIANT
# armv7 only: Node's armv7l build does not run on armv6 (Pi Zero/1).
RUN if [ "$TARGETARCH" = arm ] && [ "$TARGETVARIANT" != v7 ]; then echo "only linux/arm/v7 is supported, not arm/$TARGETVARIANT" >&2; exit 1; fi
RUN node dist/k3vip.mjs image rootfs --arch "$TARGETARCH" --out /rootfs

# No shell, no package manager: node, the agent, ip, arping, their libraries, CA certificates.
FROM scratch
COPY --from=build /rootfs/ /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# = AGENT_COMMAND of src/image/agent-entry.ts (Node flags measured there; test/unit/image-dockerfile.test.ts checks).
ENTRYPOINT ["/usr/local/bin/node", "--no-opt", "--no-maglev", "--no-sparkplug", "--max-semi-space-size=1", "/opt/k3vip/k3vip.mjs"]
CMD ["agent"]
