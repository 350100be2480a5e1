# SPDX-License-Identifier: Apache-2.0
"""Where a study report looked: the body regions its name covers and the places its sentence names.

Two study reports of one day that disagree are a conflict only where nothing tells their sites apart
(probe114 D5; probe115 D3, D4: a chest CT's "No lymphadenopathy." beside an abdominal CT's retroperitoneal
nodes, a reactive inguinal node beside a Castleman axillary node). The word lists are this project's
anatomy vocabulary (English, Russian; the Kazakh region names of the mapping's `negative_tests`), not a
published list: a place they miss leaves two reports told apart only by their names or specimens.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ...criteria.model import Site

#: the regions a study's name covers ("CT chest, abdomen and pelvis": three); "whole": the whole body
_FIELDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (region, re.compile(pattern, re.IGNORECASE))
    for region, pattern in (
        (
            "whole",
            r"whole[- ]?body|total[- ]?body|full[- ]?body|\bpet\b|skelet|bone survey|всего тела|вс[её] тело|пэт"
            r"|скелет|бүкіл дене|қаңқа",
        ),
        # Kazakh «бас миы» (the brain) is UNVERIFIED: not seen in a real letter's study name (probe126 G6)
        ("head", r"\bhead\b|brain|skull|cran|головн|мозг|череп|\bбас ми"),
        ("neck", r"\bneck\b|cervical|\bшеи\b|шейн|мойын"),
        ("chest", r"chest|thora|lung|грудн|\bогк\b|легк|кеуде"),
        ("abdomen", r"abdom|liver|spleen|hepat|брюшн|\bобп\b|живот|печен|селез[её]н|құрсақ|іш қуыс"),
        ("pelvis", r"pelvi|таз|\bо?мт\b|жамбас"),
        # the spine is a study of its own ("MRI spine", "MRI L-spine", «МРТ позвоночника», «МРТ
        # пояснично-крестцового отдела»): no region above names it, so a spine MRI and a brain MRI under one RIS
        # accession were one study (probe126 G6). "Thoracic spine" is chest and spine, "cervical spine" neck and
        # spine. Kazakh «омыртқа» (the vertebral column) is UNVERIFIED: not seen in a real letter's study name
        (
            "spine",
            r"\bspin(?:e|al)\b|\b[ctl]-?spine|vertebr|\blumb|\bsacr(?:um|al)\b|позвон|поясничн|крестц"
            r"|омыртқа",
        ),
    )
)

#: the region names a mapping's ``part_regions`` may use ("whole" is no region of one part)
STUDY_REGIONS = frozenset(region for region, _ in _FIELDS) - {"whole"}

#: places a sentence names: node groups, regions, bones, sides (a key per place, any language)
_PLACES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (place, re.compile(pattern, re.IGNORECASE))
    for place, pattern in (
        ("neck", r"\bneck\b|\bcervical\b|\bшеи\b|шейн|мойын"),
        ("supraclavicular", r"supraclavicular|надключичн"),
        ("axilla", r"axilla|подмышечн|аксиллярн|қолтық"),
        ("mediastinum", r"mediastin|средостен"),
        ("hilum", r"\bhil(?:ar|um)\b"),
        ("retroperitoneum", r"retroperiton|забрюшинн"),
        ("para-aortic", r"para-?aortic|парааортальн"),
        ("mesentery", r"mesenter|брыжеечн"),
        ("iliac", r"\biliac\b|подвздошн"),
        ("inguinal", r"inguinal|\bgroin\b|пахов"),
        ("pelvis", r"\bpelvi[sc]\b|\bтаз|жамбас"),
        ("skull", r"\bskull\b|calvari|череп"),
        ("rib", r"\bribs?\b|\bребр|\bребер"),
        ("sternum", r"stern(?:um|al)\b|грудин"),
        ("clavicle", r"clavic|ключиц"),
        ("scapula", r"scapul|лопатк"),
        ("femur", r"\bfem(?:ur|oral)\b|бедр"),
        ("humerus", r"humer|плечев"),
        ("sacrum", r"\bsacr(?:um|al)\b|крестц"),
        ("spine", r"\bspin(?:e|al)\b|vertebr|позвон|омыртқа"),
        ("left", r"\bleft\b|\bслева\b|\bлев(?:ый|ая|ое|ого|ой|ом|ых|ую|ым|ыми)\b"),
        ("right", r"\bright\b|\bсправа\b|\bправ(?:ый|ая|ое|ого|ой|ом|ых|ую|ым|ыми)\b"),
    )
)

#: a vertebra by its level ("T10", "L3", "Th12", Cyrillic «Т10»), not an MRI weighting ("T2-weighted", "T1 hypo…")
_LEVEL = re.compile(
    r"\b(th|[ctlsтс])\s?-?(\d{1,2})\b(?![-\s]?(?:w\b|weighted|hyper|hypo|signal|взвеш|гипер|гипо))", re.IGNORECASE
)
_CYRILLIC_LEVEL = str.maketrans({"т": "t", "с": "c"})


def field_of(name: str) -> frozenset[str]:
    """The regions a study named ``name`` covers; empty when its name says none."""
    return frozenset(region for region, pattern in _FIELDS if pattern.search(name))


def places_in(sentence: str) -> frozenset[str]:
    """The places ``sentence`` names (see _PLACES), vertebrae by level ("l3")."""
    named = {place for place, pattern in _PLACES if pattern.search(sentence)}
    for level in _LEVEL.finditer(sentence):
        spine = level.group(1).lower().translate(_CYRILLIC_LEVEL).replace("th", "t")
        named.add(f"{spine}{int(level.group(2))}")
    return frozenset(named)


#: places that are also regions of a study's name ("CT chest, abdomen and pelvis"): its field says them
_REGION_PLACES = frozenset({"neck", "pelvis"})

#: sides: a place named with one ("left axilla") is another place than the same named with the other
_SIDES = frozenset({"left", "right"})

#: places inside a wider one: a denial of the wider place covers them (probe118 D11: "No sclerotic lesions in the
#: pelvis." covers "the left iliac bone", "...in the spine." covers "T10")
_WITHIN: dict[str, frozenset[str]] = {"iliac": frozenset({"pelvis"}), "sacrum": frozenset({"pelvis", "spine"})}


def site_of(name: str, sentence: str, specimens: tuple[str, ...], located: bool) -> Site:
    """The site of a study's finding: the regions its name covers, the places its sentence names and those its
    name names (probe118 D10: "Lymph node biopsy, right axilla" beside "Lymph node biopsy, left inguinal")."""
    places = places_in(sentence) | (places_in(name) - _REGION_PLACES)
    return Site(field_of(name), places, located, frozenset(specimens))


def _within(place: str) -> frozenset[str]:
    if re.fullmatch(r"[ctls]\d{1,2}", place):  # a vertebra by its level
        return frozenset({"spine"})
    return _WITHIN.get(place, frozenset())


def _covered(stated: frozenset[str], denied: frozenset[str]) -> bool:
    """Whether the places a denial names include every place a statement names: the same place, a wider one
    that holds it (the pelvis an iliac bone), and no other side."""
    if not stated:
        return False
    sides_s, sides_d = stated & _SIDES, denied & _SIDES
    if sides_s and sides_d and not sides_s <= sides_d:
        return False
    regions_s, regions_d = stated - _SIDES, denied - _SIDES
    if not regions_s:
        return stated <= denied
    return all(p in regions_d or _within(p) & regions_d for p in regions_s)


def _part_seen(
    organs: tuple[str, ...], stated: Site, denied: Site, part_regions: Mapping[str, frozenset[str]]
) -> bool | None:
    """Whether the denying study's field sees every part the statement names, by the mapping's ``part_regions``
    (one spleen, one peritoneal cavity: an abdominal study sees all of it, whatever region the stating study
    also covered, probe118 D12, probe131 G1, G2); None when a part has no entry (lymph nodes: many stations) or
    either study names no region - then the fields compare as regions."""
    held = [part_regions.get(o) for o in organs]
    if not organs or not stated.field or not denied.field or any(h is None for h in held):
        return None
    return "whole" in denied.field or all(h & denied.field for h in held if h is not None)


def told_apart(
    stated: Site, denied: Site, organs: tuple[str, ...] = (), part_regions: Mapping[str, frozenset[str]] | None = None
) -> bool:
    """Whether a denial can speak of another site than a statement of the same day: other specimens, a
    study field that does not cover the statement's, or a denial limited to places the statement does not name
    ("No lymphadenopathy in the neck." beside "Axillary nodes enlarged."). A denial of the whole field covers
    any place in it ("No sclerotic bone lesions." beside "Sclerotic lesion in T10.", probe114 D5), a denial
    naming the statement's place (or a wider one holding it) covers it whatever the fields (probe118 D11, D12),
    and a statement of parts the mapping places (``organs``: "spleen", "ascites"; ``part_regions``) is seen by
    any study of their regions, whatever else the stating study covered ("CT abdomen and pelvis" beside
    "Ultrasound abdomen": one spleen; a pelvic study does not see the spleen)."""
    if stated.specimens and denied.specimens and stated.specimens.isdisjoint(denied.specimens):
        return True
    if denied.places and _covered(stated.places, denied.places):
        return False
    seen = _part_seen(organs, stated, denied, part_regions or {})
    if seen is False:
        return True
    field = stated.field
    if seen is None and field and denied.field and "whole" not in denied.field and not field <= denied.field:
        return True
    if denied.located or denied.places:
        return not _covered(stated.places, denied.places)
    return False
