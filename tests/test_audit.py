"""The independent audit on small hand-made result tables (no solver).

The consistent fixture (two periods, 2025 and 2027; primary and junior; four rotation
schools in Jiangmen's east and west) passes every rule; each tamper test changes one table
or one scenario value and checks that exactly the matching rule fails, with hand-checked
numbers.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import allocator
from allocator.audit import (
    AUDIT_COLUMNS,
    AUDITED_RULES,
    NOT_AUDITED,
    audit_plan,
    audit_results_dir,
    audit_tables,
    hard_failures,
)
from allocator.audit_cli import AUDIT_FAILED, audit_command, plan_paths
from allocator.audit_core import CHECKS
from allocator.audit_params import ceil_share, params_from_config
from allocator.rules import Kind, catalogue, registered

Tables = dict[str, pd.DataFrame]

# ---------------------------------------------------------------------------- fixture

SCENARIO: dict[str, Any] = {
    "planning": {
        "stages": ["primary", "junior"],
        "periods": [2025, 2027],
        "budget_cny": 250e6,
        "budget_by_year": {2025: 120e6, 2027: 110e6},
        "budget_carry_over": False,
        "projects_per_year": {2025: 1, 2027: 2},
        "projects_sense": "exact",
        "seat_targets": [
            {"rule": "J-04", "stages": ["primary", "junior"], "year": 2027, "min_seats": 1500},
            {"rule": "N-03", "stages": ["primary"], "year": 2025, "min_seats": 1000},
        ],
        "new_school_counts": [
            {"rule": "D-06", "stage": "primary", "year": 2027, "count": 1, "sense": "exact"},
            {"rule": "D-06", "stage": "junior", "year": 2027, "count": 1, "sense": "at_least"},
        ],
    },
    "standards": {
        "class_caps": {"primary": 45, "junior": 50},
        "class_caps_by_year": {"primary": {2027: 40}},
        "travel_limits_m": {"primary": {"urban": 500, "rural": 3000},
                            "junior": {"urban": 1000, "rural": 5000}},
        "max_school_classes": {"primary": 30, "junior": 24},
    },
    "rotation": {},
}


def _schools() -> pd.DataFrame:
    rows = [
        # school, kind, ownership, stage, year, classes, cap, enrolled
        ("E1", "existing", "public", "primary", 2025, 12, 45, 500),
        ("E1", "expanded", "public", "primary", 2027, 18, 40, 700),
        ("E2", "existing", "private", "primary", 2025, 6, 45, 200),
        ("E2", "existing", "private", "primary", 2027, 6, 40, 200),
        ("J1", "existing", "public", "junior", 2025, 12, 50, 500),
        ("J1", "existing", "public", "junior", 2027, 12, 50, 550),
        ("N1", "new", "public", "primary", 2025, 24, 45, 900),
        ("N1", "new", "public", "primary", 2027, 24, 40, 900),
        ("N2", "new", "public", "junior", 2027, 12, 50, 300),
    ]
    frame = pd.DataFrame(rows, columns=["school_id", "kind", "ownership", "stage", "year",
                                        "classes", "class_cap", "enrolled"])
    frame["seats"] = frame["classes"] * frame["class_cap"]
    frame["name"] = frame["school_id"] + " school"
    frame["max_classes"] = frame["school_id"].map({"E1": 18, "E2": 6, "J1": 12})
    return frame


def _assignments() -> pd.DataFrame:
    rows = [
        ("Z1", "N1", "primary", 2025, 900, 400.0), ("Z1", "E1", "primary", 2025, 200, 450.0),
        ("Z2", "E1", "primary", 2025, 300, 2500.0), ("Z2", "E2", "primary", 2025, 200, 2800.0),
        ("Z1", "J1", "junior", 2025, 300, 800.0), ("Z2", "J1", "junior", 2025, 200, 4000.0),
        ("Z1", "N1", "primary", 2027, 900, 400.0), ("Z1", "E1", "primary", 2027, 200, 450.0),
        ("Z2", "E1", "primary", 2027, 500, 2500.0), ("Z2", "E2", "primary", 2027, 200, 2800.0),
        ("Z1", "N2", "junior", 2027, 300, 600.0), ("Z1", "J1", "junior", 2027, 100, 900.0),
        ("Z2", "J1", "junior", 2027, 450, 4500.0),
    ]
    return pd.DataFrame(rows, columns=["zone_id", "school_id", "stage", "year", "children",
                                       "distance_m"])


def _demand() -> pd.DataFrame:
    rows = [
        ("Z1", "primary", 2025, 1100, 100), ("Z2", "primary", 2025, 500, 50),
        ("Z1", "junior", 2025, 300, 0), ("Z2", "junior", 2025, 200, 0),
        ("Z1", "primary", 2027, 1100, 100), ("Z2", "primary", 2027, 700, 50),
        ("Z1", "junior", 2027, 400, 0), ("Z2", "junior", 2027, 450, 0),
    ]
    frame = pd.DataFrame(rows, columns=["zone_id", "stage", "year", "children", "migrant"])
    frame["variant"] = "central"
    frame["assigned"] = frame["children"]
    frame["unmet"] = 0.0
    return frame


def _sites() -> pd.DataFrame:
    return pd.DataFrame({
        "site_id": ["N1", "N2", "N3"], "stage": ["primary", "junior", "primary"],
        "status": ["opened", "opened", "not_opened"], "option_id": ["N1-24", "N2-12", None],
        "year": [2025, 2027, None], "classes": [24, 12, None],
        "cost_cny": [100e6, 80e6, None]})


def _staffing() -> pd.DataFrame:
    base = [
        # school, county, region, urban, high_quality, centre, posts, home, backbone, eligible
        ("U1", "440703", "east", True, False, True, 50, 60, 8, 30),
        ("R1", "440705", "east", False, False, False, 18, 20, 2, 5),
        ("W1", "440781", "west", True, False, False, 35, 40, 4, 20),
        ("W2", "440781", "west", False, False, False, 18, 20, 2, 4),
    ]
    sent = {"U1": 4, "W1": 2, "R1": 0, "W2": 0}
    received = {"U1": 0, "W1": 0, "R1": 3, "W2": 3}
    rows = []
    for year in (2025, 2026):
        for school, county, region, urban, quality, centre, posts, home, bb, elig in base:
            rows.append({"school": school, "county": county, "region": region,
                         "stage": "primary", "year": year, "urban": urban,
                         "high_quality": quality, "centre": centre, "posts_required": posts,
                         "teachers_before": home, "teachers_home": home,
                         "backbone_home": bb, "eligible": elig,
                         "teachers_after": home - sent[school] + received[school]})
    return pd.DataFrame(rows)


PLACES = {"U1": ("440703", "east"), "R1": ("440705", "east"), "W1": ("440781", "west"),
          "W2": ("440781", "west")}


def _rotations() -> pd.DataFrame:
    moves = []
    for year in (2025, 2026):
        tag = str(year)[-1]
        moves += [(year, f"T1-{tag}", True, "U1", "R1"), (year, f"T2-{tag}", False, "U1", "R1"),
                  (year, f"T3-{tag}", False, "U1", "R1"), (year, f"T4-{tag}", False, "U1", "W2"),
                  (year, f"T10-{tag}", True, "W1", "W2"), (year, f"T11-{tag}", False, "W1", "W2")]
    rows = [{"year": y, "teacher_id": t, "count": 1, "subject": "math", "backbone": b,
             "from_school": f, "from_county": PLACES[f][0], "from_region": PLACES[f][1],
             "to_school": to, "to_county": PLACES[to][0], "to_region": PLACES[to][1],
             "kind": "rotation", "distance_km": 20.0} for y, t, b, f, to in moves]
    return pd.DataFrame(rows)


def make_tables() -> Tables:
    """The consistent fixture: every audited rule passes or is not applicable."""
    return {
        "schools": _schools(),
        "assignments": _assignments(),
        "demand": _demand(),
        "sites": _sites(),
        "expansions": pd.DataFrame({"school_id": ["E1"], "stage": ["primary"], "year": [2027],
                                    "modules": [1], "classes_added": [6],
                                    "cost_cny": [20e6]}),
        "zones": pd.DataFrame({"zone_id": ["Z1", "Z2"], "zone_type": ["urban_core", "rural"]}),
        "staffing": _staffing(),
        "rotations": _rotations(),
        "pairings": pd.DataFrame({"pairing_id": ["P1"], "level": ["county"],
                                  "from_id": ["440703"], "to_id": ["440781"]}),
    }


def statuses(audit: pd.DataFrame) -> dict[str, set[str]]:
    return {str(r): set(g["status"]) for r, g in audit.groupby("rule_id")}


def failing(audit: pd.DataFrame) -> set[str]:
    return set(audit.loc[audit["status"].eq("fail"), "rule_id"])


def row(audit: pd.DataFrame, rule_id: str, scope: str) -> dict[str, Any]:
    hits = audit[audit["rule_id"].eq(rule_id) & audit["scope"].eq(scope)]
    assert len(hits) == 1, (rule_id, scope, audit[audit["rule_id"].eq(rule_id)])
    return {str(k): v for k, v in hits.iloc[0].to_dict().items()}


@pytest.fixture(scope="module")
def clean() -> pd.DataFrame:
    return audit_tables(make_tables(), SCENARIO)


# ---------------------------------------------------------------------------- consistent


def test_consistent_fixture_passes_every_rule(clean: pd.DataFrame) -> None:
    assert list(clean.columns) == list(AUDIT_COLUMNS)
    assert failing(clean) == set()
    assert hard_failures(clean, targets=True).empty
    found = statuses(clean)
    assert set(found) == set(AUDITED_RULES)
    passing = {"D-13", "D-14", "Z-18", "D-07", "N-05", "J-20", "D-23", "N-01", "N-02", "J-04",
               "N-03", "D-06", "D-19", "J-10", "G-12", "J-08", "G-10", "J-18", "J-27"}
    assert {r for r, s in found.items() if s == {"pass"}} == passing
    # no target, no closure, no approved county posts in the fixture
    assert found["G-03"] == found["D-10"] == found["D-21"] == {"not applicable"}
    assert not clean["message"].str.contains("could not be checked").any()


def test_rows_carry_catalogue_document_and_clause(clean: pd.DataFrame) -> None:
    d13 = clean[clean["rule_id"].eq("D-13")].iloc[0]
    entry = catalogue()["D-13"]
    assert (d13["kind"], d13["document"], d13["clause"]) == ("HARD", entry.document,
                                                              entry.clause)
    assert set(clean.loc[clean["rule_id"].eq("J-04"), "kind"]) == {"TARGET"}


def test_hand_checked_numbers(clean: pd.DataFrame) -> None:
    # E1 2027: 18 classes x 40 (the 2027 cap) = 720 seats for 700 pupils
    e1 = row(clean, "D-13", "school=E1; stage=primary; year=2027")
    assert (e1["required"], e1["actual"], e1["sense"]) == (720.0, 700.0, "<=")
    # J-04 by 2027: (24 + 6 primary classes) x 40 + 12 junior x 50 = 1,800 seats
    j04 = row(clean, "J-04", "stages=primary+junior; year=2027")
    assert (j04["required"], j04["actual"]) == (1500.0, 1800.0)
    # N-01 2027: N2 80 M + E1 expansion 20 M = 100 M <= 110 M; total 200 M <= 250 M
    assert row(clean, "N-01", "year=2027")["actual"] == 100e6
    assert row(clean, "N-01", "year=all")["actual"] == 200e6
    # D-07 rural junior 2027: longest 4,500 m within 5,000 m
    d07 = row(clean, "D-07", "stage=junior; year=2027; setting=rural")
    assert (d07["required"], d07["actual"]) == (5000.0, 4500.0)
    # D-19 U1: ceil(10% of 30) = 3, rotated 4 (3 to R1, 1 to W2: both rural)
    d19 = row(clean, "D-19", "school=U1; year=2025")
    assert (d19["required"], d19["actual"]) == (3.0, 4.0)
    assert row(clean, "D-19", "school=U1; year=2025; of=backbone")["required"] == 1.0
    # J-08 county 440781: 60 teachers need 6 backbone, have 4 + 2
    j08 = row(clean, "J-08", "county=440781; year=2026")
    assert (j08["required"], j08["actual"]) == (6.0, 6.0)
    # J-27 U1: 60 - 4 sent = 56 present for 50 posts
    j27 = row(clean, "J-27", "school=U1; year=2025")
    assert (j27["required"], j27["actual"]) == (50.0, 56.0)
    # Z-18: primary cap falls from 45 to 40
    z18 = row(clean, "Z-18", "stage=primary; year=2027")
    assert (z18["required"], z18["actual"]) == (45.0, 40.0)


# ---------------------------------------------------------------------------- tampering


def test_western_teacher_to_eastern_school_fails_only_j10() -> None:
    tables = make_tables()
    moves = tables["rotations"]
    hit = moves["teacher_id"].eq("T11-5")
    moves.loc[hit, ["to_school", "to_county", "to_region"]] = ["R1", "440705", "east"]
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"J-10"}
    j10 = row(audit, "J-10", "year=2025")
    assert j10["actual"] == 1.0
    assert "T11-5 W1→R1" in j10["message"]
    assert row(audit, "J-10", "year=2026")["status"] == "pass"
    assert set(hard_failures(audit)["rule_id"]) == {"J-10"}


def test_listed_exception_turns_the_move_into_an_exception() -> None:
    tables = make_tables()
    moves = tables["rotations"]
    hit = moves["teacher_id"].eq("T11-5")
    moves.loc[hit, ["to_school", "to_county", "to_region"]] = ["R1", "440705", "east"]
    scenario = copy.deepcopy(SCENARIO)
    scenario["rotation"] = {"exceptions": [
        {"rules": ["J-10"], "who": "T11-5", "why": "市教育局 2025-03 批准", "years": [2025]}]}
    audit = audit_tables(tables, scenario)
    assert failing(audit) == set()
    j10 = row(audit, "J-10", "year=2025")
    assert j10["status"] == "exception"
    assert "市教育局 2025-03 批准" in j10["message"]


def test_switched_off_rule_is_not_applicable() -> None:
    tables = make_tables()
    tables["rotations"].loc[0, "from_region"] = "west"  # a west -> east move
    assert failing(audit_tables(tables, SCENARIO)) == {"J-10"}
    scenario = copy.deepcopy(SCENARIO)
    scenario["rules"] = {"J-10": {"active": False}}
    audit = audit_tables(tables, scenario)
    j10 = audit[audit["rule_id"].eq("J-10")]
    assert list(j10["status"]) == ["not applicable"]
    assert "switched off" in j10.iloc[0]["message"]


def test_overfilled_class_fails_only_d13() -> None:
    tables = make_tables()
    schools = tables["schools"]
    schools.loc[schools["school_id"].eq("E2") & schools["year"].eq(2025), "enrolled"] = 300
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"D-13"}
    e2 = row(audit, "D-13", "school=E2; stage=primary; year=2025")
    # 6 classes x 45 = 270 seats; 300 pupils: 30 over, ceil(300/45) - 6 = 1 more class
    assert (e2["status"], e2["required"], e2["actual"]) == ("fail", 270.0, 300.0)
    assert "30 over the cap, 1 more classes needed" in e2["message"]


def test_dropped_projects_of_a_year_fail_only_n02() -> None:
    tables = make_tables()
    tables["expansions"] = tables["expansions"].iloc[0:0]
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"N-02"}
    n02 = row(audit, "N-02", "year=2027")
    assert (n02["sense"], n02["required"], n02["actual"]) == ("=", 2.0, 1.0)
    assert row(audit, "N-02", "year=2025")["status"] == "pass"


def test_budget_exceeded_fails_only_n01() -> None:
    tables = make_tables()
    tables["expansions"].loc[0, "cost_cny"] = 40e6
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"N-01"}
    n01 = row(audit, "N-01", "year=2027")
    assert (n01["required"], n01["actual"]) == (110e6, 120e6)
    assert "by 10.0 million" in n01["message"]
    assert row(audit, "N-01", "year=all")["status"] == "pass"  # 220 M <= 250 M


def test_carry_over_budget_is_cumulative() -> None:
    tables = make_tables()
    tables["expansions"].loc[0, "cost_cny"] = 40e6
    scenario = copy.deepcopy(SCENARIO)
    scenario["planning"]["budget_carry_over"] = True
    audit = audit_tables(tables, scenario)
    # 100 + 120 = 220 M spent by 2027 within 120 + 110 = 230 M
    n01 = row(audit, "N-01", "year=2027")
    assert (n01["required"], n01["actual"], n01["status"]) == (230e6, 220e6, "pass")


def test_missed_seat_target_fails_only_j04() -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["planning"]["seat_targets"][0]["min_seats"] = 1900
    audit = audit_tables(make_tables(), scenario)
    assert failing(audit) == {"J-04"}
    j04 = row(audit, "J-04", "stages=primary+junior; year=2027")
    assert "100 short of 1,900" in j04["message"]
    assert hard_failures(audit).empty  # a TARGET, not a HARD rule
    assert set(hard_failures(audit, targets=True)["rule_id"]) == {"J-04"}


def test_too_few_rotations_fail_only_d19() -> None:
    tables = make_tables()
    moves = tables["rotations"]
    tables["rotations"] = moves[~moves["teacher_id"].isin(["T2-5", "T3-5"])]
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"D-19"}
    d19 = row(audit, "D-19", "school=U1; year=2025")
    assert (d19["required"], d19["actual"]) == (3.0, 2.0)
    assert "1 short of 10%" in d19["message"]


def test_private_new_school_fails_j20_and_migrant_rule_d23() -> None:
    tables = make_tables()
    schools = tables["schools"]
    schools.loc[schools["school_id"].eq("N1"), "ownership"] = "private"
    audit = audit_tables(tables, SCENARIO)
    # N1 becomes private: a private compulsory opening (J-20), Z1 sends 900 of its 1,100
    # children (100 migrant) to it: 900 <= 1,000 holds, but the seat targets lose N1
    assert row(audit, "J-20", "stage=primary; year=2025")["status"] == "fail"
    assert failing(audit) == {"J-20", "N-03", "J-04"}
    tables["assignments"].loc[0, "children"] = 1050
    audit = audit_tables(tables, SCENARIO)
    d23 = row(audit, "D-23", "zone=Z1; stage=primary; year=2025")
    assert (d23["required"], d23["actual"]) == (1000.0, 1050.0)


def test_travel_beyond_limit_fails_d07() -> None:
    tables = make_tables()
    tables["assignments"].loc[0, "distance_m"] = 650.0
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"D-07"}
    d07 = row(audit, "D-07", "stage=primary; year=2025; setting=urban")
    assert (d07["required"], d07["actual"]) == (500.0, 650.0)
    assert "1 of 2 assignments" in d07["message"]


def test_unknown_setting_uses_the_longer_limit() -> None:
    tables = make_tables()
    del tables["zones"]
    tables["assignments"].loc[0, "distance_m"] = 650.0
    audit = audit_tables(tables, SCENARIO)
    d07 = row(audit, "D-07", "stage=primary; year=2025; setting=unknown")
    assert (d07["required"], d07["status"]) == (3000.0, "pass")
    assert "setting unknown" in d07["message"]


def test_growth_beyond_the_land_limit_fails_only_d14() -> None:
    tables = make_tables()
    schools = tables["schools"]
    schools.loc[schools["school_id"].eq("E1"), "max_classes"] = 16
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"D-14"}
    # E1 grows from 12 to 18 classes; its land allows 16
    d14 = row(audit, "D-14", "school=E1; year=2027")
    assert (d14["required"], d14["actual"]) == (16.0, 18.0)
    assert row(audit, "D-14", "school=E1; year=2025")["status"] == "pass"


def test_oversized_new_school_fails_n05() -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["standards"]["max_school_classes"] = {"primary": 20, "junior": 24}
    audit = audit_tables(make_tables(), scenario)
    assert failing(audit) == {"N-05"}
    assert row(audit, "N-05", "school=N1; stage=primary; year=2025")["actual"] == 24.0
    # E1 grows to 18 <= 20 in 2027; before the expansion it is not checked
    assert row(audit, "N-05", "school=E1; stage=primary; year=2027")["status"] == "pass"


def test_closure_next_to_an_opening_fails_d10() -> None:
    tables = make_tables()
    schools = tables["schools"]
    schools.loc[schools["school_id"].eq("J1") & schools["year"].eq(2027), "kind"] = "closed"
    audit = audit_tables(tables, SCENARIO)
    # J1 served Z1 and Z2 in 2025; N2 opens in 2027 and serves Z1: build-and-close
    d10 = row(audit, "D-10", "school=J1; year=2027")
    assert (d10["status"], d10["actual"]) == ("fail", 1.0)
    assert "N2" in d10["message"]
    assert failing(audit) == {"D-10"}
    # with an explicit catchment table that does not pair J1 with N2, it holds
    tables["catchment"] = pd.DataFrame({"school_id": ["J1"], "site_id": ["N3"]})
    assert row(audit_tables(tables, SCENARIO), "D-10", "school=J1; year=2027")["status"] \
        == "pass"


def test_sender_below_posts_fails_j27_and_pairing_gap_fails_j18() -> None:
    tables = make_tables()
    staffing = tables["staffing"]
    staffing.loc[staffing["school"].eq("W1") & staffing["year"].eq(2026), "teachers_after"] = 34
    moves = tables["rotations"]
    tables["rotations"] = moves[~moves["teacher_id"].eq("T4-6")]
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"J-27", "J-18"}
    assert row(audit, "J-27", "school=W1; year=2026")["actual"] == 34.0
    j18 = row(audit, "J-18", "pairing=P1; year=2026")
    assert (j18["required"], j18["actual"]) == (1.0, 0.0)


def test_empty_tables_give_not_applicable_rows() -> None:
    empty = {name: frame.iloc[0:0] for name, frame in make_tables().items()}
    audit = audit_tables(empty, SCENARIO)
    assert not audit["message"].str.contains("could not be checked").any()
    assert set(audit["rule_id"]) == set(AUDITED_RULES)
    # nothing opened: the D-06 count of 1 primary school by 2027 is missed
    assert failing(audit) == {"D-06", "J-04", "N-02", "N-03"}


def test_missing_columns_make_rules_not_applicable() -> None:
    tables = make_tables()
    tables["staffing"] = tables["staffing"].drop(columns=["eligible", "centre"])
    tables["assignments"] = tables["assignments"].drop(columns=["distance_m"])
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == set()
    for rule_id, column in (("D-19", "staffing.csv: eligible"),
                            ("G-12", "staffing.csv: centre"),
                            ("D-07", "assignments.csv: distance_m")):
        rows = audit[audit["rule_id"].eq(rule_id)]
        assert list(rows["status"]) == ["not applicable"]
        assert column in rows.iloc[0]["message"]


def test_roster_gives_eligibility_when_staffing_has_none() -> None:
    tables = make_tables()
    tables["staffing"] = tables["staffing"].drop(columns=["eligible"])
    # U1: 25 teachers with 6+ years, 5 more reach 6 years in 2026 -> 25, 30 eligible
    tables["teachers"] = pd.DataFrame({
        "teacher_id": [f"U{i}" for i in range(30)], "school_id": "U1",
        "years_at_school": [8] * 25 + [5] * 5})
    audit = audit_tables(tables, SCENARIO)
    assert row(audit, "D-19", "school=U1; year=2025")["required"] == 3.0  # ceil(2.5)
    assert row(audit, "D-19", "school=U1; year=2026")["required"] == 3.0  # ceil(3.0)


def test_missed_stage_group_target_fails_only_g03() -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["planning"]["seat_targets"].append(
        {"rule": "G-03", "stages": ["junior"], "year": 2025, "min_seats": 100})
    audit = audit_tables(make_tables(), scenario)
    assert failing(audit) == {"G-03"}  # no junior seats are new by 2025
    assert row(audit, "G-03", "stages=junior; year=2025")["actual"] == 0.0


def test_new_school_count_off_fails_only_d06() -> None:
    scenario = copy.deepcopy(SCENARIO)
    scenario["planning"]["new_school_counts"][0]["count"] = 2
    audit = audit_tables(make_tables(), scenario)
    assert failing(audit) == {"D-06"}
    d06 = row(audit, "D-06", "stage=primary; year=2027")
    assert (d06["sense"], d06["required"], d06["actual"]) == ("=", 2.0, 1.0)


def with_kindergartens(public: float, private: float) -> tuple[Tables, dict[str, Any]]:
    """The fixture plus two kindergartens in 2025 and N-12 (55 % public by 2025).

    K1 (public) and K2 (private), 4 classes of at most 30 each, with ``public`` and
    ``private`` enrolled children.
    """
    scenario = copy.deepcopy(SCENARIO)
    scenario["planning"]["stages"] = ["kindergarten", "primary", "junior"]
    scenario["planning"]["public_share_targets"] = [
        {"rule": "N-12", "stage": "kindergarten", "year": 2025, "min_share": 0.55}]
    scenario["standards"]["class_caps"]["kindergarten"] = 30
    tables = make_tables()
    rows = pd.DataFrame({"school_id": ["K1", "K2"], "kind": "existing",
                         "ownership": ["public", "private"], "stage": "kindergarten",
                         "year": 2025, "classes": 4, "class_cap": 30, "seats": 120,
                         "enrolled": [public, private], "name": ["K1 school", "K2 school"]})
    tables["schools"] = pd.concat([tables["schools"], rows], ignore_index=True)
    return tables, scenario


def test_public_kindergarten_share_passes_n12() -> None:
    tables, scenario = with_kindergartens(70, 50)
    audit = audit_tables(tables, scenario, language="en")
    assert failing(audit) == set()
    n12 = row(audit, "N-12", "stage=kindergarten; year=2025")
    # 70 / (70 + 50) = 0.5833 (the audit table rounds to 3 decimals)
    assert (n12["status"], n12["sense"], n12["required"], n12["actual"]) == (
        "pass", ">=", 0.55, 0.583)
    assert n12["message"] == ("70 of 120 enrolled kindergarten children in public schools "
                              "in 2025: 58.3 %, at least 55 %")


def test_kindergartens_turning_private_fail_only_n12() -> None:
    # schools.csv tampered: 50 public and 70 private: 41.7 %, 0.55 x 120 - 50 = 16 short
    tables, scenario = with_kindergartens(50, 70)
    audit = audit_tables(tables, scenario, language="en")
    assert failing(audit) == {"N-12"}
    n12 = row(audit, "N-12", "stage=kindergarten; year=2025")
    assert (n12["required"], n12["actual"]) == (0.55, 0.417)
    assert n12["message"] == ("50 of 120 enrolled kindergarten children in public schools "
                              "in 2025: 41.7 %, below 55 %; 16 more children need a public "
                              "place")
    zh = row(audit_tables(tables, scenario, language="zh"), "N-12",
             "stage=kindergarten; year=2025")
    assert zh["message"] == ("2025 年幼儿园在读儿童 120 名，其中就读公办 50 名，公办率 41.7 %，"
                             "低于 55 %：还需 16 名儿童进入公办")
    scenario["rules"] = {"N-12": {"active": False}}
    off = row(audit_tables(tables, scenario), "N-12", "")
    assert off["status"] == "not applicable"


def test_rising_cap_fails_only_z18() -> None:
    tables = make_tables()
    schools = tables["schools"]
    schools.loc[schools["school_id"].eq("J1") & schools["year"].eq(2027), "class_cap"] = 55
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"Z-18"}
    z18 = row(audit, "Z-18", "stage=junior; year=2027")
    assert (z18["required"], z18["actual"]) == (50.0, 55.0)


def test_move_into_the_centre_fails_only_g12() -> None:
    tables = make_tables()
    moves = tables["rotations"]
    hit = moves["teacher_id"].eq("T3-6")  # U1 -> R1; reverse it: R1 (county) -> U1 (centre)
    moves.loc[hit, ["from_school", "from_county", "to_school", "to_county"]] = [
        "R1", "440705", "U1", "440703"]
    tables["rotations"] = moves
    audit = audit_tables(tables, SCENARIO)
    # U1 still rotates 3 in 2026 (T1, T2, T4); R1 is not a sender and keeps its posts
    assert failing(audit) == {"G-12"}
    assert row(audit, "G-12", "year=2026")["actual"] == 1.0


def test_too_few_backbone_fails_j08_and_g10() -> None:
    tables = make_tables()
    staffing = tables["staffing"]
    staffing.loc[staffing["school"].eq("U1"), "backbone_home"] = 5
    audit = audit_tables(tables, SCENARIO)
    assert failing(audit) == {"J-08", "G-10"}
    for rule_id in ("J-08", "G-10"):
        # 60 teachers need ceil(6.0) = 6 backbone; the county 440703 is U1 alone
        assert row(audit, rule_id, "school=U1; year=2025")["required"] == 6.0
        assert row(audit, rule_id, "county=440703; year=2026")["status"] == "fail"


def test_roster_and_hires_give_home_posts_for_j08() -> None:
    tables = make_tables()
    tables["staffing"] = tables["staffing"].drop(columns=["teachers_home", "backbone_home"])
    sizes = {"U1": (60, 8), "R1": (20, 2), "W1": (40, 4), "W2": (20, 2)}
    tables["teachers"] = pd.DataFrame(
        [{"teacher_id": f"{s}-{k}", "school_id": s, "backbone": k < b, "years_at_school": 7}
         for s, (n, b) in sizes.items() for k in range(n)])
    assert failing(audit_tables(tables, SCENARIO)) == set()
    hires = pd.DataFrame([{"year": 2026, "teacher_id": "", "count": 5, "subject": "math",
                           "backbone": False, "from_school": "", "to_school": "W2",
                           "to_county": "440781", "to_region": "west", "kind": "hire"}])
    tables["rotations"] = pd.concat([tables["rotations"], hires], ignore_index=True)
    audit = audit_tables(tables, SCENARIO)
    # W2 holds 20 + 5 posts in 2026 with 2 backbone: ceil(2.5) = 3 needed
    assert failing(audit) == {"J-08", "G-10"}
    w2 = row(audit, "J-08", "school=W2; year=2026")
    assert (w2["required"], w2["actual"]) == (3.0, 2.0)
    assert row(audit, "J-08", "school=W2; year=2025")["status"] == "pass"


def test_scenario_object_and_rule_exceptions() -> None:
    from allocator.scenario import Scenario

    data = copy.deepcopy(SCENARIO)
    data.pop("rotation")
    data["meta"] = {"name": "audit"}
    data["data"] = {"zones": {"path": "zones.csv"}, "schools": {"path": "schools.csv"}}
    data["planning"].update(base_year=2024, years=[2025, 2027])
    data["rules"] = {"J-20": {"exceptions": [
        {"who": "N2", "where": "440781", "why": "approved before the plan", "years": [2027]}]}}
    scenario = Scenario.model_validate(data)
    tables = make_tables()
    schools = tables["schools"]
    schools.loc[schools["school_id"].eq("N2"), "ownership"] = "private"
    audit = audit_tables(tables, scenario)
    j20 = row(audit, "J-20", "stage=junior; year=2027")
    assert (j20["status"], j20["actual"]) == ("exception", 1.0)
    assert "approved before the plan" in j20["message"]
    # N2's 600 junior seats no longer count as public: 1,200 of 1,500 for J-04
    assert failing(audit) == {"J-04"}
    assert row(audit, "J-04", "stages=primary+junior; year=2027")["actual"] == 1200.0


def test_county_above_approved_posts_fails_d21_and_z10() -> None:
    tables = make_tables()
    tables["county_posts"] = pd.DataFrame({"county": ["440781", "440703"],
                                           "year": [2026, 2026], "posts": [50, 70]})
    staffing = tables["staffing"]
    hired = staffing["school"].eq("W2") & staffing["year"].eq(2026)
    staffing.loc[hired, ["teachers_home", "backbone_home"]] = [25, 3]  # J-08: 3 of 25
    audit = audit_tables(tables, SCENARIO)
    # 440781 starts with 40 + 20 = 60 teachers (> 50 approved, so 60 is the cap); hires
    # bring it to 65
    assert failing(audit) == {"D-21", "Z-10"}
    d21 = row(audit, "D-21", "county=440781; year=2026")
    assert (d21["required"], d21["actual"]) == (60.0, 65.0)
    assert row(audit, "D-21", "county=440703; year=2026")["status"] == "pass"


# ---------------------------------------------------------------------------- property


def _seats(schools: pd.DataFrame) -> list[float]:
    """classes x the scenario's cap of each row (45 primary 2025, 40 primary 2027, 50 junior)."""
    params = params_from_config(SCENARIO).siting
    return [float(c) * (params.cap(str(g), int(y)) or 0) for c, g, y in
            zip(schools["classes"], schools["stage"], schools["year"], strict=True)]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=9, max_size=9))
