# syntax=docker/dockerfile:1
# LabelHub production image.  Build: docker compose build   (or docker build -t labelhub .)

# ---- stage 1: fetch the 1.4.0 editor (the LABELHUB_EDITOR=1.4 fallback) and Chart.js with npm
#      and verify their pinned SRI hashes
FROM node:20-slim AS editor
WORKDIR /src
COPY scripts/fetch_npm.sh scripts/fetch_editor.sh scripts/fetch_chartjs.sh scripts/gzip_static.sh scripts/
RUN bash scripts/fetch_editor.sh \
 && bash scripts/fetch_chartjs.sh \
 && test -s frontend/static/editor/1.4.0/main.js.gz \
 && test -s frontend/static/editor/1.4.0/main.css \
 && test -s frontend/static/vendor/chart.umd.min.js

# ---- stage 1b: Label Studio 1.23.2's editor, out of its PyPI wheel (sha256-pinned)
FROM python:3.11-slim AS editor-ls
WORKDIR /src
COPY scripts/fetch_editor_ls.sh scripts/gzip_static.sh scripts/
RUN PIP_DISABLE_PIP_VERSION_CHECK=1 bash scripts/fetch_editor_ls.sh \
 && test -s frontend/static/editor-ls/1.23.2/358.js.gz \
 && rm -rf .cache

# ---- stage 2: the application
FROM python:3.11-slim
LABEL org.opencontainers.image.title="LabelHub" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=labelhub.settings \
    LABELHUB_DATA_DIR=/data \
    LABELHUB_STATIC_ROOT=/app/staticfiles

# unar: rarfile's backend for RAR uploads; libarchive-tools: bsdtar for other archives
RUN apt-get update \
 && apt-get install -y --no-install-recommends unar libarchive-tools \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin labelhub \
 && mkdir -p /data \
 && chown labelhub:labelhub /data

WORKDIR /app

# Dependencies first, so that code changes do not reinstall them: the hash-pinned lock.
COPY requirements-pip.lock requirements.lock ./
RUN pip install --require-hashes -r requirements-pip.lock \
 && pip install --require-hashes -r requirements.lock

COPY . .
COPY --from=editor /src/frontend/static/editor/ frontend/static/editor/
COPY --from=editor-ls /src/frontend/static/editor-ls/ frontend/static/editor-ls/
COPY --from=editor /src/frontend/static/vendor/ frontend/static/vendor/
RUN pip install --no-deps . \
 && rm -rf build ./*.egg-info \
 && DJANGO_SETTINGS_MODULE=labelhub.settings SECRET_KEY=build python manage.py collectstatic --noinput

USER labelhub
VOLUME ["/data"]
EXPOSE 8080
CMD ["gunicorn", "--config", "python:labelhub.gunicorn_conf", "labelhub.wsgi:application", "--bind", "0.0.0.0:8080", "--workers", "3"]
