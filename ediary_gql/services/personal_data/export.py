"""requestMyData: everything held about a person, as a ZIP of JSON files.

`request_export` queues the request; the worker (`ExportWorker`, in the background like
the report worker) claims it, builds the archive (`build_archive`), stores it and tells
the requester. Only the requester downloads it (`export_for_download`, behind
`EXPORT_FILE_ROUTE`). The archive holds: profile, consents (where the consent records
exist), applications with their history and file list, notifications, sign-in sessions,
messages, the sensitive reads of the person's documents, and for a guardian each child's
card, grades, attendance and who read the child's documents. The export itself is a read
of the children's documents and is recorded as one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import decimal
import enum
import io
import json
import zipfile
from collections.abc import Callable, Sequence
from typing import Any

import structlog
from sqlalchemy import ColumnElement, Table, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase

from ediary_gql.auth import personal_fields, policy
from ediary_gql.auth.actor import Actor
from ediary_gql.db.base import Base, utcnow
from ediary_gql.db.models.applications import Application, ApplicationAttachment, ApplicationEvent
from ediary_gql.db.models.attachments import Attachment
from ediary_gql.db.models.attendance import Attendance
from ediary_gql.db.models.children import Child
from ediary_gql.db.models.enums import NotificationKind
from ediary_gql.db.models.grades import Grade
from ediary_gql.db.models.messages import Message, Thread, ThreadParticipant
from ediary_gql.db.models.notifications import Notification
from ediary_gql.db.models.personal_data import DataRequest, DataRequestKind, DataRequestStatus, SensitiveRead
from ediary_gql.db.models.users import AuthSession, User
from ediary_gql.errors import RateLimited, forbidden
from ediary_gql.events.publish import Publisher, unit_of_work
from ediary_gql.services import audit
from ediary_gql.services.background import BackgroundWorker, BytesReader, NoBus, WorkerEvents, claim_oldest
from ediary_gql.services.notifications import notify
from ediary_gql.services.personal_data import sensitive_reads
from ediary_gql.storage import Storage

log = structlog.get_logger(__name__)

EXPORT_FILE_ROUTE = "data_export_file"
EXPORT_FILE_PATH = "/data-requests/{request_id}/file"
EXPORT_OPERATION = "requestMyData"  # why the children's documents were read
ACTIVE = (DataRequestStatus.QUEUED, DataRequestStatus.RUNNING)
# Columns never written out, whatever table: hashes, secrets, where files are kept.
_NEVER = frozenset({"refresh_hash", "code_hash", "storage_key"})
REFUSED = "Выгрузку своих данных запрашивает сам человек"


# --- asking -------------------------------------------------------------------------


async def request_export(session: AsyncSession, *, actor: Actor) -> DataRequest:
    """Queue an export of the actor's data (one at a time per person)."""
    if not policy.can_request_own_data(actor):
        raise forbidden(REFUSED)
    policy.require_confirmed(actor)  # the archive is the account holder's: not before they prove it
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(User.id).where(User.id == actor.user_id).with_for_update())
    active = await session.scalar(
        select(func.count(DataRequest.id)).where(
            DataRequest.requester_id == actor.user_id,
            DataRequest.kind == DataRequestKind.EXPORT,
            DataRequest.status.in_(ACTIVE),
        )
    )
    if active:
        raise RateLimited("Выгрузка ваших данных уже готовится: дождитесь её", retry_after_seconds=60)
    request = DataRequest(
        kind=DataRequestKind.EXPORT,
        requester_id=actor.user_id,
        subject_user_id=actor.user_id,
        status=DataRequestStatus.QUEUED,
        include_children=True,
        attempts=0,
    )
    session.add(request)
    await session.flush()
    audit.record(
        session,
        actor=actor,
        action="requestMyData",
        entity_type="DataRequest",
        entity_id=request.id,
        after={"kind": request.kind.value, "status": request.status.value, "subjectUserId": actor.user_id},
    )
    return request


