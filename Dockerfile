# syntax=docker/dockerfile:1
# stickyguard image: a static binary on distroless, running as non-root.
#   make docker-build IMG=registry.example.com/stickyguard:v0.1.0
# Build stage: only go.mod/go.sum first, so module downloads are cached.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS=linux
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/stickyguard ./cmd/stickyguard

# Runtime: no shell, no package manager; UID/GID 65532 (nonroot).
FROM gcr.io/distroless/static:nonroot
LABEL org.opencontainers.image.title="stickyguard" \
      org.opencontainers.image.description="Kubernetes admission webhook for sticky-session configuration" \
      org.opencontainers.image.source="https://github.com/stickyguard/stickyguard"
COPY --from=build /out/stickyguard /stickyguard
USER 65532:65532
EXPOSE 9443 8080 8081
ENTRYPOINT ["/stickyguard","serve"]
