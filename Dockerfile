# csr-signer image: `docker build -t csr-signer:$(node -p "require('./package.json').version") .`
# The runtime stage holds package.json, production node_modules (with the PKCS#11 binding's
# native addon built in the build stage) and dist/ only: no keys, no state, no dev
# dependencies, no compiler. test/docker/ checks this file.

# The Node release is pinned exactly; npm's scripts run on the same one (package.json's
# "node" dev dependency; test/runtime.test.ts keeps them in step).
# A tag can be re-pushed: for a release, pin the base by digest as well, passing
#   --build-arg NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:<digest>
# where <digest> is the "Digest:" line of `docker buildx imagetools inspect node:24.21.0-bookworm-slim`
# (the multi-platform index). No digest is recorded here: it was not verifiable when this was written.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
# pkcs11js, the PKCS#11 binding (CA keys on HSMs, docs/hsm.md), is a native addon that
# node-gyp compiles: it needs python3, make and a C++ compiler. They are installed in this
# stage only; the runtime stage copies the built addon and has no compiler.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: "prepare" builds, and the sources are not copied yet.
RUN npm ci --ignore-scripts --no-audit --no-fund
# Then pkcs11js's own build alone (the install script --ignore-scripts skipped), against the
# headers of the image's Node (in /usr/local/include/node), and fail here if it did not build:
# it is an optional dependency, which npm would otherwise leave out without failing.
RUN npm_config_nodedir=/usr/local npm rebuild pkcs11js \
 && test -f node_modules/pkcs11js/build/Release/pkcs11.node
COPY tsconfig.json tsconfig.build.json ./
COPY src/ src/
# The product only (src/ → dist/); devapi/ is a development tool and not in the image.
RUN npm run build:product

FROM ${NODE_IMAGE} AS runtime
# OCI annotations. VERSION is package.json's "version"; pass the others when building a release:
#   --build-arg REVISION=<git commit> --build-arg CREATED=<RFC 3339 UTC time> --build-arg SOURCE=<repository URL>
ARG VERSION=0.1.0
ARG REVISION=
ARG CREATED=
ARG SOURCE=
LABEL org.opencontainers.image.title="csr-signer" \
      org.opencontainers.image.description="A self-hosted Kubernetes CertificateSigningRequest signer" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="${SOURCE}"
ENV NODE_ENV=production
# V8's young generation capped at 4 MB per semi-space: under a burst of CSRs it otherwise grows
# to 16 MB and more per semi-space and the signer's peak RSS with it (bench/README.md, "Memory").
# An operator overrides it by setting NODE_OPTIONS (the chart's extraEnv), which replaces this
# value: keep --max-semi-space-size=N in it (docs/operations.md, "Memory"). ./csr-signer sets the same.
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; --ignore-scripts skips "prepare" (tsc is a dev dependency).
# Then npm, npx and corepack go: the image runs `node dist/cli.js` and nothing else.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack \
      /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack /root/.npm
# pkcs11js's native addon, which npm ci --ignore-scripts left unbuilt, as the build stage built
# it on the same base image; after npm ci, which empties node_modules first.
COPY --from=build /src/node_modules/pkcs11js/build/Release/pkcs11.node node_modules/pkcs11js/build/Release/pkcs11.node
COPY --from=build /src/dist/ dist/
RUN ln -s /app/dist/cli.js /usr/local/bin/csr-signer
# A numeric non-root user (the chart's runAsUser/runAsGroup), so runAsNonRoot can check it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["csr-signer"]
CMD ["--help"]
