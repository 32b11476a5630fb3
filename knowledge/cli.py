"""`kcxf kb …` and `kcxf ask`: the maintainers' tools for the knowledge base."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import track
from rich.table import Table

from bot.runtime import Runtime
from knowledge.answer import Answer
from knowledge.evaluate import evaluate, load_eval
from knowledge.faq import FAQ_FILE, FaqEntry, dump_faq, load_faq
from knowledge.ingest import IngestError, read_document

app = typer.Typer(help="Keep the knowledge base right: documents, FAQ, unanswered questions, evaluation.",
                  no_args_is_help=True)
faq_app = typer.Typer(help="The curated FAQ (edit the YAML and `sync`, or change entries one by one).",
                      no_args_is_help=True)
app.add_typer(faq_app, name="faq")
out = Console()
err = Console(stderr=True)


def _answer_json(answer: Answer) -> str:
    return json.dumps(answer.model_dump(), ensure_ascii=False)


def ask(
    question: Annotated[str | None, typer.Argument(help="The question, in Chinese or English.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per answer.")] = False,
    batch: Annotated[Path | None, typer.Option(help="JSONL file with a `question` key on each line.")] = None,
) -> None:
    """Answer a question (or a batch of them) as the bot would."""
    if (question is None) == (batch is None):
        err.print("Give a question or --batch FILE (one of them).")
        raise typer.Exit(2)
    runtime = Runtime.open()
    if batch is not None:
        for n, line in enumerate(batch.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                q = str(json.loads(line)["question"])
            except (ValueError, KeyError, TypeError):
                err.print(f"{batch}:{n}: expected a JSON object with a `question` key")
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
    runtime = Runtime.open()
    failed = 0
    for path in track(paths, description="Indexing", console=err):
        try:
            n = runtime.index.upsert_document(read_document(path))
        except IngestError as exc:
            err.print(f"[red]{exc}[/red]")
            failed += 1
            continue
        out.print(f"{path}: " + ("unchanged" if n is None else f"{n} passages"))
    runtime.retriever.refresh()
    if failed:
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
    n = Runtime.open().index.remove_document(doc)
    if not n:
        err.print(f"No document {doc!r} in the index.")
        raise typer.Exit(1)
    out.print(f"Removed {doc}: {n} passages.")


@app.command()
def unanswered(limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50) -> None:
    """Questions the bot declined, for the maintainers to answer (e.g. with a new FAQ entry)."""
    table = Table("when", "lang", "channel", "question")
    for row in asyncio.run(Runtime.open().unanswered(limit=limit)):
        table.add_row(row.created_at.strftime("%Y-%m-%d %H:%M"), row.lang, row.channel, row.question)
    out.print(table)


@app.command("eval")
def eval_(
    file: Annotated[Path, typer.Argument(help="JSONL: id, lang, question, answerable, facts.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
) -> None:
    """Pass rates (overall, zh, en, declined correctly), latency, and every failure."""
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
    for item, answer in report.failures:
        out.print(f"[red]FAIL[/red] {item.id} ({item.lang}) {item.question}", markup=True, highlight=False)
        out.print(f"     expected {'facts ' + str(item.facts) if item.answerable else 'a decline'}; got "
                  f"{answer.via}: {answer.answer[:160]!r}", markup=False, highlight=False)


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
    Runtime.open().index.put_faq([entry])
    out.print(f"Saved FAQ {faq_id}.")


@faq_app.command("remove")
def faq_remove(faq_id: str) -> None:
    """Delete one FAQ entry."""
    if not Runtime.open().index.delete_faq(faq_id):
        err.print(f"No FAQ entry {faq_id!r}.")
        raise typer.Exit(1)
    out.print(f"Removed FAQ {faq_id}.")


@faq_app.command("sync")
def faq_sync(file: Annotated[Path, typer.Argument(help="FAQ YAML (default: the shipped one).")] = FAQ_FILE) -> None:
    """Make the index's FAQ exactly the file's: entries added, changed and removed."""
    entries = load_faq(file)
    index = Runtime.open().index
    keep = {e.id for e in entries}
    gone = [e.id for e in index.faq_entries() if e.id not in keep]
    for faq_id in gone:
        index.delete_faq(faq_id)
    index.put_faq(entries)
    out.print(f"FAQ synced from {file}: {len(entries)} entries, {len(gone)} removed.")


@faq_app.command("export")
def faq_export() -> None:
    """Print the index's FAQ as YAML (the shipped file's layout), e.g. to commit edits made elsewhere."""
    sys.stdout.write(dump_faq(Runtime.open().index.faq_entries()))
