# syntax=docker/dockerfile:1
# RouteFree: one static binary on a distroless, non-root base.
#   docker build -t routefree .
#   docker run -p 8080:8080 -v routefree-data:/data routefree serve --bootstrap-demo

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first: this layer stays cached while only the code changes.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Pure Go (modernc SQLite, pgx): no cgo, so the binary runs on a static base.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/routefree ./cmd/routefree && \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/fakeupstream ./cmd/fakeupstream && \
    mkdir -p /out/data

# distroless/static: CA certificates, no shell, user nonroot (65532).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/routefree /out/fakeupstream /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV ROUTEFREE_LISTEN=0.0.0.0:8080 \
    ROUTEFREE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080
# SIGTERM drains in-flight requests and streams (see --shutdown-grace).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/routefree"]
CMD ["serve"]
