"""The application forms as validated data: common + group + award YAML assembled into one `Form` per award.

A form file (``config/forms/common.yaml``, ``<group>.yaml``, ``<award_id>.yaml``) holds ``sections``, each with an
``id``, a ``title`` and ``fields``; an entry of ``fields`` with its own ``fields`` and ``repeat`` is a repeatable
group. The files are read in that order; a section in a later file may say ``before: <section id>`` to be placed
ahead of a section defined earlier (so that 声明 stays last), otherwise it is appended. Optional
``language_rules`` say which language long-text answers must be in, decided by earlier choices.

Answers are JSON values: `Form.check` returns them ready to store (dates as ``YYYY-MM-DD``, percentages as
decimal strings, periods as ``{"start": "YYYY-MM", "end": "YYYY-MM" | null}``, multiple choices as lists), and
accepts both what an applicant types and a value it returned earlier.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import cache, cached_property
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple, get_type_hints

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic import Field as _Spec

import config
from config import Award, Campaign, Localized
from config.yaml_location import Loc, key_path, line_of, read_yaml
from intake.validation import VALIDATORS, Checked, Period, detect_script, is_chinese_text
from intake.yes_no import normalized, yes_or_no

__all__ = [
    "CHECKS",
    "FORMS_DIR",
    "Condition",
    "Field",
    "FieldGroup",
    "Form",
    "FormChoice",
    "FormError",
    "LanguageRule",
    "Repeat",
    "Section",
    "Slot",
    "check_consent",
    "check_file_list",
    "is_empty",
    "load_form",
    "load_forms",
]

FORMS_DIR = Path(config.__file__).resolve().parent / "forms"

Id = Annotated[str, _Spec(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Text = Annotated[str, _Spec(min_length=1)]

CHOICE_TYPES = frozenset({"choice", "choices"})
NAME_TYPES = frozenset({"person_name", "org_name"})
# Set by the form from the field's own data or the caller, never by a file's `limits`.
_RESERVED_ARGS = frozenset({"raw", "lang", "options", "today"})


# ------------------------------------------------------------------------------------- extra field types

def check_consent(raw: str | bool, *, lang: str = "zh") -> Checked[bool]:
    """A declaration answered yes or no: 是/同意/yes/agree is True, 否/不同意/no is False."""
    if isinstance(raw, bool):
        return Checked(ok=True, value=raw, lang=lang)
    verdict = yes_or_no(raw) if isinstance(raw, str) else None
    if verdict is not None:
        return Checked(ok=True, value=verdict, lang=lang)
    return Checked(
        ok=False,
        error=Localized(
            zh="请回答“同意”或“不同意”。例如：同意", en='Please answer "agree" or "disagree". Example: agree'
        ),
        lang=lang,
    )


_MB = 1024 * 1024
_FILE_KEYS = ("name", "size", "file_id", "mime_type")


def check_file_list(
    raw: Sequence[Mapping[str, Any]] | str,
    *,
    lang: str = "zh",
    max_files: int = 30,
    max_bytes: int = 20 * _MB,
) -> Checked[list[dict[str, Any]]]:
    """Files uploaded in the chat, each {name, size[, file_id, mime_type]}, at most `max_files` of `max_bytes`."""
    example = ("产品演示.mp4（18MB）", "demo.mp4 (18 MB)")

    def no(zh: str, en: str, *, with_example: bool = True) -> Checked[list[dict[str, Any]]]:
        # The example shows what an upload looks like; a limit reached needs none.
        if with_example:
            zh, en = f"{zh}。例如：{example[0]}", f"{en}. Example: {example[1]}"
        return Checked(ok=False, error=Localized(zh=zh, en=en), lang=lang)

    if isinstance(raw, str) or not isinstance(raw, Sequence):
        return no("请直接在对话中上传文件", "Please upload the files in the chat")
    files: list[dict[str, Any]] = []
    for item in raw:
        name = item.get("name") if isinstance(item, Mapping) else None
        size = item.get("size") if isinstance(item, Mapping) else None
        if not isinstance(name, str) or not name.strip() or not isinstance(size, int) or size < 0:
            return no("附件信息不完整", "An attachment is missing its name or size")
        if size > max_bytes:
            return no(
                f"“{name}”超过 {max_bytes // _MB}MB，请把分享链接填在“其他申报材料说明”里",
                f'"{name}" is over {max_bytes // _MB} MB; put a share link in the notes on other materials',
                with_example=False,
            )
        files.append({key: item[key] for key in _FILE_KEYS if isinstance(item.get(key), str | int)})
    if len(files) > max_files:
        return no(f"最多上传 {max_files} 个附件", f"At most {max_files} attachments can be uploaded",
                  with_example=False)
    return Checked(ok=True, value=files, lang=lang)


# Every field type a form may name, with the function that checks its answers.
CHECKS: Mapping[str, Callable[..., Checked[Any]]] = {
    **VALIDATORS,
    "consent": check_consent,
    "file_list": check_file_list,
}


# ---------------------------------------------------------------------------------------------- models


class _Data(BaseModel):
    """Base of every form model: immutable, and a misspelt key is an error rather than silently dropped."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class FormChoice(_Data):
    """One choice of a choice field; `aliases` are further spellings an applicant may type; an `exclusive` choice
    of a multiple-choice field (无, say) cannot be picked together with another."""

    id: Id
    zh: Text
    en: Text
    aliases: tuple[Text, ...] = ()
    exclusive: bool = False

    @property
    def name(self) -> Localized:
        """The label in both languages (what `intake.validation.Option` asks for)."""
        return Localized(zh=self.zh, en=self.en)


