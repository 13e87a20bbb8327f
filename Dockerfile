# stickyguard image: a static binary on a scratch-like runtime, running as non-root.
#   make docker-build IMG=registry.example.com/stickyguard:v0.1.0
# The base images are build arguments. With a registry the defaults below are
# used; on a machine without one, hack/local-images.sh makes equivalents
# locally (Go toolchain of the host; scratch + /etc/passwd, /etc/group and CA
# certificates, uid 65532) and passes them here. No `# syntax=` line: BuildKit
# would pull that frontend; the built-in one has everything used below.
ARG BUILDER_IMAGE=golang:1.26
ARG RUNTIME_IMAGE=gcr.io/distroless/static:nonroot

# Build stage: only go.mod/go.sum first, so module downloads are cached.
FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
# Empty unless given: the Go default. hack/local-images.sh passes the host's.
ARG GOPROXY
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
FROM ${RUNTIME_IMAGE}
LABEL org.opencontainers.image.title="stickyguard" \
      org.opencontainers.image.description="Kubernetes admission webhook for sticky-session configuration" \
      org.opencontainers.image.source="https://github.com/stickyguard/stickyguard"
COPY --from=build /out/stickyguard /stickyguard
USER 65532:65532
EXPOSE 9443 8080 8081
ENTRYPOINT ["/stickyguard","serve"]
