# The manager image, in the original's spirit (multi-stage, small, non-root) but for this stack:
# build the TypeScript to dist/ with dev dependencies, then ship dist/ with production
# dependencies only on the Node LTS the project pins (package.json devDependencies.node).
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

FROM node:${NODE_VERSION}-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /workspace/node_modules ./node_modules
COPY --from=build /workspace/dist ./dist
COPY package.json ./
# The image's unprivileged `node` user (uid 1000). Nothing is written outside /tmp (an emptyDir
# in the Deployment), so the root filesystem can be read-only.
USER 1000:1000
ENTRYPOINT ["node", "dist/cmd/manager.js"]
