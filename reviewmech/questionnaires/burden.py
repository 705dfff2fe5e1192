"""How many questions a State answering a questionnaire sees, simulated over random answer sets.

Each simulated State answers every question it is shown: a closed question with one of the offered
answers chosen at random, a multiple choice with a random selection, any other question answered or
left empty at random. Which questions show comes from the same condition evaluator the pages use.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from reviewmech.questionnaires.conditions import visible_codes
from reviewmech.questionnaires.schema import QuestionnaireSpec, iter_questions
from reviewmech.questionnaires.types import TYPES

OPEN_ANSWER = "answered"  # what a simulated State writes in a question without a finite set of answers


@dataclass(frozen=True)
class Spread:
    """The median and the 10th and 90th percentiles of a count over the simulated answer sets."""

    median: float
    p10: float
    p90: float


@dataclass(frozen=True)
class Burden:
    """What answering a questionnaire asks of a State."""

    questions: int
    required: int
    runs: int
    seed: int
    shown: Spread
    required_shown: Spread
    partial_throughout: tuple[int, int]  # (shown, required and shown) when every closed answer is "Yes, in part"


@dataclass(frozen=True)
class _Item:
    code: str
    conditions: tuple
    type: str
    options: BaseModel
    domain: tuple[str, ...] | None
    is_required: bool


def _items(spec: QuestionnaireSpec) -> list[_Item]:
    items = []
    for question, chain in iter_questions(spec):
        question_type = TYPES[question.type]
        options = question_type.parse_options(question.options)
        keys = question_type.answer_keys(options)
        conditions = tuple(c for c in [*(s.show_if for s in chain), question.show_if] if c)
        items.append(_Item(question.code, conditions, question.type, options,
                           tuple(keys) if keys is not None else None, question.required))
    return items


def _random_answer(item: _Item, rng: random.Random) -> Any:
    if item.domain is None:
        return OPEN_ANSWER if rng.random() < 0.5 else None
    if item.type == "multi_choice":
        return [key for key in item.domain if rng.random() < 0.5]
    return rng.choice(item.domain)


def _partial_answer(item: _Item) -> Any:
    if item.domain is None:
        return OPEN_ANSWER
    if item.type == "multi_choice":
        return list(item.domain)
    return "partial" if "partial" in item.domain else item.domain[0]


def _count(items: list[_Item], answers: dict[str, Any]) -> tuple[int, int]:
    shown = visible_codes([(item.code, list(item.conditions)) for item in items], answers,
                          lambda code, value: value in (None, "", [], {}))
    return len(shown), sum(1 for item in items if item.is_required and item.code in shown)


def _spread(values: list[int]) -> Spread:
    if len(values) == 1:
        return Spread(values[0], values[0], values[0])
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return Spread(statistics.median(values), deciles[0], deciles[-1])


def simulate(spec: QuestionnaireSpec, *, runs: int = 2000, seed: int = 0) -> Burden:
    """Simulate `runs` States answering at random (reproducible from `seed`) and measure what they are shown."""
    items = _items(spec)
    rng = random.Random(seed)  # noqa: S311 - a reproducible simulation, not a secret
    shown, required = [], []
    for _run in range(runs):
        counts = _count(items, {item.code: _random_answer(item, rng) for item in items})
        shown.append(counts[0])
        required.append(counts[1])
    return Burden(
        questions=len(items), required=sum(1 for item in items if item.is_required), runs=runs, seed=seed,
        shown=_spread(shown), required_shown=_spread(required),
        partial_throughout=_count(items, {item.code: _partial_answer(item) for item in items}),
    )