def my_requests_query(actor: Actor) -> Any:
    """The actor's own data requests, newest first (page by id, descending)."""
    return select(DataRequest).where(DataRequest.requester_id == actor.user_id).order_by(DataRequest.id.desc())


async def export_for_download(session: AsyncSession, *, actor: Actor, request_id: int) -> DataRequest | None:
    """The export whose file the actor may download (theirs, READY or EXPIRED); None else."""
    row = await session.get(DataRequest, request_id)
    if row is None or row.kind is not DataRequestKind.EXPORT:
        return None
    if not policy.can_download_data_export(actor, requester_id=row.requester_id):
        return None
    return row if row.status in (DataRequestStatus.READY, DataRequestStatus.EXPIRED) else None


# --- the archive ----------------------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value


def row_dict(row: Any) -> dict[str, Any]:
    """A row's columns as JSON values, without secrets (personal_fields) and file keys."""
    table: Table = row.__table__
    secret = personal_fields.secret_columns(table.name) | _NEVER
    return {c.key: _value(getattr(row, c.key)) for c in table.columns if c.key not in secret}


def _rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    return [row_dict(r) for r in rows]


async def _all(session: AsyncSession, model: type[DeclarativeBase], *where: ColumnElement[bool]) -> list[Any]:
    pk = model.__table__.primary_key.columns.values()[0]  # type: ignore[attr-defined]
    return list((await session.scalars(select(model).where(*where).order_by(pk))).all())


async def _consents(session: AsyncSession, user_id: int) -> list[dict[str, Any]] | None:
    """The person's consent records, where that table exists (None: it does not)."""
    table = Base.metadata.tables.get("consent_records")
    if table is None or "user_id" not in table.c:
        return None
    rows = (await session.execute(select(table).where(table.c.user_id == user_id))).mappings().all()
    return [{k: _value(v) for k, v in r.items()} for r in rows]


async def _child_files(session: AsyncSession, child: Child) -> dict[str, Any]:
    reads = await _all(session, SensitiveRead, SensitiveRead.child_id == child.id)
    return {
        "child": row_dict(child),
        "grades": _rows(await _all(session, Grade, Grade.child_id == child.id, Grade.deleted_at.is_(None))),
        "attendance": _rows(await _all(session, Attendance, Attendance.child_id == child.id)),
        "sensitive_reads": _rows(reads),
    }


