"""The review policy as a table: every kind of person × every phase × every action, without a database."""

from datetime import date

import pytest

from reviewmech.exports import rules as _export_rules  # noqa: F401 - registers the export rules
from reviewmech.reviews.models import Phase, Review, Role
from reviewmech.reviews.policy import RULES, AnswerView, Membership, answer_view, can, saves_as_contribution
from tests.pure import _no_database  # noqa: F401 - these tests need no database

UNDER_REVIEW, SAME_GROUP, OTHER_GROUP = 1, 2, 3
ASSIGNED = ("OP2",)  # the contributor's section



def _person(user_id: int, roles: dict | None = None, **standing) -> Membership:
    return Membership(user_id=user_id, roles={state: frozenset(r) for state, r in (roles or {}).items()},
                      under_review_state_id=UNDER_REVIEW, reviewing_state_ids=frozenset({SAME_GROUP, OTHER_GROUP}),
                      **standing)


PEOPLE = {
    "outsider": _person(1),
    "secretariat": _person(2, is_secretariat=True),
    "under_review:focal_point": _person(3, {UNDER_REVIEW: {Role.FOCAL_POINT}}),
    "under_review:expert": _person(4, {UNDER_REVIEW: {Role.EXPERT}}),
    "under_review:contributor": _person(5, {UNDER_REVIEW: {Role.CONTRIBUTOR}}, assigned_sections=frozenset(ASSIGNED)),
    "under_review:observer": _person(6, {UNDER_REVIEW: {Role.OBSERVER}}),
    "reviewing:focal_point": _person(7, {SAME_GROUP: {Role.FOCAL_POINT}}),
    "reviewing:expert": _person(8, {OTHER_GROUP: {Role.EXPERT}}),
    "reviewing:observer": _person(9, {SAME_GROUP: {Role.OBSERVER}}),
}

EVERYONE = set(PEOPLE) - {"outsider"}
OWN_SIDE = {"under_review:focal_point", "under_review:expert", "under_review:contributor", "under_review:observer"}
REVIEWERS = {"reviewing:focal_point", "reviewing:expert", "reviewing:observer"}
EDITORS = {"under_review:focal_point", "under_review:expert", "under_review:contributor"}
DRAFTERS = {"under_review:focal_point", "under_review:expert"}
FROM_DESK_REVIEW = {Phase.DESK_REVIEW, Phase.DIALOGUE, Phase.OBSERVATIONS, Phase.FINAL}
ANSWERING = {Phase.SELF_ASSESSMENT, Phase.DIALOGUE}
REVIEWING_FOCAL_POINT = {"reviewing:focal_point"}


def _everywhere(people):
    return dict.fromkeys(Phase, set(people))


def _only(phases, people):
    return {phase: set(people) if phase in phases else set() for phase in Phase}


def _plus(*tables):
    return {phase: set().union(*(table[phase] for table in tables)) for phase in Phase}


READERS = _plus(_everywhere(OWN_SIDE | {"secretariat"}), _only(FROM_DESK_REVIEW, REVIEWERS))

