# The app server image docker-compose.yml runs (make serve's gunicorn on port 8000).
FROM node:20-bookworm-slim AS assets
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
WORKDIR /app
COPY requirements.txt ./
RUN pip install --no-cache-dir --disable-pip-version-check -r requirements.txt
COPY --from=assets /app/node_modules ./node_modules
COPY app.py ./
COPY designer ./designer
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
RUN useradd --system --home-dir /app designer && mkdir -p /app/instance /app/.run \
    && chown designer /app/instance /app/.run
USER designer
ENV HOST=0.0.0.0 PORT=8000 XDG_RUNTIME_DIR=/app/.run
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"
# Migrations first (each server may run them: the runner skips what is applied), then serve.
CMD ["sh", "-c", "flask --app app db upgrade && exec gunicorn -c python:designer.gunicorn_config app:app"]
