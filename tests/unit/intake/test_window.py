from services.intake.domain.window import Remembered, remembered

DAY = 24 * 3600
NOW = 1_800_000_000_000
SOURCE = "/departments/health/his"


def test_an_event_is_remembered_for_what_is_left_of_its_window():
    assert remembered(SOURCE, "e-1", NOW - 3600_000, NOW, DAY) == Remembered("health", SOURCE, "e-1", DAY - 3600)


def test_an_event_older_than_the_window_is_forgotten():
    assert remembered(SOURCE, "e-1", NOW - DAY * 1000, NOW, DAY) is None
    assert remembered(SOURCE, "e-1", NOW - DAY * 1000 - 1, NOW, DAY) is None


def test_an_event_in_its_last_second_is_still_remembered():
    assert remembered(SOURCE, "e-1", NOW - DAY * 1000 + 1, NOW, DAY) == Remembered("health", SOURCE, "e-1", 1)


def test_a_record_written_after_now_by_a_skewed_clock_is_remembered_for_one_window():
    assert remembered(SOURCE, "e-1", NOW + 60_000, NOW, DAY) == Remembered("health", SOURCE, "e-1", DAY)


def test_a_record_without_a_department_source_or_an_id_is_not_remembered():
    assert remembered("/elsewhere/his", "e-1", NOW, NOW, DAY) is None
    assert remembered(None, "e-1", NOW, NOW, DAY) is None
    assert remembered(SOURCE, None, NOW, NOW, DAY) is None
    assert remembered(SOURCE, "", NOW, NOW, DAY) is None
