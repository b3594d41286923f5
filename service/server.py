"""Start the service on uvicorn: the configuration goes to every worker as JSON in the
environment, and each worker builds its app with `app_from_env`."""

from __future__ import annotations

import copy
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from .config import ENV_VAR, ServiceConfig

INSECURE_BANNER = """\
************************************************************************
*  PumpDx INSECURE DEV MODE: authentication is OFF.                     *
*  Any program that can reach this port can call the service.          *
*  For local use on this computer only; never expose it to a network.  *
************************************************************************"""


def check_config(config: ServiceConfig) -> None:
    """Build one app in this process, so a broken KB, mapping table or JWK Set fails
    here with one message instead of in every worker."""
    from .app import Service

    Service(config)


def log_config() -> dict[str, Any]:
    from uvicorn.config import LOGGING_CONFIG

    cfg = copy.deepcopy(LOGGING_CONFIG)
    cfg["loggers"]["pumpdx.service"] = {"handlers": ["default"], "level": "INFO",
                                        "propagate": False}
    return cfg


def run_server(config: ServiceConfig) -> None:
    """Serve until interrupted (uvicorn handles SIGINT/SIGTERM)."""
    import uvicorn

    if config.insecure_dev:
        print(INSECURE_BANNER, file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(prefix="pumpdx-serve-") as tmp:
        if config.workers > 1 and not config.insecure_dev and config.replay_db is None:
            config = config.model_copy(update={"replay_db": Path(tmp) / "replay.sqlite"})
        os.environ[ENV_VAR] = config.to_env()
        print(f"PumpDx service on {config.base_url()}/ (consultation page), CDS Hooks at "
              f"{config.base_url()}/cds-services; {config.workers} worker(s)",
              file=sys.stderr, flush=True)
        uvicorn.run("pumpdx.service.app:app_from_env", factory=True, host=config.host,
                    port=config.port, workers=config.workers, log_config=log_config(),
                    proxy_headers=False, server_header=False, timeout_keep_alive=5,
                    limit_concurrency=1000)
