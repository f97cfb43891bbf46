"""E-mail intake against real mail: messages built with the email package and written into a
Maildir with the mailbox module, and a real IMAP server (dovecot, see mailserver.py)."""

import base64
import io
import mailbox
import os
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from PIL import Image

from fieldservice.core.models import Event
from fieldservice.workorders import mail as mail_intake
from fieldservice.workorders.choices import AttachmentKind, Channel, RequestStatus
from fieldservice.workorders.models import Attachment, ServiceRequest, WorkOrderEvent
from fieldservice.workorders.services import intake, mail_filing
from tests import factories
from tests.workorders.mailserver import Dovecot, MailServerMissingError

SERVICE_ADDRESS = "service@hairui.example"
SUBJECT = "注塑机液压油温过高"
BODY = "您好：\n我们车间的 HX-250 注塑机液压油温一直报警，已停机。请尽快派人。\n张工"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 12), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def build(
    *,
    sender: str | None = "李雷 <Li.Lei@Example.com>",
    subject: str = SUBJECT,
    body: str = BODY,
    charset: str = "utf-8",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    attachments: tuple[tuple[str, bytes, str], ...] = (),
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    message["To"] = SERVICE_ADDRESS
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body, charset=charset)
    for filename, data, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def message_id_of(raw: bytes) -> str:
    return mail_intake.parse_message(raw).message_id


@pytest.fixture
def maildir(tmp_path, settings):
    path = tmp_path / "inbox"
    settings.FSM_MAIL_SOURCE = "maildir"
    settings.FSM_MAILDIR = path
    return mailbox.Maildir(path, factory=None, create=True)


def deliver(box: mailbox.Maildir, *mails: bytes) -> list[str]:
    return [box.add(raw) for raw in mails]


def states(box: mailbox.Maildir) -> dict[str, tuple[str, str]]:
    """key -> (subdir, flags) of every mail in the folder."""
    result = {}
    for key in box.iterkeys():  # iterating a mailbox gives messages, not keys
        message = box.get_message(key)
        result[key] = (message.get_subdir(), message.get_flags())
    return result


def request_events(request: ServiceRequest, action: str):
    return Event.objects.filter(
        content_type=ContentType.objects.get_for_model(ServiceRequest), object_pk=str(request.pk), action=action
    )


@pytest.fixture
def li_lei(personas):
    return factories.contact(personas.customer_a, name="李雷", email="li.lei@example.com")


def counts(created=0, replies=0, skipped=0, failed=0) -> mail_intake.FetchCounts:
    return mail_intake.FetchCounts(created=created, replies=replies, skipped=skipped, failed=failed)


# Maildir: new requests


def test_a_contacts_mail_opens_a_request_with_its_photo_and_document(maildir, personas, li_lei):
    raw = build(
        charset="gbk",
        attachments=(
            ("油温表.png", png(), "image/png"),
            ("报告.pdf", PDF, "application/pdf"),
            ("logs.zip", b"PK\x03\x04 not kept", "application/zip"),
        ),
    )
    assert b'charset="gbk"' in raw and BODY.encode("gbk") in raw  # a real 8-bit GBK body
    (key,) = deliver(maildir, raw)

    assert mail_intake.fetch_mail() == counts(created=1)

    request = ServiceRequest.objects.get()
    assert (request.channel, request.status) == (Channel.EMAIL, RequestStatus.OPEN)
    assert (request.customer, request.contact) == (personas.customer_a, li_lei)
    assert (request.reporter_email, request.reporter_name) == ("li.lei@example.com", "李雷")
    assert request.reporter_phone == li_lei.phone
    assert request.number.startswith("SR") and request.confirmed_at is not None and request.created_by is None
    assert request.description == f"{SUBJECT}\n\n{BODY}"
    assert request.email_message_id == message_id_of(raw)
    kinds = sorted((a.kind, a.content_type) for a in request.attachments.all())
    assert kinds == [(AttachmentKind.DOCUMENT, "application/pdf"), (AttachmentKind.PHOTO, "image/png")]
    photo = request.attachments.get(kind=AttachmentKind.PHOTO)
    with photo.file.open("rb") as stored:
        assert stored.read() == png()
    created = request_events(request, "created").get()
    assert "logs.zip" in created.note and created.actor is None
    assert states(maildir) == {key: ("cur", "S")}
    assert not os.listdir(maildir._path + "/new")


