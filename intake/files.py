"""Attachments received in the chat: checked against the guideline's limits and stored under the files folder."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, BinaryIO

from config import Localized

__all__ = [
    "ALLOWED_TYPES",
    "MAX_UPLOAD",
    "STAGED_PREFIX",
    "StagedUpload",
    "StoredFile",
    "UploadRefused",
    "discard_upload",
    "mime_type_of",
    "place_upload",
    "remove_uploads",
    "safe_name",
    "stage_upload",
    "staged_name",
    "store_upload",
    "upload_paths",
    "uploads_of",
]

# The Bot API lets a bot download files up to 20 MB; the guideline sends anything larger as a share link.
MAX_UPLOAD = 20 * 1024 * 1024
MAX_NAME_CHARS = 100
# Stored as "<12 hex>-<name>" (".staged-" before that until placed); 255 bytes is the common file-name limit and
# a Chinese character takes 3.
MAX_NAME_BYTES = 200
STAGED_PREFIX = ".staged-"

# Extension → MIME type of every kind of material the committee accepts.
ALLOWED_TYPES: Mapping[str, str] = {
    "pdf": "application/pdf",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "wps": "application/vnd.ms-works",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "heic": "image/heic",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "avi": "video/x-msvideo",
    "mkv": "video/x-matroska",
    "zip": "application/zip",
    "rar": "application/vnd.rar",
    "7z": "application/x-7z-compressed",
}
# Declared types that name an allowed kind, for files that arrive without an extension (e.g. a chat photo).
_EXTENSION_OF_MIME: Mapping[str, str] = {
    **{mime: ext for ext, mime in reversed(ALLOWED_TYPES.items())},
    "image/jpg": "jpg",
    "application/x-rar-compressed": "rar",
    "application/x-zip-compressed": "zip",
    "application/kswps": "wps",
}

_RESERVED = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r"\s+")
# Names Windows refuses whatever the extension; the files folder may be copied to a staff laptop.
_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))})  # fmt: skip
_OWNER = re.compile(r"[^A-Za-z0-9_-]")
_CHUNK = 1024 * 1024

_KINDS = Localized(
    zh="PDF、Office 文档（doc/docx/xls/xlsx/ppt/pptx/wps）、图片（jpg/jpeg/png/gif/webp/heic）、"
    "视频（mp4/mov/avi/mkv）、压缩包（zip/rar/7z）",
    en="PDF, Office documents (doc/docx/xls/xlsx/ppt/pptx/wps), images (jpg/jpeg/png/gif/webp/heic), "
    "videos (mp4/mov/avi/mkv) and archives (zip/rar/7z)",
)


class UploadRefused(ValueError):
    """An upload the bot does not keep; `reason` tells the applicant why and what to do instead."""

    def __init__(self, reason: Localized) -> None:
        self.reason = reason
        super().__init__(reason.en)


@dataclass(frozen=True, slots=True)
class StoredFile:
    """An attachment kept under the files folder; `path` is relative to it and uses forward slashes."""

    name: str
    path: str
    size: int
    sha256: str
    mime_type: str

    def as_dict(self) -> dict[str, Any]:
        """The JSON form kept in answers and queue records."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredFile:
        """Read back `as_dict()`; KeyError or TypeError when it is not a stored file."""
        name, path = str(data["name"]), str(data["path"])
        return cls(
            name=name,
            path=path,
            size=int(data["size"]),
            sha256=str(data["sha256"]),
            mime_type=str(data.get("mime_type") or mime_type_of(name)),
        )


def mime_type_of(name: str) -> str:
    """The MIME type for a file name by its extension; application/octet-stream when it is not an allowed kind."""
    return ALLOWED_TYPES.get(_extension(name), "application/octet-stream")


