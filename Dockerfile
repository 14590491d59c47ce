# syntax=docker/dockerfile:1
# The ringops image: one static binary (CGO_ENABLED=0, time zones embedded
# through time/tzdata), CA certificates, user 65532, no shell. Its contents
# and the contract of `ringops run` are in charts/ringops/README.md.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) -t ghcr.io/ringops/ringops:<version> .
#
# Builders that need no Docker daemon read this file too (buildah bud,
# podman build, kaniko, BuildKit's buildctl): it uses no BuildKit-only
# syntax (the platform arguments default to linux/amd64 when a builder
# does not set them).

# Go 1.26.10 or later: the standard library of 1.26.8 and earlier patches
# has advisories fixed in 1.26.9/1.26.10. Release builds pin both base
# images by digest (--build-arg GO_IMAGE=golang:1.26.10-bookworm@sha256:...,
# --build-arg BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:...):
# resolve them with `crane digest` or `docker buildx imagetools inspect`
# where the registries are reachable.
ARG GO_VERSION=1.26.10
ARG GO_IMAGE=golang:${GO_VERSION}-bookworm
ARG BASE_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM --platform=$BUILDPLATFORM ${GO_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
ARG COMMIT=unknown
ENV GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false
WORKDIR /src
# Dependencies first: a layer that changes only with go.mod/go.sum.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The Makefile's `build` target, cross-compiled for the target platform.
RUN GOOS=${TARGETOS:-linux} GOARCH=${TARGETARCH:-amd64} go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/ringops ./cmd/ringops

# distroless static: CA certificates (/etc/ssl/certs/ca-certificates.crt),
# /etc/passwd with nonroot (65532), no shell, no package manager.
FROM ${BASE_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="ringops" \
      org.opencontainers.image.description="Multi-region Apache Cassandra on Kubernetes from a Git repository" \
      org.opencontainers.image.source="https://github.com/ringops/ringops" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/ringops /usr/local/bin/ringops
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/ringops"]
CMD ["--help"]
