# One image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
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
# collectstatic needs settings but no real secrets; the build-time values are thrown away.
RUN DJANGO_SECRET_KEY=build FIELD_ENCRYPTION_KEY=MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA= \
    DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R syncadmin /app/var
USER syncadmin
EXPOSE 8000
CMD ["gunicorn", "syncadmin.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--worker-class", "gthread", "--access-logfile", "-"]
