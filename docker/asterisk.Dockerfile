# Asterisk 22 for a hotline site: any Asterisk 22 image, plus hotline's IVR
# prompts (placeholder audio spoken by espeak-ng, scripts/make_prompts.py) and
# the classic AGI fallback script. The configuration itself is mounted by
# docker/compose.yaml, not baked in.
#
# Build from the repository root:
#   docker build -f docker/asterisk.Dockerfile -t hotline-asterisk:22 .
#
# scripts/hotline-fallback.agi needs python3 and pyst2 inside the Asterisk
# image; without them AGI() fails and the dialplan's static route sends the
# caller to the fallback queue anyway (docs/running-with-asterisk.md).
ARG ASTERISK_IMAGE=andrius/asterisk:22

# --- the prompts: 8 kHz mono 16-bit WAV in Asterisk's sounds/<lang>/ layout ---
FROM python:3.11-slim AS prompts
RUN apt-get update \
    && apt-get install -y --no-install-recommends espeak-ng sox \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
# Only the prompt catalogue: the generator needs nothing else of hotline.
COPY ivr/prompts.py ivr/prompts.py
COPY scripts/make_prompts.py scripts/make_prompts.py
RUN touch ivr/__init__.py \
    && PYTHONPATH=/build python scripts/make_prompts.py --out /sounds

# --- the PBX ------------------------------------------------------------------
FROM ${ASTERISK_IMAGE}
# Next to the core sounds: sounds/id/... and sounds/en/hotline, sounds/en/sapa.
COPY --from=prompts /sounds/ /var/lib/asterisk/sounds/
COPY scripts/hotline-fallback.agi /var/lib/asterisk/agi-bin/hotline-fallback.agi
