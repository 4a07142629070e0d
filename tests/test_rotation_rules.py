"""Each rotation rule binds on a hand-checkable fixture, and breaks when it cannot hold.

The fixture is ``tests/fixtures/rotation/tiny`` (see its README): EU and WU (urban,
high-quality, 22 teachers, 20 posts) each have one rural weak school (ER, WR; 9 teachers,
10 posts) 8 km away; D-19 asks EU and WU for 1 rotator in 2024 and 2 in 2025.
"""

from __future__ import annotations

import pandas as pd
import pytest

from allocator.rotation import (
    RotationException,
    RotationInput,
    RotationResult,
    RotationWeights,
    solve_rotation,
)
from allocator.rotation_prep import posts_required
from allocator.rules import registered
from tests.fixtures.rotation.tiny import add_school, add_teachers, frames, tiny

CHEAP = 100.0  # an elastic weight below the default 10,000: the rule that should give


def solve(data: RotationInput, *, elastic: bool = False) -> RotationResult:
    return solve_rotation(data, elastic=elastic)


def moves(result: RotationResult, source: str, target: str | None = None) -> pd.DataFrame:
    rot = result.rotations
    keep = rot["from_school"].eq(source)
    if target is not None:
        keep &= rot["to_school"].eq(target)
    return rot[keep]


def per_year(frame: pd.DataFrame) -> dict[int, int]:
    return {int(y): int(n) for y, n in frame.groupby("year")["count"].sum().items()}


def rule_rows(result: RotationResult, rule_id: str, scope_id: str | None = None
              ) -> pd.DataFrame:
    rows = result.rules[result.rules["rule_id"].eq(rule_id)]
    return rows if scope_id is None else rows[rows["scope_id"].eq(scope_id)]


def slack(result: RotationResult, rule_id: str) -> dict[object, int]:
    rows = result.slacks[result.slacks["rule_id"].eq(rule_id)]
    return {(s, int(y) if not pd.isna(y) else None): int(a)
            for s, y, a in zip(rows["scope_id"], rows["year"], rows["amount"], strict=True)}


def no_violation(result: RotationResult) -> None:
    assert result.info.status == "optimal", result.info.message
    assert result.rules["violation"].sum() == 0


def without(name: str, ids: set[str]) -> pd.DataFrame:
    frame = frames()[name]
    return frame[~frame["school_id"].isin(ids)].reset_index(drop=True)


# ---------------------------------------------------------------- J-27, Z-09, Z-11 posts


def test_posts_follow_the_unified_ratios_with_a_small_school_floor() -> None:
    policy = tiny().policy
    assert posts_required("primary", 380, 10, policy) == 20  # 380 / 19 exactly
    assert posts_required("primary", 381, 10, policy) == 21  # rounded up
    assert posts_required("junior", 135, 3, policy) == 10  # 135 / 13.5
    assert posts_required("senior", 126, 3, policy) == 11  # 126 / 12.5 = 10.08
    assert posts_required("primary", 90, 6, policy) == 11  # max(ceil 4.7, ceil 1.8 x 6)
    assert posts_required("primary", 100, 6, policy) == 6  # not small: 100 / 19 -> 6


# ---------------------------------------------------------------- D-19 rotation share


def test_d19_rotation_share_binds_and_rounds_up() -> None:
    teachers = add_teachers(frames()["teachers"], "ER", 1, prefix="ER-X")  # ER fully staffed
    result = solve(tiny(teachers=teachers))
    no_violation(result)
    # No shortage to fill at ER any more, so only the rule moves anyone: 10 eligible -> 1,
    # 12 eligible in 2025 -> ceil(1.2) = 2.
    assert per_year(moves(result, "EU")) == {2024: 1, 2025: 2}
    rows = rule_rows(result, "D-19", "EU")
    assert rows["required"].tolist() == [1, 2] and rows["binding"].all()


