"""The one place matching's dependencies are built."""

from __future__ import annotations

import faust
from prometheus_client import CollectorRegistry

from services.core.codec import load_contract
from services.core.settings import PROJECT_ROOT, Settings
from services.matching.adapters.catalogue_feed import CatalogueFeed
from services.matching.adapters.faust_app import attach, faust_app
from services.matching.adapters.faust_stores import ConsumerCommits, FaustStores
from services.matching.adapters.messages import CloudEventReader
from services.matching.domain.household.risk import load_risk_model
from services.matching.handler import Matcher
from services.matching.metrics import MatchingMetrics
from services.matching.runtime import MatchingRuntime
from services.matching.service import MatchingService

RISK_MODEL = PROJECT_ROOT / "policies" / "risk.yaml"


def matching_worker(settings: Settings) -> tuple[faust.App, MatchingRuntime]:
    """The faust app with its tables and agents, and the runtime they share."""
    contract = load_contract()
    matcher = Matcher(load_risk_model(RISK_MODEL.read_text(encoding="utf-8")))
    app = faust_app(settings)
    stores = FaustStores.declare(app)
    runtime = MatchingRuntime(matcher, contract, MatchingMetrics(CollectorRegistry()),
                              CatalogueFeed(settings.kafka_bootstrap, contract, settings.matching_catalogue),
                              stores.households)
    attach(app, runtime, MatchingService(runtime, stores.households, stores.memberships, stores.waiting,
                                           CloudEventReader(contract), ConsumerCommits(app)), stores)
    return app, runtime
