# Multi-stage build of the gorgias-kafka binaries.
# The sinks link DuckDB through cgo, so binaries are built with glibc and run on a
# slim Debian base (not scratch/distroless-static).
#
#   docker build --target producer -t gorgias-kafka/producer .
#   docker build --target consumer -t gorgias-kafka/consumer .
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/ ./producer ./cmd/gorgias-sim

FROM debian:bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app gorgias
WORKDIR /app
USER 10001

FROM runtime AS producer
COPY --from=build /out/producer /usr/local/bin/producer
COPY configs/producer.yaml /app/configs/producer.yaml
ENTRYPOINT ["producer", "--config", "/app/configs/producer.yaml"]

FROM runtime AS simulator
COPY --from=build /out/gorgias-sim /usr/local/bin/gorgias-sim
ENTRYPOINT ["gorgias-sim", "--addr", "0.0.0.0:8089"]
