# provider-emulator as a container: docker run -p 8000:8000 provider-emulator
# Configure it with PROVIDER_EMULATOR_* environment variables (docs/configuration.md).
FROM python:3.11-slim

LABEL org.opencontainers.image.title="provider-emulator" \
      org.opencontainers.image.description="The fal.ai and WaveSpeed AI APIs, offline"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PROVIDER_EMULATOR_HOST=0.0.0.0 \
    PROVIDER_EMULATOR_PORT=8000

# The folders volumes go on (the compose example's uploads at /uploads; /data for a
# --data-dir), made here and the user's: docker gives a new named volume the owner of the
# image's folder, and one the image lacks is made root's, which the user cannot write.
RUN useradd --create-home --uid 10001 emulator \
    && mkdir /uploads /data && chown 10001:10001 /uploads /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY emulator ./emulator
COPY contracts ./contracts
COPY catalogue ./catalogue
# The redis extra: `--state redis://…` for several replicas or `--workers N` on one Redis.
RUN pip install --no-cache-dir "./[redis]" && rm -rf /app/*

USER 10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PROVIDER_EMULATOR_PORT']}/_emulator/health\", timeout=2)"]
ENTRYPOINT ["provider-emulator", "serve"]