def test_an_unknown_senders_mail_waits_for_an_agent(maildir, personas, li_lei):
    deliver(maildir, build(sender="Wang Wu <wang.wu@elsewhere.example>", subject="Machine down", body="Please call."))

    assert mail_intake.fetch_mail() == counts(created=1)

    request = ServiceRequest.objects.get()
    assert request.status == RequestStatus.UNCONFIRMED
    assert (request.customer, request.contact, request.confirmed_at) == (None, None, None)
    assert (request.reporter_email, request.reporter_name) == ("wang.wu@elsewhere.example", "Wang Wu")
    assert request.description == "Machine down\n\nPlease call."
    # The agent's way on: say whose it is, then confirm.
    intake.assign_request_customer(request, actor=personas.agent, customer=personas.customer_z)
    assert intake.confirm_request(request, actor=personas.agent).status == RequestStatus.OPEN


def test_an_address_known_at_two_customers_waits_for_an_agent(maildir, personas, li_lei):
    factories.contact(personas.customer_z, name="Li Lei at Z", email="LI.LEI@example.com")
    deliver(maildir, build())

    mail_intake.fetch_mail()

    request = ServiceRequest.objects.get()
    assert (request.status, request.customer, request.contact) == (RequestStatus.UNCONFIRMED, None, None)


def test_chinese_headers_and_bodies_in_every_common_encoding(maildir, db):
    gbk_subject = "液压泵异响 喆"  # 喆 is GBK, not GB2312: Chinese mailers still label it "gb2312"
    html = "<html><head><style>p {color: red}</style></head><body><p>泵有异响&amp;漏油</p><p>喆</p></body></html>"
    raw_gb2312 = (
        b"From: =?GB2312?B?" + base64.b64encode("王芳".encode("gbk")) + b"?= <wang.fang@example.com>\r\n"
        b"To: " + SERVICE_ADDRESS.encode() + b"\r\n"
        b"Subject: =?GB2312?B?" + base64.b64encode(gbk_subject.encode("gbk")) + b"?=\r\n"
        b"Message-ID: <gb2312-1@example.com>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: text/html; charset=GB2312\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(html.encode("gbk"))
    )
    raw_8bit_header = (
        b"From: zhao@example.com\r\n"
        b"Subject: " + "无编码的主题".encode("gbk") + b"\r\n"
        b"Message-ID: <raw-8bit@example.com>\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: 8bit\r\n\r\n" + "正文 UTF-8".encode() + b"\r\n"
    )
    raw_utf8 = build(sender="=?utf-8?q?=E5=BC=A0=E4=B8=89?= <zhang@example.com>", subject="设备故障 [紧急]")
    deliver(maildir, raw_gb2312, raw_8bit_header, raw_utf8)

    assert mail_intake.fetch_mail() == counts(created=3)

    by_sender = {r.reporter_email: r for r in ServiceRequest.objects.all()}
    assert by_sender["wang.fang@example.com"].reporter_name == "王芳"
    assert by_sender["wang.fang@example.com"].description == f"{gbk_subject}\n\n泵有异响&漏油\n\n喆"
    assert by_sender["zhao@example.com"].description == "无编码的主题\n\n正文 UTF-8"
    assert by_sender["zhang@example.com"].reporter_name == "张三"
    assert by_sender["zhang@example.com"].description.startswith("设备故障 [紧急]\n\n您好：")


def test_a_forwarded_mail_is_named_not_unpacked(maildir, db):
    forwarded = EmailMessage()
    forwarded["From"] = "supplier@example.com"
    forwarded["Subject"] = "Quotation"
    forwarded.set_content("See the picture.")
    forwarded.add_attachment(png(), maintype="image", subtype="png", filename="inner.png")
    message = EmailMessage()
    message["From"] = "fwd@example.com"
    message["Subject"] = "Fwd: Quotation"
    message["Message-ID"] = make_msgid(domain="example.com")
    message.set_content("Is this part right for our machine?")
    message.add_attachment(forwarded, filename="quotation.eml")
    message.add_attachment(png(), maintype="image", subtype="png", filename="ours.png")
    deliver(maildir, message.as_bytes())

    assert mail_intake.fetch_mail() == counts(created=1)

    request = ServiceRequest.objects.get()
    assert request.description == "Fwd: Quotation\n\nIs this part right for our machine?"
    assert request.attachments.count() == 1
    assert "quotation.eml" in request_events(request, "created").get().note


