"""E-mail intake: mails in the service mailbox become service requests.

`fetch_mail()` reads the configured mailbox once (settings `FSM_MAIL_SOURCE` and friends): a
Maildir folder on this machine, or an IMAP folder. Each new mail is handled in its own
transaction by `ingest_message`:

- a reply in a known thread (In-Reply-To/References naming a request's first mail or an earlier
  reply, or "[SR0000123]" in the subject from the request's reporter or customer) is added to
  that request: its newest open work order's service log, or its history;
- any other mail files a new request through `mail_filing.file_email_request`; a sender who is a
  known contact opens it for that customer, anyone else's waits for an agent.

A mail the system can never file (no sender, no text, an auto-reply) is skipped and marked done.
A mail whose handling crashed is logged, counted as failed and left unread, so the next run
tries it again; it does not stop the others. The same Message-ID is never filed twice.
"""

import dataclasses
import enum
import hashlib
import imaplib
import logging
import mailbox
import re
import ssl
from collections.abc import Iterator
from email import policy
from email.header import decode_header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr
from html.parser import HTMLParser
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction

from fieldservice.core.errors import DomainError
from fieldservice.core.uploads import check_document, check_image
from fieldservice.workorders.choices import AttachmentKind
from fieldservice.workorders.models import ServiceRequest
from fieldservice.workorders.services import intake, mail_filing

log = logging.getLogger(__name__)

DESCRIPTION_LIMIT = 5000
MAX_ATTACHMENTS = 10
MAX_REFERENCES = 50
MESSAGE_ID_LIMIT = 300  # ServiceRequest.email_message_id
REQUEST_NUMBER = re.compile(r"\[(SR\d{7,})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Chinese mailers label GBK (and GB18030) text "gb2312"; GB18030 decodes all of them.
GB_CHARSETS = {"gb2312", "gb_2312", "gb_2312-80", "csgb2312", "euc-cn", "x-euc-cn", "gbk", "x-gbk", "cp936", "ms936"}
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "auto_reply"}


# Reading a message


@dataclasses.dataclass(frozen=True)
class MailAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclasses.dataclass
class ParsedMail:
    message_id: str
    # Ids of the mails this one answers, In-Reply-To first, then References newest first.
    references: list[str]
    sender_email: str
    sender_name: str
    subject: str
    body: str
    attachments: list[MailAttachment]
    # Parts that are not a photo or a document (or a forwarded mail): named, not kept.
    not_kept: list[str]
    automatic: bool = False


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    if name in GB_CHARSETS:
        return "gb18030"
    if name in {"unknown-8bit", "x-unknown", "unknown"}:
        return None
    return name


def decode_text(data: bytes, charset: str | None = None) -> str:
    """Bytes in the declared charset; if that is missing or wrong, UTF-8, then GB18030."""
    for codec in dict.fromkeys(filter(None, (_codec(charset), "utf-8", "gb18030"))):
        try:
            return data.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def decode_header_value(raw: str | None) -> str:
    """A header as text: RFC 2047 encoded words in any charset, or raw 8-bit bytes that some
    mailers put straight into headers."""
    if not raw:
        return ""
    raw = re.sub(r"\r?\n(?=[ \t])", "", raw)
    if any("\udc80" <= ch <= "\udcff" for ch in raw):
        # The parser keeps undecodable header bytes as surrogates; get the bytes back.
        raw = decode_text(raw.encode("ascii", "surrogateescape"))
    if "=?" not in raw:
        return " ".join(raw.split())
    try:
        chunks = decode_header(raw)
    except Exception:  # noqa: BLE001 - a malformed encoded word: keep the header as it came
        return " ".join(raw.split())
    text = "".join(decode_text(chunk, charset) if isinstance(chunk, bytes) else chunk for chunk, charset in chunks)
    return " ".join(text.split())


def _raw_header(message: Message, name: str) -> str | None:
    # The raw value, not the policy's decoded one: we decode charsets more forgivingly.
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def normalise_message_id(token: str) -> str:
    """`<id@host>` as stored; over-long ids become a digest so they still fit and match."""
    token = token.strip()
    if len(token) > MESSAGE_ID_LIMIT:
        return f"<{hashlib.sha256(token.encode('utf-8', 'surrogateescape')).hexdigest()}@digest.invalid>"
    return token


def _message_ids(raw: str | None) -> list[str]:
    return [normalise_message_id(token) for token in MESSAGE_ID.findall(re.sub(r"\s+", " ", raw or ""))]