def test_d19_rotation_share_is_violated_without_a_reachable_rural_school() -> None:
    data = tiny(max_distance_km=5.0)  # ER and WR are 8 km away
    hard = solve(data)
    assert hard.info.status == "infeasible"
    assert hard.warnings[0].startswith(
        "D-19: EU must rotate 1 of 10 eligible teachers in 2024 but has no open arc")
    result = solve(data, elastic=True)
    assert result.info.has_solution and result.rotations.empty
    assert slack(result, "D-19") == {("EU", 2024): 1, ("EU", 2025): 2,
                                     ("WU", 2024): 1, ("WU", 2025): 2}
    assert rule_rows(result, "D-19", "EU")["violation"].tolist() == [1, 2]


def test_d19_counts_rotations_to_rural_schools_only() -> None:
    # With G-12 off, EU's only receiver is C: urban and weak (D-20), not rural. Moves to C
    # fill C's shortage but do not count toward D-19 (到农村学校交流轮岗).
    data = _with_centre(keep_er=False)
    options = {"max_distance_km": 20.0, "rules_off": frozenset({"G-12"})}
    only_urban = tiny(schools=data.schools, enrolment=data.enrolment, teachers=data.teachers,
                      **options)
    hard = solve(only_urban)
    assert hard.info.status == "infeasible"
    assert hard.warnings[0].startswith(
        "D-19: EU must rotate 1 of 10 eligible teachers in 2024 but has no open arc")
    # With ER back, EU meets D-19 through ER alone, whatever it also sends to C.
    data = _with_centre(keep_er=True)
    result = solve(tiny(schools=data.schools, enrolment=data.enrolment,
                        teachers=data.teachers, **options))
    no_violation(result)
    assert per_year(moves(result, "EU", "ER")) == {2024: 1, 2025: 2}
    assert not moves(result, "EU", "C").empty
    assert rule_rows(result, "D-19", "EU")["actual"].tolist() == [1, 2]


def test_nearest_receivers_skip_banned_neighbours() -> None:
    # EX: an east rural school 4 km from WU (west). J-10 bans WU -> EX, so with one nearest
    # receiver WU keeps WR (8 km) instead of losing its only arc to the ban.
    base = frames()
    schools, enrolment = add_school(
        base["schools"], base["enrolment"],
        {"school_id": "EX", "county": "E", "region": "east", "stage": "primary", "urban": 0,
         "high_quality": 0, "weak": 1, "centre": 0, "x_m": 44000, "y_m": 0}, 190, 6)
    teachers = add_teachers(base["teachers"], "EX", 9, prefix="EX-T")
    teachers = add_teachers(teachers, "EX", 1, prefix="EX-B", backbone=True)  # J-08
    result = solve(tiny(schools=schools, enrolment=enrolment, teachers=teachers,
                        nearest_receivers=1))
    no_violation(result)
    assert per_year(moves(result, "WU", "WR")) == {2024: 1, 2025: 2}
    assert moves(result, "WU", "EX").empty


# ---------------------------------------------------------------- D-19 backbone share


def test_d19_backbone_share_binds_longest_serving_first() -> None:
    result = solve(tiny())
    no_violation(result)
    eu = moves(result, "EU")
    backbone = eu[eu["backbone"]]
    # 2024: one rotator, so one backbone (ceil 0.2): the longest-serving eligible one.
    assert backbone.loc[backbone["year"].eq(2024), "teacher_id"].tolist() == ["EU-B1"]
    # 2025: two rotators, at least one backbone; the one who has not rotated yet first.
    assert "EU-B2" in set(backbone.loc[backbone["year"].eq(2025), "teacher_id"])
    rows = rule_rows(result, "D-19", "EU:backbone")
    assert rows["required"].tolist() == [1, 1] and bool(rows["binding"].iloc[0])


