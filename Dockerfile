# The RECON-Bench image: the harness and the four reference methods (submissions/{backward,recon_select,
# recon_grpo,e2e_grpo} run `python -m benchmark.synthesize --method <m>` in it).
#
# Builds with no network: Python packages come from a wheelhouse image (`reconbench images wheelhouse`, made from
# scripts/wheelhouse.sh) and are installed with --no-index into a venv. Model weights are NOT baked in: the harness
# mounts them read-only at run time ($RECONBENCH_MODELS).
#
#   reconbench images build                       # = docker build --network none -t reconbench:<version> .
#   BASE_IMAGE: reconbench-base:bookworm here (scripts/build-base-image.sh); a CUDA or vLLM image with Python 3.11
#               for GPU users (then build the wheelhouse with that torch: RECONBENCH_TORCH=... scripts/wheelhouse.sh)
ARG BASE_IMAGE=reconbench-base:bookworm
ARG WHEELHOUSE_IMAGE=reconbench-wheelhouse:latest

FROM ${WHEELHOUSE_IMAGE} AS wheelhouse

# the dependencies alone: this layer changes only with the wheelhouse (its requirements.txt comes from
# pyproject.toml's dependency list, written by scripts/wheelhouse.sh)
FROM ${BASE_IMAGE} AS deps
COPY --from=wheelhouse /wheels /wheels
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links /wheels -r /wheels/requirements.txt \
 && find /opt/venv -name __pycache__ -prune -exec rm -rf {} +

# the final image holds the venv, not the wheelhouse; a code change rebuilds only the last layers
FROM ${BASE_IMAGE}
COPY --from=deps /opt/venv /opt/venv
COPY pyproject.toml README.md /src/
COPY benchmark /src/benchmark
RUN /opt/venv/bin/pip install --no-cache-dir --no-index --no-deps --no-build-isolation /src \
 && /opt/venv/bin/pip check \
 && rm -rf /src /opt/venv/lib/python3*/site-packages/benchmark/__pycache__ \
 && useradd --uid 10001 --home-dir /tmp --no-create-home --shell /usr/sbin/nologin reconbench
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    RECONBENCH_MODELS=/reconbench/models
USER 10001:10001
WORKDIR /tmp
CMD ["reconbench", "--help"]
