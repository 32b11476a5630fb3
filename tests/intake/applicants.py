"""Simulated applicants for load tests and the intake benchmark: each drives a whole application through an Engine.

An applicant is told nothing in advance: it reads each reply (pre-check buttons, the question's prompt, the
summary, the declarations) and answers as a person would, one typed answer per question, saying "no" to every
"another one?". Afterwards `verify` checks every stored record against what its applicant typed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from bot.engine import Engine
from bot.events import ChoiceIn, CommandIn, Event, TextIn
from bot.language import DEFAULT_LANG, Lang
from bot.replies import DocumentOut, Reply, TextOut
from bot.runtime import Runtime
from bot.stamps import unstamped
from bot.users import User, UserRef
from intake.complete import completeness
from intake.flow import PREFIX
from intake.forms import Field, Form
from intake.queue import Submission
from knowledge.answer import Answer
from tests.intake.factories import AWARDS, typed_answer

__all__ = ["AWARDS", "Applicant", "Decliner", "run_applicant", "verify"]

log = logging.getLogger(__name__)

MAX_EVENTS = 200  # per applicant; a form has fewer than 60 questions
RETRIES = 3  # an "engine.error" reply is sent again, as a person would


class Decliner:
    """An answerer that declines every question; the benchmark asks none, so a real index is not needed."""

    async def answer(self, question: str, lang: Lang | None = None) -> Answer:
        return Answer(question=question, lang=lang or DEFAULT_LANG, answered=False, answer="", via="none")


@dataclass
class Applicant:
    """One simulated entrant: who they are, what they answered and how long each step took."""

    n: int
    form: Form
    today: date
    user: UserRef = field(init=False)
    typed: dict[str, str] = field(init=False)
    # What was answered, in order: (field, the text typed or the value a button stands for, typed or not).
    answered: list[tuple[Field, Any, bool]] = field(default_factory=list)
    steps_ms: list[float] = field(default_factory=list)
    submit_ms: list[float] = field(default_factory=list)
    errors: int = 0
    failure: str | None = None

    def __post_init__(self) -> None:
        self.user = UserRef(channel="bench", external_id=f"applicant-{self.n}", display_name=f"申报人{self.n}")
        # Per-applicant values, so a record holding another applicant's answers is caught.
        self.typed = {"contact_mobile": f"139{self.n:08d}", "contact_email": f"applicant{self.n}@pioneer-tech.cn"}

    def expected(self) -> dict[str, Any]:
        """The answers as the form should have stored them. Typed text is checked here, after the run, so that
        the simulation does as little as possible on the event loop it shares with the engine it measures."""
        expected: dict[str, Any] = {}
        for field_, answer, typed in self.answered:
            stored = self.form.check(field_, answer, today=self.today).value if typed else answer
            group = self.form.slot(field_.id).group
            if group is None:
                expected[field_.id] = stored
            else:  # one item per group: the benchmark says "no" to every "another one?"
                expected.setdefault(group.id, [{}])[0][field_.id] = stored
        return expected


async def _send(engine: Engine, applicant: Applicant, event: Event, error_text: str) -> list[Reply]:
    for _ in range(RETRIES):
        started = time.perf_counter()
        replies = await engine.handle(applicant.user, event)
        elapsed = (time.perf_counter() - started) * 1000
        if any(isinstance(r, DocumentOut) for r in replies):
            applicant.submit_ms.append(elapsed)
        else:
            applicant.steps_ms.append(elapsed)
        if not (len(replies) == 1 and isinstance(replies[0], TextOut) and replies[0].text == error_text):
            return replies
        applicant.errors += 1
    raise RuntimeError(f"engine.error {RETRIES} times on {event!r}")


def _choices(replies: Sequence[Reply]) -> list[str]:
    """What the buttons stand for, without the engine's stamp (the applicants press by plain value)."""
    return [unstamped(c.value)[0] for r in replies if isinstance(r, TextOut) for c in r.choices]


