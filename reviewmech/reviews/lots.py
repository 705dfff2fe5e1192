"""Drawing of lots: which two States review each State under review.

Each State under review gets two reviewing States: one from its own UN regional group and one from
another group. A reviewer is never the State itself, is party to the same instrument, reviews at
most ``max_reviews`` times in the year (reviews already assigned earlier in the year count), and
two States never review each other in the same year.

The draw is reproducible: it depends only on its seed and its inputs, both recorded in
``Draw.as_json()``. Anyone can run it again with them (``verify``) and must get the same pairs. To
keep that promise everything here is deterministic given the seed: the only source of randomness is
``random.Random(seed)``, and every collection is sorted before it is iterated (Python's set order
changes from one process to the next).

The algorithm (version ``ALGORITHM``) is a randomized backtracking search:

1. The inputs are validated, and each slot (a State under review and one of its two reviewers) is
   given its static candidates: the States party to the instrument of the right group that are not
   the State itself, are not full already and are not reviewed by it earlier in the year.
2. Capacity is checked per group (a necessary condition, so an impossible draw fails fast, with a
   clear reason).
3. Slots are filled one at a time, the slot with the fewest free candidates first (ties in an order
   drawn by lot); its candidates are tried least-loaded first, ties in an order drawn by lot. On a
   dead end (a slot with no free candidate, or not enough capacity left in a group) the search
   backtracks. After ``MAX_STEPS`` tries it gives up and names the State where it failed most.

No Flask, no database: the caller stores ``Draw.as_json()`` and passes existing assignments in.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

SAME_GROUP = "same_group"
OTHER_GROUP = "other_group"
SLOTS = (SAME_GROUP, OTHER_GROUP)

#: Names the algorithm in stored draws; change it whenever a change would alter any draw's result.
ALGORITHM = "reviewmech.reviews.lots/1"

#: Candidates tried in one draw before the search gives up.
MAX_STEPS = 50_000

#: Up to this many States are named in an explanation; beyond it they are counted.
_NAMED = 5

_V = TypeVar("_V")


class DrawError(Exception):
    """A draw that cannot be made; ``state`` is the State concerned (or None), ``reason`` says why."""

    def __init__(self, state: str | None, reason: str) -> None:
        self.state = state
        self.reason = reason
        super().__init__(reason if state is None else f"{state}: {reason}")


class _FrozenMapping(Mapping[str, _V]):
    """An immutable, hashable mapping whose keys are kept sorted."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, _V] | Iterable[tuple[str, _V]] = ()) -> None:
        items = dict(data)
        self._data = {key: items[key] for key in sorted(items)}

    def __getitem__(self, key: str) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"{dict(self._data)!r}"


def _pair(value: Iterable[str]) -> tuple[str, str]:
    """Return a (reviewer, reviewed) pair as a tuple of two codes."""
    pair = tuple(value)
    if len(pair) != 2:
        raise TypeError(f"a pair is (reviewer, reviewed), not {value!r}")
    return pair[0], pair[1]


