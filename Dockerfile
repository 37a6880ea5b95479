# vitalwire central (and the other vitalwire commands). Build: docker build -t vitalwire .
# The image runs compiled JavaScript (dist/, built in the first stage); no TypeScript loader and no development
# dependency is in it. Secrets (PKI, users file) are mounted, never baked in.
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
# jemalloc for the central (its compose services preload it, as deploy/vitalwire-central.service does): glibc's malloc
# keeps about 40 KiB more per idle TLS connection resident (docs/broker.md "Memory per idle connection").
RUN apt-get update && apt-get install -y --no-install-recommends libjemalloc2 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: the package's own `prepare` (the build) already ran in the first stage.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY bin/vitalwire ./bin/vitalwire
COPY deploy ./deploy

USER node
EXPOSE 8883 8884 8080 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The command itself, not `node bin/vitalwire`: its launcher picks Node's flags for the CPUs the container may use
# (a --cpus quota of one CPU or less: the garbage collector on the main thread, docs/broker.md "One CPU").
ENTRYPOINT ["bin/vitalwire"]
CMD ["central", "--config", "/etc/vitalwire/central.yaml"]