class Condition(_Data):
    """Show a field only when an earlier choice field has (or, for multiple choice, includes) a choice."""

    field: Id
    equals: Id

    def holds(self, value: Any) -> bool:
        """Whether the controlling field's stored answer meets the condition."""
        if isinstance(value, list | tuple):
            return self.equals in value
        return value == self.equals


class Repeat(_Data):
    """How many times a group of fields may be filled in."""

    min: Annotated[int, _Spec(ge=0)] = 1
    max: Annotated[int, _Spec(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Repeat:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        return self


class Field(_Data):
    """One question of the form."""

    id: Id
    type: Text
    label: Localized
    prompt: Localized
    help: Localized | None = None
    required: bool = True
    limits: dict[str, Any] = {}
    choices: tuple[FormChoice, ...] = ()
    choices_from: Literal["tracks", "product_categories", "awards"] | None = None
    when: Condition | None = None
    # Documents the 实名报名 rule; the name validators are what enforce it.
    real_name: bool = False

    def choice(self, choice_id: str) -> FormChoice:
        """The choice of this field with that id; KeyError if there is none."""
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        raise KeyError(choice_id)


class FieldGroup(_Data):
    """Fields asked together and repeatable, e.g. one project; stored as a list of {field_id: value}."""

    id: Id
    label: Localized
    prompt: Localized
    more: Localized
    help: Localized | None = None
    repeat: Repeat
    fields: tuple[Field, ...] = _Spec(min_length=1)


def _entry_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "group" if "fields" in value or "repeat" in value else "field"
    return "group" if isinstance(value, FieldGroup) else "field"


Entry = Annotated[
    Annotated[Field, Tag("field")] | Annotated[FieldGroup, Tag("group")], Discriminator(_entry_kind)
]


class Section(_Data):
    """A titled part of the form (基本信息, 申报联系人, …)."""

    id: Id
    title: Localized
    fields: tuple[Entry, ...] = _Spec(min_length=1)


class LanguageRule(_Data):
    """When `when` holds, every long-text answer must be in `language`; `reason` is what the applicant is told."""

    when: Condition
    language: Literal["zh", "en"]
    reason: Localized

    def accepts(self, text: str) -> bool:
        """Whether `text` is in the rule's language; links and a bare 无/none count as any language."""
        bare = _LINK.sub(" ", text)
        if normalized(bare) in _NOTHING or detect_script(bare) == "none":
            return True
        if self.language == "zh":
            return is_chinese_text(bare)
        return detect_script(bare) == "latin"


# Links and addresses are the same in every language; a share link with its code is still a Chinese answer.
_LINK = re.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\b[\w-]+(?:\.[\w-]+)+/\S*", re.IGNORECASE
)
# "Nothing to report" says the same in either language, so a foreign entrant may answer 风险诊断 with 无.
_NOTHING = frozenset(
    {"无", "暂无", "没有", "不涉及", "none", "no", "nil", "n/a", "na", "notapplicable", "nothing"}
)


class Slot(NamedTuple):
    """One field at its place in the form: its section and, for a repeated field, its group."""

    section: Section
    field: Field
    group: FieldGroup | None = None


class _SectionSpec(Section):
    """A section as written in a file, with its placement."""

    before: Id | None = None


class _FileSpec(_Data):
    """One form file."""

    sections: tuple[_SectionSpec, ...] = ()
    language_rules: tuple[LanguageRule, ...] = ()


class Form(_Data):
    """The assembled form of one award: common, group and award sections in their final order."""

    award: Award
    sections: tuple[Section, ...]
    language_rules: tuple[LanguageRule, ...] = ()

    @property
    def award_id(self) -> str:
        """The id of the award this form applies for."""
        return self.award.id

    @cached_property
    def _slots(self) -> tuple[Slot, ...]:
        slots: list[Slot] = []
        for section in self.sections:
            for entry in section.fields:
                if isinstance(entry, FieldGroup):
                    slots += [Slot(section, field, entry) for field in entry.fields]
                else:
                    slots.append(Slot(section, entry))
        return tuple(slots)

    @cached_property
    def _by_id(self) -> dict[str, Slot]:
        return {slot.field.id: slot for slot in self._slots}

    def fields(self) -> tuple[Slot, ...]:
        """Every field in asking order, repeated ones with their group."""
        return self._slots

    def groups(self) -> tuple[FieldGroup, ...]:
        """The repeatable groups, in order."""
        return tuple(e for s in self.sections for e in s.fields if isinstance(e, FieldGroup))

    def slot(self, field_id: str) -> Slot:
        """The field with this id and its place; KeyError if there is none."""
        try:
            return self._by_id[field_id]
        except KeyError:
            raise KeyError(f"form {self.award_id!r} has no field {field_id!r}") from None

    def field(self, field_id: str) -> Field:
        """The field with this id; KeyError if there is none."""
        return self.slot(field_id).field

    def visible(self, field: Field | str, answers: Mapping[str, Any]) -> bool:
        """Whether the field is asked given the answers so far (its condition, and its controller's, hold)."""
        field = self.field(field) if isinstance(field, str) else field
        if field.when is None:
            return True
        return self.visible(field.when.field, answers) and field.when.holds(answers.get(field.when.field))

    def visible_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Only the answers to fields asked given these answers: one hidden by its condition since it was given
        (a recommender's phone, after switching to self-nomination) or no longer in the form is left out."""
        shown: dict[str, Any] = {}
        for section in self.sections:
            for entry in section.fields:
                if entry.id not in answers:
                    continue
                value = answers[entry.id]
                if isinstance(entry, FieldGroup):
                    ids = {f.id for f in entry.fields}
                    if isinstance(value, list):  # anything else is left for completeness() to report
                        value = [{k: v for k, v in item.items() if k in ids} if isinstance(item, Mapping) else item
                                 for item in value]
                    shown[entry.id] = value
                elif self.visible(entry, answers):
                    shown[entry.id] = value
        return shown

    def language_rule(self, answers: Mapping[str, Any]) -> LanguageRule | None:
        """The language rule in force for these answers; None until the deciding choices are made."""
        for rule in self.language_rules:
            if self.visible(rule.when.field, answers) and rule.when.holds(answers.get(rule.when.field)):
                return rule
        return None

    def check(
        self, field: Field | str, raw: Any, *, lang: str = "zh", today: date | None = None
    ) -> Checked[Any]:
        """Check an answer (typed text or a stored value) with the field's validator; the value is JSON-ready."""
        field = self.field(field) if isinstance(field, str) else field
        function = CHECKS[field.type]
        kwargs: dict[str, Any] = dict(field.limits)
        if field.type in CHOICE_TYPES:
            kwargs["options"] = field.choices
        if "today" in _parameters(function):
            kwargs["today"] = today
        if field.type not in {"consent", "file_list"}:
            text = _as_text(raw)
            if text is None:
                return Checked(
                    ok=False,
                    error=Localized(zh="请用文字回答这一项", en="Please answer this in text"),
                    lang=lang,
                )
            raw = text
        checked = function(raw, lang=lang, **kwargs)
        return replace(checked, value=_jsonable(checked.value)) if checked.ok else checked

    @cached_property
    def _counted(self) -> tuple[tuple[tuple[str, bool], ...], tuple[Field, ...], tuple[FieldGroup, ...]]:
        # progress() at every question: the fields that always count (id, required), those with a condition,
        # and the groups.
        plain = [e for s in self.sections for e in s.fields if not isinstance(e, FieldGroup)]
        return (tuple((f.id, f.required) for f in plain if f.when is None),
                tuple(f for f in plain if f.when is not None), self.groups())

    def progress(self, answers: Mapping[str, Any]) -> tuple[int, int]:
        """(answered, total) over the visible fields; each project counts its fields, at least `repeat.min` times."""
        always, conditioned, groups = self._counted
        total = len(always)
        # A skipped optional field is stored as None: it has been dealt with (as _answered says).
        done = sum(1 for field_id, required in always
                   if field_id in answers and (not required or not is_empty(answers[field_id])))
        for field in conditioned:
            if self.visible(field, answers):
                total += 1
                done += _answered(field, answers)
        for group in groups:
            items = answers.get(group.id)
            items = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
            for n in range(max(len(items), group.repeat.min)):
                item = items[n] if n < len(items) else {}
                total += len(group.fields)
                done += sum(_answered(f, item) for f in group.fields)
        return done, total


def is_empty(value: Any) -> bool:
    """Whether a stored answer counts as not given (None, blank text, empty list or mapping)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | tuple | dict) and not value


def _answered(field: Field, answers: Mapping[str, Any]) -> bool:
    # A skipped optional field is stored as None: it has been dealt with.
    return field.id in answers and (not field.required or not is_empty(answers[field.id]))


@cache  # asked at every answer; a signature takes longer to build than most checks take to run
def _parameters(function: Callable[..., Any]) -> Mapping[str, inspect.Parameter]:
    return inspect.signature(function).parameters


def _as_text(value: Any) -> str | None:
    """A stored JSON value back as the text an applicant would have typed; None for a shape no field stores."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal | float):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping) and isinstance(value.get("start"), str):
        end = value.get("end")
        return f"{value['start']}至{end if isinstance(end, str) else '今'}"
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Period):
        return {"start": str(value.start), "end": None if value.end is None else str(value.end)}
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class _Problem:
    path: Path
    key: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}{f':{self.line}' if self.line else ''}"
        return f"{where}: {self.key + ': ' if self.key else ''}{self.message}"


