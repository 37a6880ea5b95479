# vitalwire central broker (and the other vitalwire commands). Build: docker build -t vitalwire .
# TypeScript runs through tsx at start; there is no build step. Secrets (PKI, users file) are mounted, never baked in.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
# Never ship development keys or local state that a checkout may hold.
RUN rm -rf .vitalwire pki gateways users.yaml test-results

USER node
EXPOSE 8883 8884 9464
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9464/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/vitalwire"]
CMD ["central", "--config", "/etc/vitalwire/central.yaml"]
