"""The application conversation: pre-check, award, consent, one question per message, summary, declarations.

Steps (ConversationState.step) and what they wait for:
    precheck:group → precheck:track → precheck:ip → precheck:incident → award → privacy
    → ask (one field at a time; the draft's `progress["position"]` says which) ⇄ more (another project?)
    → summary (confirm, or a number to edit) → ask the declarations → submitted.
Answers and navigation live in the Draft; the state only points at it, so a restart resumes at the same question.
The draft is saved with a version check at every step, which is what keeps two events of one entrant from both
answering the same question (see `ctx.guarded`): while questions follow one another the state does not change
and is not written.
Nothing here names an award or a field: the forms (config/forms/*.yaml) say what is asked.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from bot.events import ChoiceIn, Event, FileIn, TextIn
from bot.flows import Context
from bot.replies import Choice, DocumentOut, EditOut, Reply, TextOut
from intake import after_commit, mailing, notify, queue
from intake.complete import completeness
from intake.drafts import (
    OPEN,
    SUBMITTED,
    WITHDRAWN,
    Draft,
    OpenDraft,
    draft_position,
    draft_preload,
    drafts_of,
    get_draft,
    new_draft,
    open_draft,
    save_draft,
)
from intake.files import UploadRefused, discard_upload, remove_uploads, stage_upload, upload_paths, uploads_of
from intake.forms import Field, FieldGroup, Form, Section
from intake.render import format_value
from intake.sealing import forget_opened
from intake.yes_no import yes_or_no
from knowledge import ratings

log = logging.getLogger(__name__)

PREFIX = "intake:"
BACK_WORDS = frozenset({"上一步", "返回", "back", "previous"})
SKIP_WORDS = frozenset({"跳过", "skip"})
# A multi-select question (type "choices"): each option a toggle, its value TOGGLE + the option id, and a DONE button
# that checks the selection; the words typed for DONE.
TOGGLE = "toggle:"
DONE = "done"
DONE_WORDS = frozenset({"完成", "选好了", "done"})
# A message ending in a question mark is a question to the knowledge base (no name, number or date ends so);
# in a long free-text answer it is one only when the answer is refused.
_QUESTION = re.compile(r"[?？]\s*$")
_DECLARATION = "consent"
FILE_LIST = "file_list"
# "修改 3" / "edit 3" as well as a bare number picks the summary line to change.
_EDIT = re.compile(r"^(修改|更改|改|edit|change)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Position:
    """Where in the form a question is: a field, or a field of one item of a repeatable group."""

    field: Field
    section: Section
    group: FieldGroup | None = None
    item: int = 0

    @property
    def key(self) -> str:
        return f"{self.group.id}.{self.item}.{self.field.id}" if self.group else self.field.id


class IntakeFlow:
    """Walks an entrant through the form of the award they choose; registered with the engine as a Flow."""

    name = "intake"
    commands = frozenset({"apply"})
    # The draft the conversation points at, read with the conversation at every step.
    preload = draft_preload()

    def __init__(self, forms: Mapping[str, Form]) -> None:
        self.forms = forms

    def question(self, ctx: Context) -> str | None:
        """What a button offered now answers, beside the step (bot.stamps): the draft and its version, which
        every step on the draft moves on, so a keyboard of an earlier question no longer matches."""
        row = ctx.preloaded.get(self.name) if isinstance(ctx.state.data.get("draft"), int) else None
        return None if row is None else draft_position(row)

    # -- entry ---------------------------------------------------------------------------------------------
    async def start(self, ctx: Context) -> list[Reply]:
        """/apply starts the pre-check (or offers the open drafts); /drafts lists the drafts."""
        if not ctx.campaign.is_open(ctx.clock.now()):
            return self._call_closed(ctx)
        drafts = await drafts_of(ctx.session, user_id=ctx.user.id)
        if drafts:
            return self.offer_drafts(ctx, drafts)
        return self._ask_group(ctx)

    @staticmethod
    def _call_closed(ctx: Context) -> list[Reply]:
        ctx.finish()
        return [TextOut(ctx.t("intake.closed", deadline=ctx.campaign.deadline_display.get(ctx.lang),
                              mailbox=ctx.campaign.committee.mailbox))]

    async def _past_deadline(self, ctx: Context, draft: OpenDraft) -> bool:
        """Whether the call has closed for this draft: it has, unless the committee reopened it for 需补充材料."""
        if ctx.campaign.is_open(ctx.clock.now()):
            return False
        return not await queue.awaits_more(ctx.session, draft.key)

    def offer_drafts(self, ctx: Context, drafts: Sequence[Draft]) -> list[Reply]:
        """Buttons to continue each open draft, or to start a new application."""
        ctx.state.flow, ctx.state.step = self.name, "drafts"
        choices = []
        for draft in drafts:
            form = self.forms[draft.award_id]
            done, total = form.progress(draft.answers)
            entrant = draft.answers.get("entrant_name") or ctx.t("intake.unnamed")
            label = ctx.t("intake.drafts_item", award=form.award.name.get(ctx.lang), entrant=entrant,
                          done=done, total=total)
            choices.append(Choice(label, f"{PREFIX}draft:{draft.id}"))
        choices.append(Choice(ctx.t("intake.drafts_new"), f"{PREFIX}draft:new"))
        return [TextOut(ctx.t("intake.drafts_pick"), tuple(choices))]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Route an event by the step the conversation is at."""
        step = ctx.state.step or ""
        if isinstance(event, TextIn) and _QUESTION.search(event.text) and step not in {"ask", "summary"}:
            # A rules question between the buttons: answer it, then show the same step again.
            answer = await ctx.ask(event.text.strip())
            return [TextOut(answer.answer), *await self.handle(ctx, ChoiceIn(f"{PREFIX}?"))]
        if step.startswith("precheck:"):
            return self._precheck(ctx, step.removeprefix("precheck:"), _value(event))
        if step == "drafts":
            return await self._pick_draft(ctx, _value(event))
        if step == "award":
            return await self._pick_award(ctx, _value(event))
        if step == "privacy":
            return await self._privacy(ctx, _value(event))
        draft = await self._draft(ctx)
        if draft is None and (record := await self._submitted(ctx)) is not None:
            return self._closed(ctx, record)  # the committee moved on from 需补充材料 meanwhile
        if draft is None:  # withdrawn elsewhere (/delete), purged after the retention period, or never created
            gone = isinstance(ctx.state.data.get("draft"), int)
            notice = [TextOut(ctx.t("privacy.draft_gone", days=ctx.settings.draft_retention_days))] if gone else []
            return [*notice, *await self.start(ctx)]  # the call may have closed meanwhile; other drafts offered
        replies = await self._on_draft(ctx, draft, step, event)
        await self._save(ctx, draft)  # at least touched
        return replies

    async def _submitted(self, ctx: Context) -> queue.Submission | None:
        """The record of the draft the conversation points at, when that draft is closed as submitted."""
        draft_id = ctx.state.data.get("draft")
        draft = await get_draft(ctx.connection, draft_id=draft_id, user_id=ctx.user.id) \
            if isinstance(draft_id, int) else None
        if draft is None or draft.status != SUBMITTED:
            return None
        return await queue.submission_of_draft(ctx.session, draft.key)

    @staticmethod
    def _closed(ctx: Context, record: queue.Submission) -> list[Reply]:
        ctx.finish()
        return [TextOut(ctx.t("intake.draft_closed", reference=record.reference,
                              status=queue.status_label(record.status).get(ctx.lang),
                              mailbox=ctx.campaign.committee.mailbox))]

    async def _save(self, ctx: Context, draft: OpenDraft) -> None:
        await save_draft(ctx.connection, draft, state_at=ctx.state_at)
        ctx.guarded = True  # a twin event of this entrant now conflicts on the draft's version
        ctx.preloaded[self.name] = draft.row()  # as written: the entrant's next step here starts from it

    async def _on_draft(self, ctx: Context, draft: OpenDraft, step: str, event: Event) -> list[Reply]:
        form = self.forms[draft.award_id]
        if isinstance(event, FileIn):
            return await self._file(ctx, draft, form, event)
        value = _value(event)
        if step == "more":
            return await self._more(ctx, draft, form, value)
        if step == "summary":
            return await self._summary_reply(ctx, draft, form, value)
        return await self._answer(ctx, draft, form, value, typed=isinstance(event, TextIn))

    # -- pre-check -------------------------------------------------------------------------------------------
    def _ask_group(self, ctx: Context) -> list[Reply]:
        ctx.state.step = "precheck:group"
        ctx.state.data = {}
        choices = tuple(Choice(g.name.get(ctx.lang), f"{PREFIX}group:{g.id}") for g in ctx.campaign.groups)
        return [TextOut(ctx.t("intake.precheck.group"), choices)]

    def _precheck(self, ctx: Context, stage: str, value: str | None) -> list[Reply]:
        campaign, t = ctx.campaign, ctx.t
        yes_no = (Choice(t("intake.answer_yes"), f"{PREFIX}yes"), Choice(t("intake.answer_no"), f"{PREFIX}no"))
        answer = _pick(value, ctx)
        if stage == "group":
            group = next((g for g in campaign.groups if answer in {f"group:{g.id}", g.name.zh, g.name.en.lower()}),
                         None)
            if group is None:
                return self._ask_group(ctx)
            ctx.state.data = {**ctx.state.data, "group": group.id}
            if group.in_track_scope:
                ctx.state.step = "precheck:track"
                choices = [Choice(tr.name.get(ctx.lang), f"{PREFIX}track:{tr.id}") for tr in campaign.tracks]
                choices.append(Choice(t("intake.precheck.track_other"), f"{PREFIX}track:none"))
                return [TextOut(t("intake.precheck.track"), tuple(choices))]
            ctx.state.step = "precheck:ip"
            return [TextOut(t("intake.precheck.ip"), yes_no)]
        if stage == "track":
            if answer == "track:none":
                ctx.finish()
                sep = "、" if ctx.lang == "zh" else ", "
                return [TextOut(t("intake.precheck.out_of_scope", mailbox=campaign.committee.mailbox,
                                  tracks=sep.join(tr.name.get(ctx.lang) for tr in campaign.tracks)))]
            if not (answer or "").startswith("track:"):
                return self._precheck(ctx, "group", f"{PREFIX}group:{ctx.state.data.get('group')}")
            ctx.state.step = "precheck:ip"
            return [TextOut(t("intake.precheck.ip"), yes_no)]
        if stage == "ip":
            if answer not in {"yes", "no"}:
                return [TextOut(t("intake.precheck.ip"), yes_no)]
            if answer == "no":
                ctx.finish()
                return [TextOut(t("intake.precheck.ip_refused"))]
            ctx.state.step = "precheck:incident"
            return [TextOut(t("intake.precheck.incident"), yes_no)]
        # incident: "yes" (there was one) disqualifies
        if answer not in {"yes", "no"}:
            return [TextOut(t("intake.precheck.incident"), yes_no)]
        if answer == "yes":
            ctx.finish()
            return [TextOut(t("intake.precheck.incident_refused"))]
        ctx.state.step = "award"
        return self._ask_award(ctx)

    def _ask_award(self, ctx: Context) -> list[Reply]:
        awards = ctx.campaign.awards_in(ctx.state.data["group"])
        choices = tuple(Choice(a.name.get(ctx.lang), f"{PREFIX}award:{a.id}") for a in awards if a.id in self.forms)
        return [TextOut(ctx.t("intake.award"), choices)]

    async def _pick_award(self, ctx: Context, value: str | None) -> list[Reply]:
        answer = _pick(value, ctx) or ""
        awards = ctx.campaign.awards_in(ctx.state.data["group"])
        award = next((a for a in awards if answer in {f"award:{a.id}", a.name.zh, a.name.en.lower()}), None)
        if award is None or award.id not in self.forms:
            return self._ask_award(ctx)
        ctx.state.data = {**ctx.state.data, "award": award.id}
        ctx.state.step = "privacy"
        notice = f"{ctx.t('intake.privacy_notice')}\n{ctx.t('intake.privacy_question')}"
        return [TextOut(notice, (Choice(ctx.t("intake.privacy_agree"), f"{PREFIX}agree"),
                                                  Choice(ctx.t("intake.privacy_decline"), f"{PREFIX}decline")))]

    async def _privacy(self, ctx: Context, value: str | None) -> list[Reply]:
        answer = _pick(value, ctx)
        if answer in {"decline", "no", ctx.t("intake.privacy_decline").lower()}:
            ctx.finish()
            return [TextOut(ctx.t("intake.privacy_declined"))]
        if answer not in {"agree", "yes", ctx.t("intake.privacy_agree").lower()}:
            return await self._pick_award(ctx, f"{PREFIX}award:{ctx.state.data['award']}")
        draft = await new_draft(ctx.connection, user_id=ctx.user.id, award_id=ctx.state.data["award"],
                                now=ctx.clock.now())
        form = self.forms[draft.award_id]
        ctx.state.data = {"draft": draft.id}
        replies = [TextOut(ctx.t("intake.started", award=form.award.name.get(ctx.lang))), *self._next(ctx, draft, form)]
        await self._save(ctx, draft)  # the first question's position
        return replies

    async def _pick_draft(self, ctx: Context, value: str | None) -> list[Reply]:
        answer = _pick(value, ctx) or ""
        if answer == "draft:new":
            return self._ask_group(ctx)
        draft_id = answer.removeprefix("draft:")
        draft = await get_draft(ctx.connection, draft_id=int(draft_id), user_id=ctx.user.id) \
            if _small_number(draft_id) else None
        if draft is None or draft.status != OPEN:
            return self.offer_drafts(ctx, await drafts_of(ctx.session, user_id=ctx.user.id))
        if await self._past_deadline(ctx, draft):
            return self._call_closed(ctx)
        draft.touch(ctx.clock.now())
        form = self.forms[draft.award_id]
        ctx.state.data = {"draft": draft.id}
        replies = [TextOut(ctx.t("intake.resumed", award=form.award.name.get(ctx.lang))), *self._next(ctx, draft, form)]
        await self._save(ctx, draft)
        return replies

    # -- the form --------------------------------------------------------------------------------------------
    async def _draft(self, ctx: Context) -> OpenDraft | None:
        draft_id = ctx.state.data.get("draft")
        if not isinstance(draft_id, int):
            return None
        row = ctx.preloaded.get(self.name, ())
        if row is None:  # read with the conversation, from the same data["draft"]: gone
            draft = None
        elif row and row[0] == draft_id:  # read with it, or as this flow last wrote it
            draft = open_draft(row)
        else:
            draft = await get_draft(ctx.connection, draft_id=draft_id, user_id=ctx.user.id)
        if draft is None or draft.status != OPEN:
            return None
        draft.touch(ctx.clock.now())  # any activity on the draft keeps it from being purged
        return draft

    def _next(self, ctx: Context, draft: OpenDraft, form: Form, *, prefix: list[Reply] | None = None) -> list[Reply]:
        """Ask the first unanswered question, offer another project, or show the summary."""
        replies = list(prefix or [])
        declaring = bool(draft.progress.get("declaring"))
        for kind, position in _pending(form, draft.answers, draft.progress, declaring=declaring):
            if kind == "more":
                ctx.state.step = "more"
                ctx.state.data = {**ctx.state.data, "group": position.group.id}  # type: ignore[union-attr]
                group = position.group
                assert group is not None
                yes_no = (Choice(ctx.t("intake.answer_yes"), f"{PREFIX}yes"), Choice(ctx.t("intake.answer_no"), f"{PREFIX}no"))
                return [*replies, TextOut(ctx.t("intake.more", prompt=group.more.get(ctx.lang)), yes_no)]
            ctx.state.step = "ask"
            draft.progress = {**draft.progress, "position": position.key}
            return [*replies, self._question(ctx, draft, form, position)]
        if not declaring:
            ctx.state.step = "summary"
            return [*replies, *self._summary(ctx, draft, form)]
        return replies  # declarations all accepted: the caller submits

    def _question(self, ctx: Context, draft: OpenDraft, form: Form, position: Position) -> TextOut:
        field, lang = position.field, ctx.lang
        done, total = form.progress(draft.answers)
        section = position.section.title.get(lang)
        if position.group is not None:
            section = ctx.t("intake.group_item", label=position.group.label.get(lang), n=position.item + 1)
        lines = [ctx.t("intake.progress", done=min(done + 1, total), total=total, section=section),
                 field.prompt.get(lang)]
        if field.help is not None:
            lines.append(ctx.t("intake.help", help=field.help.get(lang)))
        choices: list[Choice] = []
        if field.type == _DECLARATION:  # 不同意 is answered with why every declaration is needed
            choices += [Choice(ctx.t("intake.privacy_agree"), f"{PREFIX}yes"),
                        Choice(ctx.t("intake.privacy_decline"), f"{PREFIX}no")]
        elif field.type == "choice":
            choices += [Choice(c.name.get(lang), f"{PREFIX}{c.id}") for c in field.choices]
        elif field.type == "choices":
            lines.append(ctx.t("intake.pick_hint"))
            picked = _picked(draft, position)
            choices += [Choice(c.name.get(lang), f"{PREFIX}{TOGGLE}{c.id}", chosen=c.id in picked)
                        for c in field.choices]
            choices.append(Choice(ctx.t("intake.done"), f"{PREFIX}{DONE}"))
        if not field.required or field.type == "file_list":
            choices.append(Choice(ctx.t("intake.skip"), f"{PREFIX}skip"))
        if draft.progress.get("history"):
            choices.append(Choice(ctx.t("intake.back"), f"{PREFIX}back"))
        return TextOut("\n".join(lines), tuple(choices))

    async def _answer(self, ctx: Context, draft: OpenDraft, form: Form, value: str | None, *, typed: bool) -> list[Reply]:
        position = _position(form, draft.answers, _asked(ctx, draft))
        if position is None:
            return self._next(ctx, draft, form)
        text = (value or "").strip()
        word = text.removeprefix(PREFIX).lower()
        if word in {"back"} | BACK_WORDS:
            return self._back(ctx, draft, form)
        field = position.field
        if typed and _QUESTION.search(text) and field.type != "long_text":
            answer = await ctx.ask(text)
            return [TextOut(answer.answer), self._question(ctx, draft, form, position)]
        if field.type == "choices" and (word.startswith(TOGGLE) or word in {DONE} | DONE_WORDS):
            return await self._pick(ctx, draft, form, position, word)
        if word in {"skip"} | SKIP_WORDS and (not field.required or field.type == "file_list"):
            stored: Any = draft.answers.get(field.id) if field.type == "file_list" else None
            return await self._store(ctx, draft, form, position, stored)
        raw: Any = text.removeprefix(PREFIX)
        if field.type == "choice" and value and value.startswith(PREFIX):
            raw = next((c.zh for c in field.choices if c.id == raw), raw)
        if field.type == _DECLARATION and raw == "yes":
            raw = "同意"
        if field.type == "file_list":
            raw = draft.answers.get(field.id) or []
        checked = form.check(field, raw, lang=ctx.lang, today=ctx.clock.now().date())
        if not checked.ok:
            if typed and _QUESTION.search(text):  # a question typed into a free-text field
                answer = await ctx.ask(text)
                return [TextOut(answer.answer), self._question(ctx, draft, form, position)]
            error = checked.error.get(ctx.lang) if checked.error else ""
            return [TextOut(ctx.t("intake.invalid", error=error)), self._question(ctx, draft, form, position)]
        if field.type == _DECLARATION and checked.value is not True:
            return [TextOut(ctx.t("intake.not_accepted")), self._question(ctx, draft, form, position)]
        rule = form.language_rule(draft.answers)
        if rule is not None and field.type == "long_text" and isinstance(checked.value, str) \
                and not rule.accepts(checked.value):
            return [TextOut(rule.reason.get(ctx.lang)), self._question(ctx, draft, form, position)]
        return await self._store(ctx, draft, form, position, checked.value)

    async def _pick(self, ctx: Context, draft: OpenDraft, form: Form, position: Position, word: str) -> list[Reply]:
        """A toggle pressed (the question shown again in place, the option's mark flipped) or 完成 (the selection
        checked and stored). The selection so far is kept in the draft's progress, saved with every press."""
        field = position.field
        picked = _picked(draft, position)

        def again() -> EditOut:  # the question with its toggles as they now stand, in place of the one pressed
            question = self._question(ctx, draft, form, position)
            return EditOut(question.text, question.choices)

        if word.startswith(TOGGLE):
            option = next((c for c in field.choices if c.id == word.removeprefix(TOGGLE)), None)
            if option is not None and option.id in picked:
                picked.remove(option.id)
            elif option is not None:
                # An option such as 无 excludes the others: choosing it clears them, choosing another clears it.
                picked = [option.id] if option.exclusive else [
                    *(p for p in picked if not field.choice(p).exclusive), option.id]
            draft.progress = {**draft.progress, "picking": {
                "at": position.key, "ids": [c.id for c in field.choices if c.id in picked]}}
            return [again()]
        if not picked:
            return [TextOut(ctx.t("intake.pick_none")), again()]
        checked = form.check(field, ",".join(picked), lang=ctx.lang, today=ctx.clock.now().date())
        if not checked.ok:  # too many for the field's limits, say: the selection stays as it is
            error = checked.error.get(ctx.lang) if checked.error else ""
            return [TextOut(ctx.t("intake.invalid", error=error)), again()]
        sep = "、" if ctx.lang == "zh" else ", "
        labels = sep.join(field.choice(p).name.get(ctx.lang) for p in picked)
        # The question as the entrant leaves it: its buttons gone, the selection under it.
        shown = EditOut(f"{again().text}\n\n{ctx.t('intake.picked', labels=labels)}")
        return [shown, *await self._store(ctx, draft, form, position, checked.value)]

    async def _store(self, ctx: Context, draft: OpenDraft, form: Form, position: Position, value: Any) -> list[Reply]:
        answers = _with_answer(draft.answers, position, value)
        draft.answers = answers
        history = [*draft.progress.get("history", []), position.key]
        # Answered: a selection being made for it (a multi-select answered by typing, say) is done with; one made
        # for a question left with 上一步 waits for it.
        progress = {k: v for k, v in draft.progress.items()
                    if k != "picking" or (isinstance(v, dict) and v.get("at") != position.key)}
        draft.progress = {**progress, "history": history}
        replies = self._next(ctx, draft, form)
        if draft.progress.get("declaring") and not replies:
            return await self._submit(ctx, draft, form)
        return replies

    def _back(self, ctx: Context, draft: OpenDraft, form: Form) -> list[Reply]:
        history = list(draft.progress.get("history", []))
        if draft.progress.get("declaring"):
            last = _position(form, draft.answers, history[-1]) if history else None
            if last is None or last.field.type != _DECLARATION:
                # At the first declaration the step before is the summary, which gave no answer to withdraw.
                draft.progress = {**draft.progress, "declaring": False}
                return self._next(ctx, draft, form)
        if not history:
            position = _position(form, draft.answers, _asked(ctx, draft))
            reply = [TextOut(ctx.t("intake.nothing_to_go_back"))]
            return reply + ([self._question(ctx, draft, form, position)] if position else [])
        key = history.pop()
        position = _position(form, draft.answers, key)
        closed = list(draft.progress.get("closed", []))
        if position is not None and position.group is not None and position.group.id in closed:
            closed.remove(position.group.id)
        draft.progress = {**draft.progress, "history": history, "closed": closed}
        if position is not None:
            draft.answers = _without_answer(draft.answers, position)
        return self._next(ctx, draft, form)

    async def _more(self, ctx: Context, draft: OpenDraft, form: Form, value: str | None) -> list[Reply]:
        answer = _pick(value, ctx)
        group_id = ctx.state.data.get("group")
        if answer in {"back"} | BACK_WORDS:
            return self._back(ctx, draft, form)
        if answer == "yes":
            items = list(draft.answers.get(group_id) or [])
            draft.answers = {**draft.answers, group_id: [*items, {}]}
        elif answer == "no":
            draft.progress = {**draft.progress, "closed": [*draft.progress.get("closed", []), group_id]}
        return self._next(ctx, draft, form)

    # -- attachments -------------------------------------------------------------------------------------------
    async def _file(self, ctx: Context, draft: OpenDraft, form: Form, event: FileIn) -> list[Reply]:
        position = _position(form, draft.answers, _asked(ctx, draft))
        try:
            staged = await asyncio.to_thread(
                stage_upload, files_dir=ctx.settings.files_dir, owner=str(ctx.user.id), file_name=event.file_name,
                source=event.path, mime_type=event.mime_type, size=event.size,
            )
        except UploadRefused as refused:
            reply = TextOut(ctx.t("intake.file_refused", reason=refused.reason.get(ctx.lang)))
        else:
            stored = staged.stored
            entry = {"name": stored.name, "size": stored.size, "file_id": stored.path, "sha256": stored.sha256}
            field = _file_field(form)
            files = [*(draft.answers.get(field.id) or []), entry]
            # The form's limits (how many, how large) hold when a file arrives: the ones kept before stay.
            checked = form.check(field, files, lang=ctx.lang)
            if checked.ok:
                draft.answers = {**draft.answers, field.id: files}
                # Into place once the draft naming it has committed; a step rolled back leaves it staged, for
                # the purge to remove.
                ctx.after_commit.append(partial(after_commit.place_uploads, ctx.settings.files_dir, [staged]))
                reply = TextOut(ctx.t("intake.file_saved", name=stored.name, size=_size(stored.size)))
            else:
                await asyncio.to_thread(discard_upload, staged)
                reason = checked.error.get(ctx.lang) if checked.error else ""
                reply = TextOut(ctx.t("intake.file_not_kept", reason=reason, name=stored.name))
        if ctx.state.step == "ask" and position is not None:
            return [reply, self._question(ctx, draft, form, position)]
        return [reply, *self._next(ctx, draft, form)]

    # -- summary, declarations, submission -------------------------------------------------------------------
    def _summary(self, ctx: Context, draft: OpenDraft, form: Form) -> list[Reply]:
        lines = [ctx.t("intake.summary_title")]
        current = None
        for n, (position, value) in enumerate(_summary_rows(form, draft.answers), start=1):
            if position.section.id != current:
                current = position.section.id
                lines.append(f"\n【{position.section.title.get(ctx.lang)}】")
            label = position.field.label.get(ctx.lang)
            if position.group is not None:
                label = f"{position.group.label.get(ctx.lang)} {position.item + 1} · {label}"
            # The same wording as the generated form, so what the entrant checks is what the committee reads.
            lines.append(ctx.t("intake.summary_item", n=n, label=label,
                               value=format_value(position.field, value, lang=ctx.lang, value_lang=ctx.lang)))
        lines.append("\n" + ctx.t("intake.summary_hint"))
        choices = (Choice(ctx.t("intake.confirm"), f"{PREFIX}confirm"), Choice(ctx.t("intake.back"), f"{PREFIX}back"))
        return [TextOut("\n".join(lines), choices)]

    async def _summary_reply(self, ctx: Context, draft: OpenDraft, form: Form, value: str | None) -> list[Reply]:
        answer = _pick(value, ctx) or ""
        if answer in {"confirm", "yes"}:
            if await self._past_deadline(ctx, draft):
                return self._call_closed(ctx)
            problems = completeness(form, draft.answers, today=ctx.clock.now().date())
            problems = [p for p in problems if form.field(p.field_id).type != _DECLARATION]
            if problems:
                return self._problems(ctx, draft, form, problems)
            # Declared afresh every time (a draft reopened for more materials holds the earlier ones).
            declarations = {s.field.id for s in form.fields() if s.field.type == _DECLARATION and s.group is None}
            draft.answers = {k: v for k, v in draft.answers.items() if k not in declarations}
            # Nor does 上一步 go back into the declarations of an earlier round.
            history = [key for key in draft.progress.get("history", []) if key not in declarations]
            draft.progress = {**draft.progress, "declaring": True, "history": history}
            return self._next(ctx, draft, form, prefix=[TextOut(ctx.t("intake.declarations"))])
        if answer in {"back"} | BACK_WORDS:
            return self._back(ctx, draft, form)
        if value is not None and _QUESTION.search(value):
            return [TextOut((await ctx.ask(value.strip())).answer), *self._summary(ctx, draft, form)]
        rows = list(_summary_rows(form, draft.answers))
        answer = _EDIT.sub("", answer).strip()
        if _small_number(answer) and 1 <= int(answer) <= len(rows):
            position, _ = rows[int(answer) - 1]
            draft.answers = _without_answer(draft.answers, position)
            return self._next(ctx, draft, form)
        return [TextOut(ctx.t("intake.edit_unknown")), *self._summary(ctx, draft, form)]

    def _problems(self, ctx: Context, draft: OpenDraft, form: Form, problems: list[Any]) -> list[Reply]:
        lines = [ctx.t("intake.incomplete")]
        lines += [ctx.t("intake.incomplete_item", label=p.label.get(ctx.lang), reason=p.reason.get(ctx.lang))
                  for p in problems[:10]]
        answers = dict(draft.answers)
        for problem in problems:  # asking them again: their stored answers are what is wrong
            # Files are never dropped unasked: the entrant removes them from the summary if need be.
            if problem.item is None and form.field(problem.field_id).type != FILE_LIST:
                answers.pop(problem.field_id, None)
        draft.answers = answers
        return self._next(ctx, draft, form, prefix=[TextOut("\n".join(lines))])

    @staticmethod
    def _mailer(ctx: Context, *, reference: str) -> Callable[[], Awaitable[None]]:
        """Mail the committee after the submission has committed, so SMTP never holds the transaction open."""
        settings, campaign, sessions, clock = ctx.settings, ctx.campaign, ctx.sessions, ctx.clock

        async def send() -> None:
            # A failure is logged and retried later by the bot's housekeeping; the entrant is answered either way.
            await mailing.mail_entry(sessions, reference=reference, settings=settings, campaign=campaign,
                                     clock=clock)

        return send

    async def _submit(self, ctx: Context, draft: OpenDraft, form: Form) -> list[Reply]:
        now = ctx.clock.now()
        if await self._past_deadline(ctx, draft):  # a form begun before the deadline and finished after it
            return self._call_closed(ctx)
        try:
            queued = await queue.submit(ctx.session, draft_key=draft.key, user_id=ctx.user.id, form=form,
                                        answers=draft.answers, campaign=ctx.campaign, now=now)
        except queue.IncompleteEntry as incomplete:
            draft.progress = {**draft.progress, "declaring": False}
            return self._problems(ctx, draft, form, list(incomplete.problems))
        submission = queued.record
        if queued.outcome == queue.FOUND:  # queued already and not waiting for materials: nothing to hand over
            draft.status = SUBMITTED
            return self._closed(ctx, submission)
        draft.status = SUBMITTED
        # Resubmitted after 需补充材料, the record is back in first review rather than new.
        key = "intake.notify.staff_new" if queued.outcome == queue.CREATED else "intake.notify.staff_more"
        await notify.notify_staff(ctx.session, settings=ctx.settings, text=ctx.texts.t(
            key, "zh", reference=submission.reference, award=ctx.campaign.award(form.award_id).name.zh,
            entrant=submission.entrant_name))
        ctx.finish()
        replies: list[Reply] = [
            TextOut(ctx.t("intake.submitted", reference=submission.reference, subject=submission.subject)),
        ]
        caption = ctx.t("intake.document_caption", title=f"{ctx.campaign.name.zh}申报表")
        later = TextOut(ctx.t("intake.document_later", mailbox=ctx.campaign.committee.mailbox))
        sessions, campaign, files_dir, reference = ctx.sessions, ctx.campaign, ctx.settings.files_dir, submission.reference

        async def render() -> None:
            # After the commit: no transaction (nor SQLite's write lock) is held while the worker writes it, and a
            # failure loses no submission. The entrant's copy joins the replies once it exists.
            path = await after_commit.render_record_form(sessions, reference=reference, form=form, campaign=campaign,
                                                         files_dir=files_dir, submitted_at=now)
            replies.append(DocumentOut(path=path, file_name=path.name, caption=caption) if path else later)

        ctx.after_commit.append(render)  # before the mail, which attaches it
        ctx.after_commit.append(self._mailer(ctx, reference=submission.reference))
        return replies


