"""`kcxf kb …` and `kcxf ask`: the maintainers' tools for the knowledge base."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table
from rich.text import Text

from bot.runtime import Runtime
from knowledge.faq import FaqEntry, dump_faq, load_faq
from knowledge.unanswered import DISLIKED

# The index and its libraries (chromadb, bm25s) are imported by the commands that use them: `kcxf` registers
# these commands beside others that need none of it.
if TYPE_CHECKING:
    from knowledge.admin import KnowledgeAdmin
    from knowledge.answer import Answer
    from knowledge.grouping import QuestionGroup
    from knowledge.ratings import Votes

app = typer.Typer(help="Keep the knowledge base right: documents, FAQ, unanswered questions, evaluation.",
                  no_args_is_help=True)
faq_app = typer.Typer(help="The curated FAQ (edit the YAML and `sync`, or change entries one by one).",
                      no_args_is_help=True)
app.add_typer(faq_app, name="faq")
out = Console()
err = Console(stderr=True)
T = TypeVar("T")
# Who made a change, as the knowledge revision records it.
BY = "cli"


def _admin(work: Callable[[KnowledgeAdmin], Awaitable[T]]) -> T:
    """Run one maintenance step in a fresh runtime; a refused change is printed (in English) and exits 1."""
    from knowledge.admin import KnowledgeEditError

    runtime = Runtime.open()

    async def run() -> T:
        try:
            return await work(runtime.knowledge_admin)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except KnowledgeEditError as exc:
        for message in exc.messages(runtime.texts, "en"):
            err.print(message, markup=False, highlight=False)
        raise typer.Exit(1) from None


def _answer_json(answer: Answer) -> str:
    return json.dumps(answer.model_dump(), ensure_ascii=False)


def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in Chinese or English.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per answer.")] = False,
    batch: Annotated[typer.FileText | None, typer.Option(
        help="JSONL file with a `question` key on each line; - reads standard input.", encoding="utf-8")] = None,
) -> None:
    """Answer a question (or a batch of them) as the bot would."""
    if (question is None) == (batch is None):
        err.print("Give a question or --batch FILE (one of them).")
        raise typer.Exit(2)
    runtime = Runtime.open()
    if batch is not None:
        for n, line in enumerate(batch.read().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                q = str(json.loads(line)["question"])
            except (ValueError, KeyError, TypeError):
                err.print(f"{batch.name}:{n}: expected a JSON object with a `question` key")
                raise typer.Exit(2) from None
            answer = asyncio.run(runtime.knowledge.answer(q))
            out.print(_answer_json(answer) if as_json else answer.answer, soft_wrap=True, markup=False,
                      highlight=False)
        return
    assert question is not None
    answer = asyncio.run(runtime.ask_and_log(question, channel="cli"))
    if as_json:
        out.print(_answer_json(answer), soft_wrap=True, markup=False, highlight=False)
    else:
        out.print(answer.answer, markup=False, highlight=False, soft_wrap=True)


@app.command()
def ingest(paths: Annotated[list[Path], typer.Argument(help="Markdown, text, .docx or PDF files.")]) -> None:
    """Add or update documents; unchanged ones are skipped."""
    from knowledge.ingest import IngestError, read_document

    async def work(admin: KnowledgeAdmin) -> int:
        failed = 0
        for path in track(paths, description="Indexing", console=err):
            try:
                n = await admin.ingest_document(read_document(path), by=BY)
            except IngestError as exc:
                err.print(f"[red]{exc}[/red]")
                failed += 1
                continue
            out.print(f"{path}: " + ("unchanged" if n is None else f"{n} passages"))
        return failed

    if _admin(work):
        raise typer.Exit(1)


@app.command("list")
def list_docs() -> None:
    """The indexed documents with their language and number of passages."""
    table = Table("doc", "lang", "title", "passages", "digest")
    for d in Runtime.open().index.documents():
        table.add_row(d.doc, d.lang, d.title, str(d.chunks), d.digest)
    out.print(table)


@app.command()
def remove(doc: Annotated[str, typer.Argument(help="Document id as `kb list` shows it.")]) -> None:
    """Remove a document (every language) from the index."""
    n = _admin(lambda admin: admin.remove_document(doc, by=BY))
    out.print(f"Removed {doc}: {n} passages.")


@app.command()
def unanswered(
    limit: Annotated[int, typer.Option(help="How many groups, the most pressing first.")] = 50,
    show_all: Annotated[bool, typer.Option("--all", help="Include groups already answered or ignored.")] = False,
    statements: Annotated[bool, typer.Option("--statements", help="The messages that asked nothing instead.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the groups as a JSON list.")] = False,
) -> None:
    """What the bot could not answer, grouped by question and ranked by count and recency."""
    runtime = Runtime.open()

    async def read() -> tuple[list[QuestionGroup], Votes]:
        inbox = runtime.knowledge_inbox
        try:
            return await inbox.groups(include_resolved=show_all, statements=statements), await inbox.votes()
        finally:
            await runtime.close()

    found, votes = asyncio.run(read())
    groups = found[:limit]
    if as_json:
        out.print(json.dumps([_group_json(g) for g in groups], ensure_ascii=False), soft_wrap=True, markup=False,
                  highlight=False)
        return
    table = Table("count", "question", "langs", "channels", "first seen", "last seen", "status")
    for g in groups:
        status = "open" if g.open else (", ".join(g.faq_ids) or "ignored")
        # A disliked answer shows under its question, with what the bot said.
        disliked = [f"\n👎 {m.question}\n   → {m.answer or ''}" for m in g.members if m.kind == DISLIKED]
        table.add_row(str(g.count), Text(g.question + "".join(disliked)), ",".join(g.langs), ",".join(g.channels),
                      _when(g.first_seen), _when(g.last_seen), status)
    out.print(table)
    out.print(f"Answers rated: 👍 helpful {votes.helpful} · 👎 not helpful {votes.unhelpful}", highlight=False)


def _when(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%d %H:%M")


def _group_json(group: QuestionGroup) -> dict[str, object]:
    return {
        "question": group.question, "count": group.count, "langs": group.langs, "channels": group.channels,
        "first_seen": group.first_seen.isoformat(), "last_seen": group.last_seen.isoformat(),
        "status": "open" if group.open else ("answered" if group.faq_ids else "ignored"), "faq": group.faq_ids,
        "members": [{"question": m.question, "at": m.created_at.isoformat(), "channel": m.channel, "lang": m.lang,
                     "kind": m.kind, **({"answer": m.answer} if m.kind == DISLIKED else {})}
                    for m in group.members],
    }


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="JSONL: id, lang, question, answerable, facts.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Pass rates (overall, zh, en, declined correctly), latency, and every failure."""
    from knowledge.evaluate import evaluate, load_eval

    runtime = Runtime.open()
    report = asyncio.run(evaluate(runtime.knowledge, load_eval(file)))
    summary = report.summary()
    if as_json:
        out.print(json.dumps(summary), soft_wrap=True)
        return
    table = Table("measure", "value")
    for key, value in summary.items():
        table.add_row(key, f"{value:.1%}" if isinstance(value, float) and key not in ("p50_ms", "p95_ms")
                      else str(value))
    out.print(table)
    if file.name == "blind.jsonl":
        # Its failures, read, would steer the tuning and end its use as a blind set.
        out.print(f"{len(report.failures)} failures, not listed: blind.jsonl is measured, never read.")
        return
    for item, answer in report.failures:
        out.print(f"[red]FAIL[/red] {item.id} ({item.lang}) {item.question}", markup=True, highlight=False)
        out.print(f"     expected {'facts ' + str(item.facts) if item.answerable else 'a decline'}; got "
                  f"{answer.via}: {answer.answer[:160]!r}", markup=False, highlight=False)