def test_a_long_mail_is_trimmed_to_the_description_limit(maildir, db):
    deliver(maildir, build(sender="long@example.com", body="长" * 6000))

    mail_intake.fetch_mail()

    assert len(ServiceRequest.objects.get().description) == 5000


# Maildir: replies


def test_a_reply_goes_to_the_open_work_orders_service_log(maildir, personas, li_lei):
    first = build()
    deliver(maildir, first)
    mail_intake.fetch_mail()
    request = ServiceRequest.objects.get()
    order = intake.create_work_order(request, actor=personas.dispatcher)
    first_id = message_id_of(first)

    reply = build(
        subject=f"Re: {SUBJECT}",
        body="补充：报警代码 E-17。\n\n> 原邮件引用",
        in_reply_to=first_id,
        references=first_id,
        attachments=(("现场.png", png(), "image/png"),),
    )
    deliver(maildir, reply)
    assert mail_intake.fetch_mail() == counts(replies=1)

    assert ServiceRequest.objects.count() == 1
    entry = WorkOrderEvent.objects.get(work_order=order, action=mail_filing.EMAIL_REPLY)
    assert entry.note == "补充：报警代码 E-17。\n\n> 原邮件引用"
    assert entry.actor is None
    assert entry.payload["message_id"] == message_id_of(reply)
    assert entry.payload["from"] == "li.lei@example.com"
    photo = Attachment.objects.get(work_order=order)
    assert photo.kind == AttachmentKind.PHOTO and entry.payload["attachments"] == [photo.pk]
    assert not request.attachments.exists()

    # A reply to the reply (its References name only the reply) stays in the thread too.
    second = build(subject="Re: Re:", body="已恢复。", in_reply_to=message_id_of(reply))
    deliver(maildir, second)
    assert mail_intake.fetch_mail() == counts(replies=1)
    assert list(WorkOrderEvent.objects.filter(action=mail_filing.EMAIL_REPLY).values_list("note", flat=True)) == [
        "补充：报警代码 E-17。\n\n> 原邮件引用",
        "已恢复。",
    ]
    assert ServiceRequest.objects.count() == 1


def test_a_reply_without_an_open_work_order_goes_to_the_request(maildir, personas):
    first = build(sender="stranger@example.com")
    deliver(maildir, first)
    mail_intake.fetch_mail()
    request = ServiceRequest.objects.get()

    reply = build(
        sender="stranger@example.com",
        subject="Re: photo",
        body="",
        references=f"<unrelated@example.com> {message_id_of(first)}",
        attachments=(("machine.png", png(), "image/png"),),
    )
    follow_up = build(sender="stranger@example.com", body="Any news?", references=message_id_of(reply))
    deliver(maildir, reply)
    assert mail_intake.fetch_mail() == counts(replies=1)
    deliver(maildir, follow_up)
    assert mail_intake.fetch_mail() == counts(replies=1)

    assert ServiceRequest.objects.count() == 1
    notes = list(request_events(request, mail_filing.EMAIL_REPLY).order_by("pk").values_list("note", flat=True))
    assert notes == ["Re: photo", "Any news?"]  # no text: the subject says what the mail was
    assert request.attachments.get().kind == AttachmentKind.PHOTO


def test_the_request_number_in_the_subject_counts_only_from_the_requests_people(maildir, personas, li_lei):
    deliver(maildir, build())
    mail_intake.fetch_mail()
    request = ServiceRequest.objects.get()

    deliver(maildir, build(subject=f"[{request.number}] 还没人来", body="请回电。"))
    assert mail_intake.fetch_mail() == counts(replies=1)
    deliver(maildir, build(sender="someone@else.example", subject=f"[{request.number}] spam", body="x"))
    assert mail_intake.fetch_mail() == counts(created=1)

    assert ServiceRequest.objects.count() == 2
    assert request_events(request, mail_filing.EMAIL_REPLY).get().note == "请回电。"