def test_scaling_enrolment_below_caps_never_fails_d13(factors: list[float]) -> None:
    schools = _schools()
    schools["enrolled"] = [round(s * f, 3) for s, f in
                           zip(_seats(schools), factors, strict=True)]
    audit = audit_tables({"schools": schools}, SCENARIO)
    d13 = audit[audit["rule_id"].eq("D-13")]
    assert len(d13) == 9
    assert "fail" not in set(d13["status"])


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=8), st.floats(min_value=0.5, max_value=500.0))
def test_any_pupil_above_the_seats_fails_d13(index: int, extra: float) -> None:
    schools = _schools()
    seats = _seats(schools)
    schools["enrolled"] = schools["enrolled"].astype(float)
    schools.loc[index, "enrolled"] = seats[index] + extra
    audit = audit_tables({"schools": schools}, SCENARIO)
    failed = audit[audit["rule_id"].eq("D-13") & audit["status"].eq("fail")]
    school, stage, year = schools.loc[index, ["school_id", "stage", "year"]]
    assert list(failed["scope"]) == [f"school={school}; stage={stage}; year={year}"]


@settings(max_examples=40, deadline=None)
@given(st.floats(min_value=0.01, max_value=0.99), st.integers(min_value=0, max_value=500))
def test_ceil_share_is_exact(share: float, count: int) -> None:
    need = ceil_share(share, count)
    assert need - 1 < share * count + 1e-9
    assert need >= share * count - 1e-9


