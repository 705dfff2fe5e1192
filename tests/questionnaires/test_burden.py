"""`reviewmech questionnaires burden`: how many questions a State answering sees, simulated."""

import re
from pathlib import Path

from tests.questionnaires.helpers import questionnaire, write

TIP = Path(__file__).resolve().parents[2] / "questionnaires" / "tip-protocol-resolution.yaml"


def _figures(output: str, label: str) -> tuple[float, float, float]:
    found = re.search(rf"{label}:\s+median ([\d.]+), 10th percentile ([\d.]+), 90th percentile ([\d.]+)", output)
    assert found, output
    return tuple(float(n) for n in found.groups())


def test_the_shipped_questionnaire_shows_at_most_150_questions_to_the_median_state(runner):
    result = runner.invoke(args=["questionnaires", "burden", str(TIP)])
    assert result.exit_code == 0, result.output
    median, p10, p90 = _figures(result.output, "shown")
    assert median <= 150 and p10 <= median <= p90
    required = _figures(result.output, "required and shown")
    assert required[0] < median
    assert re.search(r"tip-protocol-resolution: \d+ questions, \d+ required; 2000 random answer sets \(seed 0\)",
                     result.output)


def test_the_figures_follow_the_conditions(runner, tmp_path):
    # 1.1 is required and shown; 1.2 (for yes or in part) or 1.3 (for no) follows it; OP2's two questions always show.
    path = write(tmp_path, questionnaire())
    result = runner.invoke(args=["questionnaires", "burden", str(path), "--runs", "300", "--seed", "7"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "mini: 5 questions, 1 required; 300 random answer sets (seed 7)",
        "  shown:               median 4, 10th percentile 4, 90th percentile 4",
        "  required and shown:  median 1, 10th percentile 1, 90th percentile 1",
        '  answering "Yes, in part" throughout: 4 shown, 1 required and shown',
    ]


def test_a_hidden_section_lowers_the_figures(runner, tmp_path):
    data = questionnaire()
    data["sections"][1]["show_if"] = {"question": "1.1", "equals": "no"}
    result = runner.invoke(args=["questionnaires", "burden", str(write(tmp_path, data)), "--runs", "600"])
    assert result.exit_code == 0, result.output
    _median, p10, p90 = _figures(result.output, "shown")
    assert (p10, p90) == (2, 4)  # OP2 shows only for a No, about one State in three
    assert '"Yes, in part" throughout: 2 shown' in result.output


def test_an_invalid_file_is_refused_with_its_problems_and_nothing_is_simulated(runner, tmp_path):
    data = questionnaire()
    del data["sections"][0]["questions"][0]["basis"]
    path = write(tmp_path, data)
    result = runner.invoke(args=["questionnaires", "burden", str(path)])
    assert result.exit_code == 1
    assert f"{path}: sections[0].questions[0].basis: every question states its basis" in result.output
    assert "1 problem(s) found; nothing simulated." in result.output
    assert "median" not in result.output
