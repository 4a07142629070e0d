"""Message catalog of the audit: every text an audit row can carry, by key and language.

Checks return a message key and values (:class:`allocator.audit_core.Finding`); the text is
made here, so a Chinese catalog is one more dictionary in :data:`CATALOGS`. Values are
formatted by the checks (thousands separators, units in the text). Money in the texts is
in million CNY.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CATALOGS", "EN", "render"]

EN: Mapping[str, str] = {
    # general
    "missing_columns": "cannot check: the results lack {columns}",
    "no_parameter": "not set in the scenario ({param})",
    "no_target": "the scenario sets no {rule} target ({param})",
    "no_cap": "no class cap for stage {stage} in the scenario or the tables",
    "no_rotation": "no teacher rotation in the results (rotations.csv / staffing.csv)",
    "inactive": "switched off in the scenario (rules: {rule}: active: false)",
    "no_rows": "nothing to check: the tables have no rows this rule applies to",
    "error": "could not be checked: {error}",
    "exception_suffix": "; listed exception: {why}",
    # D-13 class caps
    "D-13.ok": "{enrolled} pupils in {classes} classes of at most {cap}",
    "D-13.over": "{enrolled} pupils in {classes} classes of at most {cap}: {over} over the "
                 "cap, {more} more classes needed",
    # Z-18 caps fall
    "Z-18.single": "one cap for stage {stage} ({cap}); nothing to compare",
    "Z-18.ok": "{stage} cap {new} from {before}'s {old}, not higher (caps from the {source})",
    "Z-18.rise": "{stage} cap rises to {new} from {before}'s {old} (caps from the {source})",
    # D-07 travel
    "D-07.ok": "{pairs} assignments, longest {worst} m (zone {zone} to {school}) within "
               "the {setting} limit {limit} m{note}",
    "D-07.over": "{over} of {pairs} assignments beyond the {setting} limit {limit} m; "
                 "longest {worst} m (zone {zone} to {school}){note}",
    "D-07.no_limit": "no travel limit for stage {stage} in the scenario",
    # D-14 land limit
    "D-14.ok": "{classes} classes over all stages, land limit {limit} (today {start})",
    "D-14.over": "{classes} classes over all stages, above the land limit {limit} (today "
                 "{start})",
    # N-05 size
    "N-05.ok": "{what} with {classes} classes, limit {limit}",
    "N-05.over": "{what} with {classes} classes, above the limit {limit}",
    "N-05.existing": "existing school with {classes} classes, above the limit {limit}; the "
                     "plan adds no classes to it",
    # J-20 public only
    "J-20.ok": "{projects} new or expanded schools, none private",
    "J-20.private": "private new capacity: {private}",
    "J-20.no_stage": "no compulsory stage (primary, junior) is planned",
    # D-23 migrant children
    "D-23.ok": "{zones} zones with {migrant} migrant children; {private} children in "
               "private seats, all within the non-migrant children",
    "D-23.over": "{private} children in private seats, but only {children} children of "
                 "whom {migrant} migrant: migrant children must have public seats",
    # D-10 no build and close
    "D-10.none": "no school closed in the plan (closures {allowed})",
    "D-10.ok": "closed; no site of its catchment opens in the same period",
    "D-10.clash": "closed in the period in which {sites} of its catchment open",
    # N-01 budget
    "N-01.ok": "{cumulative}spending {spend} million CNY within the budget {budget} million "
               "(from {source})",
    "N-01.over": "{cumulative}spending {spend} million CNY over the budget {budget} million "
                 "by {over} million (from {source})",
    # N-02 projects
    "N-02.ok": "{projects} projects ({sense} {wanted}; from {source})",
    "N-02.off": "{projects} projects, required {sense} {wanted} (from {source})",
    # seat targets J-04, G-03, N-03
    "seats.ok": "{seats} new public seats by {year}, target {wanted}{unknown}",
    "seats.short": "{seats} new public seats by {year}, {short} short of {wanted}{unknown}",
    # D-06 school counts
    "D-06.ok": "{schools} new {stage} schools by {year} ({sense} {wanted}): {sites}",
    "D-06.off": "{schools} new {stage} schools by {year}, required {sense} {wanted}: {sites}",
    # D-19 rotation quota
    "D-19.ok": "{rotated} of {eligible} eligible teachers rotated to rural or weak schools "
               "(at least {share}){note}",
    "D-19.short": "{rotated} of {eligible} eligible teachers rotated: {short} short of "
                  "{share}{note}",
    "D-19.backbone_ok": "{backbone} backbone among {rotators} rotators (at least {share})",
    "D-19.backbone_short": "{backbone} backbone among {rotators} rotators, below {share}",
    "D-19.no_sender": "no urban or high-quality school with eligible teachers",
    # J-10 / G-12 bans
    "J-10.ok": "no west-to-east move ({lifted} under listed exceptions)",
    "J-10.moves": "{moves} teachers moved west to east: {examples}",
    "G-12.ok": "no county-to-centre move ({lifted} under listed exceptions)",
    "G-12.moves": "{moves} teachers moved from a county to the central city: {examples}",
    # J-08 backbone
    "J-08.ok": "{backbone} backbone among {teachers} teachers (at least {share})",
    "J-08.short": "{backbone} backbone among {teachers} teachers, below {share}",
    # D-21 / Z-10 county posts
    "posts.ok": "{teachers} teachers hold posts; approved {approved} (cap {cap})",
    "posts.over": "{teachers} teachers hold posts, above the approved {approved} (cap {cap})",
    # J-18 pairings
    "J-18.ok": "{moves} exchanges {source} → {target} (at least {wanted})",
    "J-18.short": "{moves} exchanges {source} → {target}, fewer than {wanted}",
    "J-18.none": "no pairing arcs (pairings.csv is empty)",
    # J-27 sender floor
    "J-27.ok": "sends {sent}; {present} teachers for {posts} posts",
    "J-27.short": "sends {sent} and keeps {present} teachers for {posts} posts",
    "J-27.no_sender": "no school sends teachers",
}
"""English texts by message key."""

CATALOGS: Mapping[str, Mapping[str, str]] = {"en": EN}
"""Catalogs by language code; missing keys fall back to English."""


class _Values(dict[str, object]):
    """Format values that leave an unknown placeholder visible instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(key: str, values: Mapping[str, object], *, language: str = "en",
           exception: bool = False) -> str:
    """The text of message ``key`` with ``values`` in ``language`` (English fallback).

    Parameters
    ----------
    key
        Message key.
    values
        Values named in the text.
    language
        Catalog language code.
    exception
        Append the listed exception's reason (``values["why"]``).
    """
    catalog = CATALOGS.get(language, EN)
    template = catalog.get(key, EN.get(key, key))
    text = template.format_map(_Values(values))
    if exception:
        text += catalog.get("exception_suffix", EN["exception_suffix"]).format_map(
            _Values(values))
    return text