async def _apply(engine: Engine, applicant: Applicant, error_text: str) -> None:
    """Drive one whole application from /apply to the submitted form, from what the replies show."""
    form = applicant.form
    prompts = {slot.field.prompt.zh: slot.field for slot in form.fields()}

    async def send(event: Event) -> list[Reply]:
        return await _send(engine, applicant, event, error_text)

    replies = await send(CommandIn("apply"))
    replies = await send(ChoiceIn(f"{PREFIX}group:{form.award.group}"))
    tracks = [v for v in _choices(replies) if v.startswith(f"{PREFIX}track:") and v != f"{PREFIX}track:none"]
    if tracks:
        replies = await send(ChoiceIn(tracks[applicant.n % len(tracks)]))
    await send(ChoiceIn(f"{PREFIX}yes"))  # own IP, no disputes
    await send(ChoiceIn(f"{PREFIX}no"))  # no serious incident
    await send(ChoiceIn(f"{PREFIX}award:{form.award_id}"))
    replies = await send(ChoiceIn(f"{PREFIX}agree"))
    for _ in range(MAX_EVENTS):
        if any(isinstance(r, DocumentOut) for r in replies):
            return
        last = replies[-1]
        if not isinstance(last, TextOut):
            raise RuntimeError(f"unexpected reply {last!r}")
        lines = last.text.split("\n")
        asked = prompts.get(lines[1]) if len(lines) > 1 else None
        values = {unstamped(c.value)[0] for c in last.choices}
        if asked is not None:
            if asked.type == "file_list":
                applicant.answered.append((asked, None, False))
                replies = await send(ChoiceIn(f"{PREFIX}skip"))
            elif asked.type == "consent":
                applicant.answered.append((asked, True, False))
                replies = await send(ChoiceIn(f"{PREFIX}yes"))
            else:
                text = typed_answer(form, asked, typed=applicant.typed, long_text=None)
                applicant.answered.append((asked, text, True))
                replies = await send(TextIn(text))
        elif f"{PREFIX}confirm" in values:
            replies = await send(ChoiceIn(f"{PREFIX}confirm"))
        elif {f"{PREFIX}yes", f"{PREFIX}no"} <= values:  # "another project?"
            replies = await send(ChoiceIn(f"{PREFIX}no"))
        else:
            raise RuntimeError(f"cannot tell what is asked: {last.text[:120]!r}")
    raise RuntimeError("the application never ended")


async def run_applicant(engine: Engine, applicant: Applicant, error_text: str) -> None:
    try:
        await _apply(engine, applicant, error_text)
    except Exception as exc:  # counted as lost, and the others carry on
        applicant.failure = f"{type(exc).__name__}: {exc}"
        log.warning("applicant %d failed: %s", applicant.n, applicant.failure)



async def verify(runtime: Runtime, applicants: Sequence[Applicant]) -> tuple[int, int, list[str]]:
    """(lost, submissions stored, problems): every applicant's record present, complete and as typed."""
    sessions = await runtime.sessionmaker()
    async with sessions() as session:
        rows = (await session.execute(select(Submission, User.external_id).join(User,
                                                                                Submission.user_id == User.id))).all()
    by_user: dict[str, list[Submission]] = {}
    for record, external_id in rows:
        by_user.setdefault(external_id, []).append(record)
    problems: list[str] = []
    if len(rows) != len(applicants):
        problems.append(f"{len(rows)} submissions stored for {len(applicants)} applicants")
    lost = 0
    for a in applicants:
        records = by_user.get(a.user.external_id, [])
        why = a.failure
        if why is None and len(records) != 1:
            why = f"{len(records)} submissions"
        elif why is None:
            record = records[0]
            missing = completeness(a.form, record.answers, today=a.today)
            if missing:
                why = f"incomplete: {', '.join(p.field_id for p in missing[:5])}"
            elif record.answers != (expected := a.expected()):
                diff = sorted(k for k in set(record.answers) | set(expected)
                              if record.answers.get(k) != expected.get(k))
                why = f"answers differ from what was typed: {', '.join(diff[:5])}"
            elif record.award_id != a.form.award_id:
                why = f"award {record.award_id} instead of {a.form.award_id}"
            elif not record.form_file or not (runtime.settings.files_dir / record.form_file).is_file():
                why = "rendered form missing"
        if why is not None:
            lost += 1
            if len(problems) < 10:
                problems.append(f"{a.user.external_id} ({a.form.award_id}): {why}")
    return lost, len(rows), problems


