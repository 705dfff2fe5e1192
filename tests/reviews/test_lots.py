"""The drawing of lots: every constraint, reproducibility, verification and redraws.

Pure tests: no app, no database.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reviewmech.reviews import lots
from reviewmech.reviews.lots import (
    ALGORITHM,
    OTHER_GROUP,
    SAME_GROUP,
    Assignment,
    Draw,
    DrawError,
    DrawInputs,
    draw_lots,
    new_seed,
    redraw,
    verify,
)
from tests.pure import _no_database  # noqa: F401 - these tests need no database

STATES_CSV = Path(__file__).resolve().parents[2] / "reviewmech" / "accounts" / "data" / "un_member_states.csv"
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SEEDS = st.integers(min_value=0, max_value=2**63 - 1)


# -- helpers ----------------------------------------------------------------------------------------


def code(number: int) -> str:
    """A three-letter code: AAA, AAB, ..."""
    return "".join(chr(65 + (number // 26**power) % 26) for power in (2, 1, 0))


def real_states() -> tuple[dict[str, str], frozenset[str]]:
    """The 193 UN Member States: code -> regional group, and the parties to the TIP Protocol."""
    with STATES_CSV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    groups = {row["code"]: row["regional_group"] for row in rows}
    parties = frozenset(row["code"] for row in rows if row["tip_protocol_party"] == "1")
    return groups, parties


def all_pairs(inputs: DrawInputs, assignments) -> set[tuple[str, str]]:
    """(reviewer, reviewed) pairs of the year: earlier ones and those of ``assignments``."""
    pairs = set(inputs.existing_pairs)
    for a in assignments:
        pairs |= {(a.same_group, a.reviewed), (a.other_group, a.reviewed)}
    return pairs


def check_assignments(inputs: DrawInputs, assignments) -> None:
    """Assert every rule of the drawing of lots on ``assignments`` made from ``inputs``."""
    assignments = tuple(assignments)
    assert [a.reviewed for a in assignments] == sorted(set(inputs.under_review))
    drawn_pairs = []
    load = Counter(inputs.existing_load)
    for a in assignments:
        assert a.same_group != a.other_group
        assert a.reviewed not in (a.same_group, a.other_group)
        assert a.same_group in inputs.parties and a.other_group in inputs.parties
        assert inputs.groups[a.same_group] == inputs.groups[a.reviewed]
        assert inputs.groups[a.other_group] != inputs.groups[a.reviewed]
        drawn_pairs += [(a.same_group, a.reviewed), (a.other_group, a.reviewed)]
        load.update([a.same_group, a.other_group])
    for reviewer in {reviewer for reviewer, _ in drawn_pairs}:
        assert load[reviewer] <= inputs.max_reviews, reviewer
    assert len(set(drawn_pairs)) == len(drawn_pairs)
    pairs = all_pairs(inputs, assignments)
    for reviewer, reviewed in drawn_pairs:
        assert (reviewed, reviewer) not in pairs, f"{reviewer} and {reviewed} review each other"


def solvable(inputs: DrawInputs) -> bool:
    """Whether any assignment meets every rule: a plain exhaustive search, for tiny inputs only."""
    parties = sorted(inputs.parties)
    slots = [(r, slot) for r in sorted(inputs.under_review) for slot in (SAME_GROUP, OTHER_GROUP)]
    load = Counter(inputs.existing_load)
    pairs = set(inputs.existing_pairs)

    def fits(reviewed: str, slot: str, x: str) -> bool:
        same_group = inputs.groups[x] == inputs.groups[reviewed]
        return (
            x != reviewed
            and same_group == (slot == SAME_GROUP)
            and load[x] < inputs.max_reviews
            and (reviewed, x) not in pairs
        )

    def search(i: int) -> bool:
        if i == len(slots):
            return True
        reviewed, slot = slots[i]
        for x in parties:
            if fits(reviewed, slot, x):
                new_pair = (x, reviewed) not in pairs  # never forget a pair of an earlier draw
                load[x] += 1
                pairs.add((x, reviewed))
                if search(i + 1):
                    return True
                load[x] -= 1
                if new_pair:
                    pairs.discard((x, reviewed))
        return False

    return search(0)


@st.composite
def draw_inputs(draw, min_states: int = 3, max_states: int = 60, max_under_review: int | None = None) -> DrawInputs:
    """Random States in 2-5 groups, random parties, load and pairs of earlier draws of the year."""
    n = draw(st.integers(min_states, max_states))
    codes = [code(i) for i in range(n)]
    group_count = draw(st.integers(2, 5))
    group_of = draw(st.lists(st.integers(0, group_count - 1), min_size=n, max_size=n))
    groups = {c: f"group-{g}" for c, g in zip(codes, group_of, strict=True)}
    party_flags = draw(st.lists(st.sampled_from([True, True, True, False]), min_size=n, max_size=n))
    parties = [c for c, flag in zip(codes, party_flags, strict=True) if flag]
    assume(parties)
    under_review = draw(st.lists(st.sampled_from(parties), unique=True, min_size=1, max_size=max_under_review))
    existing_load = draw(st.dictionaries(st.sampled_from(codes), st.integers(0, 3), max_size=n // 2))
    pair = st.tuples(st.sampled_from(codes), st.sampled_from(codes)).filter(lambda p: p[0] != p[1])
    existing_pairs = draw(st.frozensets(pair, max_size=n))
    return DrawInputs(
        under_review=tuple(under_review),
        groups=groups,
        parties=frozenset(parties),
        max_reviews=draw(st.integers(1, 4)),
        existing_load=existing_load,
        existing_pairs=existing_pairs,
    )


def try_draw(inputs: DrawInputs, seed: int) -> Draw | DrawError:
    """The draw, or the DrawError it raised."""
    try:
        return draw_lots(inputs, seed)
    except DrawError as error:
        return error


def check_error(inputs: DrawInputs, error: DrawError) -> None:
    """A failed draw names a State under review and says why."""
    assert error.state in inputs.under_review
    assert str(error) == f"{error.state}: {error.reason}"
    assert error.reason.startswith("no eligible reviewing State from ")
    assert ("its own regional group" in error.reason) or ("another regional group" in error.reason)


# -- properties ----------------------------------------------------------------------------------------


@PROPERTY
@given(inputs=draw_inputs(), seed=SEEDS)
def test_every_draw_meets_every_rule_or_names_the_state_that_failed(inputs, seed):
    result = try_draw(inputs, seed)
    if isinstance(result, DrawError):
        check_error(inputs, result)
    else:
        assert result.seed == seed and result.inputs == inputs
        check_assignments(inputs, result.assignments)


@PROPERTY
@given(inputs=draw_inputs(min_states=3, max_states=7, max_under_review=3), seed=SEEDS)
def test_draw_fails_only_when_no_assignment_exists(inputs, seed):
    result = try_draw(inputs, seed)
    assert isinstance(result, Draw) == solvable(inputs), result


@PROPERTY
@given(inputs=draw_inputs(), seed=SEEDS)
def test_same_seed_and_inputs_give_the_same_result(inputs, seed):
    first, second = try_draw(inputs, seed), try_draw(DrawInputs.from_json(inputs.as_json()), seed)
    if isinstance(first, DrawError):
        assert isinstance(second, DrawError) and str(first) == str(second)
    else:
        assert first == second
        assert first.as_json() == second.as_json()


@PROPERTY
@given(inputs=draw_inputs())
def test_inputs_survive_a_json_round_trip(inputs):
    stored = json.loads(json.dumps(inputs.as_json()))
    again = DrawInputs.from_json(stored)
    assert again == inputs
    assert hash(again) == hash(inputs)
    assert again.as_json() == inputs.as_json()
    assert json.dumps(inputs.as_json()) == json.dumps(inputs.as_json(), sort_keys=True)
    for values in (again.under_review, again.as_json()["parties"], again.as_json()["existing_pairs"]):
        assert list(values) == sorted(values)


@PROPERTY
@given(inputs=draw_inputs(), seed=SEEDS, data=st.data())
def test_verify_accepts_a_real_draw_and_rejects_a_tampered_one(inputs, seed, data):
    result = try_draw(inputs, seed)
    assume(isinstance(result, Draw))
    stored = json.loads(json.dumps(result.as_json()))
    assert verify(stored)
    assert Draw.from_json(stored) == result

    position = data.draw(st.integers(0, len(stored["assignments"]) - 1))
    slot = data.draw(st.sampled_from([SAME_GROUP, OTHER_GROUP]))
    assignment = stored["assignments"][position]
    others = sorted(inputs.groups.keys() - {assignment[slot]})
    assignment[slot] = data.draw(st.sampled_from(others))
    assert not verify(stored)


@PROPERTY
@given(inputs=draw_inputs(), seed=SEEDS, redraw_seed=SEEDS, data=st.data())
def test_redraw_changes_one_reviewer_and_keeps_every_rule(inputs, seed, redraw_seed, data):
    current = try_draw(inputs, seed)
    assume(isinstance(current, Draw))
    reviewed = data.draw(st.sampled_from(inputs.under_review))
    slot = data.draw(st.sampled_from([SAME_GROUP, OTHER_GROUP]))
    before = next(a for a in current.assignments if a.reviewed == reviewed)
    try:
        after = redraw(inputs, current, reviewed, slot, redraw_seed)
    except DrawError as error:
        assert error.state == reviewed
        assert error.reason.startswith("no eligible reviewing State from ")
        assert "for a redraw" in error.reason
        # Really nobody else: every other State of the right group is full or would review each other.
        kept = [a for a in current.assignments if a.reviewed != reviewed] + [before]
        load = Counter(inputs.existing_load)
        for a in kept:
            load.update([a.same_group, a.other_group])
        load[before.reviewer(slot)] -= 1
        pairs = all_pairs(inputs, kept)
        for x in sorted(inputs.parties - {reviewed, before.reviewer(slot)}):
            if (inputs.groups[x] == inputs.groups[reviewed]) == (slot == SAME_GROUP):
                assert load[x] >= inputs.max_reviews or (reviewed, x) in pairs
        return
    assert after.reviewed == reviewed
    assert after.reviewer(slot) != before.reviewer(slot)
    kept_slot = OTHER_GROUP if slot == SAME_GROUP else SAME_GROUP
    assert after.reviewer(kept_slot) == before.reviewer(kept_slot)
    updated = tuple(after if a.reviewed == reviewed else a for a in current.assignments)
    check_assignments(inputs, updated)
    assert redraw(inputs, current, reviewed, slot, redraw_seed) == after


# -- the real data ---------------------------------------------------------------------------------------


def test_a_draw_for_every_party_of_the_193_states():
    groups, parties = real_states()
    assert len(groups) == 193
    inputs = DrawInputs(under_review=tuple(sorted(parties)), groups=groups, parties=parties, max_reviews=3)
    result = draw_lots(inputs, 20201016)
    check_assignments(inputs, result.assignments)
    assert len(result.assignments) == len(parties)
    assert verify(json.loads(json.dumps(result.as_json())))
    assert draw_lots(inputs, 20201016) == result
    assert len({draw_lots(inputs, seed).assignments for seed in range(4)}) > 1


def test_a_second_draw_of_the_year_counts_the_first():
    groups, parties = real_states()
    first_half, second_half = sorted(parties)[::2], sorted(parties)[1::2]
    first_inputs = DrawInputs(under_review=tuple(first_half), groups=groups, parties=parties, max_reviews=3)
    first = draw_lots(first_inputs, 1)
    load = Counter(x for a in first.assignments for x in (a.same_group, a.other_group))
    second_inputs = DrawInputs(
        under_review=tuple(second_half),
        groups=groups,
        parties=parties,
        max_reviews=3,
        existing_load=dict(load),
        existing_pairs=frozenset(all_pairs(first_inputs, first.assignments)),
    )
    second = draw_lots(second_inputs, 2)
    check_assignments(second_inputs, second.assignments)
    load.update(x for a in second.assignments for x in (a.same_group, a.other_group))
    assert max(load.values()) <= 3 and load.total() == 2 * len(parties)


def test_the_draw_does_not_depend_on_the_hash_seed_of_the_process():
    groups, parties = real_states()
    inputs = DrawInputs(under_review=tuple(sorted(parties)), groups=groups, parties=parties)
    expected = json.dumps(draw_lots(inputs, 7).as_json())
    program = (
        "import json, sys\n"
        "from reviewmech.reviews.lots import DrawInputs, draw_lots\n"
        "data = json.loads(sys.stdin.read())\n"
        "print(json.dumps(draw_lots(DrawInputs.from_json(data), 7).as_json()))\n"
    )
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed}
        output = subprocess.run(  # noqa: S603 - our own interpreter and program
            [sys.executable, "-c", program],
            input=json.dumps(inputs.as_json()),
            capture_output=True,
            text=True,
            check=True,
            env=environment,
        ).stdout
        assert output.strip() == expected


# -- explicit cases -----------------------------------------------------------------------------------------

GROUPS = {"AAA": "a", "AAB": "a", "AAC": "a", "BBA": "b", "BBB": "b", "BBC": "b", "XXX": "a"}
PARTIES = frozenset(GROUPS) - {"XXX"}


def inputs_for(under_review=("AAA",), **changes) -> DrawInputs:
    """Small inputs: groups a and b of three parties each, and XXX in group a, not a party."""
    return DrawInputs(under_review=tuple(under_review), **{"groups": GROUPS, "parties": PARTIES, **changes})


def error_of(inputs: DrawInputs, seed: int = 1) -> DrawError:
    with pytest.raises(DrawError) as caught:
        draw_lots(inputs, seed)
    return caught.value


def test_a_small_draw_succeeds():
    inputs = inputs_for(("AAA", "BBB"))
    result = draw_lots(inputs, 3)
    check_assignments(inputs, result.assignments)
    assert [a.reviewed for a in result.assignments] == ["AAA", "BBB"]


def test_an_unknown_state_is_refused():
    error = error_of(inputs_for(("AAA", "ZZZ")))
    assert (error.state, error.reason) == ("ZZZ", "is not a known State: it has no regional group")
    assert str(error) == "ZZZ: is not a known State: it has no regional group"


def test_a_state_that_is_not_a_party_is_refused():
    error = error_of(inputs_for(("XXX",)))
    assert (error.state, error.reason) == ("XXX", "is not a party to the instrument")


def test_a_state_listed_twice_is_refused():
    error = error_of(inputs_for(("AAB", "AAA", "AAB")))
    assert error.state == "AAB"
    assert error.reason == "is listed more than once among the States under review"


@pytest.mark.parametrize("max_reviews", [0, -1])
def test_max_reviews_below_one_is_refused(max_reviews):
    error = error_of(inputs_for(max_reviews=max_reviews))
    assert error.state is None
    assert "max_reviews must be an integer of at least 1" in error.reason
    assert str(error) == error.reason


def test_a_party_without_a_regional_group_is_refused():
    error = error_of(inputs_for(parties=PARTIES | {"QQQ"}))
    assert (error.state, error.reason) == ("QQQ", "is a party to the instrument but has no regional group")


def test_a_negative_existing_load_is_refused():
    error = error_of(inputs_for(existing_load={"BBB": -1}))
    assert error.state == "BBB" and "invalid number of reviews" in error.reason


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True])
def test_a_seed_must_be_a_non_negative_integer(seed):
    error = error_of(inputs_for(), seed=seed)
    assert error.state is None and "seed" in error.reason


def test_no_other_party_in_the_own_group():
    groups = {**GROUPS, "CCA": "c", "CCB": "c"}
    error = error_of(inputs_for(("CCA",), groups=groups, parties=PARTIES | {"CCA"}))
    assert error.state == "CCA"
    assert error.reason == (
        "no eligible reviewing State from its own regional group "
        "(no other State of its group, c, is a party to the instrument)"
    )


def test_no_party_in_another_group():
    error = error_of(inputs_for(("AAA",), parties=frozenset({"AAA", "AAB"})))
    assert error.state == "AAA"
    assert error.reason == (
        "no eligible reviewing State from another regional group "
        "(no State of another regional group is a party to the instrument)"
    )


def test_every_candidate_already_reviews_max_reviews_times():
    error = error_of(inputs_for(("AAA",), max_reviews=2, existing_load={"AAB": 2, "AAC": 3}))
    assert error.state == "AAA"
    assert error.reason == (
        "no eligible reviewing State from its own regional group "
        "(of its 2 possible reviewers, AAB and AAC already review twice this year)"
    )


def test_candidates_reviewed_earlier_in_the_year_by_the_state_would_review_each_other():
    error = error_of(inputs_for(("BBA",), existing_load={"BBB": 3}, existing_pairs={("BBA", "BBC")}))
    assert error.state == "BBA"
    assert error.reason == (
        "no eligible reviewing State from its own regional group (of its 2 possible reviewers, "
        "BBB already reviews 3 times this year; it already reviews BBC this year and States may not review each other)"
    )


def test_not_enough_capacity_in_the_own_group():
    inputs = inputs_for(("AAA", "AAB", "AAC"), existing_load={"AAA": 3, "AAB": 3})
    error = error_of(inputs)
    assert error.state in ("AAA", "AAB", "AAC")
    assert "own regional group" in error.reason and "this year" in error.reason


def test_not_enough_capacity_overall():
    inputs = inputs_for(sorted(PARTIES), max_reviews=1)
    error = error_of(inputs)
    check_error(inputs, error)
    assert "can take only" in error.reason


def test_two_states_that_can_only_review_each_other():
    groups = {**GROUPS, "CCA": "c", "CCB": "c"}
    inputs = inputs_for(("CCA", "CCB"), groups=groups, parties=PARTIES | {"CCA", "CCB"})
    for seed in range(5):
        error = error_of(inputs, seed)
        check_error(inputs, error)
        assert "own regional group" in error.reason and "may not review each other" in error.reason


def test_the_search_gives_up_after_max_steps(monkeypatch):
    monkeypatch.setattr(lots, "MAX_STEPS", 0)
    error = error_of(inputs_for(("AAA", "BBB")))
    assert error.state in ("AAA", "BBB") and "gave up after 0 tries" in error.reason


def test_nothing_to_draw_gives_an_empty_draw():
    result = draw_lots(inputs_for(()), 5)
    assert result.assignments == ()
    assert verify(result.as_json())


def test_inputs_are_normalised_hashable_and_json_ready():
    inputs = inputs_for(("BBB", "AAA"), existing_load={"BBA": 1}, existing_pairs=[["BBA", "AAB"]])
    assert inputs.under_review == ("AAA", "BBB")
    assert inputs == inputs_for(("AAA", "BBB"), existing_load={"BBA": 1}, existing_pairs={("BBA", "AAB")})
    assert len({inputs, DrawInputs.from_json(inputs.as_json())}) == 1
    assert inputs.as_json() == {
        "under_review": ["AAA", "BBB"],
        "groups": dict(sorted(GROUPS.items())),
        "parties": sorted(PARTIES),
        "max_reviews": 3,
        "existing_load": {"BBA": 1},
        "existing_pairs": [["BBA", "AAB"]],
    }
    with pytest.raises(TypeError):
        DrawInputs(under_review="AAA", groups=GROUPS, parties=PARTIES)


def test_draw_json_names_the_algorithm_and_verify_rejects_others():
    stored = draw_lots(inputs_for(("AAA", "BBB")), 11).as_json()
    assert stored["algorithm"] == ALGORITHM and stored["seed"] == 11
    assert json.dumps(stored) == json.dumps(stored, sort_keys=True)
    assert verify(stored)
    assert not verify({**stored, "algorithm": "something-else/9"})
    assert not verify({**stored, "assignments": stored["assignments"][:1]})
    assert not verify({key: value for key, value in stored.items() if key != "inputs"})
    assert not verify({**stored, "inputs": {**stored["inputs"], "under_review": ["XXX"]}})


def test_verify_rejects_a_draw_stored_with_another_seed():
    groups, parties = real_states()
    inputs = DrawInputs(under_review=tuple(sorted(parties)), groups=groups, parties=parties)
    stored = draw_lots(inputs, 1).as_json()
    assert verify(stored)
    assert not verify({**stored, "seed": 2})


def test_new_seed_is_a_63_bit_non_negative_integer():
    seeds = {new_seed() for _ in range(20)}
    assert all(isinstance(seed, int) and 0 <= seed < 2**63 for seed in seeds)
    assert len(seeds) > 1


def test_redraw_never_returns_the_replaced_reviewer_and_is_reproducible():
    groups, parties = real_states()
    inputs = DrawInputs(under_review=tuple(sorted(parties)), groups=groups, parties=parties)
    current = draw_lots(inputs, 99)
    for seed in range(10):
        for slot in (SAME_GROUP, OTHER_GROUP):
            new = redraw(inputs, current, "FRA", slot, seed)
            old = next(a for a in current.assignments if a.reviewed == "FRA")
            assert new.reviewer(slot) != old.reviewer(slot)
            assert new == redraw(inputs, current, "FRA", slot, seed)
            check_assignments(inputs, tuple(new if a.reviewed == "FRA" else a for a in current.assignments))


def test_redraw_with_nobody_left():
    inputs = inputs_for(("AAA",))
    current = Draw(seed=0, inputs=inputs, assignments=(Assignment("AAA", "AAB", "BBA"),))
    blocked = DrawInputs.from_json({**inputs.as_json(), "existing_load": {"AAC": 3}})
    with pytest.raises(DrawError) as caught:
        redraw(blocked, current, "AAA", SAME_GROUP, 1)
    assert caught.value.state == "AAA"
    assert caught.value.reason == (
        "no eligible reviewing State from its own regional group for a redraw "
        "(apart from AAB, of its 1 possible reviewers, AAC already reviews 3 times this year)"
    )
    assert redraw(inputs, current, "AAA", SAME_GROUP, 1) == Assignment("AAA", "AAC", "BBA")


def test_redraw_refuses_an_unknown_slot_or_a_state_not_in_the_draw():
    inputs = inputs_for(("AAA",))
    current = draw_lots(inputs, 4)
    with pytest.raises(DrawError, match="slot to redraw"):
        redraw(inputs, current, "AAA", "third", 1)
    with pytest.raises(DrawError, match="has no reviewers in this draw"):
        redraw(inputs, current, "BBB", SAME_GROUP, 1)
