# syntax=docker/dockerfile:1
# confid — GraphQL service image (Strawberry + Starlette + uvicorn).
# Build:  docker build -t confid .
# Run:    see docker-compose.yml (needs MongoDB as a replica set and a tokens file).
# Stage 1: build the self-hosted GraphiQL and the admin page's chart and websocket client
# (pinned npm packages), so the image works offline.
FROM node:20-slim AS assets
WORKDIR /build/web
COPY web/package.json web/package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
COPY web/build.mjs ./
COPY web/graphiql/ ./graphiql/
COPY web/admin-vendor/ ./admin-vendor/
RUN node build.mjs /build/out

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

# Build and install the wheel: it carries the admin page, the GraphiQL build and the example
# operations (app/web/admin and app/operations are links to web/admin and graphql/operations
# in the source tree). The source is removed afterwards, so only the install runs.
WORKDIR /build
COPY pyproject.toml README.md ./
COPY app/ ./app/
COPY graphql/ ./graphql/
COPY web/admin/ ./web/admin/
COPY --from=assets /build/out/ ./app/web/static/build/

RUN pip install --no-cache-dir . \
 && cd / && rm -rf /build \
 && mkdir -p /srv/confid \
 && groupadd --system --gid 10001 confid \
 && useradd --system --uid 10001 --gid confid --home-dir /srv/confid \
        --no-create-home --shell /usr/sbin/nologin confid

WORKDIR /srv/confid
USER 10001:10001

ENV CONFID_HOST=0.0.0.0 \
    CONFID_PORT=8000

EXPOSE 8000

# No curl in slim images: probe liveness with the standard library.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('CONFID_PORT', '8000'); sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % port, timeout=4).status == 200 else 1)"]

CMD ["python", "-m", "app"]
