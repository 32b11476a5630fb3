"""`kcxf ask` and `kcxf kb …` run as real subprocesses on an isolated data folder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import Settings
from tests.conftest import copy_index
from tests.databases import Databases, kcxf_env

KCXF = [sys.executable, "-m", "bot"]
ANSWER_KEYS = {"question", "lang", "answered", "answer", "sources", "via", "latency_ms"}


@pytest.fixture(scope="module")
def cli_settings(tmp_path_factory: pytest.TempPathFactory, databases: Databases, kb_template: Path) -> Settings:
    # On a copy of the session's built index: these tests are about the commands, not the index's first build.
    data = copy_index(kb_template, tmp_path_factory.mktemp("cli") / "var")
    return Settings(_env_file=None, data_dir=data, database_url=databases.create(data))  # type: ignore[call-arg]


def kcxf(settings: Settings, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **kcxf_env(settings), "COLUMNS": "200"}
    return subprocess.run([*KCXF, *args], capture_output=True, text=True, env=env, input=stdin, timeout=120)


def test_ask_json_contract(cli_settings: Settings):
    done = kcxf(cli_settings, "ask", "报名啥时候截止？", "--json")
    assert done.returncode == 0, done.stderr
    [line] = done.stdout.strip().splitlines()
    obj = json.loads(line)
    assert set(obj) >= ANSWER_KEYS
    assert obj["lang"] == "zh" and obj["answered"] is True and obj["via"] in {"faq", "extractive", "llm"}
    assert "10 月 20 日" in obj["answer"] or "10月20日" in obj["answer"]
    assert obj["sources"] and set(obj["sources"][0]) == {"doc", "section", "title", "score"}
    assert isinstance(obj["latency_ms"], float)


def test_ask_batch_keeps_order_in_one_process(cli_settings: Settings, tmp_path: Path):
    questions = ["When is the deadline?", "报名要交钱吗", "What's the weather in Shanghai tomorrow?"]
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(json.dumps({"question": q}) for q in questions) + "\n", encoding="utf-8")
    done = kcxf(cli_settings, "ask", "--batch", str(batch), "--json")
    assert done.returncode == 0, done.stderr
    objs = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert [o["question"] for o in objs] == questions
    assert [o["lang"] for o in objs] == ["en", "zh", "en"]
    assert objs[2]["answered"] is False and "kcxf@thepaper.cn" in objs[2]["answer"]


def test_declined_question_is_logged_for_maintainers(cli_settings: Settings):
    assert kcxf(cli_settings, "ask", "你们组委会的电话号码是多少？").returncode == 0
    done = kcxf(cli_settings, "kb", "unanswered")
    assert done.returncode == 0 and "电话号码" in done.stdout


def test_ingest_list_remove_and_answer_from_new_document(cli_settings: Settings, tmp_path: Path):
    notice = tmp_path / "notice.md"
    notice.write_text(
        "---\ndoc: shuttle-notice\nlang: zh\ntitle: 论坛交通通知\n---\n# 论坛交通通知\n\n"
        "## 一·接驳班车\n\n论坛当天组委会在人民广场地铁站安排接驳班车，每 20 分钟一班。\n",
        encoding="utf-8",
    )
    done = kcxf(cli_settings, "kb", "ingest", str(notice))
    assert done.returncode == 0 and "1 passages" in done.stdout, done.stderr
    assert "unchanged" in kcxf(cli_settings, "kb", "ingest", str(notice)).stdout
    assert "shuttle-notice" in kcxf(cli_settings, "kb", "list").stdout
    answer = json.loads(kcxf(cli_settings, "ask", "论坛那天有接驳班车吗", "--json").stdout)
    assert answer["answered"] and "人民广场" in answer["answer"] and "一·接驳班车" in answer["answer"]
    assert kcxf(cli_settings, "kb", "remove", "shuttle-notice").returncode == 0
    assert "shuttle-notice" not in kcxf(cli_settings, "kb", "list").stdout
    assert kcxf(cli_settings, "kb", "remove", "shuttle-notice").returncode == 1


def test_faq_add_answer_remove(cli_settings: Settings):
    added = kcxf(cli_settings, "kb", "faq", "add", "hotline", "--section", "十一",
                 "--q-zh", "有没有咨询热线", "--a-zh", "目前只接受邮件咨询：kcxf@thepaper.cn。",
                 "--q-en", "Is there a hotline?", "--a-en", "Questions are answered by email only.")
    assert added.returncode == 0, added.stderr
    answer = json.loads(kcxf(cli_settings, "ask", "有没有咨询热线", "--json").stdout)
    assert answer["via"] == "faq" and answer["answer"].startswith("目前只接受邮件咨询")
    assert "hotline" in kcxf(cli_settings, "kb", "faq", "list").stdout
    exported = kcxf(cli_settings, "kb", "faq", "export").stdout
    assert "id: hotline" in exported
    assert kcxf(cli_settings, "kb", "faq", "remove", "hotline").returncode == 0
    assert "hotline" not in kcxf(cli_settings, "kb", "faq", "list").stdout
    gone = kcxf(cli_settings, "kb", "faq", "remove", "hotline")
    assert gone.returncode == 1 and "no FAQ entry with the id hotline" in gone.stderr


def test_faq_add_is_checked_like_the_console(cli_settings: Settings):
    # A question variant already owned by another entry is refused, with the reason, and nothing changes.
    taken = kcxf(cli_settings, "kb", "faq", "add", "ddl", "--section", "五", "--q-zh", "截止时间是什么时候？",
                 "--a-zh", "10 月 20 日。")
    assert taken.returncode == 1 and "already belongs to FAQ entry deadline" in taken.stderr
    assert " ddl " not in kcxf(cli_settings, "kb", "faq", "list").stdout
    shipped = kcxf(cli_settings, "kb", "remove", "guideline-2024")
    assert shipped.returncode == 1 and "ships with the bot" in shipped.stderr


def test_unanswered_shows_groups_as_a_table_and_as_json(cli_settings: Settings):
    for question in ("评委名单会公布吗", "评委名单会公布吗？", "Is lunch provided at the forum?"):
        assert kcxf(cli_settings, "ask", question).returncode == 0
    listed = kcxf(cli_settings, "kb", "unanswered").stdout
    assert "评委名单会公布吗" in listed and "open" in listed
    done = kcxf(cli_settings, "kb", "unanswered", "--json")
    assert done.returncode == 0, done.stderr
    groups = json.loads(done.stdout)
    judges = next(g for g in groups if g["question"] == "评委名单会公布吗")
    assert judges["count"] == 2 and judges["langs"] == ["zh"] and judges["first_seen"] <= judges["last_seen"]
    assert sorted(m["question"] for m in judges["members"]) == ["评委名单会公布吗", "评委名单会公布吗？"]
    assert {m["channel"] for m in judges["members"]} == {"cli"} and all("at" in m for m in judges["members"])
    assert any(g["question"] == "Is lunch provided at the forum?" and g["langs"] == ["en"] for g in groups)
    assert "评委名单会公布吗" in kcxf(cli_settings, "kb", "unanswered", "--all").stdout
    assert json.loads(kcxf(cli_settings, "kb", "unanswered", "--statements", "--json").stdout) == []


def test_unanswered_shows_a_disliked_answer_and_the_vote_counts(cli_settings: Settings):
    # An entrant at `kcxf chat` asks, and presses 2 (👎 没帮助) under the answer.
    chat = kcxf(cli_settings, "chat", stdin="截止时间是什么时候？\n2\n")
    assert chat.returncode == 0, chat.stderr
    assert "1. 👍 有帮助" in chat.stdout and "2. 👎 没帮助" in chat.stdout and "已转给组委会" in chat.stdout
    listed = kcxf(cli_settings, "kb", "unanswered").stdout
    assert "👎 截止时间是什么时候？" in listed and "→ 报名截止时间为 2024 年 10 月 20 日" in listed
    assert "Answers rated: 👍 helpful 0 · 👎 not helpful 1" in listed
    groups = json.loads(kcxf(cli_settings, "kb", "unanswered", "--json").stdout)
    [member] = [m for g in groups for m in g["members"] if m["kind"] == "disliked"]
    assert member["question"] == "截止时间是什么时候？" and "10 月 20 日" in member["answer"]
    assert all("answer" not in m for g in groups for m in g["members"] if m["kind"] != "disliked")


def test_eval_prints_rates_and_failures(cli_settings: Settings, tmp_path: Path):
    items = [
        {"id": "a", "lang": "zh", "question": "报名截止是哪天", "answerable": True, "facts": [["10月20日", "10 月 20 日"]]},
        {"id": "b", "lang": "en", "question": "Who won the lottery?", "answerable": False, "facts": []},
        {"id": "c", "lang": "en", "question": "When is the deadline?", "answerable": True, "facts": [["never"]]},
    ]
    path = tmp_path / "eval.jsonl"
    path.write_text("\n".join(json.dumps(i, ensure_ascii=False) for i in items), encoding="utf-8")
    done = kcxf(cli_settings, "kb", "eval", str(path), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["items"] == 3 and summary["zh_answerable"] == 1.0 and summary["en_answerable"] == 0.0
    assert summary["declined_correctly"] == 1.0
    table = kcxf(cli_settings, "kb", "eval", str(path)).stdout
    assert "FAIL" in table and " c " in table.replace("(", " ")
    blind = path.rename(tmp_path / "blind.jsonl")
    table = kcxf(cli_settings, "kb", "eval", str(blind)).stdout
    assert "1 failures, not listed" in table and "FAIL" not in table and "lottery" not in table


def test_bad_usage_is_explained(cli_settings: Settings):
    done = kcxf(cli_settings, "ask")
    assert done.returncode == 2 and "--batch" in done.stderr
