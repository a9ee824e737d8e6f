# The gateway's container image: build with the dev dependencies, run with the
# production ones only. Not built on the machines this repository is developed
# on (no Docker there); test/dist.test.ts checks the same build and start.
#   docker build -t messaging-gateway .
#   docker run -p 4000:4000 --env-file .env messaging-gateway
ARG NODE_IMAGE=node:20-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# tsc to dist/, then drop the dev dependencies (tsc, tsx, vitest, codegen) from node_modules.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production PORT=4000
WORKDIR /app
# package.json: "type": "module"; schema/: the SDL, read at start-up; static/: the explorer and console pages.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY schema ./schema
COPY static ./static
# The image's unprivileged user; the app writes nothing to disk.
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, no npm or shell in between: node is PID 1 and gets SIGTERM itself,
# drains HTTP and WebSocket connections (clients get 1001), flushes traces, exits 0.
STOPSIGNAL SIGTERM
CMD ["node", "dist/index.js"]
