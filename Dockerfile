# csr-signer image: `docker build -t csr-signer:$(node -p "require('./package.json').version") .`
# The runtime stage holds package.json, production node_modules and dist/ only:
# no keys, no state, no dev dependencies. test/docker/ checks this file.

# The Node release is pinned exactly; .ci/run runs the end-to-end tests on the same one.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# The product only (src/ → dist/); devapi/ is a development tool and not in the image.
RUN npm run build:product

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; --ignore-scripts skips "prepare" (tsc is a dev dependency).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist/ dist/
RUN ln -s /app/dist/cli.js /usr/local/bin/csr-signer
# A numeric non-root user (the chart's runAsUser/runAsGroup), so runAsNonRoot can check it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["csr-signer"]
CMD ["--help"]
