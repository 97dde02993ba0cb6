# One image for all four services: `sparks run <service>` picks which.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir . && useradd --create-home sparks
USER sparks
WORKDIR /home/sparks
ENTRYPOINT ["sparks"]
CMD ["up"]
