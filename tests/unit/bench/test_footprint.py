"""How the footprint benchmark reads the broker's data folder: log segments per topic, partitions by folder."""

from __future__ import annotations

from pathlib import Path

from aiokafka import TopicPartition

from bench.footprint import partition_folders, topic_log_bytes


def broker_folder(root: Path) -> Path:
    for name, sizes in {"assist.events-0": (100, 50), "assist.events-1": (30,), "assist.offers-0": (7,),
                        "app-households-changelog-3": (11,)}.items():
        folder = root / name
        folder.mkdir()
        for i, size in enumerate(sizes):
            (folder / f"{i:020d}.log").write_bytes(b"x" * size)
            (folder / f"{i:020d}.index").write_bytes(b"i" * 1000)  # indexes are not records
    (root / "meta.properties").write_text("version=1")
    return root


def test_log_bytes_sum_every_segment_of_every_partition_of_a_topic(tmp_path: Path) -> None:
    assert topic_log_bytes(broker_folder(tmp_path)) == {"assist.events": 180, "assist.offers": 7,
                                                        "app-households-changelog": 11}


def test_partitions_are_read_from_the_folder_names(tmp_path: Path) -> None:
    found = partition_folders(broker_folder(tmp_path), ["assist.events", "app-households-changelog"])
    assert sorted(found) == [TopicPartition("app-households-changelog", 3), TopicPartition("assist.events", 0),
                             TopicPartition("assist.events", 1)]