def test_d19_backbone_share_is_violated_without_eligible_backbone() -> None:
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].isin(["EU-B1", "EU-B2"]), "years_at_school"] = 1
    data = tiny(teachers=teachers)
    hard = solve(data)
    assert hard.info.status == "infeasible"
    assert "D-19: EU needs 1 backbone rotator(s) in 2024 but has 0 eligible" in hard.warnings[0]
    result = solve(data, elastic=True)
    assert slack(result, "D-19") == {("EU:backbone", 2024): 1, ("EU:backbone", 2025): 1}
    assert rule_rows(result, "D-19", "EU:backbone")["violation"].tolist() == [1, 1]


# ---------------------------------------------------------------- J-08 / G-10


def test_j08_backbone_floor_binds_on_present_teachers() -> None:
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].eq("EU-T19"), "backbone"] = 1  # EU: 4 backbone
    result = solve(tiny(teachers=teachers, backbone_basis="present"))
    no_violation(result)
    eu = rule_rows(result, "J-08", "EU")
    # 2024: EU sends its backbone rotator (D-19) and keeps 3 backbone of 21 present, the
    # least J-08 allows (ceil 2.1 = 3).
    assert eu[["year", "required", "actual"]].values.tolist()[0] == [2024, 3, 3]
    assert (eu["actual"] >= eu["required"]).all() and bool(eu["binding"].iloc[0])


def test_j08_backbone_floor_is_violated_when_d19_sends_backbone() -> None:
    # EU keeps 2 backbone of 22 (B3 is not backbone any more): after sending one (D-19)
    # and at most 2 rotators in all (J-27), 1 backbone of >= 20 present < ceil(2.0).
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].eq("EU-B3"), "backbone"] = 0
    data = tiny(teachers=teachers, backbone_basis="present")
    assert solve(data).info.status == "infeasible"
    weights = RotationWeights(elastic_by_rule={"J-08": CHEAP})
    result = solve(tiny(teachers=teachers, backbone_basis="present", weights=weights),
                   elastic=True)
    assert slack(result, "J-08")[("EU", 2024)] == 1
    assert rule_rows(result, "J-08", "EU")["violation"].tolist() == [1, 1]


def test_j08_on_home_posts_reports_what_no_move_can_change() -> None:
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].eq("ER-B1"), "backbone"] = 0  # ER: 0 of 9
    result = solve(tiny(teachers=teachers))
    assert result.info.status == "optimal"  # rotations keep the home post: not a model row
    er = rule_rows(result, "J-08", "ER")
    assert er["violation"].tolist() == [1, 1] and er["actual"].tolist() == [0, 0]


# ---------------------------------------------------------------- J-10 (west -> east)


def _west_only_reaches_east() -> RotationInput:
    """WR dropped: WU's only rural school within 50 km is ER, in the east."""
    return tiny(schools=without("schools", {"WR"}), enrolment=without("enrolment", {"WR"}),
                teachers=without("teachers", {"WR"}))


def test_j10_ban_binds() -> None:
    data = _west_only_reaches_east()
    assert solve(data).info.status == "infeasible"
    lifted = solve(tiny(schools=data.schools, enrolment=data.enrolment,
                        teachers=data.teachers, rules_off=frozenset({"J-10"})))
    assert lifted.info.status == "optimal"
    assert per_year(moves(lifted, "WU", "ER")) == {2024: 1, 2025: 2}


def test_j10_ban_is_violated_only_in_the_elastic_run_and_reported() -> None:
    data = _west_only_reaches_east()
    elastic = tiny(schools=data.schools, enrolment=data.enrolment, teachers=data.teachers,
                   weights=RotationWeights(elastic_by_rule={"J-10": CHEAP}))
    result = solve(elastic, elastic=True)
    assert slack(result, "J-10") == {("WU->ER", 2024): 1, ("WU->ER", 2025): 2}
    assert rule_rows(result, "J-10")["violation"].tolist() == [1, 2]


