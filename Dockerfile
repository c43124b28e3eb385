# syntax=docker/dockerfile:1
# cis-fix as a small container image: a static (musl) binary on distroless
# "static" (CA certificates, /etc/passwd with a non-root user, no shell),
# for the scheduler examples in examples/schedules/.
#
#   docker build -t cis-fix .
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \
#     -e AWS_SESSION_TOKEN -v "$PWD/cis-fix.yaml:/config/cis-fix.yaml:ro" \
#     cis-fix plan --config /config/cis-fix.yaml
#
# The binary is built natively for the platform being built
# (docker buildx build --platform linux/arm64 builds it under emulation).

ARG RUST_VERSION=1.88.0

FROM rust:${RUST_VERSION}-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# musl-gcc for the C in the dependency tree (aws-lc-sys, ring).
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The registry and target directories are build caches, so the binary is
# copied out of them to /out.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    target="$(uname -m)-unknown-linux-musl" \
 && export "CC_${target//-/_}=musl-gcc" \
 && rustup target add "$target" \
 && cargo build --release --locked --target "$target" \
 && install -D -m 0755 "target/$target/release/cis-fix" /out/cis-fix

FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="cis-fix" \
      org.opencontainers.image.description="Plan and apply the CIS AWS Foundations Benchmark to an AWS account, Terraform-style" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/cis-fix /usr/local/bin/cis-fix
# distroless's nonroot user, numerically so a runtime can check it is not 0.
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/cis-fix"]
CMD ["--help"]
