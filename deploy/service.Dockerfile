# The grading service's image for compose.yaml and Kubernetes: the `grader` command (API nodes,
# grading nodes, keys) on Debian's Python. Grading nodes run submissions in the Docker sandbox
# through the host's daemon (socket mounted by compose.yaml) or with bubblewrap (installed).
FROM python:3.11-slim-bookworm
RUN apt-get update \
 && apt-get install -y --no-install-recommends bubblewrap \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY grader grader
COPY sandbox sandbox
COPY api api
COPY exercises exercises
RUN pip install --no-cache-dir .
ENV GRADER_HOST=0.0.0.0
EXPOSE 8000
CMD ["grader", "serve"]