class FormError(ValueError):
    """A form file is missing or invalid; the message names each file, key path and problem."""

    def __init__(self, problems: Iterable[_Problem]) -> None:
        self.problems = tuple(problems)
        lines = [str(p) for p in self.problems]
        head = f"invalid form definition, {len(lines)} problems:\n  " if len(lines) > 1 else ""
        super().__init__(head + "\n  ".join(lines))


def _clean_loc(loc: Loc) -> Loc:
    # The entry union adds its tag ("field"/"group") after the index; a person never writes it.
    out: list[str | int] = []
    for i, part in enumerate(loc):
        if part in {"field", "group"} and i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "fields":
            continue
        out.append(part)
    return tuple(out)


# ---------------------------------------------------------------------------------------------- loading


@dataclass(frozen=True, slots=True)
class _Source:
    path: Path
    root: yaml.Node | None
    spec: _FileSpec


def _read(path: Path, problems: list[_Problem]) -> _Source | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        problems.append(_Problem(path, "", None, "form file not found"))
        return None
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(_Problem(path, "", None, f"cannot read form file: {exc}"))
        return None
    try:
        root, data = read_yaml(text)
        if root is None:
            data = {}
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        problems.append(_Problem(path, "", mark.line + 1 if mark else None, f"YAML syntax error: {what}"))
        return None
    except yaml.YAMLError as exc:
        problems.append(_Problem(path, "", None, f"YAML error: {exc}"))
        return None
    if not isinstance(data, dict):
        problems.append(_Problem(path, "", 1, f"top level must be a mapping, found {type(data).__name__}"))
        return None
    try:
        spec = _FileSpec.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            loc = _clean_loc(tuple(error["loc"]))
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (misspelt, or not part of the form schema)"
            problems.append(_Problem(path, key_path(loc), line_of(root, loc), message))
        return None
    return _Source(path, root, spec)


