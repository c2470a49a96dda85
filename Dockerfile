# syntax=docker/dockerfile:1
# Build stage: compilers and headers live here only.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md requirements.txt ./
COPY idsvc ./idsvc
# The locked versions, checked by hash; then the service itself with nothing more pulled in.
RUN python -m venv /opt/idsvc \
    && /opt/idsvc/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.txt \
    && /opt/idsvc/bin/pip install --no-cache-dir --no-deps --no-build-isolation .

# Runtime stage: the virtualenv, the migrations and nothing else.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/idsvc --create-home idsvc
COPY --from=build /opt/idsvc /opt/idsvc
COPY migrations /opt/idsvc-migrations
ENV PATH=/opt/idsvc/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    IDSVC_MIGRATIONS_DIR=/opt/idsvc-migrations \
    IDSVC_DATA_DIR=/var/lib/idsvc
USER idsvc
WORKDIR /var/lib/idsvc
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status == 200 else 1)"]
# Listen on all interfaces inside the container; set [service] listen_host/issuer in IDSVC_CONFIG.
CMD ["idsvc", "serve", "--host", "0.0.0.0", "--port", "8000"]
