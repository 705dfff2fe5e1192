"""The question-type registry: values are validated, normalised, displayed, put in cells, aggregated."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reviewmech.questionnaires.types import TYPES, NumberOptions, TableOptions
from tests.pure import _no_database  # noqa: F401 - these tests need no database
from tests.questionnaires.helpers import texts

OPTIONS = {
    "yes_no_partial": {"not_applicable": True},
    "single_choice": {"choices": [{"key": "a", "label": texts("A")}, {"key": "b", "label": texts("B")}]},
    "multi_choice": {"choices": [{"key": "a", "label": texts("A")}, {"key": "b", "label": texts("B")}]},
    "text": {"max_length": 50},
    "number": {"min": 0, "max": 100, "integer": True, "unit": texts("years")},
    "date": {},
    "legislation": {},
    "table": {"rows": [{"key": "2022", "label": texts("2022")}],
              "columns": [{"key": "women", "label": texts("Women")}, {"key": "men", "label": texts("Men")}]},
    "attachments": {},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)

VALID = {
    "yes_no_partial": st.sampled_from(["yes", "partial", "no", "not_applicable"]),
    "single_choice": st.sampled_from(["a", "b"]),
    "multi_choice": st.lists(st.sampled_from(["a", "b"]), unique=True),
    "text": st.text(min_size=1, max_size=50).filter(lambda s: s.strip() and "\r" not in s),
    "number": st.integers(min_value=0, max_value=100),
    "date": st.dates().map(lambda d: d.isoformat()),
    "legislation": st.lists(st.fixed_dictionaries({
        "title": st.text(min_size=1, max_size=20).filter(lambda s: s.strip() == s and s),
        "article": st.none(), "year": st.sampled_from([None, "2004"]),
        "link": st.sampled_from([None, "https://example.org/law"]), "excerpt": st.none()}), max_size=3),
    "table": st.dictionaries(st.just("2022"), st.dictionaries(
        st.sampled_from(["women", "men"]), st.integers(min_value=0, max_value=10**6) | st.just("n/a"), min_size=1),
        max_size=1),
    "attachments": st.lists(st.integers(min_value=1, max_value=10**9), unique=True),
}


def _messages(name, result, options=None, locale="en"):
    question_type = TYPES[name]
    options = options if options is not None else question_type.parse_options(OPTIONS[name])
    return [question_type.message(problem, options, locale) for problem in result.errors]


def test_every_type_is_registered_once():
    assert sorted(TYPES) == sorted(OPTIONS)


@pytest.mark.parametrize("name", sorted(OPTIONS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=json_values)
def test_any_json_is_refused_or_normalized_and_never_crashes(name, value):
    question_type = TYPES[name]
    options = question_type.parse_options(OPTIONS[name])
    refusal = question_type.refusal(value, options)
    if refusal is not None:
        assert question_type.message(refusal, options, "fr")
        return
    result = question_type.normalize(value, options)
    assert isinstance(result.errors, list)
    assert question_type.refusal(result.value, options) is None  # a kept draft is itself an acceptable value
    question_type.is_empty(result.value)
    question_type.display(result.value, options, "fr")
    [question_type.message(problem, options, "es") for problem in result.errors]
    question_type.from_cells(question_type.to_cells(result.value, options, "es"), options, "es")


@pytest.mark.parametrize("name", sorted(OPTIONS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_valid_value_round_trips_without_errors_through_normalizing_and_cells(name, data):
    question_type = TYPES[name]
    options = question_type.parse_options(OPTIONS[name])
    value = data.draw(VALID[name])
    first = question_type.normalize(value, options)
    assert first.errors == []
    second = question_type.normalize(first.value, options)
    assert second.errors == [] and second.value == first.value
    if question_type.importable:
        cells = question_type.to_cells(first.value, options, "fr")
        back = question_type.normalize(question_type.from_cells(cells, options, "fr"), options)
        assert back.errors == [] and back.value == first.value


@pytest.mark.parametrize("name, value", [
    ("legislation", "Law 12 of 2004"), ("legislation", [{"title": 5}]), ("legislation", [{"title": "A", "page": "3"}]),
    ("legislation", ["Law 12"]), ("number", [1, 2]), ("number", True), ("number", {"n": 1}),
    ("number", float("inf")), ("text", 42), ("text", ["a"]), ("date", 20240101), ("yes_no_partial", ["yes"]),
    ("single_choice", 1), ("multi_choice", [1]), ("table", "12"), ("table", {"1999": {"women": 1}}),
    ("table", {"2022": {"children": 1}}), ("table", {"2022": {"women": True}}), ("attachments", ["x"]),
    ("attachments", [0]),
])
def test_a_value_of_the_wrong_kind_is_refused_not_emptied(name, value):
    question_type = TYPES[name]
    options = question_type.parse_options(OPTIONS[name])
    problem = question_type.refusal(value, options)
    assert problem is not None and problem.code.startswith("refused")
    assert question_type.message(problem, options, "en")


@pytest.mark.parametrize("value, character", [("a\x00b", "U+0000"), ("\ud800", "U+D800"),
                                              ([{"title": "Law\x00"}], "U+0000"), ({"2022": {"x\udfff": 1}}, "U+DFFF")])
def test_characters_a_database_cannot_store_are_named(value, character):
    options = TYPES["text"].parse_options({})
    problem = TYPES["text"].refusal(value, options)
    assert problem.code == "unstorable"
    assert TYPES["text"].message(problem, options, "en") == (
        f"The answer contains a character that cannot be stored ({character}). Remove it and save again.")


@pytest.mark.parametrize("value, errors", [
    (42, []), ("42", []), (" 1 000 ", ["Enter a number of at most 100."]), (-1, ["Enter a number of at least 0."]),
    (2.5, ["Enter a whole number."]), ("many", ["Enter a number."]),
])
def test_numbers_are_checked_against_their_options(value, errors):
    options = NumberOptions(min=0, max=100, integer=True)
    assert _messages("number", TYPES["number"].normalize(value, options), options) == errors


def test_an_invalid_number_is_kept_as_typed_so_nothing_is_lost():
    result = TYPES["number"].normalize("about 40", NumberOptions())
    assert result.value == "about 40" and _messages("number", result, NumberOptions()) == ["Enter a number."]


def test_table_cells_may_be_blank_or_not_available_and_totals_are_derived():
    options = TableOptions.model_validate(OPTIONS["table"] | {"rows": [
        {"key": "2022", "label": texts("2022")}, {"key": "2023", "label": texts("2023")}]})
    result = TYPES["table"].normalize({"2022": {"women": "12", "men": "N/A"}, "2023": {"women": 3, "men": ""}},
                                      options)
    assert result.errors == []
    assert result.value == {"2022": {"women": 12, "men": "n/a"}, "2023": {"women": 3}}
    assert TYPES["table"].totals(result.value, options) == {
        "rows": {"2022": 12, "2023": 3}, "columns": {"women": 15, "men": 0}, "grand": 15}


def test_table_cells_that_are_not_figures_are_reported_by_cell_in_the_readers_language():
    options = TableOptions.model_validate(OPTIONS["table"])
    result = TYPES["table"].normalize({"2022": {"women": "twelve", "men": -1}}, options)
    assert result.value == {"2022": {"women": "twelve", "men": -1}}  # kept as typed
    assert _messages("table", result, options) == ["2022 × Women: enter a number or n/a.",
                                                   "2022 × Men: a figure cannot be negative."]
    assert _messages("table", result, options, "fr")[0].startswith("2022 (fr) × Women (fr)")
    assert [p.params for p in result.errors] == [{"row": "2022", "column": "women"}, {"row": "2022", "column": "men"}]


def test_a_count_refuses_decimals_and_names_the_cell():
    options = TableOptions.model_validate(OPTIONS["table"])
    result = TYPES["table"].normalize({"2022": {"women": "12,5"}}, options)
    assert _messages("table", result, options) == [
        "2022 × Women: enter a whole number (a count cannot have decimals)."]
    rates = TableOptions.model_validate(OPTIONS["table"] | {"integer": False})
    assert TYPES["table"].normalize({"2022": {"women": "12,5"}}, rates).errors == []


def test_a_citation_needs_a_title():
    result = TYPES["legislation"].normalize([{"article": "art. 3", "year": "20x4", "link": "ftp://x"}], None)
    assert _messages("legislation", result) == [
        "Citation 1 needs a title.", "Citation 1: the year has four digits.",
        "Citation 1: the link starts with http:// or https://."]


def test_choices_must_be_known_keys():
    options = TYPES["multi_choice"].parse_options(OPTIONS["multi_choice"])
    assert TYPES["multi_choice"].normalize(["b", "a", "b"], options).value == ["a", "b"]
    assert _messages("multi_choice", TYPES["multi_choice"].normalize(["z"], options)) == [
        "Choose among the offered answers."]


def test_a_problem_stored_by_an_older_version_as_text_is_shown_as_it_was():
    from reviewmech.questionnaires.types import Problem

    options = TYPES["text"].parse_options({})
    assert TYPES["text"].message(Problem.from_json("Enter text."), options, "fr") == "Enter text."


def test_aggregation_across_states():
    options = TYPES["yes_no_partial"].parse_options({})
    summary = TYPES["yes_no_partial"].aggregate(["yes", "no", "yes", None], options)
    assert summary == {"answered": 3, "total": 4, "counts": {"yes": 2, "partial": 0, "no": 1}}
    table = TYPES["table"].parse_options(OPTIONS["table"])
    assert TYPES["table"].aggregate([{"2022": {"women": 2}}, {"2022": {"women": 3, "men": "n/a"}}], table)["sums"] \
        == {"2022": {"women": 5}}


def test_a_table_fills_its_spreadsheet_cells_as_a_grid():
    options = TYPES["table"].parse_options(OPTIONS["table"])
    assert TYPES["table"].to_cells({"2022": {"men": 4}}, options, "en") == [[None, 4]]


def test_choices_are_read_back_from_cells_by_label_in_any_language_or_key():
    options = TYPES["multi_choice"].parse_options(OPTIONS["multi_choice"])
    assert TYPES["multi_choice"].from_cells([["B (fr); a"]], options, "fr") == ["b", "a"]
    yes_no = TYPES["yes_no_partial"].parse_options({})
    assert TYPES["yes_no_partial"].from_cells([["Yes, in part"]], yes_no, "en") == "partial"


def test_display_is_in_the_readers_language():
    options = TYPES["single_choice"].parse_options(OPTIONS["single_choice"])
    assert TYPES["single_choice"].display("b", options, "fr") == "B (fr)"


def test_a_recommendation_asks_about_measures_taken_with_not_yet_considered():
    options = TYPES["yes_no_partial"].parse_options({"scale": "measures"})
    assert TYPES["yes_no_partial"].answer_keys(options) == ["yes", "partial", "no", "not_considered"]
    assert [str(label) for label in TYPES["yes_no_partial"].labels(options).values()] == [
        "Measures taken", "Some measures taken", "Considered, no measures taken", "Not yet considered"]
    assert TYPES["yes_no_partial"].display("not_considered", options, "en") == "Not yet considered"
    compliance = TYPES["yes_no_partial"].parse_options({})
    assert _messages("yes_no_partial", TYPES["yes_no_partial"].normalize("not_considered", compliance),
                     compliance) == ["Choose one of the offered answers."]


def test_a_grid_offers_one_choice_per_cell_and_mark():
    grid = {"rows": [{"key": "op4", "label": texts("Paragraph 4")}],
            "columns": [{"key": "training", "label": texts("Training")}, {"key": "other", "label": texts("Other")}],
            "marks": [{"key": "received", "label": texts("received")}, {"key": "needed", "label": texts("needed")}]}
    options = TYPES["multi_choice"].parse_options({"grid": grid})
    assert TYPES["multi_choice"].answer_keys(options) == [
        "op4__training__received", "op4__training__needed", "op4__other__received", "op4__other__needed"]
    assert TYPES["multi_choice"].display(["op4__other__needed"], options, "fr") == \
        "Paragraph 4 (fr) — Other (fr) — needed (fr)"
    with pytest.raises(ValueError, match="either choices or a grid"):
        TYPES["multi_choice"].parse_options({"grid": grid, "choices": OPTIONS["multi_choice"]["choices"]})


def test_a_table_of_years_takes_its_rows_from_the_reviews_cycle():
    options = TableOptions.model_validate({
        "years_before_cycle": 3, "rows": [{"key": "prosecuted", "label": texts("Prosecuted")}],
        "columns": OPTIONS["table"]["columns"]})
    concrete = options.for_cycle(2026)
    assert [row.key for row in concrete.rows] == ["2023_prosecuted", "2024_prosecuted", "2025_prosecuted"]
    assert concrete.rows[0].label.es == "2023 — Prosecuted (es)"
    assert [row.key for row in options.for_cycle(2030).rows][0] == "2027_prosecuted"
    refusal = TYPES["table"].refusal({"2022_prosecuted": {"men": 1}}, concrete)
    assert TYPES["table"].message(refusal, concrete, "en") == "The table has no row 2022_prosecuted."


def test_a_table_may_put_the_years_in_its_columns():
    options = TableOptions.model_validate({"years_before_cycle": 2, "years_on": "columns",
                                           "rows": OPTIONS["table"]["rows"]})
    concrete = TYPES["table"].options_for_cycle(options, 2026)
    assert [column.key for column in concrete.columns] == ["2024", "2025"]
    assert TYPES["table"].normalize({"2022": {"2025": "n/a"}}, concrete).value == {"2022": {"2025": "n/a"}}
