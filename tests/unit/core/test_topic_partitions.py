"""Person- and household-keyed topics share one partition count (ASSIST_HOUSEHOLD_PARTITIONS); a broker whose
topics have other counts is named topic by topic."""

from __future__ import annotations

from services.core.kafka import partition_mismatches
from services.core.topics import ALL_TOPICS, EVENTS, HOUSEHOLD_PARTITIONS, HOUSEHOLD_TOPICS, OFFERS


def test_the_eight_household_topics_are_platform_topics_with_the_household_partition_count() -> None:
    household = {t.name for t in HOUSEHOLD_TOPICS}
    assert household <= {t.name for t in ALL_TOPICS}
    assert all(t.partitions == HOUSEHOLD_PARTITIONS for t in HOUSEHOLD_TOPICS)
    assert len(household) == len(HOUSEHOLD_TOPICS) == 8


def test_a_topic_with_another_partition_count_on_the_broker_is_named_and_a_missing_one_is_not() -> None:
    counts = {EVENTS.name: EVENTS.partitions + 4, OFFERS.name: OFFERS.partitions}
    assert partition_mismatches((EVENTS, OFFERS, *HOUSEHOLD_TOPICS[2:]), counts) == [
        f"assist.events has {EVENTS.partitions + 4} partitions on the broker, this process expects "
        f"{EVENTS.partitions}"]
