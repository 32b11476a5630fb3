"""The prompt files: both languages complete and consistent, and loading refuses files that are not."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.texts import PROMPTS_DIR, Texts, TextsError


def write(directory: Path, lang: str, data: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{lang}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def flat_keys(path: Path) -> set[str]:
    def walk(node: dict, prefix: str) -> set[str]:
        keys: set[str] = set()
        for name, value in node.items():
            keys |= walk(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}"}
        return keys

    return walk(yaml.safe_load(path.read_text(encoding="utf-8")), "")


def test_shipped_languages_have_the_same_keys_and_placeholders():
    zh, en = flat_keys(PROMPTS_DIR / "zh.yaml"), flat_keys(PROMPTS_DIR / "en.yaml")
    assert zh == en
    assert Texts.load().keys() == zh  # load() also compares the placeholders, key by key


def test_every_text_the_engine_and_terminal_use_is_shipped(texts: Texts):
    used = {
        "engine.welcome", "engine.help", "engine.hint", "engine.unknown_command", "engine.stale_choice",
        "engine.file_unexpected", "engine.cancelled", "engine.nothing_to_cancel", "engine.error",
        "engine.lang.prompt", "engine.lang.switched", "engine.lang.zh", "engine.lang.en",
        "terminal.intro", "terminal.document",
    }
    assert used <= texts.keys()


def test_t_fills_placeholders_per_language(texts: Texts):
    en = texts.t("engine.unknown_command", "en", command="x")
    assert en == "I don't know /x. Send /help to see what I can do."
    assert texts.t("engine.unknown_command", "zh", command="x").startswith("暂不支持 /x")


def test_unknown_key_language_or_variable_raise_key_error(texts: Texts):
    with pytest.raises(KeyError, match="engine.nope"):
        texts.t("engine.nope", "zh")
    with pytest.raises(KeyError, match="'fr'"):
        texts.t("engine.hint", "fr")
    with pytest.raises(KeyError, match="command"):
        texts.t("engine.unknown_command", "en")


def test_a_key_missing_in_one_language_fails_at_load(tmp_path: Path):
    write(tmp_path, "zh", {"engine": {"hello": "你好", "bye": "再见"}, "only_zh": "x"})
    write(tmp_path, "en", {"engine": {"hello": "Hello"}})
    with pytest.raises(TextsError) as caught:
        Texts.load(tmp_path)
    assert "en lacks engine.bye, only_zh" in str(caught.value)


def test_different_placeholders_fail_at_load(tmp_path: Path):
    write(tmp_path, "zh", {"help": "邮箱：{mailbox}", "same": "{a}{b}"})
    write(tmp_path, "en", {"help": "Mail: {email}", "same": "{b} {a:>3}"})
    expected = r"help: placeholders differ \(zh has \{mailbox\}; en has \{email\}\)"
    with pytest.raises(TextsError, match=expected):
        Texts.load(tmp_path)


@pytest.mark.parametrize(
    ("zh", "problem"),
    [
        ({"a": "{"}, "a: "),
        ({"a": "{0}"}, "must be a name"),
        ({"a": ["list"]}, "must be a text or a mapping"),
    ],
)
def test_malformed_texts_fail_at_load(tmp_path: Path, zh: dict, problem: str):
    write(tmp_path, "zh", zh)
    write(tmp_path, "en", {"a": "fine"})
    with pytest.raises(TextsError, match=problem):
        Texts.load(tmp_path)


def test_missing_file_fails_at_load(tmp_path: Path):
    write(tmp_path, "zh", {"a": "x"})
    with pytest.raises(FileNotFoundError):
        Texts.load(tmp_path)