def safe_name(file_name: str, *, extension: str | None = None) -> str:
    """A display and storage name: no folders, control or reserved characters, leading dots; short; never empty."""
    text = unicodedata.normalize("NFC", file_name or "")
    # Both separators: a name made on Windows arrives with backslashes, and neither may pick a folder here.
    text = re.split(r"[/\\]", text)[-1]
    # Control and format characters include the right-to-left override that makes "x\u202egpj.exe" look like .jpg.
    text = "".join(" " if c.isspace() else c for c in text)
    text = "".join(c for c in text if unicodedata.category(c) not in {"Cc", "Cf", "Cs", "Co", "Cn"})
    text = _RESERVED.sub("_", text)
    text = _SPACES.sub(" ", text).strip()
    stem, ext = _split(text)
    if extension is not None and ext != extension:
        stem, ext = text, extension
    # Leading dots would hide the file (and ".." is no name); trailing dots and spaces vanish on Windows.
    stem = stem.strip(" .")
    if stem.split(".")[0].strip().lower() in _DEVICE_NAMES:
        stem = f"file_{stem}"
    suffix = f".{ext}" if ext else ""
    stem = stem[: MAX_NAME_CHARS - len(suffix)]
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return (stem.rstrip(" .") or "file") + suffix


@dataclass(frozen=True, slots=True)
class StagedUpload:
    """An upload written beside its place (`staged`), to be moved there once the step naming it has committed."""

    stored: StoredFile
    staged: Path


def store_upload(
    *,
    files_dir: Path,
    owner: str,
    file_name: str,
    source: Path | bytes,
    mime_type: str | None,
    size: int | None,
) -> StoredFile:
    """Check an upload and keep it as files_dir/uploads/<owner>/<sha256[:12]>-<name>; UploadRefused says why not."""
    staged = stage_upload(files_dir=files_dir, owner=owner, file_name=file_name, source=source,
                          mime_type=mime_type, size=size)
    place_upload(files_dir, staged)
    return staged.stored


def place_upload(files_dir: Path, staged: StagedUpload) -> None:
    """Move a staged upload to its place (atomic: a reader never sees half a file; the same file twice is one)."""
    target = Path(files_dir).resolve() / staged.stored.path
    try:
        os.replace(staged.staged, target)
    except FileNotFoundError:
        if not target.is_file():  # else the same upload, staged twice, was placed by the other step
            raise


def discard_upload(staged: StagedUpload) -> None:
    """Remove a staged upload that will not be kept."""
    staged.staged.unlink(missing_ok=True)


def staged_name(name: str) -> str:
    """The name an upload stored as `name` has while it is staged."""
    return f"{STAGED_PREFIX}{name}"


def stage_upload(
    *,
    files_dir: Path,
    owner: str,
    file_name: str,
    source: Path | bytes,
    mime_type: str | None,
    size: int | None,
) -> StagedUpload:
    """Check an upload and write it beside its place under files_dir/uploads/<owner>/ (place_upload moves it
    there); UploadRefused says why not.

    Staged, it is named by no row and the purge removes it after a grace period: the step that wanted it failed.
    """
    # Refused before a byte is read (or downloaded) when the chat already told the size.
    if size is not None and size > MAX_UPLOAD:
        raise UploadRefused(_too_large(size))
    name = safe_name(file_name)
    if _extension(name) not in ALLOWED_TYPES:
        declared = _EXTENSION_OF_MIME.get((mime_type or "").split(";")[0].strip().lower())
        if declared is None or _extension(name):
            raise UploadRefused(_wrong_type(name))
        name = safe_name(file_name, extension=declared)

    root = Path(files_dir).resolve()
    folder = root / "uploads" / _owner_folder(owner)
    folder.mkdir(parents=True, exist_ok=True)
    _inside(root, folder)
    fd, temp_name = tempfile.mkstemp(dir=folder, prefix=".upload-", suffix=".part")
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, bytes | bytearray | memoryview):
                digest, written = _copy_bytes(bytes(source), out)
            else:
                with Path(source).open("rb") as stream:
                    digest, written = _copy_stream(stream, out)
        if written == 0:
            raise UploadRefused(
                Localized(zh="文件是空的，请重新上传。", en="The file is empty; please upload it again.")
            )
        target = folder / f"{digest[:12]}-{name}"
        staged = folder / staged_name(target.name)
        _inside(root, staged)
        # One staged name per content: a step run again after a conflict replaces its first try.
        os.replace(temp, staged)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    stored = StoredFile(
        name=name,
        path=target.relative_to(root).as_posix(),
        size=written,
        sha256=digest,
        mime_type=ALLOWED_TYPES[_extension(name)],
    )
    return StagedUpload(stored=stored, staged=staged)


