"""The one place matching's dependencies are built."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from services.core.codec import load_contract
from services.core.settings import PROJECT_ROOT, Settings
from services.matching.adapters.catalogue_feed import CatalogueFeed
from services.matching.domain.household.risk import load_risk_model
from services.matching.handler import Matcher
from services.matching.metrics import MatchingMetrics
from services.matching.runtime import MatchingRuntime

RISK_MODEL = PROJECT_ROOT / "policies" / "risk.yaml"


def matching_runtime(settings: Settings) -> MatchingRuntime:
    contract = load_contract()
    matcher = Matcher(load_risk_model(RISK_MODEL.read_text(encoding="utf-8")))
    return MatchingRuntime(matcher, contract, MatchingMetrics(CollectorRegistry()),
                           CatalogueFeed(settings.kafka_bootstrap, contract, settings.matching_catalogue))