class DraftsFlow:
    """/drafts: the open drafts, each continued in the intake flow."""

    name = "drafts"
    commands = frozenset({"drafts"})

    def __init__(self, intake: IntakeFlow) -> None:
        self.intake = intake

    async def start(self, ctx: Context) -> list[Reply]:
        """Hand over to the intake flow with the drafts offered, or say there are none."""
        drafts = await drafts_of(ctx.session, user_id=ctx.user.id)
        if not drafts:
            ctx.finish()
            return [TextOut(ctx.t("intake.drafts_none"))]
        return self.intake.offer_drafts(ctx, drafts)

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Never active past its first reply (the intake flow takes over)."""
        return await self.start(ctx)


class StatusFlow:
    """/status: each of the entrant's submissions with its reference and status."""

    name = "status"
    commands = frozenset({"status"})

    async def start(self, ctx: Context) -> list[Reply]:
        """List the user's submissions, newest first."""
        ctx.finish()
        records = await queue.submissions_of(ctx.session, ctx.user.id)
        if not records:
            return [TextOut(ctx.t("intake.status_none"))]
        lines = [
            ctx.t("intake.status_item", reference=r.reference, award=ctx.campaign.award(r.award_id).name.get(ctx.lang),
                  entrant=r.entrant_name, status=queue.status_label(r.status).get(ctx.lang))
            for r in records
        ]
        return [TextOut("\n".join(lines))]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Never active past its first reply."""
        return await self.start(ctx)


class PrivacyFlow:
    """/privacy: the personal-data notice, what the bot keeps about the user and why, and how to erase it."""

    name = "privacy"
    commands = frozenset({"privacy"})

    async def start(self, ctx: Context) -> list[Reply]:
        """Show the notice and leave."""
        ctx.finish()
        parts = [ctx.t("intake.privacy_notice"), ctx.t("privacy.stored"), ctx.t("privacy.protected"),
                 ctx.t("privacy.retention", days=ctx.settings.draft_retention_days), ctx.t("privacy.delete"),
                 ctx.t("privacy.submitted", mailbox=ctx.campaign.committee.mailbox)]
        return [TextOut("\n\n".join(parts))]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Never active past its first reply."""
        return await self.start(ctx)


