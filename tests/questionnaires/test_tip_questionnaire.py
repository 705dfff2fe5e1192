"""The self-assessment questionnaire of the Trafficking in Persons resolution: complete and deep."""

from pathlib import Path

import pytest

from reviewmech.questionnaires.schema import iter_questions, read_questionnaire
from reviewmech.questionnaires.services import translation_completeness
from tests.pure import _no_database  # noqa: F401 - these tests need no database

FILE = Path(__file__).resolve().parents[2] / "questionnaires" / "tip-protocol-resolution.yaml"
OPERATIVE = [str(n) for n in range(1, 18)] + [f"13({letter})" for letter in "abcdefghijk"]


@pytest.fixture(scope="module")
def spec():
    return read_questionnaire(FILE)


def _closed_questions(spec, paragraphs):
    return [q for q, _chain in iter_questions(spec)
            if q.type in ("yes_no_partial", "single_choice") and q.required and set(q.ref.paragraphs) & paragraphs]


def test_every_operative_paragraph_is_asked_about_or_explained(spec):
    cited = {p for q, _chain in iter_questions(spec) for p in q.ref.paragraphs}
    explained = {item.paragraph for item in spec.not_addressed}
    missing = [p for p in OPERATIVE if p not in cited and p not in explained
               and not (p == "13" and any(c.startswith("13(") for c in cited))]
    assert missing == []
    assert not cited & explained, "a paragraph is both asked about and said not to be addressed to States"


@pytest.mark.parametrize("theme, paragraphs", [
    ("criminalization", {"4"}),
    ("penalties and statutes of limitation", {"5"}),
    ("non-punishment", {"13(g)"}),
    ("financial investigations", {"13(d)", "9"}),
    ("public procurement and supply chains", {"13(j)", "13(k)"}),
])
def test_each_core_theme_has_at_least_six_closed_questions_with_follow_ups(spec, theme, paragraphs):
    closed = _closed_questions(spec, paragraphs)
    assert len(closed) >= 6, theme
    followed = {name for q, _c in iter_questions(spec) if q.show_if for name in _names(q.show_if)}
    assert sum(1 for q in closed if q.code in followed) >= 6, theme


def _names(condition):
    from reviewmech.questionnaires.conditions import referenced_questions

    return set(referenced_questions(condition))


def test_there_are_at_least_three_statistics_tables_and_eighty_questions(spec):
    questions = [q for q, _c in iter_questions(spec)]
    assert len(questions) >= 80
    tables = {q.code: q.ref.paragraphs for q in questions if q.type == "table"}
    assert len(tables) >= 3
    assert any("12" in p for p in tables.values())
    assert any("13(h)" in p for p in tables.values())
    assert any("13(d)" in p for p in tables.values())


def test_paragraph_16_asks_which_national_stakeholders_were_consulted(spec):
    consulted = [q for q, _c in iter_questions(spec) if "16" in q.ref.paragraphs and q.type == "multi_choice"]
    keys = {choice["key"] for q in consulted for choice in q.options["choices"]}
    assert {"private_sector", "academia"} <= keys or any("private" in k for k in keys)
    assert any("ngo" in k or "civil" in k for k in keys)


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_questionnaire_is_complete_in_each_language(spec, language):
    assert translation_completeness(spec.model_dump(mode="json", exclude_none=True), language) == 1.0


def test_spanish_uses_the_resolutions_own_terms(spec):
    spanish = " ".join(q.prompt.es or "" for q, _c in iter_questions(spec))
    for term in ("trata de personas", "víctimas", "cadenas de suministro"):
        assert term in spanish
