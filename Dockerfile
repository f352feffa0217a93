# syntax=docker/dockerfile:1
#
# PeerHub application image: one PeerHub process per container.
#
#   docker build -t peerhub .
#   docker run --rm -e PEERHUB_SECRET_KEY=... -e PEERHUB_DATABASE_URL=... -p 8000:8000 peerhub
#
# No secret is baked in: PEERHUB_SECRET_KEY, database credentials and the rest
# of the PEERHUB_* settings come from the environment at run time
# (docker-compose.yml, docs/deployment.md).

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged UID/GID, so ownership of mounted volumes is predictable
# and orchestrators can verify "runAsNonRoot" from the numeric USER below.
RUN groupadd --system --gid 10001 peerhub \
    && useradd --system --uid 10001 --gid peerhub \
        --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin peerhub

WORKDIR /app

# The package (pyproject.toml names README.md as its readme, and setup.py compiles
# the translations into it, so all three are needed to build). The templates and
# static files are package data (peerhub/templates, peerhub/static): the installed
# package serves them, with no PEERHUB_FRONTEND_DIR.
# The runtime lock first (hash-checked, its own layer, cached while it is unchanged),
# then the package without resolving anything: the image runs exactly what is locked.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml setup.py README.md ./
COPY peerhub ./peerhub
RUN pip install --no-cache-dir --no-deps /app \
    && rm -rf /app/build /app/*.egg-info /app/requirements.lock

# The writable data folder. A named volume mounted here starts out with this
# ownership, so the unprivileged user can write to it.
RUN mkdir -p /var/lib/peerhub && chown peerhub:peerhub /var/lib/peerhub

ENV PEERHUB_DATA_DIR=/var/lib/peerhub

USER 10001:10001

EXPOSE 8000

# Liveness only (/healthz answers while the process is up; /readyz also needs
# the database). The slim image has no curl, so ask Python: urlopen raises on
# a refused connection, a timeout or any non-2xx status, which exits 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

ENTRYPOINT ["peerhub"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