class DeleteFlow:
    """/delete: after a confirmation, withdraw every open draft and erase its answers and uploaded files.

    Also erased: the entrant's own copy of submitted entries (the draft behind each) and their display name,
    which is not stored again. Submitted entries stay with the committee: the guideline has it keep them
    (snapshot, 申报表, attachments, review history); only the committee withdraws one.
    """

    name = "delete"
    commands = frozenset({"delete"})
    prefix = "delete:"

    async def start(self, ctx: Context) -> list[Reply]:
        """Ask for confirmation with two buttons."""
        ctx.state.step = "confirm"
        choices = (Choice(ctx.t("intake.delete.confirm"), f"{self.prefix}confirm"),
                   Choice(ctx.t("intake.delete.keep"), f"{self.prefix}keep"))
        return [TextOut(ctx.t("intake.delete.ask"), choices)]

    async def handle(self, ctx: Context, event: Event) -> list[Reply]:
        """Erase on confirm, keep everything on anything else said with a button or a no."""
        answer = (_value(event) or "").strip()
        if answer in {f"{self.prefix}confirm", ctx.t("intake.delete.confirm")}:
            return await self._erase(ctx)
        ctx.finish()
        return [TextOut(ctx.t("intake.delete.kept"))]

    async def _erase(self, ctx: Context) -> list[Reply]:
        ctx.finish()
        drafts = await drafts_of(ctx.session, user_id=ctx.user.id)
        for draft in drafts:
            draft.status = WITHDRAWN
            draft.set_answers({})
            draft.set_progress({})
        # The committee's snapshot is in the record; if it asks for more materials, the draft is refilled from it.
        for draft in await drafts_of(ctx.session, user_id=ctx.user.id, status=SUBMITTED):
            draft.set_answers({})
            draft.set_progress({})
        ctx.user.erase(ctx.clock.now())
        # The rules answers kept for 👍/👎 quote what the user asked.
        await ratings.forget_user(ctx.session, ctx.user.id)
        records = await queue.submissions_of(ctx.session, ctx.user.id)
        keep = {path for r in records for path in upload_paths([r.attachments, r.answers])}
        # The upload flow stores under the user id.
        user_id, files_dir = ctx.user.id, ctx.settings.files_dir

        async def remove_files() -> None:
            removed = await asyncio.to_thread(
                lambda: remove_uploads(files_dir, uploads_of(files_dir, str(user_id)) - keep))
            log.info("user %s: %d uploaded files removed", user_id, removed)

        # Files go once the withdrawal is committed, so a failed transaction never leaves drafts without them;
        # so do the plain values this process remembers from opening answers (intake.sealing).
        ctx.after_commit.append(remove_files)
        ctx.after_commit.append(_forget_opened)
        log.info("user %s erased %d drafts; %d submitted entries kept", ctx.user.id, len(drafts), len(records))
        replies = [TextOut(ctx.t("intake.delete.done", drafts=len(drafts)))]
        if records:
            references = "、" if ctx.lang == "zh" else ", "
            replies.append(TextOut(ctx.t("intake.delete.submitted_kept",
                                         references=references.join(r.reference for r in records),
                                         mailbox=ctx.campaign.committee.mailbox)))
        return replies