class _Assembler:
    """Puts the files of one award together and checks what no single file can check on its own."""

    def __init__(self, campaign: Campaign, award: Award) -> None:
        self.campaign = campaign
        self.award = award
        self.problems: list[_Problem] = []
        self.where: dict[str, tuple[_Source, Loc]] = {}
        # Top-level fields already placed, for conditions, which may only look back.
        self.earlier: dict[str, Field] = {}
        # Every field id of the form, to tell a condition that looks ahead from one that points nowhere.
        self.defined: set[str] = set()

    def problem(self, source: _Source, loc: Loc, message: str) -> None:
        self.problems.append(_Problem(source.path, key_path(loc), line_of(source.root, loc), message))

    def build(self, paths: Sequence[Path]) -> Form:
        read_problems: list[_Problem] = []
        sources = [s for s in (_read(p, read_problems) for p in paths) if s is not None]
        if read_problems:
            raise FormError(read_problems)
        placed: list[tuple[_Source, int, _SectionSpec]] = []
        for source in sources:
            for i, section in enumerate(source.spec.sections):
                self.place(placed, source, i, section)
        self.defined = {
            field.id
            for _, _, spec in placed
            for entry in spec.fields
            for field in (entry.fields if isinstance(entry, FieldGroup) else (entry,))
        }
        sections = [self.section(source, ("sections", i), spec) for source, i, spec in placed]
        rules = [
            rule
            for source in sources
            for j, rule in enumerate(source.spec.language_rules)
            if self.condition(source, ("language_rules", j, "when"), rule.when, earlier=False)
        ]
        if self.problems:
            raise FormError(self.problems)
        return Form(award=self.award, sections=tuple(sections), language_rules=tuple(rules))

    def place(
        self, placed: list[tuple[_Source, int, _SectionSpec]], source: _Source, i: int, spec: _SectionSpec
    ) -> None:
        ids = [s.id for _, _, s in placed]
        if spec.id in ids:
            first_source, first_i, _ = placed[ids.index(spec.id)]
            self.problem(
                source,
                ("sections", i, "id"),
                f"duplicate section id {spec.id!r}, first used in {first_source.path.name} sections[{first_i}]",
            )
            return
        if spec.before is None:
            placed.append((source, i, spec))
        elif spec.before in ids:
            placed.insert(ids.index(spec.before), (source, i, spec))
        else:
            known = ", ".join(ids) or "(none)"
            self.problem(
                source,
                ("sections", i, "before"),
                f"unknown section {spec.before!r}; sections so far: {known}",
            )

    def section(self, source: _Source, loc: Loc, spec: _SectionSpec) -> Section:
        entries: list[Field | FieldGroup] = []
        for j, entry in enumerate(spec.fields):
            entry_loc = (*loc, "fields", j)
            if isinstance(entry, FieldGroup):
                self.register(source, entry_loc, entry.id)
                inner = [
                    self.field(source, (*entry_loc, "fields", k), f, group=entry)
                    for k, f in enumerate(entry.fields)
                ]
                entries.append(entry.model_copy(update={"fields": tuple(inner)}))
            else:
                entries.append(self.field(source, entry_loc, entry, group=None))
        return Section(id=spec.id, title=spec.title, fields=tuple(entries))

    def register(self, source: _Source, loc: Loc, field_id: str) -> None:
        if field_id in self.where:
            first_source, first_loc = self.where[field_id]
            self.problem(
                source,
                (*loc, "id"),
                f"duplicate field id {field_id!r}, first defined in {first_source.path.name} {key_path(first_loc)}",
            )
        else:
            self.where[field_id] = (source, loc)

    def field(self, source: _Source, loc: Loc, field: Field, *, group: FieldGroup | None) -> Field:
        self.register(source, loc, field.id)
        update: dict[str, Any] = {}
        function = CHECKS.get(field.type)
        if function is None:
            self.problem(
                source, (*loc, "type"), f"unknown type {field.type!r}; known: {', '.join(sorted(CHECKS))}"
            )
        if field.type in CHOICE_TYPES:
            choices = self.choices(source, loc, field)
            update["choices"] = choices
        elif field.choices or field.choices_from:
            key = "choices" if field.choices else "choices_from"
            self.problem(
                source, (*loc, key), f"only choice and choices fields have choices, not {field.type!r}"
            )
        if field.real_name and field.type not in NAME_TYPES:
            self.problem(
                source, (*loc, "real_name"), f"real_name applies to {' and '.join(sorted(NAME_TYPES))}"
            )
        if field.when is not None:
            if group is not None:
                self.problem(
                    source,
                    (*loc, "when"),
                    f"a field inside the repeated group {group.id!r} cannot have a condition",
                )
            else:
                self.condition(source, (*loc, "when"), field.when, earlier=True)
        if function is not None:
            update["limits"] = self.limits(source, loc, field, function, update.get("choices", field.choices))
        field = field.model_copy(update=update)
        if group is None:
            self.earlier.setdefault(field.id, field)
        return field

    def choices(self, source: _Source, loc: Loc, field: Field) -> tuple[FormChoice, ...]:
        if field.choices and field.choices_from:
            self.problem(source, (*loc, "choices_from"), "give either choices or choices_from, not both")
        if field.choices_from:
            options = getattr(self.campaign, field.choices_from)
            return tuple(FormChoice(id=o.id, zh=o.name.zh, en=o.name.en) for o in options)
        if not field.choices:
            self.problem(source, (*loc, "choices"), f"a {field.type} field needs choices or choices_from")
        seen: set[str] = set()
        for k, choice in enumerate(field.choices):
            if choice.id in seen:
                self.problem(source, (*loc, "choices", k, "id"), f"duplicate choice id {choice.id!r}")
            seen.add(choice.id)
        return field.choices

    def condition(self, source: _Source, loc: Loc, condition: Condition, *, earlier: bool) -> bool:
        target = self.earlier.get(condition.field)
        if target is None:
            where = (
                "an earlier field of this form" if earlier else "a field of this form outside repeated groups"
            )
            later = (
                " (it comes later; a condition can only look back)" if condition.field in self.defined else ""
            )
            self.problem(source, (*loc, "field"), f"{condition.field!r} is not {where}{later}")
            return False
        if target.type not in CHOICE_TYPES:
            self.problem(
                source,
                (*loc, "field"),
                f"{condition.field!r} is a {target.type} field; conditions need a choice",
            )
            return False
        ids = [c.id for c in target.choices]
        if condition.equals not in ids:
            self.problem(
                source,
                (*loc, "equals"),
                f"{condition.equals!r} is not a choice of {condition.field!r}; choices: {', '.join(ids)}",
            )
            return False
        return True

    def limits(
        self,
        source: _Source,
        loc: Loc,
        field: Field,
        function: Callable[..., Checked[Any]],
        choices: Sequence[FormChoice],
    ) -> dict[str, Any]:
        parameters = _parameters(function)
        accepted = [
            name for name, p in parameters.items() if p.kind is p.KEYWORD_ONLY and name not in _RESERVED_ARGS
        ]
        hints = get_type_hints(function)
        limits: dict[str, Any] = {}
        for name, value in field.limits.items():
            if name not in accepted:
                self.problem(
                    source,
                    (*loc, "limits", name),
                    f"{field.type} takes no limit {name!r}; it accepts: {', '.join(accepted) or '(none)'}",
                )
                continue
            try:
                limits[name] = TypeAdapter(hints[name]).validate_python(value)
            except ValidationError as exc:
                reason = exc.errors(include_url=False)[0]["msg"]
                self.problem(source, (*loc, "limits", name), f"invalid value {value!r}: {reason}")
        if len(limits) != len(field.limits):
            return limits
        for name, low in limits.items():
            high = limits.get("max_" + name.removeprefix("min_")) if name.startswith("min_") else None
            if high is not None and low is not None and low > high:
                self.problem(
                    source, (*loc, "limits", name), f"{name} {low} is greater than max_{name[4:]} {high}"
                )
                return limits
        # A trial run catches values the types allow but the validator refuses (e.g. languages: [fr]).
        probe: dict[str, Any] = dict(limits)
        if field.type in CHOICE_TYPES:
            if not choices:
                return limits
            probe["options"] = choices
        try:
            function("", lang="zh", **probe)
        except (TypeError, ValueError) as exc:
            self.problem(source, (*loc, "limits"), f"refused by the {field.type} validator: {exc}")
        return limits


def load_form(award_id: str, *, campaign: Campaign, directory: Path = FORMS_DIR) -> Form:
    """The form of one award: common.yaml + <group>.yaml + <award_id>.yaml; FormError says what is wrong where."""
    directory = Path(directory)
    try:
        award = campaign.award(award_id)
    except KeyError:
        known = ", ".join(a.id for a in campaign.awards)
        raise FormError(
            [_Problem(directory, "", None, f"unknown award {award_id!r}; known: {known}")]
        ) from None
    paths = [directory / "common.yaml", directory / f"{award.group}.yaml", directory / f"{award.id}.yaml"]
    return _Assembler(campaign, award).build(paths)


def load_forms(campaign: Campaign, *, directory: Path = FORMS_DIR) -> dict[str, Form]:
    """The forms of every award of the campaign, by award id; FormError lists the problems of all of them."""
    forms: dict[str, Form] = {}
    problems: list[_Problem] = []
    for award in campaign.awards:
        try:
            forms[award.id] = load_form(award.id, campaign=campaign, directory=directory)
        except FormError as exc:
            # A mistake in common.yaml shows up in every form; report it once.
            problems += [p for p in exc.problems if p not in problems]
    if problems:
        raise FormError(problems)
    return forms