# action (and its target) → phase → who may
TABLE = {
    ("read_answers", ()): READERS,
    ("read_section", (("chain", ("OP2",)),)): READERS,
    ("read_section", (("chain", ("OP4",)),)): {p: r - {"under_review:contributor"} for p, r in READERS.items()},
    ("read_section", (("chain", ("OP4",)), ("subtree", ("OP4", "OP2")))): READERS,
    ("read_question", (("chain", ("OP2", "OP2.A")),)): READERS,
    ("read_question", (("chain", ("OP4", "OP4.B")),)): {p: r - {"under_review:contributor"}
                                                        for p, r in READERS.items()},
    ("read_history", (("chain", ("OP2",)),)): _everywhere(OWN_SIDE | {"secretariat"}),
    ("read_history", (("chain", ("OP4",)),)): _everywhere(OWN_SIDE - {"under_review:contributor"} | {"secretariat"}),
    ("edit_answers", ()): _only(ANSWERING, EDITORS),
    ("edit_answer", (("chain", ("OP2",)),)): _only(ANSWERING, EDITORS),
    ("edit_answer", (("chain", ("OP4",)),)): _only(ANSWERING, DRAFTERS),
    ("accept_contribution", ()): _only(ANSWERING, DRAFTERS),
    ("check_submission", ()): _everywhere({"under_review:focal_point"}),
    ("submit_answers", ()): _only({Phase.SELF_ASSESSMENT}, {"under_review:focal_point"}),
    ("release_answers", ()): _only({Phase.DIALOGUE}, {"under_review:focal_point"}),
    ("reopen_answers", ()): _only({Phase.DESK_REVIEW}, {"secretariat"}),
    ("move_phase", (("to", Phase.SELF_ASSESSMENT),)): _plus(_only({Phase.PREPARATION}, {"secretariat"}),
                                                            _only({Phase.DESK_REVIEW}, {"secretariat"})),
    ("move_phase", (("to", Phase.DESK_REVIEW),)): _only({Phase.SELF_ASSESSMENT}, {"under_review:focal_point"}),
    ("move_phase", (("to", Phase.DIALOGUE),)): _only({Phase.DESK_REVIEW}, {"secretariat", "reviewing:focal_point"}),
    ("move_phase", (("to", Phase.OBSERVATIONS),)): _only({Phase.DIALOGUE}, {"secretariat"}),
    ("move_phase", (("to", Phase.FINAL),)): _only({Phase.OBSERVATIONS}, {"secretariat"}),
    ("move_phase", (("to", Phase.PREPARATION),)): _everywhere(set()),
    ("extend_deadline", ()): _everywhere({"secretariat"}),
    ("manage_participants", ()): _everywhere({"secretariat", "under_review:focal_point", "reviewing:focal_point"}),
    ("manage_participants", (("state_id", UNDER_REVIEW),)): _everywhere({"secretariat", "under_review:focal_point"}),
    ("manage_participants", (("state_id", SAME_GROUP),)): _everywhere({"secretariat", "reviewing:focal_point"}),
    ("manage_participants", (("state_id", OTHER_GROUP),)): _everywhere({"secretariat"}),
    ("end_participation", (("state_id", UNDER_REVIEW), ("role", Role.EXPERT))):
        _everywhere({"secretariat", "under_review:focal_point"}),
    ("end_participation", (("state_id", UNDER_REVIEW), ("role", Role.FOCAL_POINT))): _everywhere({"secretariat"}),
    ("name_focal_point", ()): _everywhere({"secretariat"}),
    ("see_contact_details", ()): _everywhere({"secretariat"}),
    ("request_redraw", ()): _only({Phase.PREPARATION, Phase.SELF_ASSESSMENT},
                                  {"secretariat", "under_review:focal_point"}),
    ("export_questionnaire", ()): _everywhere(OWN_SIDE | {"secretariat"}),
    ("import_answers", ()): _only(ANSWERING, EDITORS),
    ("export_responses", ()): READERS,
    ("export_aggregate", ()): _everywhere({"secretariat"}),
}


def _review(phase: Phase) -> Review:
    return Review(phase=phase, state_id=UNDER_REVIEW, cycle=2026, self_assessment_due_on=date(2027, 6, 1),
                  desk_review_due_on=date(2027, 12, 1))


def test_every_registered_rule_is_in_the_table():
    assert {name for name, _target in TABLE} == set(RULES)


CASES = [(action, target, phase, who) for (action, target) in TABLE for phase in Phase for who in PEOPLE]


@pytest.mark.parametrize("action, target, phase, who", CASES,
                         ids=[f"{a}{dict(t) or ''}-{p.value}-{w}" for a, t, p, w in CASES])
def test_the_policy(action, target, phase, who):
    expected = who in TABLE[(action, target)][phase]
    assert can(action, PEOPLE[who], _review(phase), **dict(target)) is expected


@pytest.mark.parametrize("phase", list(Phase))
@pytest.mark.parametrize("who", list(PEOPLE))
def test_which_version_of_the_answers_each_person_sees(who, phase):
    view = answer_view(PEOPLE[who], _review(phase))
    if who in OWN_SIDE | {"secretariat"}:
        assert view == AnswerView.LIVE
    elif who in REVIEWERS and phase in FROM_DESK_REVIEW:
        assert view == AnswerView.SUBMITTED
    else:
        assert view == AnswerView.NONE


@pytest.mark.parametrize("who, waits", [("under_review:contributor", True), ("under_review:expert", False),
                                        ("under_review:focal_point", False)])
def test_only_a_contributors_answers_wait_for_acceptance(who, waits):
    assert saves_as_contribution(PEOPLE[who], _review(Phase.SELF_ASSESSMENT)) is waits