class _TextFromHtml(HTMLParser):
    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style", "head", "title"}:
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in {"script", "style", "head", "title"}:
            self._skip = max(0, self._skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _TextFromHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(lines)


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True) or b""
    return decode_text(payload, part.get_content_charset())


def _leaves(part: Message) -> Iterator[Message]:
    # Not into attached mails: a forwarded mail's attachments are not this mail's.
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        for sub in part.get_payload():
            yield from _leaves(sub)
    else:
        yield part


def _filename(part: Message, number: int) -> tuple[str, bool]:
    """The part's file name without any folders (or a made-up one), and whether it had one."""
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001 - a malformed parameter: the part still counts
        name = ""
    name = decode_header_value(name).replace("\\", "/").rsplit("/", 1)[-1].strip()[:80]
    return name or f"attachment-{number}", bool(name)


def _sender(message: EmailMessage) -> tuple[str, str]:
    """(display name, address) of the first From address; ("", "") when there is none."""
    name, address = parseaddr(decode_header_value(_raw_header(message, "From")))
    try:
        parsed = message["From"].addresses if message["From"] is not None else ()
    except Exception:  # noqa: BLE001 - the policy's parser gave up; parseaddr's answer stands
        parsed = ()
    # A decoded display name may hold commas or brackets that confuse parseaddr; the policy
    # parses the address from the encoded header, where they are quoted.
    if parsed and parsed[0].addr_spec and parsed[0].addr_spec.lower() != address.lower():
        name, address = parsed[0].display_name, parsed[0].addr_spec
    if "@" not in address:
        return "", ""
    return name.strip(), address.strip()


def parse_message(raw: bytes) -> ParsedMail:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)

    sender_name, sender_email = _sender(message)

    raw_id = _raw_header(message, "Message-ID")
    ids = _message_ids(raw_id)
    # No Message-ID: the content is the identity, so the same mail fetched twice is one mail.
    message_id = ids[0] if ids else f"<{hashlib.sha256(raw).hexdigest()}@content.invalid>"
    references = _message_ids(_raw_header(message, "In-Reply-To"))
    references += reversed(_message_ids(_raw_header(message, "References")))
    references = [mid for mid in dict.fromkeys(references) if mid != message_id][:MAX_REFERENCES]

    auto_submitted = (_raw_header(message, "Auto-Submitted") or "no").strip().lower()
    precedence = (_raw_header(message, "Precedence") or "").strip().lower()
    automatic = not auto_submitted.startswith("no") or precedence in AUTOMATIC_PRECEDENCE

    try:
        body_part = message.get_body(preferencelist=("plain", "html"))
    except Exception:  # noqa: BLE001 - a broken MIME tree: no body, attachments may still be read
        body_part = None
    body = ""
    if body_part is not None:
        body = _part_text(body_part)
        if body_part.get_content_subtype() == "html":
            body = html_to_text(body)

    attachments: list[MailAttachment] = []
    not_kept: list[str] = []
    for number, part in enumerate(_leaves(message), start=1):
        if part is body_part:
            continue
        content_type = part.get_content_type()
        name, named = _filename(part, number)
        if content_type.startswith("text/") and not named and part.get_content_disposition() != "attachment":
            continue  # the other alternative of the body
        if content_type == "message/rfc822" or content_type.startswith("multipart/"):
            not_kept.append(name)
            continue
        data = part.get_payload(decode=True) or b""
        if not data:
            continue
        attachments.append(MailAttachment(filename=name, content_type=content_type, data=data))

    return ParsedMail(
        message_id=message_id,
        references=references,
        sender_email=sender_email.strip(),
        sender_name=sender_name.strip(),
        subject=decode_header_value(_raw_header(message, "Subject")),
        body=_tidy(body),
        attachments=attachments,
        not_kept=not_kept,
        automatic=automatic,
    )


def _usable_attachments(mail: ParsedMail) -> tuple[list[tuple[str, ContentFile]], list[str]]:
    """(kind, file) pairs to keep, and the names of the rest. Photos and PDFs only, checked by
    content like any upload; the name or declared type of a part proves nothing."""
    kept: list[tuple[str, ContentFile]] = []
    not_kept = list(mail.not_kept)
    for attachment in mail.attachments:
        file = ContentFile(attachment.data, name=attachment.filename)
        if len(kept) >= MAX_ATTACHMENTS:
            not_kept.append(attachment.filename)
            continue
        if attachment.data.startswith(b"%PDF-"):
            kind, check = AttachmentKind.DOCUMENT, lambda f: check_document(f, "file")
        else:
            kind, check = AttachmentKind.PHOTO, lambda f: check_image(f, "photos", intake.PHOTO_LIMIT)
        try:
            check(file)
        except ValidationError:
            not_kept.append(attachment.filename)
            continue
        kept.append((kind, file))
    return kept, not_kept


