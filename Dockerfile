# One image for web (gunicorn), worker (celery worker) and beat (celery beat); see
# deploy/entrypoint.sh for the subcommands and docker-compose.yml for how they are wired.

# --- builder: the project and its pinned dependencies in a virtualenv ------------------
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY pyproject.toml ./
COPY portal portal
COPY enrollment enrollment
COPY ca ca
# The pinned dependencies from pyproject.toml; the project itself runs from /app in the
# final image (manage.py, templates, locale, static sit beside the packages there).
RUN pip install . && pip uninstall --yes certificaatportaal
# Argon2's C core (every PIN and password check) built for x86-64-v3 (AVX2: every x86 server
# CPU since about 2015) instead of PyPI's portable wheel: about half the time per hash.
# `--build-arg ARGON2_CFLAGS=` keeps the wheel for older CPUs; the entrypoint refuses to start
# on a CPU the build does not fit.
ARG ARGON2_CFLAGS="-O3 -march=x86-64-v3"
COPY deploy/build-argon2.sh deploy/
RUN if [ -n "$ARGON2_CFLAGS" ] && [ "$(uname -m)" = x86_64 ]; then \
        apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \
        && deploy/build-argon2.sh "$ARGON2_CFLAGS"; \
    fi

# --- runtime: only what the processes need ---------------------------------------------
FROM python:3.11-slim
# openssl: the CA's tooling and the installers' recipes; curl: the HEALTHCHECK;
# flite: the audio captcha (optional, CAPTCHA_FLITE_PATH).
RUN apt-get update \
    && apt-get install -y --no-install-recommends openssl curl flite \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --create-home --home-dir /home/portal --uid 10001 portal \
    && install -d -o portal -g portal -m 0700 /var/lib/portal/ca-keys \
    && install -d -o portal -g portal -m 0755 /var/lib/portal/trust
COPY --from=builder /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DJANGO_SETTINGS_MODULE=config.settings \
    VAR_DIR=/tmp/portal \
    STATIC_ROOT=/app/staticfiles
WORKDIR /app
COPY --chown=portal:portal . /app
# Message catalogues and static files belong to the image. PORTAL_MODE=development only
# for these two commands (no secret is needed or baked in); the SECRET_KEY it would
# generate under VAR_DIR is removed in the same layer. The manifest storage of production
# needs the collected files hashed, hence PORTAL_MODE=production for collectstatic with a
# throwaway key that exists only in this RUN.
RUN PORTAL_MODE=development python manage.py compile_catalogues \
    && SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --no-input \
    && rm -rf /tmp/portal \
    && chmod 0755 deploy/entrypoint.sh
USER portal
EXPOSE 8000
# The web role's check; docker-compose.yml gives worker and beat checks of their own.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD curl -fsS -H "Host: localhost" http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
