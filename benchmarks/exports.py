"""Benchmark of the Excel exports on a synthetic cycle: 193 States × the TIP questionnaire.

Run: python benchmarks/exports.py [--database-url URL]

Builds, in a temporary instance folder (SQLite by default), one submitted review per UN Member
State and cycle (2026 to 2029), every question answered with values made from the type registry's
cell layouts (a tenth of the free texts 15,000 characters long), and prints, from one run:
  1. the aggregate export of one cycle, and its ratio to writing the very same cells with bare
     openpyxl in write-only mode (goal ≤ 1.5);
  2. the aggregate's time and peak memory (tracemalloc) at 1× (one cycle) and 4× (four cycles):
     time about linear, memory ratio ≤ 1.3;
  3. the time to import a full offline questionnaire (every answer a change) as a ratio to the time
     to export it pre-filled.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CYCLES = (2026, 2027, 2028, 2029)
RUNS = 3


def _cells_for(layout, rng: random.Random) -> list[list]:
    """Cells a person could type for a layout, following its checks."""

    def cell(check):
        if check is None:
            return "A free answer."
        if check.kind == "list":
            return rng.choice(check.choices)
        if check.kind in ("whole", "decimal"):
            low = int(check.minimum) if check.minimum is not None else 0
            high = int(check.maximum) if check.maximum is not None else 1000
            return rng.randint(low, max(low, high))
        if check.kind == "date":
            return date(2020, 1, 1 + rng.randrange(28))
        if check.kind == "figure":
            return rng.randint(0, 500)
        if check.choices:
            return "; ".join(rng.sample(check.choices, k=min(2, len(check.choices))))
        if check.max_length == 4:
            return str(rng.randint(1990, 2024))
        size = 15_000 if rng.random() < 0.1 else rng.randint(80, 1500)
        return ("The national authorities report that " * (size // 37 + 1))[:size]

    if layout.kind == "cell":
        return [[cell(layout.checks[0])]]
    if layout.kind == "rows":  # citations: the fourth column is a link
        return [[cell(check) if index != 3 else "https://example.org/law" for index, check in enumerate(layout.checks)]
                for _ in range(2)]
    return [[cell(layout.checks[0]) for _ in layout.columns] for _ in layout.rows]


def synthetic_answers(questions, review, rng: random.Random) -> dict:
    """A value for every question that spreadsheets carry, read back through the registry."""
    from reviewmech.responses.services import options_of

    answers = {}
    for question in questions:
        kind, options = question.question_type, options_of(question, review)
        layout = kind.cell_layout(options, "en")
        if layout is None:
            continue
        value = kind.normalize(kind.from_cells(_cells_for(layout, rng), options, "en"), options).value
        if not kind.is_empty(value):
            answers[question.code] = value
    return answers


def build(app) -> dict:
    """Reviews of every State in every cycle, each submitted; returns what the measures need."""
    from sqlalchemy import select

    from reviewmech.accounts.models import State, User
    from reviewmech.extensions import db
    from reviewmech.questionnaires.models import Question
    from reviewmech.questionnaires.services import latest_version
    from reviewmech.responses.models import Submission
    from reviewmech.reviews.models import Participant, Phase, Review, Role

    rng = random.Random(11)
    questionnaire = latest_version("tip-protocol-resolution")
    questions = list(db.session.scalars(select(Question).where(Question.questionnaire_id == questionnaire.id)
                                        .order_by(Question.position)))
    states = list(db.session.scalars(select(State).order_by(State.code)))
    for cycle in CYCLES:
        reviews = [Review(state_id=s.id, questionnaire_id=questionnaire.id, cycle=cycle, phase=Phase.DESK_REVIEW)
                   for s in states]
        db.session.add_all(reviews)
        db.session.flush()
        db.session.add_all([Submission(review_id=r.id, answers=synthetic_answers(questions, r, rng)) for r in reviews])
        db.session.commit()
    # Reviews to answer offline, in a later cycle: one fully answered (exported), others empty (imported into).
    focal_point = User(email="bench@example.org", name="Bench", state=states[0], is_secretariat=False)
    db.session.add(focal_point)
    pair = []
    for state in states[:1 + RUNS]:
        review = Review(state_id=state.id, questionnaire_id=questionnaire.id, cycle=2030, phase=Phase.SELF_ASSESSMENT)
        db.session.add(review)
        db.session.flush()
        db.session.add(Participant(review_id=review.id, user_id=focal_point.id, state_id=state.id,
                                   role=Role.FOCAL_POINT))
        pair.append(review)
    db.session.commit()
    return {"questions": questions, "full": pair[0], "empty": pair[1:], "user": focal_point, "rng": rng}


def timed(function, *args, **kwargs) -> tuple[float, object]:
    """Seconds taken by one call, and its result."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def peak_memory(function, *args, **kwargs) -> int:
    """Peak bytes allocated during one call (tracemalloc)."""
    tracemalloc.start()
    try:
        function(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def bare_openpyxl(source: Path, target: Path) -> float:
    """Seconds to write the very cells of a workbook with bare openpyxl write-only (values read first)."""
    from openpyxl import Workbook, load_workbook

    read = load_workbook(source, read_only=True)
    sheets = [(sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]) for sheet in read.worksheets]
    read.close()
    start = time.perf_counter()
    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(target)
    return time.perf_counter() - start


