"""Conditions (`show_if`) as data: checked when loading, evaluated here and in the browser.

A condition is one of
  {question: CODE, in: [v, ...]}      the answer is one of these (a multiple choice: any selected)
  {question: CODE, equals: v}         the answer equals v (a multiple choice: v is selected)
  {question: CODE, answered: bool}    the question has (or has not) a non-empty answer
  {all: [c, ...]}  {any: [c, ...]}  {not: c}
The browser runs the same rules (static/js/conditions.js) from `as_json`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

LEAF_TESTS = ("in", "equals", "answered")


def _is_answered(value: Any) -> bool:
    return value not in (None, "", [], {})


def evaluate(condition: Mapping | None, answers: Mapping[str, Any]) -> bool:
    """Whether a condition holds for the given answers (code → value; a hidden answer is absent)."""
    if condition is None:
        return True
    if "all" in condition:
        return all(evaluate(c, answers) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, answers) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], answers)
    value = answers.get(condition["question"])
    if "answered" in condition:
        return _is_answered(value) == bool(condition["answered"])
    wanted = condition["in"] if "in" in condition else [condition["equals"]]
    if isinstance(value, list):
        return any(v in wanted for v in value)
    return value in wanted


def referenced_questions(condition: Mapping | None) -> Iterator[str]:
    """Every question code a condition names."""
    if not condition:
        return
    for key in ("all", "any"):
        for part in condition.get(key) or []:
            if isinstance(part, Mapping):
                yield from referenced_questions(part)
    if isinstance(condition.get("not"), Mapping):
        yield from referenced_questions(condition["not"])
    if isinstance(condition.get("question"), str):
        yield condition["question"]


def check(condition: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield (path, problem) for every structural problem of a condition."""
    if not isinstance(condition, Mapping):
        yield path, "a condition must be a mapping"
        return
    combinators = [k for k in ("all", "any", "not") if k in condition]
    if combinators:
        if len(condition) != 1:
            yield path, f"'{combinators[0]}' must stand alone in its condition, found {sorted(condition)}"
            return
        key = combinators[0]
        if key == "not":
            yield from check(condition["not"], f"{path}.not")
        elif not isinstance(condition[key], list) or not condition[key]:
            yield f"{path}.{key}", "must be a non-empty list of conditions"
        else:
            for index, part in enumerate(condition[key]):
                yield from check(part, f"{path}.{key}[{index}]")
        return
    if not isinstance(condition.get("question"), str):
        yield path, "a condition needs 'question' (a question code), or 'all', 'any' or 'not'"
        return
    tests = [k for k in LEAF_TESTS if k in condition]
    unknown = sorted(set(condition) - {"question", *LEAF_TESTS})
    if unknown:
        yield path, f"unknown key(s) {', '.join(unknown)}; use one of in, equals, answered"
    if len(tests) != 1:
        yield path, "a condition on a question needs exactly one of 'in', 'equals' or 'answered'"
        return
    test = tests[0]
    if test == "in" and (not isinstance(condition["in"], list) or not condition["in"]):
        yield f"{path}.in", "must be a non-empty list of answers"
    if test == "answered" and not isinstance(condition["answered"], bool):
        yield f"{path}.answered", "must be true or false"
    if test == "equals" and isinstance(condition["equals"], list | dict):
        yield f"{path}.equals", "must be a single value"


def tested_values(condition: Mapping) -> Iterator[tuple[str, Any, str]]:
    """Yield (question, value, test) for every value a condition compares an answer with."""
    for key in ("all", "any"):
        for part in condition.get(key) or []:
            yield from tested_values(part)
    if "not" in condition:
        yield from tested_values(condition["not"])
    if "in" in condition:
        for value in condition["in"]:
            yield condition["question"], value, "in"
    if "equals" in condition:
        yield condition["question"], condition["equals"], "equals"


def can_hold(condition: Mapping, domains: Mapping[str, list | None], limit: int = 20_000) -> bool:
    """Whether some set of answers makes a condition true (values outside finite domains count as 'other')."""
    codes = sorted(set(referenced_questions(condition)))
    choices: list[list] = []
    for code in codes:
        mentioned = [v for q, v, _t in tested_values(condition) if q == code]
        domain = domains.get(code)
        values = list(domain) if domain is not None else [*mentioned, "\u0000other"]
        choices.append([None, *values])
    combinations = 1
    for values in choices:
        combinations *= len(values)
    if combinations > limit:
        return True  # too many to try: assume it can

    def search(index: int, answers: dict) -> bool:
        if index == len(codes):
            return evaluate(condition, answers)
        return any(search(index + 1, {**answers, codes[index]: v}) for v in choices[index])

    return search(0, {})


def visible_codes(items: list[tuple[str, list[Mapping | None]]], answers: Mapping[str, Any],
                  is_empty: Callable[[str, Any], bool] | None = None) -> set[str]:
    """Which questions show, given answers, in questionnaire order.

    `items` lists (code, conditions) where conditions are those of the enclosing sections and the
    question's own. A hidden question's answer is kept but counts as no answer for later conditions.
    """
    effective: dict[str, Any] = {}
    shown = set()
    for code, conditions in items:
        if all(evaluate(c, effective) for c in conditions if c):
            shown.add(code)
            value = answers.get(code)
            if value is not None and not (is_empty and is_empty(code, value)):
                effective[code] = value
    return shown


def as_json(conditions: Mapping[str, Any]) -> str:
    """The conditions of a page as JSON for the browser (safe to embed in a script element)."""
    return json.dumps(conditions, ensure_ascii=False).replace("<", "\\u003c")