def test_j10_exception_for_named_teachers_is_used_and_reported() -> None:
    data = _west_only_reaches_east()
    exceptions = tuple(RotationException(rules=("J-10",), teacher_id=t, to_school="ER",
                                         reason="approved secondment, bureau letter 7")
                       for t in ("WU-B1", "WU-T01"))
    result = solve(tiny(schools=data.schools, enrolment=data.enrolment,
                        teachers=data.teachers, exceptions=exceptions))
    no_violation(result)
    wu = moves(result, "WU", "ER")
    # D-19 asks WU for 1 then 2 rotators; only the two named teachers may go east.
    assert sorted(wu[["year", "teacher_id"]].values.tolist()) == [
        [2024, "WU-B1"], [2025, "WU-B1"], [2025, "WU-T01"]]
    assert result.exceptions["moves"].tolist() == [2, 1]
    notes = rule_rows(result, "J-10")["note"].tolist()
    assert notes == ["1 moves under listed exceptions", "2 moves under listed exceptions"]


def test_j10_school_pair_exception_lifts_the_ban_on_that_arc() -> None:
    data = _west_only_reaches_east()
    exception = RotationException(rules=("J-10",), from_school="WU", to_school="ER",
                                  reason="pilot exchange")
    result = solve(tiny(schools=data.schools, enrolment=data.enrolment,
                        teachers=data.teachers, exceptions=(exception,)))
    no_violation(result)
    assert per_year(moves(result, "WU", "ER")) == {2024: 1, 2025: 2}
    assert result.exceptions["moves"].tolist() == [3]


# ---------------------------------------------------------------- G-12 (county -> centre)


def _with_centre(*, keep_er: bool) -> RotationInput:
    """C: a central-city weak school 2 km from EU, short of 5 teachers."""
    base = frames()
    schools, enrolment = add_school(
        base["schools"], base["enrolment"],
        {"school_id": "C", "county": "E", "region": "east", "stage": "primary", "urban": 1,
         "high_quality": 0, "weak": 1, "centre": 1, "x_m": -2000, "y_m": 0}, 190, 6)
    teachers = add_teachers(base["teachers"], "C", 4, prefix="C-T")
    teachers = add_teachers(teachers, "C", 1, prefix="C-B", backbone=True)
    teachers = add_teachers(teachers, "ER", 1, prefix="ER-X")  # ER fully staffed
    if not keep_er:
        schools = schools[~schools["school_id"].eq("ER")]
        enrolment = enrolment[~enrolment["school_id"].eq("ER")]
        teachers = teachers[~teachers["school_id"].eq("ER")]
    return tiny(schools=schools, enrolment=enrolment, teachers=teachers, max_distance_km=20.0)


def test_g12_ban_binds() -> None:
    result = solve(_with_centre(keep_er=True))
    no_violation(result)
    assert moves(result, "EU", "C").empty  # C's shortage would pull teachers without G-12
    assert per_year(moves(result, "EU", "ER")) == {2024: 1, 2025: 2}
    data = _with_centre(keep_er=True)
    lifted = solve(tiny(schools=data.schools, enrolment=data.enrolment, teachers=data.teachers,
                        max_distance_km=20.0, rules_off=frozenset({"G-12"})))
    assert not moves(lifted, "EU", "C").empty


def test_g12_ban_is_violated_when_the_centre_is_the_only_receiver() -> None:
    data = _with_centre(keep_er=False)
    assert solve(data).info.status == "infeasible"
    priced = tiny(schools=data.schools, enrolment=data.enrolment, teachers=data.teachers,
                  max_distance_km=20.0, weights=RotationWeights(elastic_by_rule={"G-12": CHEAP}))
    result = solve(priced, elastic=True)
    assert sum(slack(result, "G-12").values()) >= 3
    assert rule_rows(result, "G-12")["violation"].sum() >= 3


# ---------------------------------------------------------------- G-11 talent lock


def _talent(ids: list[str], year: int = 2023) -> pd.DataFrame:
    teachers = frames()["teachers"]
    teachers["talent_designation_year"] = pd.NA
    teachers.loc[teachers["teacher_id"].isin(ids), "talent_designation_year"] = year
    return teachers


