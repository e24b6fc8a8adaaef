"""Starting a consumer group at the topic ends (services.core.kafka.commit_group_at_end) on the real broker."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaConsumer

from services.core.kafka import GroupInUse, commit_group_at_end
from services.core.settings import load_settings
from services.core.topics import TASKS


async def test_a_group_with_a_member_is_refused_by_name_and_started_once_the_member_left():
    bootstrap, group = load_settings().kafka_bootstrap, f"test-group-start-{uuid.uuid4().hex[:8]}"
    member = AIOKafkaConsumer(TASKS.name, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await member.start()
    try:
        await member.getmany(timeout_ms=3000)  # joined: the group has a member now
        with pytest.raises(GroupInUse, match=group):
            await commit_group_at_end(bootstrap, group, (TASKS,), wait_seconds=2)
    finally:
        await member.stop()  # leaves the group
    await commit_group_at_end(bootstrap, group, (TASKS,), wait_seconds=10)