async def _forget_opened() -> None:
    forget_opened()


# -- navigation over the form (pure functions of form + answers) ---------------------------------------------------
def _pending(
    form: Form, answers: Mapping[str, Any], progress: Mapping[str, Any], *, declaring: bool
) -> Iterator[tuple[str, Position]]:
    """The questions still open, in asking order: ("ask", position) or ("more", a position in the group)."""
    closed = set(progress.get("closed", []))
    for section in form.sections:
        for entry in section.fields:
            if isinstance(entry, FieldGroup):
                if declaring:
                    continue
                items = [i for i in (answers.get(entry.id) or []) if isinstance(i, dict)]
                for n, item in enumerate(items):
                    for field in entry.fields:
                        if field.id not in item:
                            yield "ask", Position(field, section, entry, n)
                if len(items) < entry.repeat.min:
                    yield "ask", Position(entry.fields[0], section, entry, len(items))
                elif len(items) < entry.repeat.max and entry.id not in closed:
                    yield "more", Position(entry.fields[0], section, entry, len(items))
            elif (entry.type == _DECLARATION) == declaring and entry.id not in answers \
                    and form.visible(entry, answers):
                yield "ask", Position(entry, section)


def _asked(ctx: Context, draft: OpenDraft) -> object:
    """The key of the question last asked; a conversation saved by an earlier version keeps it in its state."""
    return draft.progress.get("position", ctx.state.data.get("position"))