def test_g11_lock_binds() -> None:
    result = solve(tiny(teachers=_talent(["EU-B1"])))
    no_violation(result)
    eu = moves(result, "EU")
    assert "EU-B1" not in set(eu["teacher_id"])  # locked 2023-2027 in an urban HQ school
    assert set(eu.loc[eu["backbone"], "teacher_id"]) == {"EU-B2"}
    assert per_year(eu[eu["backbone"]]) == {2024: 1, 2025: 1}


def test_g11_lock_ends_after_five_years() -> None:
    result = solve(tiny(teachers=_talent(["EU-B1"], year=2020)))  # locked 2020-2024
    eu = moves(result, "EU")
    backbone = eu[eu["backbone"]]
    assert backbone.loc[backbone["year"].eq(2024), "teacher_id"].tolist() == ["EU-B2"]
    assert "EU-B1" in set(backbone.loc[backbone["year"].eq(2025), "teacher_id"])


def test_g11_lock_is_violated_when_only_talent_can_meet_d19() -> None:
    data = tiny(teachers=_talent(["EU-B1", "EU-B2"]))
    assert solve(data).info.status == "infeasible"
    result = solve(tiny(teachers=data.teachers,
                        weights=RotationWeights(elastic_by_rule={"G-11": CHEAP})), elastic=True)
    assert sum(slack(result, "G-11").values()) == 2
    assert rule_rows(result, "G-11")["violation"].tolist() == [1, 1]


def test_g11_exception_lifts_the_lock_for_a_named_teacher() -> None:
    exception = RotationException(rules=("G-11",), teacher_id="EU-B1",
                                  reason="talent volunteers for the rural post")
    result = solve(tiny(teachers=_talent(["EU-B1", "EU-B2"]), exceptions=(exception,)))
    no_violation(result)
    assert "EU-B1" in set(moves(result, "EU")["teacher_id"])
    assert result.exceptions["moves"].tolist() == [2]


# ---------------------------------------------------------------- J-15 researchers


def _with_research(*, west_receiver: bool = True) -> RotationInput:
    base = frames()
    schools = pd.concat([base["schools"], pd.DataFrame([{
        "school_id": "RW", "county": "W", "region": "west", "stage": "research", "urban": 1,
        "high_quality": 0, "weak": 0, "centre": 0, "x_m": 40000, "y_m": 0}])],
        ignore_index=True)
    teachers = add_teachers(base["teachers"], "RW", 1, prefix="RW-5y-", years=5,
                            backbone=True)
    teachers = add_teachers(teachers, "RW", 1, prefix="RW-4y-", years=4, backbone=True)
    teachers = add_teachers(teachers, "RW", 1, prefix="RW-2y-", years=2, backbone=True)
    if not west_receiver:
        schools.loc[schools["school_id"].eq("WR"), ["urban", "weak"]] = [1, 0]
    return tiny(schools=schools, teachers=teachers)


def test_j15_researchers_teach_in_the_year_they_are_due() -> None:
    result = solve(_with_research())
    no_violation(result)
    rw = moves(result, "RW")
    assert rw[["year", "teacher_id", "to_school"]].values.tolist() == [
        [2024, "RW-5y-01", "WR"], [2025, "RW-4y-01", "WR"]]
    assert rule_rows(result, "J-15")["binding"].all()


def test_j15_is_violated_without_a_rural_school_in_the_county() -> None:
    data = _with_research(west_receiver=False)
    hard = solve(data)
    assert hard.info.status == "infeasible"
    assert any(w.startswith("J-15: 1 researcher(s) of RW are due in 2024") for w in hard.warnings)
    result = solve(data, elastic=True)
    assert slack(result, "J-15") == {("RW", 2024): 1, ("RW", 2025): 1}


# ---------------------------------------------------------------- J-17 / J-18 pairing


def _paired(source: str, target: str) -> RotationInput:
    pairings = pd.DataFrame([{"pairing_id": "P1", "level": "county", "from_id": source,
                              "to_id": target}])
    base = tiny(extra={"pairings": pairings})
    return base


