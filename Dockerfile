FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY ediary_gql ./ediary_gql
RUN pip install . && useradd --create-home ediary && mkdir -p /app/uploads && chown ediary /app/uploads
USER ediary
EXPOSE 8000
# migrate, then serve; several replicas may share PostgreSQL and Redis
CMD ["sh", "-c", "ediary-gql migrate && ediary-gql serve --host 0.0.0.0 --port 8000"]
