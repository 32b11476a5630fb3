"""Was this helpful? 👍 / 👎 under each answered rules question, and what a press of them does.

Only an answer outside a form carries the buttons. Mid-form the answer is followed at once by the form's question
asked again, whose buttons are the ones to press next: two keyboards in a row would leave the entrant wondering
which one the form waits for, and in the terminal, where a number picks from the choices last shown, "1" could no
longer mean the form's first option. Declines and statements carry none: there is no answer to rate.

A button names the answer it rates (knowledge.ratings), not the question the conversation stands at, so it is
taken whatever was said since, like a language button; it counts once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.replies import Choice, Reply, StaleOut, TextOut
from intake.sensitive import redact
from knowledge.question import is_traditional, to_traditional
from knowledge.ratings import Rated, Vote, keep_answer, rate

if TYPE_CHECKING:
    from bot.flows import Context
    from knowledge.answer import Answer

__all__ = ["RATE_CHOICE_PREFIX", "offer", "press"]

RATE_CHOICE_PREFIX = "rate:"
_VOTES = {"up": Vote.HELPFUL, "down": Vote.UNHELPFUL}


async def offer(ctx: Context, question: str, answer: Answer) -> TextOut:
    """The reply to a rules question asked outside a form: an answer keeps its question for a rating, and offers
    the buttons in the answer's language."""
    if not answer.answered:
        return TextOut(answer.answer)
    rating_id = await keep_answer(ctx.session, user_id=ctx.user.id, channel=ctx.user.channel,
                                  question=redact(question), answer=redact(answer.answer), lang=answer.lang,
                                  now=ctx.clock.now())
    # In the script of the answer above them: 繁體 under an answer in 繁體
    script = to_traditional if answer.lang == "zh" and is_traditional(answer.question) else str

    def label(key: str) -> str:
        return script(ctx.texts.t(key, answer.lang))

    return TextOut(answer.answer, choices=(
        Choice(label("feedback.helpful"), f"{RATE_CHOICE_PREFIX}{rating_id}:up"),
        Choice(label("feedback.unhelpful"), f"{RATE_CHOICE_PREFIX}{rating_id}:down"),
    ))


async def press(ctx: Context, value: str) -> list[Reply]:
    """Count a 👍 or 👎 (a 👎 puts the question and the answer in the maintainers' inbox); a second press, or one
    on an answer no longer kept, is answered politely and changes nothing."""
    rating_id, _, which = value.removeprefix(RATE_CHOICE_PREFIX).partition(":")
    vote = _VOTES.get(which)
    if vote is None or not rating_id.isdecimal():
        return [StaleOut(ctx.t("feedback.gone"))]
    match await rate(ctx.session, int(rating_id), user_id=ctx.user.id, vote=vote, now=ctx.clock.now(),
                     edition=ctx.campaign.edition):
        case Rated.COUNTED:
            key = "feedback.thanks_helpful" if vote is Vote.HELPFUL else "feedback.thanks_unhelpful"
            return [TextOut(ctx.t(key, mailbox=ctx.campaign.committee.mailbox))]
        case Rated.ALREADY:
            return [StaleOut(ctx.t("feedback.already"))]
        case _:
            return [StaleOut(ctx.t("feedback.gone"))]
