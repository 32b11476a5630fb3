"""Mailing entries to the committee through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from pydantic import SecretStr

from config import Campaign, Settings
from intake import mail
from intake.files import store_upload
from intake.queue import Submission

LOOPBACK = "127.0.0.1"
DOCX = b"PK\x03\x04 a rendered form " + bytes(range(256))
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 10
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 100


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Collector:
    """An aiosmtpd handler that keeps every message it is given."""

    messages: list[Received] = field(default_factory=list)

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        assert envelope.mail_from is not None and isinstance(envelope.content, bytes)
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def serve(**smtp_kwargs: Any) -> Iterator[tuple[Collector, int]]:
    handler = Collector()
    port = free_port()
    controller = Controller(handler, hostname=LOOPBACK, port=port, **smtp_kwargs)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[tuple[Collector, int]]:
    """A real SMTP server on a random loopback port."""
    yield from serve()


@pytest.fixture
def files_dir(tmp_path: Path) -> Path:
    return tmp_path / "files"


@pytest.fixture
def submission(files_dir: Path) -> Submission:
    """A queued record with two stored attachments."""
    deck = store_upload(files_dir=files_dir, owner="7", file_name="路演材料 (终版).pdf", source=PDF,
                        mime_type="application/pdf", size=len(PDF))
    photo = store_upload(files_dir=files_dir, owner="7", file_name="team.png", source=PNG, mime_type="image/png",
                         size=len(PNG))
    return Submission(
        id=17,
        reference="KCXF-2024-00017",
        draft_key="d",
        user_id=7,
        award_id="pioneer_product",
        entrant_name="灵眸 AI 质检相机",
        subject="参选类别（年度科创先锋产品）+ 灵眸 AI 质检相机",
        answers={"entrant_name": "灵眸 AI 质检相机", "contact_name": "王丽", "contact_mobile": "13812345678",
                 "contact_email": "wangli@pioneer-tech.cn"},
        attachments=[deck.as_dict(), photo.as_dict()],
        status="submitted",
        created_at=datetime(2024, 10, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
    )


@pytest.fixture
def form_path(tmp_path: Path) -> Path:
    path = tmp_path / "files" / "forms" / "KCXF-2024-00017" / "申报表-KCXF-2024-00017.docx"
    path.parent.mkdir(parents=True)
    path.write_bytes(DOCX)
    return path


def smtp_settings(settings: Settings, port: int, **kwargs: Any) -> Settings:
    # model_copy does not validate: pass values of the fields' own types.
    return settings.model_copy(update={"smtp_host": LOOPBACK, "smtp_port": port, "smtp_timeout_s": 5.0,
                                       "smtp_from": "kcxf-bot@example.cn", **kwargs})


def test_mail_reaches_the_committee_with_subject_form_and_attachments(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
    smtp_server: tuple[Collector, int],
):
    collector, port = smtp_server
    sent = mail.send_submission(settings=smtp_settings(settings, port), campaign=campaign, submission=submission,
                                form_path=form_path, attachments_dir=files_dir)
    assert sent is True
    [received] = collector.messages
    assert received.rcpt_tos == ["kcxf@thepaper.cn"] == [campaign.committee.mailbox]
    assert received.mail_from == "kcxf-bot@example.cn"

    # On the wire the headers are 7-bit: the Chinese subject travels as RFC 2047 encoded words.
    head = received.content.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    raw_subject = email.message_from_bytes(received.content)["Subject"]
    assert "=?utf-8?" in raw_subject.lower()
    message = received.message
    assert str(message["Subject"]) == submission.subject == "参选类别（年度科创先锋产品）+ 灵眸 AI 质检相机"
    assert message["To"] == "kcxf@thepaper.cn"

    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text = body.get_content()
    for expected in ("KCXF-2024-00017", "年度科创先锋产品", "灵眸 AI 质检相机", "王丽", "13812345678",
                     "wangli@pioneer-tech.cn", "2024-10-01 10:00", "路演材料 (终版).pdf"):
        assert expected in text

    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert list(attachments) == ["申报表-KCXF-2024-00017.docx", "路演材料 (终版).pdf", "team.png"]
    assert attachments["申报表-KCXF-2024-00017.docx"].get_content_type() == mail.DOCX_TYPE
    assert attachments["申报表-KCXF-2024-00017.docx"].get_content() == DOCX
    assert attachments["路演材料 (终版).pdf"].get_content_type() == "application/pdf"
    assert attachments["路演材料 (终版).pdf"].get_content() == PDF
    assert attachments["team.png"].get_content_type() == "image/png"
    assert attachments["team.png"].get_content() == PNG


async def test_async_wrapper_sends_from_a_worker_thread(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
    smtp_server: tuple[Collector, int],
):
    collector, port = smtp_server
    assert await mail.send_submission_async(settings=smtp_settings(settings, port), campaign=campaign,
                                            submission=submission, form_path=form_path, attachments_dir=files_dir)
    assert len(collector.messages) == 1


def test_login_when_a_user_is_configured(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
):
    logins: list[tuple[str, str]] = []

    def authenticator(server: SMTPServer, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        logins.append((auth_data.login.decode(), auth_data.password.decode()))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)  # handled=False: answer 535

    # Loopback without TLS: the server is told to accept AUTH in the clear.
    for collector, port in serve(authenticator=authenticator, auth_require_tls=False):
        config = smtp_settings(settings, port, smtp_user="bot", smtp_password=SecretStr("s3cret"))
        assert mail.send_submission(settings=config, campaign=campaign, submission=submission,
                                    form_path=form_path, attachments_dir=files_dir)
        assert len(collector.messages) == 1
        wrong = smtp_settings(settings, port, smtp_user="bot", smtp_password=SecretStr("wrong"))
        assert not mail.send_submission(settings=wrong, campaign=campaign, submission=submission,
                                        form_path=form_path, attachments_dir=files_dir)
        assert len(collector.messages) == 1
    # smtplib tries each offered mechanism (PLAIN, then LOGIN) before giving up on a wrong password.
    assert logins[0] == ("bot", "s3cret") and set(logins[1:]) == {("bot", "wrong")}


def test_without_smtp_nothing_is_sent(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
):
    assert settings.smtp_host is None
    assert mail.send_submission(settings=settings, campaign=campaign, submission=submission, form_path=form_path,
                                attachments_dir=files_dir) is False


def test_refused_connection_returns_false_and_warns(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
    caplog: pytest.LogCaptureFixture,
):
    port = free_port()  # nothing listens there
    with caplog.at_level(logging.WARNING, logger="intake.mail"):
        sent = mail.send_submission(settings=smtp_settings(settings, port), campaign=campaign,
                                    submission=submission, form_path=form_path, attachments_dir=files_dir)
    assert sent is False
    [record] = [r for r in caplog.records if r.name == "intake.mail"]
    assert record.levelno == logging.WARNING
    assert "KCXF-2024-00017" in record.getMessage() and str(port) in record.getMessage()


def test_a_missing_attachment_fails_the_mail_not_the_caller(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
    smtp_server: tuple[Collector, int], caplog: pytest.LogCaptureFixture,
):
    collector, port = smtp_server
    (files_dir / submission.attachments[1]["path"]).unlink()
    with caplog.at_level(logging.WARNING, logger="intake.mail"):
        assert not mail.send_submission(settings=smtp_settings(settings, port), campaign=campaign,
                                        submission=submission, form_path=form_path, attachments_dir=files_dir)
    assert collector.messages == [] and "KCXF-2024-00017" in caplog.text


def test_an_attachment_path_outside_the_files_folder_is_never_read(
    settings: Settings, campaign: Campaign, submission: Submission, form_path: Path, files_dir: Path,
    tmp_path: Path,
):
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF secret")
    submission.attachments = [{**submission.attachments[0], "path": "../secret.pdf"}]
    with pytest.raises(OSError, match="outside"):
        mail.build_message(settings=settings, campaign=campaign, submission=submission, form_path=form_path,
                           attachments_dir=files_dir)
