# The manager image, in the original's spirit (multi-stage, small, non-root) but for this stack:
# build the TypeScript to dist/ with dev dependencies, then ship dist/ with production
# dependencies only, on the Node LTS the project pins (package.json devDependencies.node), in a
# final stage without a shell or a package manager (docs/production.md, "The image").
ARG NODE_VERSION=26.10.0

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /workspace
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /workspace
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# What the final stage takes from the official Node image: the node binary, and libatomic, the one
# library it links that distroless/cc lacks (glibc, libstdc++ and libgcc_s are there, from the
# same Debian release). Not npm, not corepack, not a shell.
FROM node:${NODE_VERSION}-bookworm-slim AS node-runtime
RUN mkdir -p /rootfs/usr/local/bin /rootfs/usr/lib \
  && cp /usr/local/bin/node /rootfs/usr/local/bin/node \
  && atomic="$(ldd /usr/local/bin/node | awk '$1 == "libatomic.so.1" { print $3 }')" \
  && if [ -n "$atomic" ]; then cp -L "$atomic" /rootfs/usr/lib/; fi

# No gcr.io/distroless/nodejs26 image is known to exist yet; distroless/cc (Debian 12, as the
# Node image above) is its base. No /bin/sh, no apt, no npm: the entry point is exec form.
FROM gcr.io/distroless/cc-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=node-runtime /rootfs/ /
COPY --from=deps /workspace/node_modules ./node_modules
COPY --from=build /workspace/dist ./dist
COPY package.json ./
# Exec form, no shell: fails the build if node cannot load its libraries or the manager its modules.
RUN ["/usr/local/bin/node", "dist/cmd/manager.js", "--help"]
# distroless's unprivileged `nonroot` user. Nothing is written outside /tmp (an emptyDir in the
# Deployment), so the root filesystem can be read-only.
USER 65532:65532
# The V8 flags are src/cmd/node-flags.ts's (image.test.ts checks): a heap kept close to its live data.
ENTRYPOINT ["/usr/local/bin/node", "--max-semi-space-size=4", "--heap-growing-percent=25", "--max-old-space-size-percentage=60", "dist/cmd/manager.js"]
