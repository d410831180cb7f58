#!/bin/sh
# The one image's roles: web (gunicorn), worker (celery worker), beat (celery beat), init
# (first start, idempotent). Anything else is run as a command (e.g. `manage.py shell`).
set -eu

cd /app

# The database password as a secret file: libpq reads PGPASSWORD, so DATABASE_URL carries none.
if [ -z "${PGPASSWORD:-}" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
    PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")"
    export PGPASSWORD
fi

manage() {
    python manage.py "$@"
}

# init: migrations, the CA hierarchy, the trust files for nginx (when TRUST_DIR is set), the
# first admin. Creating the CA needs its keys, which only the worker's container has:
# `docker compose run --rm worker init`.
init() {
    manage migrate --no-input
    manage init_ca
    if [ -n "${TRUST_DIR:-}" ]; then
        manage export_trust_files "$TRUST_DIR"
    fi
    if [ -n "${DJANGO_SUPERUSER_USERNAME:-}" ]; then
        if [ -z "${DJANGO_SUPERUSER_PASSWORD:-}" ] && [ -n "${DJANGO_SUPERUSER_PASSWORD_FILE:-}" ]; then
            DJANGO_SUPERUSER_PASSWORD="$(cat "$DJANGO_SUPERUSER_PASSWORD_FILE")"
            export DJANGO_SUPERUSER_PASSWORD
        fi
        if manage shell --no-imports -c "import os, sys
from django.contrib.auth import get_user_model
sys.exit(0 if get_user_model().objects.filter(username=os.environ['DJANGO_SUPERUSER_USERNAME']).exists() else 1)"; then
            echo "init: the admin ${DJANGO_SUPERUSER_USERNAME} exists already"
        else
            manage createsuperuser --no-input --email "${DJANGO_SUPERUSER_EMAIL:-}"
        fi
    fi
}

# trust: beat re-exports nginx's client-CA and CRL bundle, so CRLs the workers publish reach
# nginx, which reloads on its own schedule (deploy/nginx/reload-trust.sh).
trust() {
    : "${TRUST_DIR:?TRUST_DIR must name the folder nginx reads}"
    while :; do
        manage export_trust_files "$TRUST_DIR" || echo "trust: export failed; retrying" >&2
        sleep "${TRUST_EXPORT_INTERVAL:-900}"
    done
}

# One Argon2 hash before serving: an image whose Argon2 was built for a newer CPU than this
# host's (Dockerfile, ARGON2_CFLAGS) stops here and says so, not at a user's first PIN.
argon2_runs() {
    if ! python -c "import argon2; argon2.PasswordHasher().hash('start')" 2>/dev/null; then
        echo "Argon2 does not run on this CPU: rebuild the image with --build-arg ARGON2_CFLAGS=" >&2
        exit 1
    fi
}

role="${1:-web}"
[ "$#" -gt 0 ] && shift

case "$role" in
    web)
        argon2_runs
        # gunicorn runs no system checks: a setting that would break a mail, a letter or an
        # installer (portal.E004-E006) stops the web tier here, not at a user's download.
        manage check
        exec gunicorn config.wsgi \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${GUNICORN_WORKERS:-3}" \
            --threads "${GUNICORN_THREADS:-8}" \
            --timeout "${GUNICORN_TIMEOUT:-30}" \
            --forwarded-allow-ips "*" \
            --access-logfile - \
            "$@"
        ;;
    worker)
        exec celery -A config worker \
            --concurrency "${CELERY_CONCURRENCY:-2}" \
            --loglevel "${CELERY_LOGLEVEL:-INFO}" \
            "$@"
        ;;
    beat)
        if [ -n "${TRUST_DIR:-}" ]; then
            trust &
        fi
        # The schedule file is the container's own scratch; beat keeps no other state.
        exec celery -A config beat \
            --loglevel "${CELERY_LOGLEVEL:-INFO}" \
            --schedule /tmp/celerybeat-schedule \
            "$@"
        ;;
    init)
        argon2_runs
        init
        ;;
    *)
        exec "$role" "$@"
        ;;
esac
