"""A small valid questionnaire to change in tests, and a way to write it to a file."""

import copy

import yaml


def texts(en: str) -> dict:
    """A text in three languages."""
    return {"en": en, "es": f"{en} (es)", "fr": f"{en} (fr)"}


OBLIGATION = {"obligation": "Protocol, art. 5(1)"}
RECOMMENDATION = {"recommendation": "2"}

BASE = {
    "slug": "mini",
    "title": texts("Mini questionnaire"),
    "source": texts("A resolution"),
    "languages": ["en", "es", "fr"],
    "paragraphs": ["1", "2"],
    "sections": [
        {
            "code": "OP1",
            "title": texts("Paragraph 1"),
            "questions": [
                {"code": "1.1", "type": "yes_no_partial", "prompt": texts("Is it done?"), "required": True,
                 "ref": {"paragraphs": ["1"]}, "basis": OBLIGATION},
                {"code": "1.2", "type": "legislation", "prompt": texts("Cite the law."),
                 "ref": {"paragraphs": ["1"]}, "basis": OBLIGATION,
                 "show_if": {"question": "1.1", "in": ["yes", "partial"]}},
                {"code": "1.3", "type": "text", "prompt": texts("Why not?"),
                 "ref": {"paragraphs": ["1"]}, "basis": OBLIGATION,
                 "show_if": {"question": "1.1", "equals": "no"}},
            ],
        },
        {
            "code": "OP2",
            "title": texts("Paragraph 2"),
            "questions": [
                {"code": "2.1", "type": "table", "prompt": texts("Figures"), "ref": {"paragraphs": ["2"]},
                 "basis": RECOMMENDATION,
                 "options": {"rows": [{"key": "2022", "label": texts("2022")}, {"key": "2023", "label": texts("2023")}],
                             "columns": [{"key": "women", "label": texts("Women")},
                                         {"key": "men", "label": texts("Men")}]}},
                {"code": "2.2", "type": "multi_choice", "prompt": texts("Who?"), "ref": {"paragraphs": ["2"]},
                 "basis": RECOMMENDATION,
                 "options": {"choices": [{"key": "ngo", "label": texts("NGOs")},
                                         {"key": "academia", "label": texts("Academia")}]}},
            ],
        },
    ],
}


def questionnaire(**changes) -> dict:
    """A deep copy of the base questionnaire with top-level changes."""
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def write(tmp_path, data, name="mini.yaml"):
    """Write a questionnaire to a YAML file and return its path."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