@dataclass(frozen=True)
class DrawInputs:
    """Everything a draw depends on besides its seed; normalised (sorted, immutable) on creation."""

    under_review: tuple[str, ...]  # ISO alpha-3 codes of the States to draw reviewers for
    groups: Mapping[str, str]  # code -> UN regional group, for every State known (parties or not)
    parties: frozenset[str]  # the States party to the instrument
    max_reviews: int = 3  # most reviews one State may conduct in the year
    existing_load: Mapping[str, int] = field(default_factory=dict)  # reviews already assigned this year
    existing_pairs: frozenset[tuple[str, str]] = frozenset()  # (reviewer, reviewed) already this year

    def __post_init__(self) -> None:
        if isinstance(self.under_review, str) or isinstance(self.parties, str):
            raise TypeError("under_review and parties are collections of codes, not one string")
        # The order of the States under review does not matter; keep it sorted so that equal
        # inputs compare equal and survive a JSON round trip unchanged. Duplicates are kept so
        # that validation can report them.
        object.__setattr__(self, "under_review", tuple(sorted(self.under_review)))
        object.__setattr__(self, "groups", _FrozenMapping(self.groups))
        object.__setattr__(self, "parties", frozenset(self.parties))
        object.__setattr__(self, "existing_load", _FrozenMapping(self.existing_load))
        object.__setattr__(self, "existing_pairs", frozenset(_pair(pair) for pair in self.existing_pairs))

    def as_json(self) -> dict[str, Any]:
        """Return the inputs as JSON-serialisable data, every list and every key sorted."""
        return {  # keys in sorted order too: json.dumps gives one canonical text
            "existing_load": dict(self.existing_load),
            "existing_pairs": [list(pair) for pair in sorted(self.existing_pairs)],
            "groups": dict(self.groups),
            "max_reviews": self.max_reviews,
            "parties": sorted(self.parties),
            "under_review": list(self.under_review),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DrawInputs:
        """Rebuild inputs stored with ``as_json``."""
        return cls(
            under_review=tuple(data["under_review"]),
            groups=data["groups"],
            parties=frozenset(data["parties"]),
            max_reviews=data["max_reviews"],
            existing_load=data.get("existing_load", {}),
            existing_pairs=frozenset(_pair(pair) for pair in data.get("existing_pairs", ())),
        )


@dataclass(frozen=True)
class Assignment:
    """The two reviewing States of one State under review."""

    reviewed: str
    same_group: str
    other_group: str

    def reviewer(self, slot: str) -> str:
        """Return the reviewer in ``slot`` (SAME_GROUP or OTHER_GROUP)."""
        if slot == SAME_GROUP:
            return self.same_group
        if slot == OTHER_GROUP:
            return self.other_group
        raise ValueError(f"slot must be {SAME_GROUP!r} or {OTHER_GROUP!r}, not {slot!r}")

    def as_json(self) -> dict[str, str]:
        """Return the assignment as JSON-serialisable data, keys sorted."""
        return {"other_group": self.other_group, "reviewed": self.reviewed, "same_group": self.same_group}


@dataclass(frozen=True)
class Draw:
    """The result of a draw: its seed, its inputs and the assignments, sorted by reviewed State."""

    seed: int
    inputs: DrawInputs
    assignments: tuple[Assignment, ...]

    def as_json(self) -> dict[str, Any]:
        """Return the draw as JSON-serialisable data (keys sorted), enough for anyone to run it again."""
        return {
            "algorithm": ALGORITHM,
            "assignments": [assignment.as_json() for assignment in self.assignments],
            "inputs": self.inputs.as_json(),
            "seed": self.seed,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Draw:
        """Rebuild a draw stored with ``as_json`` (without checking it: see ``verify``)."""
        assignments = (Assignment(a["reviewed"], a["same_group"], a["other_group"]) for a in data["assignments"])
        return cls(
            seed=data["seed"],
            inputs=DrawInputs.from_json(data["inputs"]),
            assignments=tuple(sorted(assignments, key=lambda a: a.reviewed)),
        )


def new_seed() -> int:
    """Return a fresh random seed for a draw (63 bits from the operating system)."""
    return secrets.randbits(63)


def _rng(seed: int) -> random.Random:
    """Return the generator of a draw; refuse seeds that are not non-negative integers."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise DrawError(None, f"the seed must be a non-negative integer, not {seed!r}")
    return random.Random(seed)  # noqa: S311 - reproducible draw, not a secret


def _names(codes: Sequence[str], out_of: int = 0) -> str:
    """Name a few States ("DEU, FRA and ITA"), or count many ("12 States", "all 12" when out of 12)."""
    codes = sorted(codes)
    if len(codes) > _NAMED:
        return f"all {len(codes)}" if len(codes) == out_of else f"{len(codes)} States"
    if len(codes) == 1:
        return codes[0]
    return ", ".join(codes[:-1]) + " and " + codes[-1]


def _times(count: int) -> str:
    """Return "once", "twice" or "3 times"."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def _where(slot: str) -> str:
    """Return the words for a slot's group in a reason."""
    return "its own regional group" if slot == SAME_GROUP else "another regional group"


def _validate(inputs: DrawInputs) -> None:
    """Raise DrawError for inputs no draw can be made from."""
    max_reviews = inputs.max_reviews
    if isinstance(max_reviews, bool) or not isinstance(max_reviews, int) or max_reviews < 1:
        raise DrawError(None, f"max_reviews must be an integer of at least 1, not {max_reviews!r}")
    seen: set[str] = set()
    for code in inputs.under_review:  # sorted: duplicates are next to each other
        if code in seen:
            raise DrawError(code, "is listed more than once among the States under review")
        seen.add(code)
    for code in inputs.under_review:
        if code not in inputs.groups:
            raise DrawError(code, "is not a known State: it has no regional group")
        if code not in inputs.parties:
            raise DrawError(code, "is not a party to the instrument")
    for code in sorted(inputs.parties):
        if code not in inputs.groups:
            raise DrawError(code, "is a party to the instrument but has no regional group")
    for code, load in inputs.existing_load.items():
        if isinstance(load, bool) or not isinstance(load, int) or load < 0:
            raise DrawError(code, f"has an invalid number of reviews already assigned this year: {load!r}")


def _static_detail(inputs: DrawInputs, reviewed: str, slot: str) -> str:
    """Explain why a slot has no candidate before anything is drawn."""
    group = inputs.groups[reviewed]
    same = slot == SAME_GROUP
    base = [code for code in sorted(inputs.parties) if code != reviewed and (inputs.groups[code] == group) == same]
    if not base:
        if same:
            return f"no other State of its group, {group}, is a party to the instrument"
        return "no State of another regional group is a party to the instrument"
    full = [code for code in base if inputs.existing_load.get(code, 0) >= inputs.max_reviews]
    mutual = [code for code in base if code not in full and (reviewed, code) in inputs.existing_pairs]
    parts = []
    if full:
        verb = "reviews" if len(full) == 1 else "review"
        parts.append(f"{_names(full, len(base))} already {verb} {_times(inputs.max_reviews)} this year")
    if mutual:
        parts.append(f"it already reviews {_names(mutual)} this year and States may not review each other")
    return f"of its {len(base)} possible reviewers, " + "; ".join(parts)


class _Search:
    """The state of one backtracking search; States and slots are numbered for speed."""

    def __init__(self, inputs: DrawInputs, rng: random.Random) -> None:
        self.inputs = inputs
        self.rng = rng
        self.max_reviews = inputs.max_reviews
        self.codes = sorted(inputs.parties)
        index = {code: number for number, code in enumerate(self.codes)}
        group_names = sorted({inputs.groups[code] for code in self.codes})
        group_index = {name: number for number, name in enumerate(group_names)}
        self.group_names = group_names
        self.group = [group_index[inputs.groups[code]] for code in self.codes]
        self.cap = [self.max_reviews - inputs.existing_load.get(code, 0) for code in self.codes]

        self.reviewed = [index[code] for code in inputs.under_review]
        self.position = {state: number for number, state in enumerate(self.reviewed)}
        slot_count = 2 * len(self.reviewed)
        # Slot 2*i is the same-group reviewer of the i-th State under review, 2*i + 1 the other.
        self.owner = [self.reviewed[slot // 2] for slot in range(slot_count)]
        self.candidates: list[list[int]] = []
        for slot in range(slot_count):
            state = self.owner[slot]
            same = slot % 2 == 0
            self.candidates.append(
                [
                    x
                    for x in range(len(self.codes))
                    if x != state
                    and (self.group[x] == self.group[state]) == same
                    and self.cap[x] > 0
                    and (self.codes[state], self.codes[x]) not in inputs.existing_pairs
                ]
            )
        self.candidate_sets = [frozenset(candidates) for candidates in self.candidates]
        self.slots_of: list[list[int]] = [[] for _ in self.codes]
        for slot, candidates in enumerate(self.candidates):
            for x in candidates:
                self.slots_of[x].append(slot)
        self.count = [len(candidates) for candidates in self.candidates]
        self.blocked: list[set[int]] = [set() for _ in range(slot_count)]
        self.assigned = [-1] * slot_count

        # Aggregates for the capacity checks: free capacity per group, open slots per group.
        self.group_cap = [0] * len(group_names)
        for x, cap in enumerate(self.cap):
            self.group_cap[self.group[x]] += max(cap, 0)
        self.total_cap = sum(self.group_cap)
        self.open_same = [0] * len(group_names)
        self.open_other = [0] * len(group_names)
        for state in self.reviewed:
            self.open_same[self.group[state]] += 1
            self.open_other[self.group[state]] += 1
        self.open_total = slot_count

        # Ties between equally constrained slots are broken in an order drawn by lot.
        keys = [rng.random() for _ in range(slot_count)]
        self.slot_order = sorted(range(slot_count), key=lambda slot: (keys[slot], slot))

        self.steps = 0
        self.failures = [0] * slot_count
        self.last_failure: list[tuple[Any, ...]] = [()] * slot_count
        self.undo: list[list[tuple[int, int]]] = [[] for _ in range(slot_count)]

    # -- checks --------------------------------------------------------------------------------

    def capacity_violation(self) -> tuple[str, int] | None:
        """Return the first capacity condition that cannot hold any more, or None.

        Necessary conditions (Hall's, with the groups aggregated): the reviewers of a group can
        take its open same-group slots; the reviewers outside a group can take its open other-group
        slots plus the open same-group slots of the other groups; everyone can take every slot.
        """
        same_total = sum(self.open_same)
        for g in range(len(self.group_cap)):
            if self.open_same[g] > self.group_cap[g]:
                return ("same", g)
        for g in range(len(self.group_cap)):
            if self.open_other[g] and (
                self.open_other[g] + same_total - self.open_same[g] > self.total_cap - self.group_cap[g]
            ):
                return ("other", g)
        if self.open_total > self.total_cap:
            return ("total", -1)
        return None

    def first_open_slot(self, kind: str, g: int) -> int:
        """Return the first open slot (by State code) concerned by a capacity condition."""
        for slot in range(len(self.assigned)):
            if self.assigned[slot] >= 0:
                continue
            state = self.owner[slot]
            if kind == "total" or (self.group[state] == g and (slot % 2 == 0) == (kind == "same")):
                return slot
        return 0

    def capacity_numbers(self, kind: str, g: int) -> tuple[int, int]:
        """Return the free capacity and the reviews needed for a capacity condition."""
        if kind == "same":
            return self.group_cap[g], self.open_same[g]
        if kind == "other":
            return self.total_cap - self.group_cap[g], self.open_other[g] + sum(self.open_same) - self.open_same[g]
        return self.total_cap, self.open_total

    def capacity_detail(self, kind: str, g: int, available: int, needed: int, when: str = "") -> str:
        """Explain a capacity condition that does not hold."""
        if kind == "same":
            return (
                f"the States party to the instrument in its group, {self.group_names[g]}, can take only "
                f"{available} more reviews{when}, but {needed} of its States need a reviewer from their own group"
            )
        if kind == "other":
            return (
                f"the States party to the instrument outside its group, {self.group_names[g]}, can take only "
                f"{available} more reviews{when}, but {needed} are needed from them"
            )
        return (
            f"the States party to the instrument can take only {available} more reviews{when}, but {needed} are needed"
        )

    # -- moves ---------------------------------------------------------------------------------

    def assign(self, slot: int, x: int) -> None:
        """Make ``x`` the reviewer in ``slot``, updating every count it affects."""
        state = self.owner[slot]
        self.assigned[slot] = x
        self.cap[x] -= 1
        self.group_cap[self.group[x]] -= 1
        self.total_cap -= 1
        if slot % 2 == 0:
            self.open_same[self.group[state]] -= 1
        else:
            self.open_other[self.group[state]] -= 1
        self.open_total -= 1
        if self.cap[x] == 0:
            for other in self.slots_of[x]:
                if x not in self.blocked[other]:
                    self.count[other] -= 1
        # x reviews state, so state may no longer review x.
        undo = self.undo[slot]
        position = self.position.get(x)
        if position is not None:
            target = 2 * position + (0 if self.group[state] == self.group[x] else 1)
            if state in self.candidate_sets[target] and state not in self.blocked[target]:
                self.blocked[target].add(state)
                if self.cap[state] > 0:
                    self.count[target] -= 1
                undo.append((target, state))

    def unassign(self, slot: int) -> None:
        """Undo ``assign`` for ``slot``, exactly in reverse."""
        state = self.owner[slot]
        x = self.assigned[slot]
        undo = self.undo[slot]
        while undo:
            target, blocked = undo.pop()
            self.blocked[target].discard(blocked)
            if self.cap[blocked] > 0:
                self.count[target] += 1
        if self.cap[x] == 0:
            for other in self.slots_of[x]:
                if x not in self.blocked[other]:
                    self.count[other] += 1
        self.open_total += 1
        if slot % 2 == 0:
            self.open_same[self.group[state]] += 1
        else:
            self.open_other[self.group[state]] += 1
        self.total_cap += 1
        self.group_cap[self.group[x]] += 1
        self.cap[x] += 1
        self.assigned[slot] = -1

    def select(self) -> int:
        """Return the open slot with the fewest free candidates (-1 when none is open)."""
        best, best_count = -1, 1 << 30
        assigned, count = self.assigned, self.count
        for slot in self.slot_order:
            if assigned[slot] < 0 and count[slot] < best_count:
                best, best_count = slot, count[slot]
                if best_count == 0:
                    break
        return best

    def ordered(self, slot: int) -> list[int]:
        """Return the free candidates of ``slot``, least loaded first, ties in an order drawn by lot."""
        cap, blocked, random_ = self.cap, self.blocked[slot], self.rng.random
        free = [x for x in self.candidates[slot] if cap[x] > 0 and x not in blocked]
        keys = {x: (-cap[x], random_(), x) for x in free}
        return sorted(free, key=keys.__getitem__)

    # -- search --------------------------------------------------------------------------------

    def fail(self, slot: int, event: tuple[Any, ...]) -> None:
        """Record a dead end at ``slot``."""
        self.failures[slot] += 1
        self.last_failure[slot] = event

    def run(self) -> list[int] | None:
        """Fill every slot; return the reviewers by slot, or None when the search gave up."""
        frames: list[list[Any]] = []  # [slot, ordered candidates, index of the next one to try]
        while True:
            slot = self.select()
            if slot < 0:
                return list(self.assigned)
            if self.count[slot] == 0:
                full = tuple(x for x in self.candidates[slot] if self.cap[x] <= 0)
                mutual = tuple(x for x in self.candidates[slot] if self.cap[x] > 0 and x in self.blocked[slot])
                self.fail(slot, ("empty", full, mutual))
            else:
                frames.append([slot, self.ordered(slot), 0])
            while True:  # move to the next untried candidate, backtracking as needed
                if not frames:
                    return None
                frame = frames[-1]
                if self.assigned[frame[0]] >= 0:
                    self.unassign(frame[0])
                if frame[2] >= len(frame[1]):
                    frames.pop()
                    continue
                if self.steps >= MAX_STEPS:
                    while frames:
                        frame = frames.pop()
                        if self.assigned[frame[0]] >= 0:
                            self.unassign(frame[0])
                    return None
                self.steps += 1
                x = frame[1][frame[2]]
                frame[2] += 1
                self.assign(frame[0], x)
                violation = self.capacity_violation()
                if violation is None:
                    break
                kind, g = violation
                self.fail(self.first_open_slot(kind, g), ("capacity", kind, g, *self.capacity_numbers(kind, g)))

    def error(self) -> DrawError:
        """Return the error naming the State where the search failed most."""
        slot = max(range(len(self.failures)), key=lambda s: (self.failures[s], -s))
        state = self.codes[self.owner[slot]]
        event = self.last_failure[slot]
        if self.steps >= MAX_STEPS:
            detail = f"the draw gave up after {self.steps} tries"
        else:
            detail = "no arrangement of the draw works"
        if event and event[0] == "capacity":
            detail += f"; in the last one tried, {self.capacity_detail(*event[1:])}"
        elif event:
            full, mutual = [self.codes[x] for x in event[1]], [self.codes[x] for x in event[2]]
            parts = []
            if full:
                verb = "was" if len(full) == 1 else "were"
                parts.append(f"{_names(full)} {verb} already reviewing {_times(self.max_reviews)}")
            if mutual:
                verb = "was" if len(mutual) == 1 else "were"
                parts.append(f"{_names(mutual)} {verb} reviewed by it, and States may not review each other")
            detail += (
                f"; in the last one tried, none of its {len(self.candidates[slot])} possible reviewers was free: "
                + "; ".join(parts)
            )
        return DrawError(state, f"no eligible reviewing State from {_where(SLOTS[slot % 2])} ({detail})")


def draw_lots(inputs: DrawInputs, seed: int) -> Draw:
    """Draw two reviewing States for every State under review; raise DrawError when impossible."""
    rng = _rng(seed)
    _validate(inputs)
    search = _Search(inputs, rng)
    for slot, candidates in enumerate(search.candidates):
        if not candidates:
            state, slot_name = search.codes[search.owner[slot]], SLOTS[slot % 2]
            detail = _static_detail(inputs, state, slot_name)
            raise DrawError(state, f"no eligible reviewing State from {_where(slot_name)} ({detail})")
    violation = search.capacity_violation()
    if violation is not None:
        kind, g = violation
        slot = search.first_open_slot(kind, g)
        state, slot_name = search.codes[search.owner[slot]], SLOTS[slot % 2]
        detail = search.capacity_detail(kind, g, *search.capacity_numbers(kind, g), when=" this year")
        raise DrawError(state, f"no eligible reviewing State from {_where(slot_name)} ({detail})")
    reviewers = search.run()
    if reviewers is None:
        raise search.error()
    codes = search.codes
    assignments = tuple(
        Assignment(codes[state], codes[reviewers[2 * i]], codes[reviewers[2 * i + 1]])
        for i, state in enumerate(search.reviewed)
    )
    return Draw(seed=seed, inputs=inputs, assignments=assignments)


def verify(draw_json: Mapping[str, Any]) -> bool:
    """Run a stored draw again from its seed and inputs; True when it gives the stored assignments.

    False too when the record is malformed, names another algorithm, or its inputs allow no draw.
    """
    try:
        if draw_json.get("algorithm", ALGORITHM) != ALGORITHM:
            return False
        inputs = DrawInputs.from_json(draw_json["inputs"])
        again = draw_lots(inputs, draw_json["seed"])
    except (DrawError, KeyError, TypeError, ValueError, AttributeError):
        return False
    return again.as_json()["assignments"] == draw_json.get("assignments")


def redraw(inputs: DrawInputs, current: Draw, reviewed: str, slot: str, seed: int) -> Assignment:
    """Draw a new reviewer for one slot of ``reviewed``, keeping every other assignment of ``current``.

    ``inputs`` describe the year without ``current`` (normally ``current.inputs``); the other
    assignments of ``current`` are added to its load and pairs. The reviewer being replaced is never
    drawn again. Returns the new assignment of ``reviewed``.
    """
    rng = _rng(seed)
    _validate(inputs)
    if slot not in SLOTS:
        raise DrawError(reviewed, f"the slot to redraw must be {SAME_GROUP!r} or {OTHER_GROUP!r}, not {slot!r}")
    by_reviewed = {assignment.reviewed: assignment for assignment in current.assignments}
    if reviewed not in by_reviewed:
        raise DrawError(reviewed, "has no reviewers in this draw, so none can be redrawn")
    if reviewed not in inputs.groups:
        raise DrawError(reviewed, "is not a known State: it has no regional group")
    old = by_reviewed[reviewed].reviewer(slot)

    load = {code: inputs.existing_load.get(code, 0) for code in inputs.parties}
    pairs = set(inputs.existing_pairs)
    for assignment in sorted(current.assignments, key=lambda a: a.reviewed):
        for name in SLOTS:
            if assignment.reviewed == reviewed and name == slot:
                continue
            reviewer = assignment.reviewer(name)
            load[reviewer] = load.get(reviewer, 0) + 1
            pairs.add((reviewer, assignment.reviewed))

    group = inputs.groups[reviewed]
    same = slot == SAME_GROUP
    base = [
        code
        for code in sorted(inputs.parties)
        if code not in (reviewed, old) and (inputs.groups[code] == group) == same
    ]
    full = [code for code in base if load[code] >= inputs.max_reviews]
    mutual = [code for code in base if code not in full and (reviewed, code) in pairs]
    free = [code for code in base if code not in full and code not in mutual]
    if not free:
        if not base:
            detail = f"no State party to the instrument other than {old} can fill it"
        else:
            parts = []
            if full:
                verb = "reviews" if len(full) == 1 else "review"
                parts.append(f"{_names(full, len(base))} already {verb} {_times(inputs.max_reviews)} this year")
            if mutual:
                parts.append(f"it reviews {_names(mutual)} this year and States may not review each other")
            detail = f"apart from {old}, of its {len(base)} possible reviewers, " + "; ".join(parts)
        raise DrawError(reviewed, f"no eligible reviewing State from {_where(slot)} for a redraw ({detail})")
    keys = {code: (load[code], rng.random(), code) for code in free}
    chosen = min(free, key=keys.__getitem__)
    current_assignment = by_reviewed[reviewed]
    if same:
        return Assignment(reviewed, chosen, current_assignment.other_group)
    return Assignment(reviewed, current_assignment.same_group, chosen)
