"""Hypothesis profiles of the contract property suites.

    assist-ci     the default: a few hundred generated inputs per property, so CI stays quick
    assist-long   chosen when ASSIST_PROPERTY_EXAMPLES is set: that many inputs per property (2000 gives
                  10,000 inputs over the five properties of test_codec_properties.py)
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

CI_EXAMPLES = 300

settings.register_profile("assist-ci", max_examples=CI_EXAMPLES, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("assist-long", parent=settings.get_profile("assist-ci"),
                          max_examples=int(os.environ.get("ASSIST_PROPERTY_EXAMPLES") or CI_EXAMPLES))


def property_profile() -> settings:
    """The profile the contract properties run under (see the module docstring)."""
    return settings.get_profile("assist-long" if os.environ.get("ASSIST_PROPERTY_EXAMPLES") else "assist-ci")
