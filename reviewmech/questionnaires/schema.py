"""Read and validate questionnaire files; every error names the file, the path inside it and the problem."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from reviewmech.questionnaires import conditions
from reviewmech.questionnaires.types import TYPES, Texts

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.()\-]*$"
PARAGRAPH_PATTERN = r"^\d+(\([a-z]\))?$"
LANGUAGE_CODES = ("en", "es", "fr", "ar", "ru", "zh")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a questionnaire file."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


class QuestionnaireFileError(Exception):
    """A questionnaire file is not valid; `problems` lists every error found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


# The shape of a file ---------------------------------------------------------------------------

class Strict(BaseModel):
    """Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class Reference(Strict):
    """Where a question comes from."""

    paragraphs: list[str] = Field(min_length=1)
    articles: list[str] = []


class Basis(Strict):
    """Why a State is asked: a treaty obligation (an article) or a recommendation of the resolution (a paragraph)."""

    obligation: str | None = Field(default=None, min_length=1, max_length=120)
    recommendation: str | None = Field(default=None, pattern=PARAGRAPH_PATTERN)

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.obligation is None) == (self.recommendation is None):
            raise ValueError("give either obligation (an article, e.g. 'Protocol, art. 5(1)') "
                             "or recommendation (a paragraph of the resolution, e.g. '13(c)')")
        return self


class QuestionSpec(Strict):
    """A question as written in the file."""

    code: str = Field(pattern=CODE_PATTERN, max_length=40)
    type: str
    prompt: Texts
    help: Texts | None = None
    required: bool = False
    ref: Reference
    basis: Basis | None = None  # required in files (see _semantic_problems); versions stored before it have none
    show_if: dict | None = None
    options: dict = {}


class SectionSpec(Strict):
    """A section, which may hold questions and sub-sections."""

    code: str = Field(pattern=CODE_PATTERN, max_length=40)
    title: Texts
    help: Texts | None = None
    show_if: dict | None = None
    questions: list[QuestionSpec] = []
    sections: list[SectionSpec] = []


class NotAddressed(Strict):
    """An operative paragraph that asks nothing of States, and why."""

    paragraph: str = Field(pattern=PARAGRAPH_PATTERN)
    reason: Texts


class QuestionnaireSpec(Strict):
    """A whole questionnaire file."""

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    title: Texts
    source: Texts
    languages: list[str] = Field(min_length=1)
    paragraphs: list[str] = Field(min_length=1)
    not_addressed: list[NotAddressed] = []
    sections: list[SectionSpec] = Field(min_length=1)


# Reading YAML ----------------------------------------------------------------------------------

class _Loader(yaml.SafeLoader):
    """YAML with only true/false as booleans (so `yes` and `no` stay answers) and no duplicate keys."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def _construct_mapping(loader, node, deep=False):
    keys = set()
    for key_node, _value_node in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark)
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse a YAML file, or raise QuestionnaireFileError naming the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise QuestionnaireFileError([Problem(str(path), "", f"cannot be read: {error}")]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise QuestionnaireFileError([Problem(str(path), where, f"malformed YAML: {problem}")]) from None


# Validation ------------------------------------------------------------------------------------

def _path(location) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _structure_problems(file: str, data: Any) -> list[Problem]:
    if not isinstance(data, dict):
        return [Problem(file, "", "a questionnaire file must be a mapping with slug, title, sections, …")]
    try:
        QuestionnaireSpec.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "missing" and item["loc"] and item["loc"][-1] == "en":
                message = "the English text (en) is required"
            elif item["type"] == "extra_forbidden":
                message = f"unknown key '{item['loc'][-1]}'"
            problems.append(Problem(file, _path(item["loc"]), message))
        return problems
    return []


def _walk(sections: Any, path: str, enclosing: list) -> Iterator[tuple[str, dict, str, list]]:
    """Yield ('section'|'question', item, path, enclosing section conditions) in file order."""
    if not isinstance(sections, list):
        return
    for index, section in enumerate(sections):
        if not isinstance(section, dict):
            continue
        section_path = f"{path}[{index}]"
        yield "section", section, section_path, enclosing
        inner = [*enclosing, section.get("show_if")]
        for q_index, question in enumerate(section.get("questions") or []):
            if isinstance(question, dict):
                yield "question", question, f"{section_path}.questions[{q_index}]", inner
        yield from _walk(section.get("sections"), f"{section_path}.sections", inner)


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and nxt in graph:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _semantic_problems(file: str, data: dict) -> list[Problem]:
    """Rules across the file: codes, references, conditions, type options, reachability."""
    problems: list[Problem] = []
    add = problems.append
    items = list(_walk(data.get("sections"), "sections", []))
    paragraphs = set(data.get("paragraphs") or [])
    section_codes: dict[str, str] = {}
    question_index: dict[str, int] = {}
    domains: dict[str, list | None] = {}
    graph: dict[str, set[str]] = {}

    for kind, item, path, _enclosing in items:
        code = item.get("code")
        if not isinstance(code, str):
            continue
        if kind == "section":
            if code in section_codes:
                add(Problem(file, f"{path}.code", f"duplicate section code '{code}' (also at {section_codes[code]})"))
            section_codes.setdefault(code, path)
            continue
        if code in question_index:
            add(Problem(file, f"{path}.code", f"duplicate question code '{code}'"))
            continue
        question_index[code] = len(question_index)
        question_type = TYPES.get(item.get("type"))
        if question_type is None:
            add(Problem(file, f"{path}.type",
                        f"unknown question type {item.get('type')!r}; known types: {', '.join(sorted(TYPES))}"))
            domains[code] = None
            continue
        try:
            options = question_type.parse_options(item.get("options") or {})
        except ValidationError as error:
            for e in error.errors():
                message = f"unknown option '{e['loc'][-1]}' for type {question_type.name}" \
                    if e["type"] == "extra_forbidden" else e["msg"].removeprefix("Value error, ")
                add(Problem(file, f"{path}.{_path(('options', *e['loc']))}", message))
            domains[code] = None
        else:
            domains[code] = question_type.answer_keys(options)
        basis = item.get("basis")
        recommended = basis.get("recommendation") if isinstance(basis, dict) else None
        if basis is None:
            add(Problem(file, f"{path}.basis", "every question states its basis: {obligation: <article>} or "
                                               "{recommendation: <paragraph of the resolution>}"))
        elif isinstance(recommended, str) and re.fullmatch(PARAGRAPH_PATTERN, recommended) and paragraphs \
                and recommended not in paragraphs:
            add(Problem(file, f"{path}.basis.recommendation",
                        f"paragraph '{recommended}' is not among the questionnaire's paragraphs"))
        for paragraph_index, paragraph in enumerate((item.get("ref") or {}).get("paragraphs") or []):
            if paragraphs and paragraph not in paragraphs:
                add(Problem(file, f"{path}.ref.paragraphs[{paragraph_index}]",
                            f"paragraph '{paragraph}' is not among the questionnaire's paragraphs"))

    position = 0
    for kind, item, path, _enclosing in items:
        condition = item.get("show_if")
        code = item.get("code")
        here = question_index.get(code, position) if kind == "question" else position
        if kind == "question" and code in question_index:
            position = question_index[code] + 1
        if condition is None:
            continue
        structural = list(conditions.check(condition, f"{path}.show_if"))
        for where, message in structural:
            add(Problem(file, where, message))
        if structural:
            continue
        names = set(conditions.referenced_questions(condition))
        if kind == "question":
            graph.setdefault(code, set()).update(names)
        for name in sorted(names):
            if name not in question_index:
                add(Problem(file, f"{path}.show_if", f"names unknown question '{name}'"))
            elif name == code:
                add(Problem(file, f"{path}.show_if", f"question '{code}' depends on itself (a cycle)"))
            elif question_index[name] >= here:
                add(Problem(file, f"{path}.show_if", f"names question '{name}', which comes later; "
                                                     "a condition may only name an earlier question"))
        for name, value, test in conditions.tested_values(condition):
            domain = domains.get(name)
            if domain is not None and value not in domain:
                add(Problem(file, f"{path}.show_if",
                            f"'{test}' tests {value!r}, which question '{name}' does not offer ({', '.join(domain)})"))

    cycle = _find_cycle({k: {n for n in v if n != k} for k, v in graph.items()})
    if cycle:
        add(Problem(file, "sections", f"the conditions form a cycle: {' → '.join(cycle)}"))

    if not problems:
        problems.extend(_unreachable_required(file, items, domains))
    return problems


def _unreachable_required(file: str, items, domains) -> Iterator[Problem]:
    """A required question that can never show could never be answered."""
    for kind, item, path, enclosing in items:
        if kind != "question" or not item.get("required"):
            continue
        for condition in [*enclosing]:
            if condition and not conditions.can_hold(condition, domains):
                yield Problem(file, path, f"required question '{item.get('code')}' is in a section that can never "
                                          "show (its show_if can never hold)")
                break
        else:
            own = item.get("show_if")
            if own and not conditions.can_hold(own, domains):
                yield Problem(file, f"{path}.show_if",
                              f"required question '{item.get('code')}' can never show (its show_if can never hold)")


def validate_data(file: str, data: Any) -> QuestionnaireSpec:
    """Validate parsed data; raise QuestionnaireFileError with every problem found."""
    problems = _structure_problems(file, data)
    if isinstance(data, dict):
        problems += _semantic_problems(file, data)
    if problems:
        raise QuestionnaireFileError(problems)
    return QuestionnaireSpec.model_validate(data)


def read_questionnaire(path: Path) -> QuestionnaireSpec:
    """Read and validate one questionnaire file."""
    return validate_data(str(path), read_yaml(path))


def questionnaire_files(paths: list[Path]) -> list[Path]:
    """The YAML files named, looking inside folders (not their sub-folders)."""
    files = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()))
        else:
            files.append(path)
    return files


def iter_questions(spec: QuestionnaireSpec) -> Iterator[tuple[QuestionSpec, list[SectionSpec]]]:
    """Every question in order, with its chain of sections (outermost first)."""

    def walk(sections, chain):
        for section in sections:
            for question in section.questions:
                yield question, [*chain, section]
            yield from walk(section.sections, [*chain, section])

    yield from walk(spec.sections, [])


def coverage(spec: QuestionnaireSpec) -> dict[str, list[str]]:
    """Operative paragraph → codes of the questions that cite it (empty when none does)."""
    table: dict[str, list[str]] = {paragraph: [] for paragraph in spec.paragraphs}
    for question, _chain in iter_questions(spec):
        for paragraph in question.ref.paragraphs:
            table.setdefault(paragraph, []).append(question.code)
    return table