def test_j18_each_pairing_carries_an_exchange_every_year() -> None:
    result = solve(_paired("E", "W"))
    no_violation(result)
    assert per_year(moves(result, "EU", "WR")) == {2024: 1, 2025: 1}  # 48 km, only for J-18
    assert rule_rows(result, "J-18")["binding"].all()


def test_j18_pairing_west_to_east_breaks_on_the_ban() -> None:
    data = _paired("W", "E")  # WU -> ER is banned by J-10
    hard = solve(data)
    assert hard.info.status == "infeasible"
    assert "J-18: pairing P1 (county W -> E) has no open arc in 2024" in hard.warnings[0]
    weights = RotationWeights(elastic_by_rule={"J-18": CHEAP})
    pairings = data.pairings
    result = solve(tiny(weights=weights, extra={"pairings": pairings}), elastic=True)
    assert slack(result, "J-18") == {("P1", 2024): 1, ("P1", 2025): 1}
    assert rule_rows(result, "J-10")["violation"].sum() == 0


# ---------------------------------------------------------------- J-27 sender floor


def test_sender_floor_binds() -> None:
    teachers = frames()["teachers"]
    teachers = teachers[~teachers["teacher_id"].eq("EU-T19")]  # EU 21 teachers, 20 posts
    teachers = teachers[~teachers["teacher_id"].eq("ER-T08")]  # ER short of 2
    result = solve(tiny(teachers=teachers, rules_off=frozenset({"D-19"})))
    no_violation(result)
    assert per_year(moves(result, "EU")) == {2024: 1, 2025: 1}  # ER still short of one
    floor = rule_rows(result, "J-27", "EU")
    assert floor["actual"].tolist() == [20, 20] and floor["binding"].all()


def test_sender_floor_is_violated_when_d19_asks_more_than_the_surplus() -> None:
    teachers = frames()["teachers"]
    teachers = teachers[~teachers["teacher_id"].isin(["EU-T18", "EU-T19"])]  # 20 = posts
    data = tiny(teachers=teachers)
    hard = solve(data)
    assert hard.info.status == "infeasible"
    assert hard.warnings == ("J-27 against D-19: EU must rotate 1 in 2024 but has 20 teachers "
                             "for 20 posts", "J-27 against D-19: EU must rotate 2 in 2025 but "
                             "has 20 teachers for 20 posts")
    result = solve(tiny(teachers=teachers,
                        weights=RotationWeights(elastic_by_rule={"J-27": CHEAP})), elastic=True)
    assert slack(result, "J-27") == {("EU", 2024): 1, ("EU", 2025): 2}
    assert rule_rows(result, "J-27", "EU")["violation"].tolist() == [1, 2]


# ---------------------------------------------------------------- D-21 / Z-10 hires


def test_county_post_total_caps_hires() -> None:
    teachers = frames()["teachers"]
    teachers = teachers[~teachers["teacher_id"].isin(["EU-T19", "ER-T08"])]  # EU 21, ER 8
    data = tiny(teachers=teachers, allow_hires=True, rules_off=frozenset({"D-19"}))
    result = solve(data)
    no_violation(result)
    hires = result.rotations[result.rotations["kind"].eq("hire")]
    assert hires.groupby("year")["count"].sum().to_dict() == {2024: 1}  # E: 29 -> 30 posts
    capped = solve(tiny(teachers=teachers, allow_hires=True, rules_off=frozenset({"D-19"}),
                        extra={"county_posts": pd.DataFrame(
                            {"county": ["E", "E"], "year": [2024, 2025], "posts": [29, 29]})}))
    assert capped.rotations["kind"].ne("hire").all()
    row = rule_rows(capped, "D-21", "E")
    assert row["actual"].tolist() == [29, 29] and row["binding"].all()


# ---------------------------------------------------------------- objective


