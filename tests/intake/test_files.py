"""Attachments: the 20 MB limit, the allowed kinds, and names that cannot leave the files folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from intake.files import (
    ALLOWED_TYPES,
    MAX_NAME_BYTES,
    MAX_UPLOAD,
    StoredFile,
    UploadRefused,
    safe_name,
    store_upload,
)

PDF = b"%PDF-1.7\n% a small test document\n%%EOF\n"


def store(files_dir: Path, file_name: str, data: bytes = PDF, **kwargs) -> StoredFile:
    args = {"owner": "42", "mime_type": None, "size": len(data), **kwargs}
    return store_upload(files_dir=files_dir, file_name=file_name, source=data, **args)


def test_stored_under_owner_with_hash_prefix(tmp_path: Path):
    files_dir = tmp_path / "files"
    stored = store(files_dir, "产品手册.pdf", mime_type="application/pdf")
    digest = hashlib.sha256(PDF).hexdigest()
    assert stored == StoredFile(
        name="产品手册.pdf",
        path=f"uploads/42/{digest[:12]}-产品手册.pdf",
        size=len(PDF),
        sha256=digest,
        mime_type="application/pdf",
    )
    assert (files_dir / stored.path).read_bytes() == PDF
    assert StoredFile.from_dict(stored.as_dict()) == stored
    # No temporary file is left beside it.
    assert [p.name for p in (files_dir / "uploads" / "42").iterdir()] == [Path(stored.path).name]


def test_a_file_on_disk_is_streamed(tmp_path: Path):
    source = tmp_path / "download.bin"
    source.write_bytes(b"PK\x03\x04" + b"x" * 3_000_000)
    stored = store_upload(files_dir=tmp_path / "files", owner="7", file_name="资料.zip", source=source,
                          mime_type="application/zip", size=None)
    assert stored.size == source.stat().st_size
    assert stored.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert (tmp_path / "files" / stored.path).read_bytes() == source.read_bytes()


def test_the_same_upload_twice_is_one_file(tmp_path: Path):
    first = store(tmp_path, "deck.pdf")
    second = store(tmp_path, "deck.pdf")
    assert first == second
    assert len(list((tmp_path / "uploads" / "42").iterdir())) == 1


@pytest.mark.parametrize("ext", sorted(ALLOWED_TYPES))
def test_every_allowed_kind_is_kept(tmp_path: Path, ext: str):
    stored = store(tmp_path, f"材料.{ext.upper()}")
    assert stored.name == f"材料.{ext}"
    assert stored.mime_type == ALLOWED_TYPES[ext]


@pytest.mark.parametrize("name", ["setup.exe", "run.sh", "page.html", "notes.txt", "invoice.pdf.exe", "macro.docm"])
def test_other_kinds_are_refused_naming_the_allowed_ones(tmp_path: Path, name: str):
    with pytest.raises(UploadRefused) as refused:
        store(tmp_path, name, mime_type="application/pdf")
    ext = name.rsplit(".", 1)[1]
    assert f".{ext}" in refused.value.reason.zh and f".{ext}" in refused.value.reason.en
    assert "PDF" in refused.value.reason.zh and "docx" in refused.value.reason.zh and "zip" in refused.value.reason.en
    assert not (tmp_path / "uploads" / "42").exists() or not any((tmp_path / "uploads" / "42").iterdir())


def test_a_name_without_extension_takes_it_from_an_allowed_declared_type(tmp_path: Path):
    assert store(tmp_path, "photo", mime_type="image/jpeg").name == "photo.jpg"
    assert store(tmp_path, "", mime_type="application/pdf").name == "file.pdf"
    with pytest.raises(UploadRefused):
        store(tmp_path, "photo", mime_type="application/x-msdownload")
    with pytest.raises(UploadRefused):
        store(tmp_path, "photo", mime_type=None)


def test_declared_size_over_the_limit_is_refused_before_reading(tmp_path: Path):
    missing = tmp_path / "never-downloaded.mp4"  # reading it would fail: the check must come first
    with pytest.raises(UploadRefused) as refused:
        store_upload(files_dir=tmp_path / "files", owner="1", file_name="demo.mp4", source=missing,
                     mime_type="video/mp4", size=MAX_UPLOAD + 1)
    reason = refused.value.reason
    assert "20MB" in reason.zh and "其他申报材料说明" in reason.zh and "分享链接" in reason.zh
    assert "20 MB" in reason.en and "share link" in reason.en and "其他申报材料说明" in reason.en
    assert not (tmp_path / "files").exists()


def test_actual_size_over_the_limit_is_refused_whatever_was_declared(tmp_path: Path):
    source = tmp_path / "big.mp4"
    source.write_bytes(b"\0" * (MAX_UPLOAD + 1))
    with pytest.raises(UploadRefused, match="20 MB"):
        store_upload(files_dir=tmp_path / "files", owner="1", file_name="big.mp4", source=source,
                     mime_type="video/mp4", size=1000)
    with pytest.raises(UploadRefused, match="20 MB"):
        store(tmp_path / "files", "big.mp4", b"\0" * (MAX_UPLOAD + 1), size=None)
    assert list((tmp_path / "files" / "uploads" / "1").iterdir()) == []


def test_exactly_the_limit_is_accepted(tmp_path: Path):
    assert store(tmp_path, "full.mp4", b"\0" * MAX_UPLOAD).size == MAX_UPLOAD


def test_an_empty_file_is_refused(tmp_path: Path):
    with pytest.raises(UploadRefused, match="empty"):
        store(tmp_path, "empty.pdf", b"")


HOSTILE = [
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\Windows\\System32\\drivers.pdf", "drivers.pdf"),
    ("/etc/cron.d/job.png", "job.png"),
    ("C:\\Users\\me\\Desktop\\报告.docx", "报告.docx"),
    ("....pdf", "file.pdf"),
    ("..", None),
    (".htaccess.pdf", "htaccess.pdf"),
    (".pdf", "file.pdf"),
    ("  .hidden deck .pdf  ", "hidden deck.pdf"),
    ("re\x00port\x1b[31m.pdf", "report[31m.pdf"),
    ("line\nbreak\r\n.pdf", "line break.pdf"),
    ("photo\u202egnp.pdf", "photognp.pdf"),  # right-to-left override spoofing the extension
    ('a<b>c:d"e|f?g*h.pdf', "a_b_c_d_e_f_g_h.pdf"),
    ("CON.pdf", "file_CON.pdf"),
    ("%2e%2e%2fsecret.pdf", "%2e%2e%2fsecret.pdf"),  # stays literal: nothing decodes it
    ("\u200b\ufeff.pdf", "file.pdf"),
]


@pytest.mark.parametrize(("hostile", "expected"), HOSTILE)
def test_hostile_names_are_sanitised_and_stay_inside(tmp_path: Path, hostile: str, expected: str | None):
    files_dir = tmp_path / "files"
    stored = store(files_dir, hostile, mime_type="application/pdf")
    if expected is not None:
        assert stored.name == expected
    assert stored.name and not stored.name.startswith(".")
    assert "/" not in stored.name and "\\" not in stored.name
    assert all(ord(c) >= 32 for c in stored.name)
    target = (files_dir / stored.path).resolve()
    assert target.is_relative_to((files_dir / "uploads" / "42").resolve())
    assert target.read_bytes() == PDF


def test_long_names_are_trimmed_keeping_the_extension(tmp_path: Path):
    stored = store(tmp_path, "很长的名字" * 100 + ".pptx")
    assert stored.name.endswith(".pptx")
    assert len(stored.name.encode()) <= MAX_NAME_BYTES
    assert len(Path(stored.path).name.encode()) < 255


@pytest.mark.parametrize("owner", ["../../outside", "/abs", "a/b", "telegram:12345"])
def test_owner_cannot_choose_a_folder_outside(tmp_path: Path, owner: str):
    files_dir = tmp_path / "files"
    stored = store(files_dir, "deck.pdf", owner=owner)
    assert (files_dir / stored.path).resolve().is_relative_to((files_dir / "uploads").resolve())
    assert stored.path.count("/") == 2


@pytest.mark.parametrize("owner", ["", "..", "/"])
def test_an_owner_that_names_no_folder_is_a_programming_error(tmp_path: Path, owner: str):
    with pytest.raises(ValueError, match="no folder"):
        store(tmp_path, "deck.pdf", owner=owner)


def test_a_symlinked_owner_folder_leading_out_is_refused(tmp_path: Path):
    files_dir = tmp_path / "files"
    (files_dir / "uploads").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (files_dir / "uploads" / "42").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="outside"):
        store(files_dir, "deck.pdf")
    assert list(outside.iterdir()) == []


def test_safe_name_is_never_empty():
    for name in ["", " ", ".", "..", "...", "/", "\\", "\x00", "\u202e"]:
        assert safe_name(name) == "file"
