"""Conditions: evaluated by one function, on chains of hidden questions too."""

import pytest

from reviewmech.questionnaires.conditions import as_json, can_hold, evaluate, visible_codes
from tests.pure import _no_database  # noqa: F401 - these tests need no database

YES = {"question": "a", "in": ["yes", "partial"]}


@pytest.mark.parametrize("condition, answers, expected", [
    (YES, {"a": "yes"}, True),
    (YES, {"a": "no"}, False),
    (YES, {}, False),
    ({"question": "a", "equals": "no"}, {"a": "no"}, True),
    ({"question": "m", "in": ["ngo"]}, {"m": ["academia", "ngo"]}, True),
    ({"question": "m", "equals": "ngo"}, {"m": ["academia"]}, False),
    ({"question": "a", "answered": True}, {"a": "text"}, True),
    ({"question": "a", "answered": True}, {"a": ""}, False),
    ({"question": "a", "answered": False}, {}, True),
    ({"all": [YES, {"question": "b", "equals": 3}]}, {"a": "yes", "b": 3}, True),
    ({"all": [YES, {"question": "b", "equals": 3}]}, {"a": "yes", "b": 4}, False),
    ({"any": [YES, {"question": "b", "equals": 3}]}, {"a": "no", "b": 3}, True),
    ({"any": [YES, {"question": "b", "equals": 3}]}, {"a": "no"}, False),
    ({"not": YES}, {"a": "no"}, True),
    ({"not": {"any": [YES, {"question": "b", "answered": True}]}}, {"a": "no"}, True),
    (None, {}, True),
])
def test_evaluate(condition, answers, expected):
    assert evaluate(condition, answers) is expected


def test_a_hidden_answer_is_kept_but_does_not_count_for_later_conditions():
    items = [("a", []), ("b", [{"question": "a", "equals": "yes"}]), ("c", [{"question": "b", "answered": True}])]
    answers = {"a": "no", "b": "kept text", "c": "x"}
    assert visible_codes(items, answers) == {"a"}
    assert visible_codes(items, {**answers, "a": "yes"}) == {"a", "b", "c"}


def test_section_conditions_apply_to_their_questions():
    section = {"question": "a", "in": ["yes"]}
    items = [("a", []), ("b", [section, None]), ("c", [section, {"question": "b", "equals": 1}])]
    assert visible_codes(items, {"a": "yes", "b": 1}) == {"a", "b", "c"}
    assert visible_codes(items, {"a": "no", "b": 1}) == {"a"}


def test_can_hold_finds_contradictions():
    domains = {"a": ["yes", "partial", "no"]}
    assert not can_hold({"all": [{"question": "a", "equals": "yes"}, {"question": "a", "equals": "no"}]}, domains)
    assert can_hold({"any": [{"question": "a", "equals": "yes"}, {"question": "a", "equals": "no"}]}, domains)
    assert not can_hold({"all": [{"question": "t", "answered": True}, {"question": "t", "answered": False}]}, {})


def test_conditions_are_exported_as_json_safe_in_a_page():
    assert as_json({"1.2": {"question": "1.1", "equals": "</script>"}}) == \
        '{"1.2": {"question": "1.1", "equals": "\\u003c/script>"}}'
