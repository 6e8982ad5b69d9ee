# Latent Lab served for a class or a team: LATENT_LAB_MODE=shared (see README, "Reliability and
# deployment"). Not built on the machine this was written on (it has no Docker engine).
#   docker build -t latent-lab .
#   docker run -p 8501:8501 -v latent-lab-runs:/home/app/runs latent-lab
# Allow more with -e LATENT_LAB_ALLOW=training,checkpoint-upload.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The CPU build of torch first, so requirements.txt never pulls a multi-GB CUDA build.
RUN pip install "torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu
COPY requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt

RUN useradd --create-home --uid 10001 app
WORKDIR /home/app/latent-lab
COPY --chown=root:root app.py pyproject.toml ./
COPY --chown=root:root .streamlit .streamlit
COPY --chown=root:root app_pages app_pages
COPY --chown=root:root ui ui
COPY --chown=root:root vae_core vae_core
COPY --chown=root:root assets assets
# The code is read-only for the app's user; it writes only its runs, static/weights (the page's
# decoder weights, ui/weights_files.py) and /tmp (uploads).
RUN mkdir -p /home/app/runs static/weights && chown app:app /home/app/runs static/weights
USER app

ENV LATENT_LAB_MODE=shared \
    LATENT_LAB_RUNS=/home/app/runs \
    OMP_NUM_THREADS=1
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request as r; r.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4)"]
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", \
     "--server.port=8501", "--server.headless=true", "--server.fileWatcherType=none", \
     "--browser.gatherUsageStats=false"]
