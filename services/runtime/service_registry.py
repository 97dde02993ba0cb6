"""The four services by name, as `sparks run NAME` and `sparks up` know them."""

from __future__ import annotations

from services.dispatcher import service as dispatcher
from services.intake import service as intake
from services.runtime.service import ServiceDefinition
from services.scanner import service as scanner
from services.writeback import audit_index
from services.writeback import service as writeback

SERVICES: dict[str, ServiceDefinition] = {
    "intake": ServiceDefinition("intake", intake.CONSUMER, intake.build_handler),
    "scanner": ServiceDefinition("scanner", scanner.CONSUMER, scanner.build_handler),
    "dispatcher": ServiceDefinition(
        "dispatcher",
        dispatcher.CONSUMER,
        dispatcher.build_handler,
        lambda config: config.dispatcher.max_concurrency,
        gate=dispatcher.build_gate,
    ),
    "writeback": ServiceDefinition("writeback", writeback.CONSUMER, writeback.build_handler),
}

# Consumers that run inside a service's process besides its main one: writeback also keeps the
# per-ticket audit index (sparks audit reads it instead of scanning the log).
COMPANIONS: dict[str, list[ServiceDefinition]] = {
    "writeback": [ServiceDefinition("audit-index", audit_index.CONSUMER, audit_index.build_handler)],
}
