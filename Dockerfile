# The RECON-Bench image: the harness and the four reference methods (submissions/{backward,recon_select,
# recon_grpo,e2e_grpo} run `python -m benchmark.synthesize --method <m>` in it).
#
# Builds with no network: Python packages come from a wheelhouse image (`reconbench images wheelhouse`, built from
# scripts/wheelhouse.sh) and are installed with --no-index into a venv. Model weights are NOT baked in: the harness
# mounts them read-only at run time ($RECONBENCH_MODELS).
#
#   reconbench images build                       # = docker build --network none -t reconbench:<version> .
#   BASE_IMAGE: reconbench-base:bookworm here (scripts/build-base-image.sh); a CUDA or vLLM image with Python 3.11
#               for GPU users (then build the wheelhouse with that torch: RECONBENCH_TORCH=... scripts/wheelhouse.sh)
ARG BASE_IMAGE=reconbench-base:bookworm
ARG WHEELHOUSE_IMAGE=reconbench-wheelhouse:latest

FROM ${WHEELHOUSE_IMAGE} AS wheelhouse

FROM ${BASE_IMAGE} AS build
COPY --from=wheelhouse /wheels /wheels
COPY pyproject.toml README.md /src/
COPY benchmark /src/benchmark
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels torch==2.13.0 \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels /src \
 && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

# the final image holds the venv, not the wheelhouse
FROM ${BASE_IMAGE}
COPY --from=build /opt/venv /opt/venv
RUN useradd --uid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin reconbench
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    RECONBENCH_MODELS=/reconbench/models
USER 10001:10001
WORKDIR /tmp
CMD ["reconbench", "--help"]
