"""The self-assessment questionnaire of the Trafficking in Persons resolution: complete, precise and short."""

import re
from pathlib import Path

import pytest

from reviewmech.questionnaires.conditions import evaluate, referenced_questions
from reviewmech.questionnaires.schema import iter_questions, read_questionnaire
from reviewmech.questionnaires.services import translation_completeness
from tests.pure import _no_database  # noqa: F401 - these tests need no database

FILE = Path(__file__).resolve().parents[2] / "questionnaires" / "tip-protocol-resolution.yaml"
OPERATIVE = [str(n) for n in range(1, 18)] + [f"13({letter})" for letter in "abcdefghijk"]
CLOSED = ("yes_no_partial", "single_choice", "multi_choice")
FORMS = ["sexual_exploitation", "forced_labour", "removal_of_organs", "begging", "criminal_activity",
         "forced_marriage", "illegal_adoption", "mixed", "other", "unknown"]


@pytest.fixture(scope="module")
def spec():
    return read_questionnaire(FILE)


@pytest.fixture(scope="module")
def questions(spec):
    return {q.code: q for q, _chain in iter_questions(spec)}


def _top(spec):
    return {q.code: chain[0].code for q, chain in iter_questions(spec)}


def _closed_questions(spec, paragraphs):
    return [q for q, _chain in iter_questions(spec)
            if q.type in ("yes_no_partial", "single_choice") and q.required and set(q.ref.paragraphs) & paragraphs]


def _followed(spec):
    return {name for q, _c in iter_questions(spec) if q.show_if for name in referenced_questions(q.show_if)}


def test_every_operative_paragraph_is_asked_about_or_explained(spec):
    cited = {p for q, _chain in iter_questions(spec) for p in q.ref.paragraphs}
    explained = {item.paragraph for item in spec.not_addressed}
    missing = [p for p in OPERATIVE if p not in cited and p not in explained
               and not (p == "13" and any(c.startswith("13(") for c in cited))]
    assert missing == []
    assert not cited & explained, "a paragraph is both asked about and said not to be addressed to States"


def test_every_paragraph_addressed_to_states_has_a_closed_question_of_its_own(spec):
    top = _top(spec)
    own = {p for q, _chain in iter_questions(spec) if q.type in CLOSED and top[q.code] not in ("TA", "STATS")
           for p in q.ref.paragraphs}
    explained = {item.paragraph for item in spec.not_addressed}
    assert [p for p in OPERATIVE if p not in own | explained | {"3", "13"}] == []


@pytest.mark.parametrize("theme, paragraphs", [
    ("criminalization", {"4"}),
    ("penalties and statutes of limitation", {"5"}),
    ("non-punishment", {"13(g)"}),
    ("financial investigations", {"13(d)", "9"}),
    ("public procurement and supply chains", {"13(j)", "13(k)"}),
])
def test_each_core_theme_has_at_least_five_closed_questions_with_follow_ups(spec, theme, paragraphs):
    closed = _closed_questions(spec, paragraphs)
    assert len(closed) >= 5, theme
    assert sum(1 for q in closed if q.code in _followed(spec)) >= 5, theme


def test_every_question_states_its_basis_and_it_agrees_with_its_reference(spec):
    for question, _chain in iter_questions(spec):
        basis = question.basis
        assert basis is not None, question.code
        if basis.recommendation:
            assert basis.recommendation in question.ref.paragraphs, question.code
        else:
            assert basis.obligation.startswith(("Protocol, art. ", "Convention, art. ")), question.code
            assert any(basis.obligation.startswith(a.split("(")[0]) or a.startswith(basis.obligation)
                       for a in question.ref.articles), question.code


def test_recommendations_ask_about_measures_taken_and_offer_not_yet_considered(spec):
    closed = [q for q, _chain in iter_questions(spec) if q.type == "yes_no_partial"]
    recommendations = [q for q in closed if q.basis.recommendation]
    assert len(recommendations) >= 30
    assert [q.code for q in recommendations if q.options.get("scale") != "measures"] == []
    assert [q.code for q in recommendations if not q.prompt.en.startswith("Has your country taken measures")] == []
    assert [q.code for q in closed if q.basis.obligation and q.options.get("scale") == "measures"] == []