# Filing a message


class Outcome(enum.StrEnum):
    CREATED = "created"
    REPLY = "reply"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"


@dataclasses.dataclass
class IngestResult:
    outcome: Outcome
    message_id: str = ""
    request: ServiceRequest | None = None
    reason: str = ""


def _sender_belongs_to(request: ServiceRequest, email: str) -> bool:
    email = email.lower()
    if request.reporter_email and request.reporter_email.lower() == email:
        return True
    return request.customer is not None and request.customer.contacts.filter(email__iexact=email).exists()


def _thread(mail: ParsedMail) -> ServiceRequest | None:
    request = mail_filing.email_thread(mail.references)
    if request is not None:
        return request
    # A request number in the subject counts only from someone the request is about: anyone
    # can type a number, but only a thread's participants know its Message-IDs.
    for number in REQUEST_NUMBER.findall(mail.subject):
        request = ServiceRequest.objects.filter(number=number).select_related("customer").first()
        if request is not None and _sender_belongs_to(request, mail.sender_email):
            return request
    return None


def _skip(mail_id: str, reason: str) -> IngestResult:
    log.warning("mail %s skipped: %s", mail_id or "(no Message-ID)", reason)
    return IngestResult(Outcome.SKIPPED, message_id=mail_id, reason=reason)


def ingest_message(raw: bytes) -> IngestResult:
    """File one mail: as a reply on its thread's request, or as a new request. A mail that
    can never be filed is skipped with the reason; anything else that goes wrong raises, and
    nothing of the mail is kept."""
    try:
        mail = parse_message(raw)
    except Exception:  # noqa: BLE001 - the same bytes would fail the same way on every run
        log.exception("unreadable mail skipped")
        return IngestResult(Outcome.SKIPPED, reason="unreadable")
    if not mail.sender_email:
        return _skip(mail.message_id, "no sender address")
    if mail.automatic:
        # Out-of-office answers and bounces would otherwise file requests about our own mails.
        return _skip(mail.message_id, "automatic mail (Auto-Submitted or Precedence)")
    try:
        with transaction.atomic():
            if mail_filing.email_filed(mail.message_id):
                log.info("mail %s already filed", mail.message_id)
                return IngestResult(Outcome.DUPLICATE, message_id=mail.message_id, reason="already filed")
            files, not_kept = _usable_attachments(mail)
            request = _thread(mail)
            if request is not None:
                mail_filing.add_email_reply(
                    request,
                    sender_email=mail.sender_email,
                    message_id=mail.message_id,
                    text=mail.body[:DESCRIPTION_LIMIT] or mail.subject[:DESCRIPTION_LIMIT],
                    attachments=files,
                    not_kept=not_kept,
                )
                log.info("mail %s added to %s", mail.message_id, request.number)
                return IngestResult(Outcome.REPLY, message_id=mail.message_id, request=request)
            description = "\n\n".join(part for part in (mail.subject, mail.body) if part)[:DESCRIPTION_LIMIT]
            if not description.strip():
                return _skip(mail.message_id, "no subject and no text")
            request = mail_filing.file_email_request(
                sender_email=mail.sender_email,
                sender_name=mail.sender_name,
                description=description,
                message_id=mail.message_id,
                attachments=files,
                not_kept=not_kept,
            )
    except ValidationError as error:
        # The mail itself is unfit (e.g. a sender address that is not one); retrying won't help.
        return _skip(mail.message_id, f"refused: {error.messages}")
    except DomainError as error:
        return _skip(mail.message_id, f"refused: {error.code}")
    log.info("mail %s filed as %s", mail.message_id, request.number)
    return IngestResult(Outcome.CREATED, message_id=mail.message_id, request=request)


# Mailboxes


class MailSourceError(Exception):
    """The mailbox cannot be read (server down, wrong password, no such folder)."""


