# crudjt-server: a standalone crudjt master serving gRPC on :50051.
#
#   docker build -t crudjt/crudjt-server .
#   docker compose up -d          (see docker-compose.yml)
#
# Stage 1 builds the package exactly as it is published (npm pack: compiled
# TypeScript + the prebuilt addon); stage 2 installs only that tarball, with
# no compiler, into node:20-slim and runs it as the non-root user `node`.

# ---- builder -----------------------------------------------------------------
FROM node:20-bookworm-slim AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake g++ make python3 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# Dependencies only; the addon and TypeScript are built below, once the
# sources are in.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# npm_config_nodedir: the node:20 image ships Node's headers (with OpenSSL's)
# under /usr/local/include/node, so cmake-js downloads nothing.
ENV npm_config_nodedir=/usr/local
RUN npm run build \
 && npm run prebuildify \
 && npm pack --ignore-scripts --pack-destination /tmp \
 && mv /tmp/crudjt-*.tgz /tmp/crudjt.tgz

# ---- runtime -------------------------------------------------------------------
FROM node:20-slim
ENV NODE_ENV=production \
    CRUDJT_DOCKER_HOST=0.0.0.0 \
    CRUDJT_DOCKER_PORT=50051
COPY --from=builder /tmp/crudjt.tgz /tmp/crudjt.tgz
RUN npm install --global --omit=dev --no-audit --no-fund /tmp/crudjt.tgz \
 && rm /tmp/crudjt.tgz \
 && npm cache clean --force \
 && mkdir -p /app/store_jt /app/secrets \
 && chown -R node:node /app \
 && chmod 0700 /app/store_jt /app/secrets
WORKDIR /app
# The image's unprivileged `node` user (uid 1000, usually the host's first
# user, so bind-mounted ./store_jt and ./crudjt_secrets stay writable).
USER node
VOLUME ["/app/store_jt", "/app/secrets"]
EXPOSE 50051
# The key comes from /app/secrets/secret_key.txt (mounted) or CRUDJT_SECRET_KEY.
ENTRYPOINT ["crudjt-server"]
