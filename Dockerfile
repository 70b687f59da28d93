# syntax=docker/dockerfile:1
#
# Images of gorgias-kafka (see docs/deployment.md). Needs BuildKit (Docker 23+ default):
#
#   docker build --target producer  -t gorgias-kafka/producer  .
#   docker build --target consumer  -t gorgias-kafka/consumer  .
#   docker build --target simulator -t gorgias-kafka/simulator .
#
# BuildKit builds only the stages a target needs: the producer never waits for the cgo
# build of the consumer. Go's module and build caches live in cache mounts, so a rebuild
# after a code change recompiles only what changed. Every image runs as a non-root user
# (65532, "nonroot" of the distroless images). The producer and consumer images carry
# /usr/local/bin/healthprobe, a static HTTP probe of the binary's /readyz used by the
# HEALTHCHECKs below and by docker-compose.yml (the images have no shell or curl).

ARG GO_VERSION=1.26

# ---- sources and modules ---------------------------------------------------------------
FROM golang:${GO_VERSION}-bookworm AS src
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=bind,source=go.mod,target=go.mod \
    --mount=type=bind,source=go.sum,target=go.sum \
    go mod download

# ---- static binaries: producer, simulator, health probe (no cgo) ------------------------
FROM src AS build-static
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/ \
        ./producer ./cmd/gorgias-sim ./cmd/healthprobe \
    && mkdir -p /out/data

# ---- consumer: cgo, links DuckDB ---------------------------------------------------------
# duckdb-go links DuckDB's prebuilt static library (duckdb-go-bindings, linux amd64 and
# arm64), so the binary needs no libduckdb at run time, but DuckDB is C++: it still links
# glibc, libstdc++, libm and libgcc_s dynamically (ldd). The builder is Debian bookworm
# (glibc 2.36), so the runtime must be a bookworm glibc image with libstdc++ (below).
FROM src AS build-consumer
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=bind,target=. \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/consumer ./consumer

# ---- producer: static binary on distroless/static (no libc needed) -----------------------
FROM gcr.io/distroless/static-debian12:nonroot AS producer
COPY --from=build-static /out/producer /out/healthprobe /usr/local/bin/
COPY configs/producer.yaml /etc/gorgias-kafka/producer.yaml
USER 65532:65532
# /metrics, /healthz, /readyz (metrics.listen).
EXPOSE 9464
# Probes METRICS_LISTEN if set, else :9464; docker-compose.yml sets its own check too.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/healthprobe", "--default-listen=:9464"]
# Built-in defaults equal configs/producer.yaml; environment variables override them.
# Sub-commands work as arguments: docker run ... gorgias-kafka/producer status
ENTRYPOINT ["/usr/local/bin/producer"]

# ---- consumer (sinks): glibc runtime for DuckDB -----------------------------------------
# distroless/cc-debian12 = distroless/base (glibc, ca-certificates for BigQuery and Kafka
# TLS, tzdata) + libgcc_s and libstdc++: exactly what the cgo binary links, from the
# same Debian release as the builder, without a shell or package manager.
# (debian:bookworm-slim would work too, with a larger attack surface.)
FROM gcr.io/distroless/cc-debian12:nonroot AS consumer
COPY --from=build-consumer /out/consumer /usr/local/bin/consumer
COPY --from=build-static /out/healthprobe /usr/local/bin/healthprobe
# The DuckDB file's directory, owned by the runtime user: a new named volume mounted
# here starts with this ownership.
COPY --from=build-static --chown=65532:65532 /out/data /data
COPY configs/sink-duckdb.yaml configs/sink-bigquery.yaml configs/sink-postgres.yaml /etc/gorgias-kafka/
USER 65532:65532
WORKDIR /data
EXPOSE 9465
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/healthprobe", "--default-listen=:9465"]
# Defaults: DEST_URI=duckdb:///gorgias.duckdb, i.e. /data/gorgias.duckdb (the work dir).
ENTRYPOINT ["/usr/local/bin/consumer"]

# ---- Gorgias API simulator (tests, demos) ------------------------------------------------
FROM gcr.io/distroless/static-debian12:nonroot AS simulator
COPY --from=build-static /out/gorgias-sim /usr/local/bin/
USER 65532:65532
EXPOSE 8089
ENTRYPOINT ["/usr/local/bin/gorgias-sim", "--addr", "0.0.0.0:8089"]
