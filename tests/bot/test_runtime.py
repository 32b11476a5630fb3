"""Runtime wires a working Engine from the settings alone."""

from __future__ import annotations

from pathlib import Path

from bot.events import CommandIn, TextIn
from bot.language import Lang
from bot.replies import TextOut
from bot.runtime import Runtime
from bot.users import UserRef
from config.clock import SystemClock
from config.settings import Settings
from db.migrate import current, heads
from knowledge.answer import Answer


class Declines:
    """A real, minimal Answerer that declines everything."""

    async def answer(self, question: str, lang: Lang | None = None) -> Answer:
        """Decline."""
        return Answer(question=question, lang=lang or "zh", answered=False, answer="不知道", via="none")


async def test_engine_from_settings(settings: Settings):
    runtime = Runtime.open(settings)
    engine = await runtime.engine(answerer=Declines())
    try:
        assert isinstance(engine.clock, SystemClock)
        user = UserRef(channel="test", external_id="1")
        [welcome] = await engine.handle(user, CommandIn("start"))
        assert isinstance(welcome, TextOut) and engine.campaign.name.zh in welcome.text
        [declined] = await engine.handle(user, TextIn("评委主席的名字？"))
        assert isinstance(declined, TextOut) and declined.text == "不知道"
    finally:
        await runtime.close()


async def test_the_embedded_default_creates_and_migrates_the_sqlite_file_on_first_use(tmp_path: Path):
    settings = Settings(_env_file=None, data_dir=tmp_path / "var", database_url=None)  # type: ignore[call-arg]
    runtime = Runtime.open(settings)
    try:
        assert not settings.data_dir.exists()
        await runtime.sessionmaker()
        assert (settings.data_dir / "kcxf.db").is_file()
        assert await current(settings.db_url) == heads()
    finally:
        await runtime.close()
