"""Two runs of the suite on the same ports never share a broker and Redis: the second one is refused (after a
bounded wait) and the first one's stack is left untouched."""

from __future__ import annotations

import socket

import pytest

from tests.faults.stack import FaultStack, PortsTaken


def test_a_second_run_on_the_ports_of_a_running_one_is_refused_and_leaves_it_running(fault_stack, tmp_path):
    second = FaultStack(fault_stack.kafka_port, fault_stack.controller_port, fault_stack.redis_port, tmp_path)
    with pytest.raises(PortsTaken, match="another fault-suite run holds port"):
        second.up(wait_seconds=1)
    second.down()
    assert fault_stack.redis().ping()


def test_a_port_something_else_listens_on_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with socket.socket() as free:
            free.bind(("127.0.0.1", 0))
            other = free.getsockname()[1]
        stack = FaultStack(port, other, other + 1, tmp_path)
        with pytest.raises(PortsTaken, match=f"listens on 127.0.0.1 port.*{port}"):
            stack.up(wait_seconds=1)
        assert not (tmp_path / "kafka").exists()


def test_restoring_the_stack_starts_the_redis_a_scenario_left_stopped(fault_stack):
    fault_stack.stop_redis()
    fault_stack.restore()
    assert fault_stack.redis().ping()
