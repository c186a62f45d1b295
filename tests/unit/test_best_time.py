import pytest

from app.domain.best_time import NO_WINDOW, BestWindow, Source, best_window, busiest_span


def test_a_lead_with_enough_history_gets_its_own_busiest_two_hours() -> None:
    lead = {(2, 18): 2, (2, 19): 2, (0, 9): 3}
    tenant = {(4, 10): 50}
    assert best_window(lead, tenant) == BestWindow(2, 18, 20, Source.LEAD, 4)


def test_a_lead_with_too_little_history_borrows_the_tenants() -> None:
    lead = {(2, 18): 2}
    tenant = {(4, 10): 5, (4, 11): 1}
    assert best_window(lead, tenant) == BestWindow(4, 10, 12, Source.TENANT, 6)
    assert best_window(lead, tenant, min_events=2).source is Source.LEAD


def test_no_history_anywhere_means_no_window() -> None:
    assert best_window({}, {}) == NO_WINDOW
    assert best_window({(1, 1): 1}, {}) == NO_WINDOW


def test_ties_go_to_the_earliest_span_of_the_week() -> None:
    counts = {(3, 14): 4, (1, 20): 4, (1, 9): 4}
    assert busiest_span(counts, 1) == ((1, 9), 4)
    assert best_window(counts, {}, width_hours=1) == BestWindow(1, 9, 10, Source.LEAD, 4)


def test_a_span_stays_within_one_day() -> None:
    (weekday, start), events = busiest_span({(0, 23): 5, (1, 0): 5}, 2)
    assert (weekday, start, events) == (0, 22, 5)
    assert busiest_span({(6, 23): 1}, 24) == ((6, 0), 1)


def test_width_must_fit_a_day() -> None:
    with pytest.raises(ValueError, match="width_hours"):
        busiest_span({}, 0)
    with pytest.raises(ValueError, match="width_hours"):
        busiest_span({}, 25)


def test_empty_hours_at_the_edges_of_the_window_are_trimmed() -> None:
    # 09-11 and 10-12 tie; the earliest wins, but nobody was ever there at 09:00.
    assert best_window({(1, 10): 3}, {}) == BestWindow(1, 10, 11, Source.LEAD, 3)
    assert best_window({(1, 10): 2, (1, 13): 2}, {}, width_hours=4) == BestWindow(1, 10, 14, Source.LEAD, 4)
    assert best_window({}, {(6, 23): 1}) == BestWindow(6, 23, 24, Source.TENANT, 1)
