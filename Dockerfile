# One image for web (gunicorn), worker and beat; docker-compose.yml picks the command.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=syncadmin.settings.production \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
RUN useradd --create-home --uid 1000 syncadmin
COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .
COPY . .
# collectstatic needs settings but no real secrets; the build-time values are thrown away.
RUN DJANGO_SECRET_KEY=build FIELD_ENCRYPTION_KEY=MDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA= \
    DJANGO_ALLOWED_HOSTS=build python manage.py collectstatic --noinput \
 && mkdir -p /app/var && chown -R syncadmin /app/var
USER syncadmin
EXPOSE 8000
CMD ["gunicorn", "syncadmin.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--worker-class", "gthread", "--access-logfile", "-"]
