"""The PumpDx HTTP service (`pumpdx serve`): CDS Hooks 2.0 with FHIR input, POST /assess,
audit reports and the consultation page."""

from .app import Service, create_app
from .config import ServiceConfig

__all__ = ["Service", "ServiceConfig", "create_app"]
