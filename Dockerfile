# One image for every service; the command picks the service (see docker-compose.yml and deploy/k8s).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ASSIST_DATA_DIR=/var/lib/assist

WORKDIR /app

# Dependencies first, so a code change does not reinstall them: pyproject.toml pins every one.
COPY pyproject.toml ./
RUN mkdir -p services \
    && touch services/__init__.py \
    && pip install . \
    && pip uninstall -y assist-platform \
    && rm -rf services build ./*.egg-info

# The code and the schemas it reads at run time (paths are relative to the project folder, hence editable).
COPY . .
RUN pip install --no-deps -e . \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin assist \
    && mkdir -p /var/lib/assist \
    && chown assist:assist /var/lib/assist

USER assist
VOLUME ["/var/lib/assist"]
# HTTP: intake 8080, citizen page 8081, console 8082; /healthz, /readyz and /metrics of the workers: notification
# 8083, casework 8084, raw forwarder 8085, outcomes 8086, vault feed 8087, matching 6066, lag exporter 9308.
EXPOSE 8080 8081 8082 8083 8084 8085 8086 8087 6066 9308

CMD ["python", "-m", "services.intake", "serve"]