def _position(form: Form, answers: Mapping[str, Any], key: object) -> Position | None:
    if not isinstance(key, str):
        return None
    parts = key.split(".")
    try:
        slot = form.slot(parts[-1])
    except KeyError:
        return None
    if len(parts) == 3 and slot.group is not None and _small_number(parts[1]):
        return Position(slot.field, slot.section, slot.group, int(parts[1]))
    return Position(slot.field, slot.section)


def _with_answer(answers: Mapping[str, Any], position: Position, value: Any) -> dict[str, Any]:
    out = dict(answers)
    if position.group is None:
        out[position.field.id] = value
        return out
    items = [dict(i) for i in (out.get(position.group.id) or [])]
    while len(items) <= position.item:
        items.append({})
    items[position.item][position.field.id] = value
    out[position.group.id] = items
    return out


def _without_answer(answers: Mapping[str, Any], position: Position) -> dict[str, Any]:
    out = dict(answers)
    if position.group is None:
        out.pop(position.field.id, None)
        return out
    items = [dict(i) for i in (out.get(position.group.id) or [])]
    if position.item < len(items):
        items[position.item].pop(position.field.id, None)
        if not items[position.item] and position.item == len(items) - 1:
            items.pop()
    out[position.group.id] = items
    return out


def _summary_rows(form: Form, answers: Mapping[str, Any]) -> Iterator[tuple[Position, Any]]:
    """Every answered, visible, non-declaration field in form order, numbered by the caller for editing."""
    for section in form.sections:
        for entry in section.fields:
            if isinstance(entry, FieldGroup):
                for n, item in enumerate(answers.get(entry.id) or []):
                    for field in entry.fields:
                        if field.id in item:
                            yield Position(field, section, entry, n), item[field.id]
            elif entry.type != _DECLARATION and form.visible(entry, answers) and entry.id in answers:
                yield Position(entry, section), answers[entry.id]


