"""Starting the platform's processes on the suite's stack, each on a free loopback port."""

from __future__ import annotations

from dataclasses import dataclass

from services.intake.adapters.tokens import TokenFile
from tests.faults.processes import Service, Services, free_port, wait_until_answers
from tests.faults.stack import FaultStack


@dataclass
class Intake:
    service: Service
    url: str
    tokens: dict[str, str]

    def auth(self, department: str = "health") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[department]}"}


async def start_intake(services: Services, stack: FaultStack, name: str = "intake", **env: str) -> Intake:
    port = free_port()
    tokens_file = stack.data_dir / "intake-tokens.json"
    tokens = {d: TokenFile(tokens_file).issue(d) for d in ("health", "human_resources", "civil_registry")}
    url = f"http://127.0.0.1:{port}"
    service = services.start(name, "services.intake", "serve", metrics_url=f"{url}/metrics",
                             ASSIST_INTAKE_PORT=str(port), ASSIST_INTAKE_TOKENS_FILE=str(tokens_file), **env)
    await wait_until_answers(f"{url}/healthz", service)
    return Intake(service, url, tokens)


async def start_forwarder(services: Services, name: str = "intake-raw") -> Service:
    """forward-raw has no HTTP endpoint: it is ready once its log says it forwards."""
    return services.start(name, "services.intake", "forward-raw")


async def start_notification_worker(services: Services, name: str, group: str, *, sms_url: str, smtp_port: int,
                                    key_prefix: str = "assist:notification", concurrency: int = 16,
                                    send_timeout: float = 2.0, **env: str) -> Service:
    port = free_port()
    args = ("services.notification", "worker", "--group", group, "--key-prefix", key_prefix,
            "--concurrency", str(concurrency), "--send-timeout", str(send_timeout), "--metrics-port", str(port))
    service = services.start(name, *args, metrics_url=f"http://127.0.0.1:{port}/metrics",
                             ASSIST_SMS_GATEWAY_URL=sms_url, ASSIST_SMTP_HOST="127.0.0.1",
                             ASSIST_SMTP_PORT=str(smtp_port), ASSIST_NOTIFICATION_RETRY_BASE_SECONDS="0.05",
                             ASSIST_CITIZEN_WEB_PORT=str(free_port()), **env)
    await wait_until_answers(f"http://127.0.0.1:{port}/healthz", service)
    return service


async def start_casework_worker(services: Services, name: str = "casework", group: str = "assist-casework",
                                **env: str) -> Service:
    port = free_port()
    service = services.start(name, "services.casework", "worker", "--metrics-port", str(port), "--group", group,
                             metrics_url=f"http://127.0.0.1:{port}/metrics", **env)
    await wait_until_answers(f"http://127.0.0.1:{port}/healthz", service)
    return service


async def start_casework_api(services: Services, name: str = "casework-api") -> tuple[Service, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = services.start(name, "services.casework", "api", metrics_url=f"{url}/metrics",
                             ASSIST_CASEWORK_WEB_PORT=str(port))
    await wait_until_answers(f"{url}/healthz", service)
    return service, url


async def start_citizen_api(services: Services, name: str = "citizen-api") -> tuple[Service, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = services.start(name, "services.notification", "citizen-api", metrics_url=f"{url}/metrics",
                             ASSIST_CITIZEN_WEB_PORT=str(port), ASSIST_CITIZEN_LINK_BASE=url)
    await wait_until_answers(f"{url}/healthz", service)
    return service, url
