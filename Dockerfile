# syntax=docker/dockerfile:1
# Build stage: resolve the locked dependencies into a virtual environment.
FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/venv
RUN pip install --no-cache-dir "uv==0.13.9"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY alembic ./alembic
COPY alembic.ini ./
RUN uv sync --frozen --no-dev --no-editable

# Runtime stage: the virtual environment and the migrations, run as a non-root user.
FROM python:3.11-slim AS runtime
RUN groupadd --system app && useradd --system --gid app --home-dir /srv app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/alembic /srv/alembic
COPY --from=build /src/alembic.ini /srv/alembic.ini
WORKDIR /srv
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 ENVIRONMENT=production
USER app
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/livez')"
# Migrate, then serve. DATABASE_URL and SECRET_KEY come from the environment.
CMD ["sh", "-c", "inovasi migrate && inovasi seed regions && exec inovasi serve --host 0.0.0.0 --port 8000 --workers ${WORKERS:-2}"]
