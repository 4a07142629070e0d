"""Rotation pre-checks: whole messages as data, one folded log line per check and year.

The fixture is ``tests/fixtures/rotation/tiny`` (see its README): EU and WU rotate
``ceil(0.10 x 10) = 1`` teacher in 2024 and ``ceil(0.10 x 12) = 2`` in 2025, each to a
rural school 8 km away; a 5 km limit leaves both without an arc.
"""

from __future__ import annotations

import logging

import pytest

from allocator.rotation import solve_rotation
from allocator.rotation_checks import Finding, precheck, precheck_findings, summary_lines
from allocator.rotation_input import RotationInput
from allocator.rotation_network import build_network
from allocator.rotation_prep import prepare
from tests.fixtures.rotation.tiny import frames, tiny

ARCS = "distance limit 5 km, mode distance, bans"


def findings(data: RotationInput) -> tuple[Finding, ...]:
    tables = prepare(data)
    return precheck_findings(tables, build_network(tables, data.policy), data.policy)


def test_messages_stay_whole_and_in_order() -> None:
    data = tiny(max_distance_km=5.0)
    found = findings(data)
    tables = prepare(data)
    assert precheck(tables, build_network(tables, data.policy), data.policy) == tuple(
        f.text for f in found)
    assert [(f.subject, f.year, f.need) for f in found] == [
        ("EU", 2024, 1), ("EU", 2025, 2), ("WU", 2024, 1), ("WU", 2025, 2)]
    assert found[0].text == ("D-19: EU must rotate 1 of 10 eligible teachers in 2024 but has "
                             f"no open arc to a rural school ({ARCS})")


def test_one_log_line_per_check_and_year() -> None:
    assert summary_lines(findings(tiny(max_distance_km=5.0))) == (
        "D-19: 2 senders must rotate 2 teachers in 2024 but have no open arc to a rural "
        f"school (EU, WU; {ARCS})",
        "D-19: 2 senders must rotate 4 teachers in 2025 but have no open arc to a rural "
        f"school (EU, WU; {ARCS})")


def test_backbone_lines_sum_need_and_name_the_first_ids() -> None:
    # Without B1 and B2 (1 year at school) EU and WU have 8 / 10 eligible teachers, none
    # backbone: 1 rotator a year each, ceil(0.2 x 1) = 1 of them backbone, 0 eligible.
    teachers = frames()["teachers"]
    short = teachers["teacher_id"].isin(["EU-B1", "EU-B2", "WU-B1", "WU-B2"])
    teachers.loc[short, "years_at_school"] = 1
    lines = summary_lines(findings(tiny(teachers=teachers, max_distance_km=5.0)), shown=1)
    assert lines == (
        "D-19: 2 senders must rotate 2 teachers in 2024 but have no open arc to a rural "
        f"school (EU and 1 more; {ARCS})",
        "D-19: 2 senders must rotate 2 teachers in 2025 but have no open arc to a rural "
        f"school (EU and 1 more; {ARCS})",
        "D-19: 2 senders need 2 backbone rotators in 2024 but have 0 eligible backbone "
        "teachers (EU and 1 more)",
        "D-19: 2 senders need 2 backbone rotators in 2025 but have 0 eligible backbone "
        "teachers (EU and 1 more)")


def test_a_single_finding_keeps_its_message_and_checks_come_in_order() -> None:
    one = Finding("j18", 2025, "P1", "J-18: pairing P1 (county W -> E) has no open arc in 2025")
    researchers = [Finding("j15", 2024, body, f"J-15: {n} researcher(s) of {body} ...", need=n)
                   for body, n in (("R1", 2), ("R2", 3), ("R3", 1), ("R4", 4))]
    floor = [Finding("j27_d19", 2024, s, f"J-27 against D-19: {s} ...", need=2, have=h)
             for s, h in (("S1", 1), ("S2", 0))]
    assert summary_lines([one, *researchers, *floor]) == (
        "J-27 against D-19: 2 senders that no arc reaches must rotate 4 teachers in 2024 but "
        "have 1 teachers over their posts (S1, S2)",
        "J-15: 10 researchers of 4 research bodies are due in 2024 but no rural or weak "
        "school of their county is open to them (R1, R2, R3 and 1 more)",
        "J-18: pairing P1 (county W -> E) has no open arc in 2025")
    assert summary_lines([]) == ()


def test_solve_rotation_logs_the_folded_lines_and_keeps_every_finding(
        caplog: pytest.LogCaptureFixture) -> None:
    data = tiny(max_distance_km=5.0)
    with caplog.at_level(logging.WARNING, logger="allocator.rotation"):
        result = solve_rotation(data)
    logged = [r.getMessage() for r in caplog.records if r.name == "allocator.rotation"
              and r.getMessage().startswith("rotation pre-check: ")]
    assert logged == ["rotation pre-check: " + line
                      for line in summary_lines(findings(data))]
    assert len(logged) == 2  # 2024 and 2025, both senders in one line each
    assert len(result.warnings) == 4  # EU and WU, each year: the data keeps them all
    assert result.warnings[0].startswith("D-19: EU must rotate 1 of 10 eligible teachers")