def upload_paths(value: Any) -> Iterator[str]:
    """Every stored-upload path ("uploads/…") named anywhere in answers or a record's attachments."""
    if isinstance(value, Mapping):
        for key in ("path", "file_id"):  # the chat flow keeps the stored path under file_id
            path = value.get(key)
            if isinstance(path, str) and path.startswith("uploads/"):
                yield path
        for item in value.values():
            yield from upload_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from upload_paths(item)


def uploads_of(files_dir: Path, owner: str) -> set[str]:
    """The stored paths of every file in one owner's upload folder."""
    root = Path(files_dir).resolve()
    folder = root / "uploads" / _owner_folder(owner)
    if not folder.is_dir():
        return set()
    return {path.relative_to(root).as_posix() for path in folder.iterdir() if path.is_file()}


def remove_uploads(files_dir: Path, paths: Iterable[str]) -> int:
    """Delete these stored uploads, and owner folders left empty; the count removed. Paths outside are ignored."""
    root = Path(files_dir).resolve()
    uploads = root / "uploads"
    removed = 0
    folders = set()
    for relative in paths:
        path = (root / relative).resolve()
        # Paths come from the database: one leading anywhere but an owner's upload folder is never touched.
        if path.parent.parent != uploads or not path.is_file():
            continue
        path.unlink(missing_ok=True)
        folders.add(path.parent)
        removed += 1
    for folder in folders:
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def _copy_bytes(data: bytes, out: BinaryIO) -> tuple[str, int]:
    if len(data) > MAX_UPLOAD:
        raise UploadRefused(_too_large(len(data)))
    out.write(data)
    return hashlib.sha256(data).hexdigest(), len(data)


def _copy_stream(stream: BinaryIO, out: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    written = 0
    # The declared size may be missing or wrong; the limit holds for the bytes actually received.
    while chunk := stream.read(_CHUNK):
        written += len(chunk)
        if written > MAX_UPLOAD:
            raise UploadRefused(_too_large(written, at_least=True))
        digest.update(chunk)
        out.write(chunk)
    return digest.hexdigest(), written


def _split(name: str) -> tuple[str, str]:
    """(stem, lower-case extension); an extension is a short ASCII word after the last dot."""
    stem, dot, ext = name.rpartition(".")
    if dot and ext.isascii() and ext.isalnum() and len(ext) <= 10:
        return stem, ext.lower()
    return name, ""


def _extension(name: str) -> str:
    return _split(name)[1]


def _owner_folder(owner: str) -> str:
    folder = _OWNER.sub("_", str(owner)).strip("_")[:64]
    if not folder:
        raise ValueError(f"owner {owner!r} gives no folder name")
    return folder


def _inside(root: Path, path: Path) -> None:
    # A symlinked folder could still lead elsewhere, whatever the name; checked on the resolved path.
    if not path.resolve().is_relative_to(root):
        raise ValueError(f"{path} is outside {root}")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def _too_large(size: int, *, at_least: bool = False) -> Localized:
    limit = MAX_UPLOAD // (1024 * 1024)
    more = "超过 " if at_least else ""
    over = "over " if at_least else ""
    return Localized(
        zh=f"文件太大（{more}{_megabytes(size)}MB），对话中上传的附件每个不能超过 {limit}MB。"
        "更大的材料请上传到网盘，把分享链接填写在“其他申报材料说明”中。",
        en=f"The file is too large ({over}{_megabytes(size)} MB); attachments sent in the chat may be at most "
        f"{limit} MB each. Please upload larger materials to a file-sharing service and put the share link in "
        "其他申报材料说明 (notes on other materials).",
    )


def _wrong_type(name: str) -> Localized:
    ext = _extension(name)
    shown_zh = f"“.{ext}”文件" if ext else "没有扩展名的文件"
    shown_en = f'".{ext}" files' if ext else "files without an extension"
    return Localized(
        zh=f"暂不接收{shown_zh}。可以上传的类型：{_KINDS.zh}。",
        en=f"Sorry, {shown_en} cannot be accepted. Allowed types: {_KINDS.en}.",
    )