@pytest.mark.parametrize("code", ["4.2", "4.14", "5.7", "5.14", "9.2"])
def test_treaty_obligations_require_a_citation_when_answered_yes_or_in_part(questions, code):
    question = questions[code]
    assert question.type == "legislation" and question.required and question.basis.obligation


def test_the_technical_assistance_is_one_matrix_with_the_types_of_the_list_of_observations(spec, questions):
    top = _top(spec)
    matrix = questions["TA.1"].options["grid"]
    assert [c["key"] for c in matrix["columns"]] == [
        "legislative_drafting", "capacity_building", "institution_building", "data_collection",
        "international_cooperation", "victim_protection", "other"]
    assert [m["key"] for m in matrix["marks"]] == ["received", "needed"]
    assert len(matrix["rows"]) == 21
    assert [code for code, q in questions.items() if top[code] != "TA"
            and "need technical assistance" in q.prompt.en.lower()] == []


def test_each_section_has_one_gaps_and_challenges_question_instead_of_repeated_obstacle_prompts(spec, questions):
    prompts = [q.prompt.en for q in questions.values()]
    assert sum("explain the obstacles encountered" in p for p in prompts) == 0
    assert sum("cite and summarize the applicable measures" in p.lower() for p in prompts) == 0
    gaps = [code for code in questions if code.endswith(".gaps")]
    assert len(gaps) == 20 and len({_top(spec)[code] + code for code in gaps}) == 20


def test_duplicates_are_merged_and_what_cannot_be_asked_is_gone(questions):
    for removed in ("1.2", "1.3", "1.4", "1.5", "16.5", "16.6", "13i.1", "13g.25", "13g.26", "13j.20", "13k.6",
                    "12.12", "5.20", "13a.2"):
        assert removed not in questions, removed
    assert {"10", "13(i)"} <= set(questions["10.5"].ref.paragraphs)
    assert {"13(a)", "7"} <= set(questions["13a.1"].ref.paragraphs)
    assert "non_punishment" in {c["key"] for c in questions["13b.6"].options["choices"]}
    assert not questions["17.1"].required


def test_the_deepest_questions_are_in_optional_further_detail_sub_sections(spec):
    detail = {q.code: q for q, chain in iter_questions(spec) if chain[-1].code.endswith(".detail")}
    assert set(detail) == {"13d.10", "13d.12", "13d.25", "13d.25.1", "13d.26", "13g.12", "13g.13"}
    assert not any(q.required for q in detail.values())


def test_a_state_relying_on_prosecutorial_discretion_reaches_the_question_on_the_form_of_protection(questions):
    first = questions["13g.1"]
    assert "inappropriately" in first.prompt.en and "indebidamente" in first.prompt.es
    assert "indûment" in first.prompt.fr and "discretion" in first.help.en
    form = questions["13g.3"]
    assert "prosecutorial_discretion" in {c["key"] for c in form.options["choices"]}
    assert evaluate(form.show_if, {"13g.1": "yes"}) and evaluate(form.show_if, {"13g.1": "partial"})


def test_the_child_limitation_follow_up_shows_only_for_a_later_start(questions):
    follow_up = questions["5.13.1"].show_if
    shown = [key for key in ("same_as_adults", "majority", "later_age", "not_subject", "other")
             if evaluate(follow_up, {"5.13": key})]
    assert shown == ["majority", "later_age", "other"]
    assert "5.13.1" in questions["5.13"].options["choices"][-1]["label"]["en"]


@pytest.mark.parametrize("code, answers", [
    ("4.12.2", {"4.11": "no"}), ("4.14.1", {"4.13": "no"}), ("7.4.2", {"7.4": "no"}),
    ("8.4.1", {"8.4": "no"}), ("8.4.1", {"8.4": "partial"}), ("4.12.1", {"4.11": "partial"}),
])
def test_the_missing_follow_ups_are_there(questions, code, answers):
    assert evaluate(questions[code].show_if, answers)


