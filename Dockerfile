# One image for web (gunicorn), worker and beat; docker-compose.yml picks the command.

# The translations (locale/*/LC_MESSAGES/*.po) compiled to .mo by GNU gettext, in a stage of
# their own so that the image carries the catalogues and not the tools.
FROM python:3.12-slim-bookworm AS messages
RUN apt-get update && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
COPY locale /locale
RUN find /locale -name '*.po' -exec sh -c 'msgfmt --check-format -o "${1%.po}.mo" "$1"' _ {} \;

FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=syncadmin.settings.production \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
RUN useradd --create-home --uid 1000 syncadmin
# Exact versions and hashes from the lock (README: Dependencies); no sandbox, no test tools.
COPY requirements/prod-py3.12.txt requirements/
RUN pip install --require-hashes --no-deps -r requirements/prod-py3.12.txt && pip check
COPY . .
COPY --from=messages /locale locale
# collectstatic needs settings but no real secrets; the build-time values are thrown away.
RUN DJANGO_SECRET_KEY=build FIELD_ENCRYPTION_KEY=MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA= \
    DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R syncadmin /app/var
USER syncadmin
EXPOSE 8000
CMD ["gunicorn", "syncadmin.wsgi:application", "--config", "python:syncadmin.gunicorn_conf", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--worker-class", "gthread", "--access-logfile", "-"]
