# syntax=docker/dockerfile:1
# pgvitals container image: build on Debian 12 with the project's own dependency script, run on
# debian:12-slim with only the shared libraries the binary links, as a non-root user.
#
#   docker build -t ghcr.io/pgvitals/pgvitals:0.1.0 .
#   docker run --rm -p 9188:9188 -e DATABASE_URL='postgresql://pgvitals:...@db:5432/app' \
#     ghcr.io/pgvitals/pgvitals:0.1.0
#   docker run --rm -p 9188:9188 -v "$PWD/pgvitals.yaml:/etc/pgvitals/pgvitals.yaml:ro" \
#     -e PGVITALS_CONFIG=/etc/pgvitals/pgvitals.yaml ghcr.io/pgvitals/pgvitals:0.1.0
#
# scripts/image-test builds this file with buildah on a Debian 12 base made by mmdebstrap and
# runs the result (no Docker daemon or registry needed); see the README, "Docker".
#
# Give a config file through PGVITALS_CONFIG rather than `run --config`: the HEALTHCHECK runs
# `pgvitals probe`, which reads the same environment (listen port, TLS, credentials) but not
# the run command's flags.

FROM debian:12 AS build
WORKDIR /src
COPY . .
# Build dependencies from Debian packages only, and only those of the binary: --build-only
# leaves out the servers and test tools (PostgreSQL, Prometheus, chromium...). The script is
# idempotent and runs as root here.
RUN scripts/install-deps --build-only
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPGVITALS_BUILD_TESTS=OFF -DPGVITALS_BUILD_BENCH=OFF \
 && cmake --build build --target pgvitals \
 && strip build/src/pgvitals \
 && build/src/pgvitals --version

FROM debian:12-slim AS runtime
ARG VERSION=0.1.0
ARG REVISION=""
ARG CREATED=""
LABEL org.opencontainers.image.title="pgvitals" \
      org.opencontainers.image.description="PostgreSQL health agent: background connectivity, pool and pg_stat_activity probes; /healthz, /livez, /readyz and Prometheus /metrics" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="docker.io/library/debian:12-slim"

# The libraries the binary links (readelf -d: NEEDED), by Debian package; their own
# dependencies (krb5, ldap, brotli...) come with them. libc6 (libc, libm) is in the base.
#   libpq.so.5 libpq5 · libcares.so.2 libc-ares2 · libyaml-cpp.so.0.7 libyaml-cpp0.7
#   libspdlog.so.1.10 libspdlog1.10 (and its libfmt9) · libprometheus-cpp-core.so.1.0
#   libprometheus-cpp-core1.0 · libcpp-httplib.so.0.11 libcpp-httplib0.11
#   libssl.so.3 libcrypto.so.3 libssl3 (HTTPS) · libz.so.1 zlib1g (gzip /metrics)
#   libstdc++.so.6 libstdc++6 · libgcc_s.so.1 libgcc-s1
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpq5 libc-ares2 libyaml-cpp0.7 libspdlog1.10 libfmt9 libprometheus-cpp-core1.0 \
      libcpp-httplib0.11 libssl3 zlib1g libstdc++6 libgcc-s1 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/* /var/log/apt /var/log/dpkg.log

COPY --from=build /src/build/src/pgvitals /usr/local/bin/pgvitals
# Fails the image build if a shared library is missing.
RUN /usr/local/bin/pgvitals --version

# No passwd entry is needed; 65532 matches runAsUser in config/kubernetes.
USER 65532:65532
EXPOSE 9188
# The agent's own liveness (/livez), never the databases: a container marked unhealthy during
# a database outage would be restarted by Swarm, Nomad or autoheal exactly when it is needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/pgvitals", "probe", "--timeout", "3s"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/pgvitals"]
CMD ["run"]