# Maildir: the same mail, bad mails


def test_the_same_mail_twice_is_filed_once(maildir, personas, li_lei):
    raw = build(attachments=(("a.png", png(), "image/png"),))
    keys = deliver(maildir, raw, raw)

    assert mail_intake.fetch_mail() == counts(created=1, skipped=1)
    assert mail_intake.fetch_mail() == counts()
    assert mail_intake.ingest_message(raw).outcome == mail_intake.Outcome.DUPLICATE

    assert ServiceRequest.objects.count() == 1 and Attachment.objects.count() == 1
    assert states(maildir) == {key: ("cur", "S") for key in keys}


def test_a_mail_without_message_id_is_known_by_its_content(maildir, db):
    raw = build(sender="no-id@example.com")
    raw = b"\n".join(line for line in raw.split(b"\n") if not line.lower().startswith(b"message-id:"))
    deliver(maildir, raw, raw)

    assert mail_intake.fetch_mail() == counts(created=1, skipped=1)
    assert ServiceRequest.objects.get().email_message_id.endswith("@content.invalid>")


def test_a_mail_without_sender_is_skipped_and_the_next_one_is_filed(maildir, db, caplog):
    keys = deliver(
        maildir,
        build(sender=None),
        b"this is not a mail at all\n",
        build(sender="ok@example.com", body="", subject=""),
        build(sender="ok@example.com", headers={"Auto-Submitted": "auto-replied"}),
        build(sender="Not An Address <someone@nowhere>"),
        build(sender="ok@example.com", body="Works."),
    )

    assert mail_intake.fetch_mail() == counts(created=1, skipped=5)

    assert ServiceRequest.objects.get().description == f"{SUBJECT}\n\nWorks."
    assert states(maildir) == {key: ("cur", "S") for key in keys}
    assert "no sender address" in caplog.text and "automatic mail" in caplog.text and "refused" in caplog.text


def test_a_mail_that_fails_stays_for_the_next_run(maildir, db, monkeypatch):
    file_email_request = mail_filing.file_email_request

    def failing_for_one(**fields):
        if "崩溃" in fields["description"]:
            raise RuntimeError("database went away")
        return file_email_request(**fields)

    monkeypatch.setattr(mail_filing, "file_email_request", failing_for_one)
    bad, good = deliver(maildir, build(subject="崩溃"), build(sender="ok@example.com"))

    assert mail_intake.fetch_mail() == counts(created=1, failed=1)
    assert states(maildir) == {bad: ("new", ""), good: ("cur", "S")}
    assert ServiceRequest.objects.count() == 1

    monkeypatch.setattr(mail_filing, "file_email_request", file_email_request)
    assert mail_intake.fetch_mail() == counts(created=1)
    assert states(maildir)[bad] == ("cur", "S")


def test_the_command_reports_its_counts(maildir, db):
    deliver(maildir, build(sender="a@example.com"), build(sender=None))
    out = io.StringIO()

    call_command("fetch_mail", stdout=out)

    assert "1 new requests, 0 replies added, 1 skipped, 0 failed" in out.getvalue()
    assert ServiceRequest.objects.count() == 1


def test_a_mail_that_cannot_be_filed_makes_the_command_fail(maildir, db, monkeypatch):
    monkeypatch.setattr(mail_filing, "file_email_request", lambda **fields: 1 / 0)
    deliver(maildir, build(sender="a@example.com"))

    with pytest.raises(CommandError, match="1 mails could not be filed"):
        call_command("fetch_mail", stdout=io.StringIO())


# IMAP, against a real dovecot