def _picked(draft: OpenDraft, position: Position) -> list[str]:
    """The options chosen so far with the toggles of the multi-select question at `position`."""
    picking = draft.progress.get("picking")
    if not isinstance(picking, dict) or picking.get("at") != position.key:
        return []
    ids = {c.id for c in position.field.choices}
    return [i for i in picking.get("ids", []) if i in ids]


def _file_field(form: Form) -> Field:
    """The form's field that lists the files uploaded in the chat."""
    return next(s.field for s in form.fields() if s.field.type == FILE_LIST and s.group is None)


def _small_number(text: str) -> bool:
    """Digits int() reads and a database id can hold: "²" and "①" count as digits for isdigit(), not for int()."""
    return text.isascii() and text.isdecimal() and len(text) <= 18


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(size // 1024, 1)} KB"


def _value(event: Event) -> str | None:
    if isinstance(event, TextIn):
        return event.text
    if isinstance(event, ChoiceIn):
        return event.value
    return None


def _pick(value: str | None, ctx: Context) -> str | None:
    """A button's value without our prefix; typed text as "yes" or "no" when it is one of the yes or no words
    (intake.yes_no, the same the declarations take), else lower-cased."""
    if value is None:
        return None
    if value.startswith(PREFIX):
        return value.removeprefix(PREFIX)
    verdict = yes_or_no(value)
    if verdict is not None:
        return "yes" if verdict else "no"
    return value.strip().lower()


__all__ = ["DeleteFlow", "DraftsFlow", "IntakeFlow", "PrivacyFlow", "StatusFlow"]
