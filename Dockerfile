# The app's image, for those who deploy with containers (compose.yaml, docs/deploy.md): the same
# image runs the web processes (gunicorn, the README's layout), the Celery worker and beat.
# Build: docker build -t ess-marche .   (deploy/check.sh builds it in CI where an engine runs)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MARKETPLACE_CONFIG=production \
    FLASK_APP=marketplace:create_app \
    INSTANCE_PATH=/var/lib/ess

# A user of its own: nothing runs as root in the container.
# (A fixed id: compose.yaml's tmpfs volume for the metrics is given to it.)
RUN groupadd --system --gid 10001 ess \
    && useradd --system --uid 10001 --gid ess --home-dir /srv/ess --no-create-home \
        --shell /usr/sbin/nologin ess \
    && mkdir -p /srv/ess /var/lib/ess /run/ess-metrics \
    && chown ess:ess /var/lib/ess /run/ess-metrics

WORKDIR /srv/ess
# The commands run from this folder (as the README's do): gunicorn reads gunicorn.conf.py here,
# and the app its templates, static files, translations and migrations.
COPY pyproject.toml README.md gunicorn.conf.py babel.cfg ./
COPY config ./config
COPY marketplace ./marketplace
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY translations ./translations
RUN pip install . \
    && pybabel compile -d translations \
    && python -c "from marketplace import create_app; create_app('testing')" \
    && rm -rf build *.egg-info

USER ess
EXPOSE 8000
# Uploaded photos (and the beat schedule): a volume shared by every container of the app.
VOLUME ["/var/lib/ess"]
CMD ["gunicorn", "-w", "4", "-b", "0.0.0.0:8000", "marketplace:create_app()"]