@pytest.fixture(scope="session")
def dovecot():
    try:
        server = Dovecot()
    except MailServerMissingError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the IMAP tests: {error}")
        pytest.skip(str(error))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap_folder(dovecot, settings):
    """A folder of its own for each test, with the settings pointing at it over TLS."""
    folder = f"intake-{uuid.uuid4().hex[:8]}"
    dovecot.create_folder(folder)
    settings.FSM_MAIL_SOURCE = "imap"
    settings.FSM_IMAP_HOST = "127.0.0.1"
    settings.FSM_IMAP_PORT = dovecot.tls_port
    settings.FSM_IMAP_SSL = True
    settings.FSM_IMAP_VERIFY_TLS = False  # a self-signed certificate; verification is tested below
    settings.FSM_IMAP_USER = dovecot.user
    settings.FSM_IMAP_PASSWORD = dovecot.password
    settings.FSM_IMAP_FOLDER = folder
    return folder


def test_imap_new_mails_become_requests_and_are_marked_seen(dovecot, imap_folder, personas, li_lei):
    dovecot.deliver(imap_folder, build(charset="gbk", attachments=(("a.png", png(), "image/png"),)))
    dovecot.deliver(imap_folder, build(sender="stranger@example.com", body="Hello"))
    dovecot.deliver(imap_folder, build(sender="read@example.com"), flags=r"\Seen")  # read by a person

    assert mail_intake.fetch_mail() == counts(created=2)

    known, unknown = ServiceRequest.objects.order_by("pk")
    assert (known.status, known.contact, known.description) == (RequestStatus.OPEN, li_lei, f"{SUBJECT}\n\n{BODY}")
    assert known.attachments.get().kind == AttachmentKind.PHOTO
    assert (unknown.status, unknown.customer) == (RequestStatus.UNCONFIRMED, None)
    assert all(r"\Seen" in flags for flags in dovecot.flags(imap_folder))
    assert mail_intake.fetch_mail() == counts()
    assert ServiceRequest.objects.count() == 2


def test_imap_verifies_the_servers_certificate(dovecot, imap_folder, db):
    dovecot.deliver(imap_folder, build(sender="tls@example.com"))
    settings_source = mail_intake.source_from_settings()
    trusting = mail_intake.ImapSource(
        host="127.0.0.1",
        port=dovecot.tls_port,
        user=dovecot.user,
        password=dovecot.password,
        folder=imap_folder,
        ssl_context=dovecot.client_context(),
    )
    checking = mail_intake.ImapSource(
        host="127.0.0.1", port=dovecot.tls_port, user=dovecot.user, password=dovecot.password, folder=imap_folder
    )

    with pytest.raises(mail_intake.MailSourceError, match="CERTIFICATE_VERIFY_FAILED"):
        mail_intake.fetch_mail(checking)
    assert mail_intake.fetch_mail(trusting) == counts(created=1)
    assert settings_source.verify_tls is False and settings_source.use_ssl is True


def test_plain_imap_leaves_a_failed_mail_unseen(dovecot, imap_folder, settings, db, monkeypatch):
    settings.FSM_IMAP_SSL = False
    settings.FSM_IMAP_PORT = dovecot.port
    file_email_request = mail_filing.file_email_request

    def failing_for_one(**fields):
        if "崩溃" in fields["description"]:
            raise RuntimeError("database went away")
        return file_email_request(**fields)

    monkeypatch.setattr(mail_filing, "file_email_request", failing_for_one)
    dovecot.deliver(imap_folder, build(sender="a@example.com", subject="崩溃"))
    dovecot.deliver(imap_folder, build(sender=None))
    dovecot.deliver(imap_folder, build(sender="b@example.com"))

    assert mail_intake.fetch_mail() == counts(created=1, skipped=1, failed=1)
    first, second, third = dovecot.flags(imap_folder)
    assert r"\Seen" not in first and r"\Seen" in second and r"\Seen" in third

    monkeypatch.setattr(mail_filing, "file_email_request", file_email_request)
    assert mail_intake.fetch_mail() == counts(created=1)
    assert ServiceRequest.objects.count() == 2


def test_imap_refusals_are_clear_errors(dovecot, imap_folder, settings, db):
    settings.FSM_IMAP_FOLDER = "no-such-folder"
    with pytest.raises(CommandError, match="no-such-folder"):
        call_command("fetch_mail", stdout=io.StringIO())
    settings.FSM_IMAP_FOLDER = imap_folder
    settings.FSM_IMAP_PASSWORD = "wrong"
    with pytest.raises(CommandError, match="IMAP"):
        call_command("fetch_mail", stdout=io.StringIO())