@app.command("vectors")
def vectors_() -> None:
    """Re-embed every edition's guideline, FAQ answers and FAQ questions into knowledge/vectors/ (after editing
    either), so that a new data folder starts without running the model over them."""
    from config.editions import load_editions
    from config.settings import Settings
    from knowledge import vectors
    from knowledge.embeddings import make_embedding

    settings = Settings()
    function = make_embedding(settings.embedding, threads=settings.embedding_threads)
    embed = getattr(function, "embed", None)
    if embed is None:
        err.print(f"{function.name()} computes its vectors in microseconds: nothing to ship.")
        raise typer.Exit(1)
    editions = load_editions(settings.editions_dir)
    texts, questions = vectors.shipped_texts(editions), vectors.shipped_questions(editions)
    path = vectors.write(function.name(), texts, embed, questions, getattr(function, "embed_questions", None))
    out.print(f"{len(set(texts)) + len(set(questions))} vectors of {function.name()} → {path}")


@faq_app.command("list")
def faq_list() -> None:
    """Every FAQ entry with its first question variant per language."""
    table = Table("id", "section", "zh", "en", "variants")
    for e in Runtime.open().index.faq_entries():
        table.add_row(e.id, e.section, (e.questions.get("zh") or [""])[0], (e.questions.get("en") or [""])[0],
                      str(sum(len(v) for v in e.questions.values())))
    out.print(table)


@faq_app.command("add")
def faq_add(
    faq_id: Annotated[str, typer.Argument(help="snake_case id; an existing id is replaced.")],
    section: Annotated[str, typer.Option(help="Guideline section numeral (一…十一).")],
    q_zh: Annotated[list[str], typer.Option("--q-zh", help="A Chinese question variant (repeatable).")],
    a_zh: Annotated[str, typer.Option("--a-zh", help="The Chinese answer.")],
    q_en: Annotated[list[str] | None, typer.Option("--q-en", help="An English question variant.")] = None,
    a_en: Annotated[str | None, typer.Option("--a-en", help="The English answer.")] = None,
) -> None:
    """Add or replace one FAQ entry; the bot answers with it at once."""
    questions = {"zh": q_zh, **({"en": q_en} if q_en else {})}
    answers = {"zh": a_zh, **({"en": a_en} if a_en else {})}
    try:
        entry = FaqEntry(id=faq_id, section=section, questions=questions, answer=answers)
    except ValueError as exc:
        err.print(str(exc))
        raise typer.Exit(2) from None
    _admin(lambda admin: admin.save_faq(entry, by=BY))
    out.print(f"Saved FAQ {faq_id}.")


@faq_app.command("remove")
def faq_remove(faq_id: str) -> None:
    """Delete one FAQ entry."""
    _admin(lambda admin: admin.delete_faq(faq_id, by=BY))
    out.print(f"Removed FAQ {faq_id}.")


@faq_app.command("sync")
def faq_sync(
    file: Annotated[Path | None, typer.Argument(help="FAQ YAML (default: the live edition's faq.yaml).")] = None,
) -> None:
    """Make the index's FAQ exactly the file's: entries added, changed and removed."""
    file = file or Runtime.open().edition.faq_file
    entries = load_faq(file)
    _, gone = _admin(lambda admin: admin.sync_faq(entries, by=BY))
    out.print(f"FAQ synced from {file}: {len(entries)} entries, {gone} removed.")


@faq_app.command("export")
def faq_export() -> None:
    """Print the index's FAQ as YAML (the shipped file's layout), e.g. to commit edits made elsewhere."""
    sys.stdout.write(dump_faq(Runtime.open().index.faq_entries()))