# ---------------------------------------------------------------------------- guard


def test_registry_matches_the_guard_list() -> None:
    assert set(CHECKS) == set(AUDITED_RULES)
    assert all(rule_id in catalogue() for rule_id in AUDITED_RULES)
    assert all(CHECKS[r].kind in (Kind.HARD, Kind.TARGET) for r in AUDITED_RULES)
    assert all(CHECKS[r].function.__doc__ for r in AUDITED_RULES)


def test_every_registered_hard_or_target_rule_is_audited() -> None:
    for module in pkgutil.walk_packages(allocator.__path__, "allocator."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    rules = {r.rule_id for r in registered() if r.kind in (Kind.HARD, Kind.TARGET)}
    missing = sorted(rules - set(AUDITED_RULES) - set(NOT_AUDITED))
    assert missing == [], f"registered rules without an audit check: {missing}"


FAILING_TESTS = {
    "D-13": test_overfilled_class_fails_only_d13,
    "D-14": test_growth_beyond_the_land_limit_fails_only_d14,
    "Z-18": test_rising_cap_fails_only_z18,
    "D-07": test_travel_beyond_limit_fails_d07,
    "N-05": test_oversized_new_school_fails_n05,
    "J-20": test_private_new_school_fails_j20_and_migrant_rule_d23,
    "D-23": test_private_new_school_fails_j20_and_migrant_rule_d23,
    "D-10": test_closure_next_to_an_opening_fails_d10,
    "N-01": test_budget_exceeded_fails_only_n01,
    "N-02": test_dropped_projects_of_a_year_fail_only_n02,
    "J-04": test_missed_seat_target_fails_only_j04,
    "G-03": test_missed_stage_group_target_fails_only_g03,
    "N-03": test_private_new_school_fails_j20_and_migrant_rule_d23,
    "D-06": test_new_school_count_off_fails_only_d06,
    "N-12": test_kindergartens_turning_private_fail_only_n12,
    "D-19": test_too_few_rotations_fail_only_d19,
    "J-10": test_western_teacher_to_eastern_school_fails_only_j10,
    "G-12": test_move_into_the_centre_fails_only_g12,
    "J-08": test_too_few_backbone_fails_j08_and_g10,
    "G-10": test_too_few_backbone_fails_j08_and_g10,
    "J-18": test_sender_below_posts_fails_j27_and_pairing_gap_fails_j18,
    "J-27": test_sender_below_posts_fails_j27_and_pairing_gap_fails_j18,
    "D-21": test_county_above_approved_posts_fails_d21_and_z10,
    "Z-10": test_county_above_approved_posts_fails_d21_and_z10,
}
"""A test in which each audited rule fails (the guard: no check without one)."""


def test_every_audited_rule_has_a_failing_test() -> None:
    assert set(FAILING_TESTS) == set(AUDITED_RULES)


# ---------------------------------------------------------------------------- files & CLI


def _write(tables: Tables, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def test_results_dir_round_trip(tmp_path: Path) -> None:
    import yaml

    tables = make_tables()
    tables["schools"].loc[tables["schools"]["school_id"].eq("E2"), "enrolled"] = 300
    _write(tables, tmp_path / "run")
    (tmp_path / "run" / "scenario.resolved.yaml").write_text(
        yaml.safe_dump(SCENARIO), encoding="utf-8")
    audit = audit_results_dir(tmp_path / "run")
    assert failing(audit) == {"D-13"}
    assert len(audit[audit["status"].eq("fail")]) == 2  # 2025 (270) and 2027 (240)


def test_plan_layout_from_csv_files(tmp_path: Path) -> None:
    tables = make_tables()
    sites = tables["sites"][tables["sites"]["status"].eq("opened")].drop(columns="status")
    sites.to_csv(tmp_path / "new_sites.csv", index=False)
    tables["assignments"].to_csv(tmp_path / "assignments.csv", index=False)
    paths = plan_paths([str(tmp_path)])
    assert set(paths) == {"sites", "assignments"}
    audit = audit_plan(paths, SCENARIO)
    # without the scenario's layers only the new sites are known schools
    n1 = row(audit, "D-13", "school=N1; stage=primary; year=2027")
    assert (n1["required"], n1["actual"]) == (960.0, 900.0)
    assert row(audit, "D-06", "stage=primary; year=2027")["actual"] == 1.0


def test_cli_exits_non_zero_on_hard_failure(tmp_path: Path) -> None:
    import yaml

    app = typer.Typer()
    app.command("audit")(audit_command)
    app.command("noop")(lambda: None)
    tables = make_tables()
    _write(tables, tmp_path / "ok")
    (tmp_path / "ok" / "scenario.resolved.yaml").write_text(yaml.safe_dump(SCENARIO),
                                                            encoding="utf-8")
    runner = CliRunner()
    done = runner.invoke(app, ["audit", str(tmp_path / "ok")])
    assert done.exit_code == 0, done.output
    assert (tmp_path / "ok" / "audit.csv").exists()
    tables["rotations"].loc[0, ["from_region"]] = ["west"]
    _write(tables, tmp_path / "bad")
    (tmp_path / "bad" / "scenario.resolved.yaml").write_text(yaml.safe_dump(SCENARIO),
                                                             encoding="utf-8")
    done = runner.invoke(app, ["audit", str(tmp_path / "bad")])
    assert done.exit_code == AUDIT_FAILED
    written = pd.read_csv(tmp_path / "bad" / "audit.csv")
    assert failing(written) == {"J-10"}


def test_cli_plan_mode_reads_the_scenario_layers(tmp_path: Path) -> None:
    tiny = Path(__file__).parent / "fixtures" / "tiny" / "scenario.yaml"
    plan = tmp_path / "plan"
    plan.mkdir()
    pd.DataFrame({"site_id": ["C1"], "stage": ["primary"], "year": [2024], "classes": [12],
                  "ownership": ["public"]}).to_csv(plan / "new_sites.csv", index=False)
    pd.DataFrame({"zone_id": ["A", "A", "B"], "school_id": ["S1", "C1", "C1"],
                  "stage": "primary", "year": 2024, "children": [450, 450, 300],
                  "distance_m": [280.5, 327.3, 420.8]}).to_csv(plan / "assignments.csv",
                                                               index=False)
    app = typer.Typer()
    app.command("audit")(audit_command)
    app.command("noop")(lambda: None)
    runner = CliRunner()
    args = ["audit", "--plan", str(plan), "--scenario", str(tiny), "--out", str(tmp_path)]
    done = runner.invoke(app, args)
    # C1: 12 classes x 45 = 540 seats for 450 + 300 = 750 pupils; S1 (scenario layer):
    # 10 x 45 = 450 for 450
    assert done.exit_code == AUDIT_FAILED, done.output
    audit = pd.read_csv(tmp_path / "audit.csv")
    assert failing(audit) == {"D-13"}
    assert row(audit, "D-13", "school=C1; stage=primary; year=2024")["actual"] == 750.0
    assert row(audit, "D-13", "school=S1; stage=primary; year=2024")["required"] == 450.0
    # zone B is a new district: urban limit 500 m
    assert row(audit, "D-07", "stage=primary; year=2024; setting=urban")["required"] == 500.0
    pd.DataFrame({"site_id": ["C1"], "stage": ["primary"], "year": [2024], "classes": [18],
                  "ownership": ["public"]}).to_csv(plan / "new_sites.csv", index=False)
    assert runner.invoke(app, args).exit_code == 0


def test_plan_layout_from_a_geopackage(tmp_path: Path) -> None:
    import geopandas as gpd

    tables = make_tables()
    opened = tables["sites"][tables["sites"]["status"].eq("opened")].drop(columns="status")
    layer = gpd.GeoDataFrame(opened, geometry=gpd.points_from_xy([113.08, 113.10],
                                                                 [22.58, 22.60]),
                             crs="EPSG:4326")
    layer.to_file(tmp_path / "plan.gpkg", layer="new_sites", driver="GPKG")
    tables["assignments"].to_csv(tmp_path / "flows.csv", index=False)
    paths = plan_paths([str(tmp_path / "plan.gpkg"), f"assignments={tmp_path / 'flows.csv'}"])
    assert paths == {"sites": f"{tmp_path / 'plan.gpkg'}#new_sites",
                     "assignments": str(tmp_path / "flows.csv")}
    audit = audit_plan(paths, SCENARIO)
    # N2 junior, 12 classes x 50 = 600 seats for the 300 children of Z1 in 2027
    n2 = row(audit, "D-13", "school=N2; stage=junior; year=2027")
    assert (n2["required"], n2["actual"]) == (600.0, 300.0)
    # the layout has no expansions: 2027 has one project (N2) where the scenario wants 2
    assert failing(audit) == {"N-02"}
    assert row(audit, "N-02", "year=2027")["actual"] == 1.0