async def collect(session: AsyncSession, *, user_id: int) -> dict[str, Any]:
    """Every file of the archive: name → JSON value. Children's documents read here are
    recorded as read by the person (in the caller's transaction)."""
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError("the requester is gone")
    files: dict[str, Any] = {"profile.json": row_dict(user)}
    consents = await _consents(session, user_id)
    if consents is not None:
        files["consents.json"] = consents
    applications = await _all(session, Application, Application.applicant_id == user_id)
    app_ids = [a.id for a in applications]
    events = await _all(session, ApplicationEvent, ApplicationEvent.application_id.in_(app_ids)) if app_ids else []
    attached = (
        (
            await session.execute(
                select(ApplicationAttachment, Attachment)
                .join(Attachment, Attachment.id == ApplicationAttachment.attachment_id)
                .where(ApplicationAttachment.application_id.in_(app_ids))
                .order_by(ApplicationAttachment.id)
            )
        ).all()
        if app_ids
        else []
    )
    files["applications.json"] = [
        {
            **row_dict(a),
            "history": [row_dict(e) for e in events if e.application_id == a.id],
            "files": [
                {"kind": _value(link.kind), **row_dict(f)} for link, f in attached if link.application_id == a.id
            ],
        }
        for a in applications
    ]
    # as in the inbox: verification codes are never shown (or written out) again
    notifications = await _all(
        session,
        Notification,
        Notification.user_id == user_id,
        Notification.kind.not_in(policy.HIDDEN_NOTIFICATION_KINDS),
    )
    files["notifications.json"] = _rows(notifications)
    files["sessions.json"] = _rows(await _all(session, AuthSession, AuthSession.user_id == user_id))
    joined = (
        await session.execute(
            select(ThreadParticipant.thread_id, ThreadParticipant.left_at).where(ThreadParticipant.user_id == user_id)
        )
    ).all()
    thread_ids = [thread_id for thread_id, _ in joined]
    # a thread the person left: only what was written before they left (their own messages all)
    seen = [Message.thread_id.in_([t for t, left in joined if left is None] or [-1])] + [
        and_(Message.thread_id == t, Message.created_at <= left) for t, left in joined if left is not None
    ]
    threads = await _all(session, Thread, Thread.id.in_(thread_ids)) if thread_ids else []
    messages = await _all(session, Message, or_(Message.author_id == user_id, *seen))
    files["messages.json"] = [
        {**row_dict(t), "messages": [row_dict(m) for m in messages if m.thread_id == t.id]} for t in threads
    ] + [{"thread_id": None, "messages": [row_dict(m) for m in messages if m.thread_id not in thread_ids]}]
    files["sensitive_reads_by_me.json"] = _rows(await _all(session, SensitiveRead, SensitiveRead.reader_id == user_id))
    child_ids = set(await sensitive_reads.guardian_child_ids(session, user_id))
    own = await session.scalar(select(Child.id).where(Child.user_id == user_id))
    if own is not None:
        child_ids.add(own)
    shown: list[tuple[int, str]] = []
    for child in await _all(session, Child, Child.id.in_(sorted(child_ids) or [-1])):
        files[f"children/{child.id}.json"] = await _child_files(session, child)
        if child.snils is not None:
            shown.append((child.id, personal_fields.CHILD_SNILS.key))
        if child.birth_cert_number is not None:
            shown.append((child.id, personal_fields.CHILD_BIRTH_CERTIFICATE.key))
    await sensitive_reads.record(session, reader_id=user_id, reads=shown, operation=EXPORT_OPERATION)
    return files


def zip_files(files: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, json.dumps(content, ensure_ascii=False, indent=2, default=str))
    return buffer.getvalue()


# --- the worker -------------------------------------------------------------------------


def _due(now: dt.datetime) -> ColumnElement[bool]:
    r = DataRequest
    return and_(
        r.kind == DataRequestKind.EXPORT,
        or_(r.status == DataRequestStatus.QUEUED, and_(r.status == DataRequestStatus.RUNNING, r.lease_until <= now)),
    )