def test_op7_asks_about_identification_referral_and_cooperation_figures(questions):
    prompts = " ".join(q.prompt.en for code, q in questions.items() if "7" in q.ref.paragraphs)
    assert "identifying victims" in prompts and "national referral mechanism" in prompts
    rows = {r["key"] for r in questions["S.4"].options["rows"]}
    assert {"mla_made", "mla_received", "extradition_made", "extradition_received"} <= rows


def test_compensation_from_offenders_is_asked_under_article_6_6(questions):
    assert questions["13d.32"].basis.obligation == "Protocol, art. 6(6)"
    assert "criminal_order" in {c["key"] for c in questions["13d.33"].options["choices"]}


def test_the_statistics_annex_counts_years_back_from_the_cycle_with_one_list_of_forms(spec, questions):
    annex = [q for q, chain in iter_questions(spec) if chain[0].code == "STATS" and q.type == "table"]
    assert len(annex) == 6 and all(q.options["years_before_cycle"] == 5 for q in annex)
    assert [r["key"] for r in questions["S.1"].options["rows"]] == FORMS
    assert [c["key"] for c in questions["S.3"].options["columns"]] == FORMS
    assert [c["key"] for c in questions["S.2"].options["columns"]] == ["women", "men", "girls", "boys", "unknown"]
    law = [c["key"] for c in questions["4.5"].options["choices"]]
    assert law == [f for f in FORMS if f not in ("mixed", "unknown")] + ["open_clause"]
    assert [c["key"] for c in questions["13c.3"].options["choices"]] == law[:-1]
    tables = [q for q in questions.values() if q.type == "table"]
    assert tables == annex, "every table is in the annex, with the same years"
    rule = next(s for s in spec.sections if s.code == "STATS").help
    assert "leave a cell blank when you have no figure; write n/a when the figure is not collected" in rule.en
    assert "escriba n/a cuando la cifra no se recopile" in rule.es and "n/a lorsque le chiffre n'est pas" in rule.fr


def test_counts_are_asked_in_the_annex_not_in_free_text(questions):
    counting = [code for code, q in questions.items() if q.type in ("text", "number")
                and re.search(r"how many|number of (persons|victims|cases|officials|requests|licences|reports)",
                              q.prompt.en.lower()) and "statistical annex" not in q.prompt.en]
    assert counting == []


def test_there_are_at_least_eighty_questions_and_tables_for_paragraphs_12_13h_and_13d(questions):
    assert len(questions) >= 80
    tables = [q.ref.paragraphs for q in questions.values() if q.type == "table"]
    assert all(any(p in paragraphs for paragraphs in tables) for p in ("12", "13(h)", "13(d)"))


def test_paragraph_16_asks_which_national_stakeholders_were_consulted(spec):
    consulted = [q for q, _c in iter_questions(spec) if "16" in q.ref.paragraphs and q.type == "multi_choice"
                 and "choices" in q.options]
    keys = {choice["key"] for q in consulted for choice in q.options["choices"]}
    assert {"private_sector", "academia"} <= keys
    assert any("ngo" in k or "civil" in k for k in keys)


@pytest.mark.parametrize("language", ["en", "es", "fr"])
def test_the_questionnaire_is_complete_in_each_language(spec, language):
    assert translation_completeness(spec.model_dump(mode="json", exclude_none=True), language) == 1.0


def test_spanish_uses_the_resolutions_own_terms_and_one_form_of_section_title(spec):
    spanish = " ".join(q.prompt.es or "" for q, _c in iter_questions(spec))
    for term in ("trata de personas", "víctimas", "cadenas de suministro", "indebidamente"):
        assert term in spanish
    op13 = next(section for section in spec.sections if section.code == "OP13")
    titles = [section.title.es for section in [*spec.sections, *op13.sections] if section.code != "STATS"]
    assert all(title.startswith("Párrafo ") and " de la parte dispositiva — " in title for title in titles)


def test_french_investigates_into_not_investigates(questions):
    for text in (questions["12.1"].prompt.fr, questions["12.1"].help.fr):
        assert "enquêter sur" in text and "d'enquêter et" not in text
