FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
# PDF reports: WeasyPrint lays out with pango; DejaVu has the Cyrillic glyphs
RUN apt-get update && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY ediary_gql ./ediary_gql
RUN pip install . && useradd --create-home ediary && mkdir -p /app/uploads && chown ediary /app/uploads
USER ediary
EXPOSE 8000
# `serve` migrates first (under an advisory lock: several replicas may start at once on one
# PostgreSQL), then runs uvicorn. Exec form: the server is PID 1 and gets SIGTERM itself
# (a shell there would ignore it), so `docker stop` ends it gracefully.
STOPSIGNAL SIGTERM
CMD ["ediary-gql", "serve", "--host", "0.0.0.0", "--port", "8000"]