class ExportWorker(BackgroundWorker):
    """Makes queued exports (`drain()`), deletes expired files (`expire_once()`), and runs
    in the background (`start()`/`stop()`), polling every `poll_seconds`."""

    task_name = "data-export-worker"
    events = WorkerEvents.named("data_export", "worker")

    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        storage: Storage,
        publisher: Publisher | None = None,
        lease: dt.timedelta = dt.timedelta(seconds=300),
        max_attempts: int = 3,
        file_ttl: dt.timedelta = dt.timedelta(hours=168),
        poll_seconds: float = 5.0,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        super().__init__(poll_seconds=poll_seconds)
        self._session_factory = session_factory
        self._storage = storage
        self._publisher: Publisher = publisher if publisher is not None else NoBus()
        self.lease = lease
        self.max_attempts = max_attempts
        self.file_ttl = file_ttl
        self._clock = clock

    async def _claim(self, now: dt.datetime) -> tuple[int, int | None, int] | None:
        """(request, requester, attempts) of the oldest due export, claimed and committed."""
        r = DataRequest

        async def take(session: AsyncSession, chosen: ColumnElement[bool]) -> tuple[int, int | None, int] | None:
            row = (
                await session.execute(
                    update(r)
                    .where(chosen, _due(now))
                    .values(status=DataRequestStatus.RUNNING, attempts=r.attempts + 1, lease_until=now + self.lease)
                    .returning(r.id, r.requester_id, r.attempts)
                    .execution_options(synchronize_session=False)
                )
            ).first()
            return None if row is None else (int(row[0]), row[1], int(row[2]))

        due = select(r.id).where(_due(now)).order_by(r.id).limit(1)
        return await claim_oldest(self._session_factory, self._publisher, due=due, key=r.id, take=take)

    async def work_once(self, *, now: dt.datetime | None = None) -> bool:
        """Claim one due export and see it through; False when none was due."""
        moment = self._clock() if now is None else now
        claimed = await self._claim(moment)
        if claimed is None:
            return False
        request_id, requester_id, attempts = claimed
        key: str | None = None
        try:
            if requester_id is None:
                raise LookupError("the requester is gone")
            async with self._session_factory() as session, session.begin():
                files = await collect(session, user_id=requester_id)
            data = await asyncio.to_thread(zip_files, files)
            key = await self._storage.save(BytesReader(data))
            await self._finish(request_id, requester_id, moment, key=key, size=len(data))
        except Exception:
            log.exception("data_export_failed", data_request_id=request_id, attempts=attempts)
            if key is not None:
                await self._storage.delete(key)
            if attempts >= self.max_attempts:
                await self._finish(request_id, requester_id, moment, key=None, size=None)
        return True

    async def _finish(
        self, request_id: int, requester_id: int | None, now: dt.datetime, *, key: str | None, size: int | None
    ) -> None:
        ready = key is not None
        async with unit_of_work(self._session_factory, self._publisher) as session:
            await session.execute(
                update(DataRequest)
                .where(DataRequest.id == request_id)
                .values(
                    status=DataRequestStatus.READY if ready else DataRequestStatus.FAILED,
                    storage_key=key,
                    byte_size=size,
                    finished_at=now,
                    expires_at=now + self.file_ttl if ready else None,
                    lease_until=None,
                    error=None if ready else "Не удалось собрать выгрузку",
                )
                .execution_options(synchronize_session=False)
            )
            user = await session.get(User, requester_id) if requester_id is not None else None
            if user is not None:
                await notify(
                    session,
                    user=user,
                    kind=NotificationKind.PERSONAL_DATA,
                    title="Выгрузка ваших данных готова" if ready else "Выгрузка ваших данных не собрана",
                    body="Архив с вашими данными можно скачать в течение недели."
                    if ready
                    else "Попробуйте запросить выгрузку ещё раз.",
                    payload={"data_request_id": request_id, "status": "READY" if ready else "FAILED"},
                )

    async def drain(self, *, now: dt.datetime | None = None) -> int:
        """Make exports until none is due; how many were taken up."""
        done = 0
        while await self.work_once(now=now):
            done += 1
        return done

    async def expire_once(self, *, now: dt.datetime | None = None) -> int:
        """Delete the files of READY exports past `expires_at` (EXPIRED); how many."""
        moment = self._clock() if now is None else now
        r = DataRequest
        async with self._session_factory() as session:
            due = (
                await session.execute(
                    select(r.id, r.storage_key).where(
                        r.kind == DataRequestKind.EXPORT, r.status == DataRequestStatus.READY, r.expires_at <= moment
                    )
                )
            ).all()
        for request_id, key in due:
            if key:
                await self._storage.delete(key)
            async with self._session_factory() as session, session.begin():
                await session.execute(
                    update(r)
                    .where(r.id == request_id, r.status == DataRequestStatus.READY)
                    .values(status=DataRequestStatus.EXPIRED, storage_key=None)
                    .execution_options(synchronize_session=False)
                )
        return len(due)

    # -- running in the background ---------------------------------------------------------

    async def round(self) -> bool:
        await self.drain()
        return False

    def sweep_interval(self) -> float:
        return 0.0  # before every round: the sweep is one short read when nothing expired

    async def sweep(self) -> None:
        await self.expire_once()

    def failure_pause(self, failures: int) -> float:
        return self.poll_seconds