def main() -> None:
    """Build the cycle, run the measures, print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="an empty database to use (default: SQLite in a temporary folder)")
    arguments = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="reviewmech-bench-exports-"))
    os.environ["REVIEWMECH_INSTANCE_PATH"] = str(folder)
    os.environ.setdefault("REVIEWMECH_SECRET_KEY", "benchmark secret")
    os.environ["REVIEWMECH_DATABASE_URL"] = arguments.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"

    from flask_migrate import upgrade

    from reviewmech import create_app
    from reviewmech.accounts.services import load_states
    from reviewmech.exports import services
    from reviewmech.extensions import db
    from reviewmech.questionnaires.services import load
    from reviewmech.reviews.policy import Membership, membership

    app = create_app()
    with app.app_context(), app.test_request_context():
        upgrade()
        load_states()
        load([ROOT / "questionnaires"])
        db.session.commit()
        start = time.perf_counter()
        data = build(app)
        print(f"built 4 cycles × 193 submitted reviews × {len(data['questions'])} questions "
              f"in {time.perf_counter() - start:.1f} s ({arguments.database_url or 'SQLite'})")
        secretariat = Membership(is_secretariat=True)

        def aggregate(cycle, out):
            return services.export_aggregate(secretariat, services.AggregateFilter(cycle=cycle), locale="en", out=out)

        aggregate(CYCLES[0], folder / "warm.xlsx")
        one_time, covered = median_of(RUNS, aggregate, CYCLES[0], folder / "one.xlsx")
        bare = statistics.median(bare_openpyxl(folder / "one.xlsx", folder / "bare.xlsx") for _ in range(RUNS))
        four_time, covered_four = median_of(RUNS, aggregate, None, folder / "four.xlsx")
        one_memory = peak_memory(aggregate, CYCLES[0], folder / "one-m.xlsx")
        four_memory = peak_memory(aggregate, None, folder / "four-m.xlsx")
        print(f"aggregate, one cycle ({covered} reviews): {one_time:.2f} s; bare openpyxl write-only, same cells: "
              f"{bare:.2f} s; ratio {one_time / bare:.2f} (goal ≤ 1.5)")
        print(f"aggregate, 4× ({covered_four} reviews): {four_time:.2f} s; time ratio 4×/1× {four_time / one_time:.2f} "
              f"(linear: about 4)")
        print(f"peak memory (tracemalloc): 1× {one_memory / 2**20:.1f} MiB, 4× {four_memory / 2**20:.1f} MiB; "
              f"ratio {four_memory / one_memory:.2f} (goal ≤ 1.3)")

        from reviewmech.responses.services import AnswerChange, answer_values, save_answers

        full, user = data["full"], data["user"]
        answers = synthetic_answers(data["questions"], full, data["rng"])
        save_answers(full, [AnswerChange(code, value, 0) for code, value in answers.items()], user=user,
                     standing=membership(user, full))  # the questions hidden by these answers are refused
        db.session.commit()
        stored = answer_values(full)
        filled = folder / "filled.xlsx"
        export_time, _none = median_of(RUNS, services.export_offline, full, membership(user, full), user=user,
                                       locale="en", prefilled=True, out=filled)
        import_times, saved = [], 0
        for empty in data["empty"]:
            blank = folder / f"blank-{empty.id}.xlsx"
            services.export_offline(empty, membership(user, empty), user=user, locale="en", prefilled=False,
                                    out=blank)
            fill_in(blank, stored, data["questions"], empty, app.config["SECRET_KEY"])

            def import_all(review=empty, path=blank):
                _preview, outcome = services.apply_import(review, membership(user, review), path, user=user,
                                                          filename=path.name, locale="en", decisions={})
                db.session.commit()
                return outcome

            seconds, outcome = timed(import_all)
            import_times.append(seconds)
            saved = len(outcome.saved)
        import_time = statistics.median(import_times)
        print(f"offline questionnaire ({len(stored)} answers): export pre-filled {export_time:.2f} s; import of "
              f"every answer into an empty review ({saved} saved) {import_time:.2f} s; ratio import/export "
              f"{import_time / export_time:.2f}")
        print(f"(medians of {RUNS} runs; the machine's other load moves single runs by up to a third)")


def median_of(runs: int, function, *args, **kwargs) -> tuple[float, object]:
    """The median time of several calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        seconds, result = timed(function, *args, **kwargs)
        times.append(seconds)
    return statistics.median(times), result


def fill_in(path: Path, values: dict, questions, review, secret: str) -> None:
    """Type answers into a blank offline questionnaire where its signed sheet says each question's cells are."""
    from openpyxl import load_workbook

    from reviewmech.exports import offline
    from reviewmech.responses.services import options_of

    places = offline.read_offline(path, offline.key_for(secret)).answers
    workbook = load_workbook(path)
    for question in questions:
        if question.code not in values or question.code not in places:
            continue
        place = places[question.code]
        cells = question.question_type.to_cells(values[question.code], options_of(question, review), "en")
        sheet = workbook[place.sheet]
        for (first, _height), row in zip(place.rows, cells, strict=False):
            for offset, value in enumerate(row[:place.width]):
                sheet.cell(row=first, column=place.column + offset).value = value
    workbook.save(path)


if __name__ == "__main__":
    main()