class MaildirSource:
    """A Maildir folder: mails in new/ are read; a handled one moves to cur/ marked seen."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.box: mailbox.Maildir | None = None

    def __enter__(self):
        self.box = mailbox.Maildir(self.path, factory=None, create=True)
        return self

    def __exit__(self, *exc_info):
        self.box = None

    def new_messages(self) -> Iterator[tuple[str, bytes]]:
        assert self.box is not None
        # Keys of the files in new/ only: reading every handled mail in cur/ on each run is waste.
        names = sorted(entry.name for entry in (self.path / "new").iterdir() if not entry.name.startswith("."))
        for name in names:
            key = name.split(self.box.colon)[0]
            try:
                raw = self.box.get_bytes(key)
            except KeyError:
                continue  # taken by another reader meanwhile
            yield key, raw

    def mark_done(self, key: str) -> None:
        assert self.box is not None
        message = self.box.get_message(key)
        message.set_subdir("cur")
        message.add_flag("S")
        self.box[key] = message


def _quote_folder(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


class ImapSource:
    """An IMAP folder: unseen mails are read without marking them; a handled one is marked
    \\Seen, so a crash half-way leaves the rest for the next run."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        user: str,
        password: str,
        folder: str = "INBOX",
        use_ssl: bool = True,
        verify_tls: bool = True,
        ssl_context: ssl.SSLContext | None = None,
        timeout: float = 60,
    ):
        self.host, self.port, self.user, self.password = host, port, user, password
        self.folder, self.use_ssl, self.verify_tls = folder, use_ssl, verify_tls
        self.ssl_context, self.timeout = ssl_context, timeout
        self.connection: imaplib.IMAP4 | None = None

    def _context(self) -> ssl.SSLContext:
        if self.ssl_context is not None:
            return self.ssl_context
        context = ssl.create_default_context()
        if not self.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def __enter__(self):
        try:
            if self.use_ssl:
                connection = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self._context(), timeout=self.timeout)
            else:
                connection = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
        except (OSError, imaplib.IMAP4.error) as error:
            raise MailSourceError(f"cannot connect to {self.host}:{self.port}: {error}") from error
        self.connection = connection
        try:
            connection.login(self.user, self.password)
            status, data = connection.select(_quote_folder(self.folder))
            if status != "OK":
                raise MailSourceError(f"cannot open folder {self.folder!r}: {data!r}")
        except (OSError, imaplib.IMAP4.error) as error:
            self._logout()
            raise MailSourceError(f"IMAP {self.user}@{self.host}: {error}") from error
        except MailSourceError:
            self._logout()
            raise
        return self

    def __exit__(self, *exc_info):
        self._logout()

    def _logout(self) -> None:
        connection, self.connection = self.connection, None
        if connection is None:
            return
        try:
            if connection.state == "SELECTED":
                connection.close()
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            pass

    def _command(self, *args) -> list:
        assert self.connection is not None
        status, data = self.connection.uid(*args)
        if status != "OK":
            raise MailSourceError(f"IMAP UID {args[0]} failed: {data!r}")
        return data

    def new_messages(self) -> Iterator[tuple[bytes, bytes]]:
        uids = (self._command("SEARCH", "UNSEEN")[0] or b"").split()
        for uid in uids:
            # BODY.PEEK, not RFC822: fetching must not mark the mail seen before it is filed.
            data = self._command("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in data if isinstance(item, tuple) and len(item) == 2), None)
            if raw is None:
                continue  # expunged meanwhile
            yield uid, raw

    def mark_done(self, uid: bytes) -> None:
        self._command("STORE", uid, "+FLAGS.SILENT", r"(\Seen)")


def source_from_settings() -> MaildirSource | ImapSource:
    if settings.FSM_MAIL_SOURCE == "imap":
        return ImapSource(
            host=settings.FSM_IMAP_HOST,
            port=settings.FSM_IMAP_PORT,
            user=settings.FSM_IMAP_USER,
            password=settings.FSM_IMAP_PASSWORD,
            folder=settings.FSM_IMAP_FOLDER,
            use_ssl=settings.FSM_IMAP_SSL,
            verify_tls=settings.FSM_IMAP_VERIFY_TLS,
        )
    return MaildirSource(settings.FSM_MAILDIR)


@dataclasses.dataclass
class FetchCounts:
    created: int = 0
    replies: int = 0
    skipped: int = 0
    failed: int = 0


def fetch_mail(source: MaildirSource | ImapSource | None = None) -> FetchCounts:
    """Read the mailbox once and file every new mail. Raises MailSourceError when the mailbox
    cannot be read at all."""
    counts = FetchCounts()
    with source or source_from_settings() as box:
        for handle, raw in box.new_messages():
            try:
                result = ingest_message(raw)
            except Exception:  # noqa: BLE001 - one broken mail must not stop the others
                log.exception("mail %r could not be filed; left for the next run", handle)
                counts.failed += 1
                continue
            if result.outcome == Outcome.CREATED:
                counts.created += 1
            elif result.outcome == Outcome.REPLY:
                counts.replies += 1
            else:
                counts.skipped += 1
            box.mark_done(handle)
    return counts
