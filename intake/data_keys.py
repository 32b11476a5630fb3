"""The keys that encrypt personal identifiers at rest: from KCXF_DATA_KEY, or a generated development key.

KCXF_DATA_KEY holds one or more Fernet keys separated by commas. The first encrypts everything written from now
on; every key decrypts. Rotating is: put a new key in front (`NEW,OLD`), restart, run `kcxf rekey` to re-encrypt
what is stored, then drop OLD. In production (KCXF_ENV=production) a missing key refuses to start; in development
one is generated once into data_dir/data.key (readable by its owner only) and the log says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

if TYPE_CHECKING:
    from config.settings import Settings

__all__ = ["DEV_KEY_FILE", "DataKeyError", "DataKeys", "load_data_keys", "new_key"]

log = logging.getLogger(__name__)

DEV_KEY_FILE = "data.key"


class DataKeyError(RuntimeError):
    """The data key is missing, malformed, or cannot open what is stored; the message says what to do."""


def new_key() -> str:
    """A fresh random key, in the form KCXF_DATA_KEY takes."""
    return Fernet.generate_key().decode("ascii")


class DataKeys:
    """Encrypts with the first key, decrypts with any (cryptography's MultiFernet: AES-128-CBC + HMAC-SHA256)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise DataKeyError("no data key given")
        fernets = []
        for n, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                # The key itself is never repeated: it would end up in a terminal scroll-back or a log.
                raise DataKeyError(
                    f"KCXF_DATA_KEY: key {n} of {len(keys)} is not a Fernet key (44 characters of url-safe "
                    "base64); generate one with `kcxf keygen`"
                ) from None
        self._fernet = MultiFernet(fernets)
        self.count = len(fernets)

    def encrypt(self, plain: str) -> str:
        """A token for `plain` under the first key."""
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        """The text a token holds; DataKeyError when no configured key made it."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise DataKeyError(
                "a stored value cannot be decrypted with KCXF_DATA_KEY: was the key replaced without keeping "
                "the old one after it (NEW,OLD)?"
            ) from None

    def __repr__(self) -> str:  # never the keys themselves
        return f"DataKeys({self.count} key{'s' if self.count != 1 else ''})"


def load_data_keys(settings: Settings) -> DataKeys:
    """The configured keys; in development without any, the data folder's generated key (created on first use)."""
    if settings.data_key is not None:
        keys = [k for k in settings.data_key.get_secret_value().split(",") if k.strip()]
        if keys:
            return DataKeys(keys)
    if settings.env == "production":
        raise DataKeyError(
            "KCXF_ENV=production needs KCXF_DATA_KEY (identity numbers and phones are encrypted with it); "
            "generate one with `kcxf keygen`"
        )
    path = settings.data_dir / DEV_KEY_FILE
    try:
        return DataKeys([_development_key(path)])
    except DataKeyError:
        raise DataKeyError(f"{path} does not hold a valid data key; restore it from a backup, or set "
                           "KCXF_DATA_KEY") from None


def _development_key(path: Path) -> str:
    if path.is_file():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and linked into place: a second process starting at the same moment
    # either wins the link or reads the complete file of the one that did.
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(new_key() + "\n")
        try:
            os.link(temp, path)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    log.warning(
        "KCXF_DATA_KEY is not set: generated a development data key in %s (owner-only). Keep it with the data; "
        "a deployment sets KCXF_ENV=production and KCXF_DATA_KEY.", path,
    )
    return path.read_text(encoding="ascii").strip()
