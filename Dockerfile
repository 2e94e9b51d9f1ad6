# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install --no-cache-dir .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 coebot
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY migrations ./migrations
COPY alembic.ini ./
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    COE_MIGRATIONS_DIR=/app/migrations \
    DATABASE_URL=sqlite+aiosqlite:////app/data/coe-bot.db
RUN mkdir -p /app/data && chown coebot /app/data
USER coebot
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=2).status == 200 else 1)"
CMD ["coe-bot", "serve", "--host", "0.0.0.0", "--port", "3000"]