def test_shortage_weight_prefers_rural_over_urban_weak() -> None:
    base = frames()
    schools, enrolment = add_school(
        base["schools"], base["enrolment"],
        {"school_id": "UW", "county": "E", "region": "east", "stage": "primary", "urban": 1,
         "high_quality": 0, "weak": 1, "centre": 0, "x_m": -8000, "y_m": 0}, 190, 6)
    teachers = add_teachers(base["teachers"], "UW", 8, prefix="UW-T")
    teachers = add_teachers(teachers, "UW", 1, prefix="UW-B", backbone=True)
    teachers = teachers[~teachers["teacher_id"].eq("EU-T19")]  # EU can lend one
    result = solve(tiny(schools=schools, enrolment=enrolment, teachers=teachers,
                        rules_off=frozenset({"D-19"})))
    assert per_year(moves(result, "EU", "ER")) == {2024: 1, 2025: 1}
    assert moves(result, "EU", "UW").empty


def test_backbone_gap_sends_backbone_to_the_weaker_region() -> None:
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].isin(["WU-B3", "WR-B1"]), "backbone"] = 0
    # Backbone present: east 4 of 31, west 2 of 31. EU's backbone rotator (D-19) to WR
    # (48 km) evens them at 3 and 3; to ER (8 km) leaves a gap of 2/31 = 64 per mille.
    result = solve(tiny(teachers=teachers, weights=RotationWeights(backbone_gap=50.0)))
    to_west = moves(result, "EU", "WR")
    assert per_year(to_west[to_west["backbone"]]) == {2024: 1, 2025: 1}
    flat = solve(tiny(teachers=teachers, weights=RotationWeights(backbone_gap=0.0)))
    assert set(moves(flat, "EU")["to_school"]) == {"ER"}


def test_every_rule_is_registered_with_its_clause() -> None:
    import allocator.rotation  # noqa: F401 - registers the rules

    found = {r.rule_id for r in registered()}
    assert {"D-19", "J-08", "G-10", "J-10", "G-12", "G-11", "J-15", "J-17", "J-18", "J-27",
            "Z-09", "Z-11", "D-21", "Z-10", "J-02", "G-02", "J-30", "D-04", "N-16",
            "J-29", "D-26", "Z-05"} <= found
    d19 = [r for r in registered() if r.rule_id == "D-19"]
    assert len(d19) == 2 and all("ceil" in r.formula for r in d19)
    assert d19[0].entry.quote.startswith("城区学校和优质学校")


@pytest.mark.parametrize("rule_id", ["D-19", "J-08", "G-11", "J-15", "J-18", "J-27"])
def test_rules_can_be_switched_off(rule_id: str) -> None:
    result = solve(tiny(rules_off=frozenset({rule_id})))
    assert result.info.status == "optimal"
    assert rule_rows(result, rule_id).empty


def test_transfers_and_hires_respect_j08_and_the_county_total() -> None:
    teachers = frames()["teachers"]
    teachers.loc[teachers["teacher_id"].eq("ER-B1"), "backbone"] = 0  # ER: no backbone
    teachers.loc[teachers["teacher_id"].eq("EU-T17"), "backbone"] = 1  # EU: 4 backbone
    teachers = teachers[~teachers["teacher_id"].isin(["EU-T19", "ER-T08"])]  # EU 21, ER 8
    result = solve(tiny(teachers=teachers, allow_transfers=True, allow_hires=True,
                        rules_off=frozenset({"D-19"})))
    no_violation(result)
    rot = result.rotations
    # J-08 on home posts: ER needs a backbone teacher of its own, EU can spare one (4 -> 3
    # of 20); ER's second missing post is a hire, the last one county E's total allows.
    transfer = rot[rot["kind"].eq("transfer") & rot["to_school"].eq("ER")]
    assert transfer["backbone"].tolist() == [True] and transfer["year"].tolist() == [2024]
    hires = rot[rot["kind"].eq("hire") & rot["to_county"].eq("E")]
    assert hires["count"].sum() == 1
    assert rule_rows(result, "D-21", "E")["actual"].tolist() == [30, 30]
