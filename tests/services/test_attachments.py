"""store_attachment without GraphQL: content checks, the size cap, storage and rollback."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

import anyio
import pytest

from ediary_gql.auth.actor import Actor
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import UserStatus
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.events.publish import unit_of_work
from ediary_gql.services.attachments import clean_file_name, store_attachment
from ediary_gql.settings import Settings
from ediary_gql.storage import CHUNK_SIZE, LocalStorage, StorageKeyError
from tests.factories import make_user
from tests.sample_files import tiny_pdf, tiny_png, windows_exe

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 300 + b"\xff\xd9"


class Bytes:
    """An async stream over bytes, handing out at most `step` bytes per read."""

    def __init__(self, data: bytes, step: int = CHUNK_SIZE) -> None:
        self.data = data
        self.step = step
        self.read_bytes = 0

    async def read(self, size: int = -1, /) -> bytes:
        n = self.step if size < 0 else min(size, self.step)
        chunk, self.data = self.data[:n], self.data[n:]
        self.read_bytes += len(chunk)
        return chunk


class Endless:
    """A stream that never ends (a PDF header, then zeros), counting what was taken."""

    def __init__(self) -> None:
        self.read_bytes = 0

    async def read(self, size: int = -1, /) -> bytes:
        n = CHUNK_SIZE if size < 0 else size
        chunk = (b"%PDF-1.4\n" + b"0" * n)[:n] if self.read_bytes == 0 else b"0" * n
        self.read_bytes += len(chunk)
        return chunk


def files_in(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


async def _owner(app_services: AppServices) -> Actor:
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        user = await make_user(session)
    return Actor(user_id=user.id, session_id=None, status=UserStatus.CONFIRMED)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(tiny_pdf(), "application/pdf"), (tiny_png(), "image/png"), (JPEG, "image/jpeg")],
)
async def test_a_file_is_stored_with_its_type_size_and_hash(
    app_services: AppServices, settings: Settings, storage: LocalStorage, data: bytes, content_type: str
) -> None:
    actor = await _owner(app_services)
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        # a tiny step: the type is judged from enough leading bytes even when reads come short
        row = await store_attachment(
            session, actor=actor, upload_name="скан", stream=Bytes(data, step=7), storage=storage, settings=settings
        )
    assert row.content_type == content_type
    assert row.size_bytes == len(data)
    assert row.sha256 == hashlib.sha256(data).hexdigest()
    assert row.owner_id == actor.user_id
    stored = b"".join([chunk async for chunk in storage.open(row.storage_key)])
    assert stored == data
    assert "скан" not in row.storage_key


async def test_reading_stops_just_past_the_cap(
    app_services: AppServices, settings: Settings, storage: LocalStorage
) -> None:
    actor = await _owner(app_services)
    stream = Endless()
    capped = settings.model_copy(update={"upload_max_bytes": 200_000})
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            await store_attachment(
                session,
                actor=actor,
                upload_name="big.pdf",
                stream=stream,
                storage=storage,
                settings=capped,
                field=["input", "document"],
            )
    assert refused.value.errors[0].code == ErrorCode.FILE_TOO_LARGE
    assert refused.value.errors[0].field == ("input", "document")
    assert stream.read_bytes <= 200_000 + CHUNK_SIZE
    assert files_in(storage.root) == []


async def test_a_program_is_refused_before_anything_is_stored(
    app_services: AppServices, settings: Settings, storage: LocalStorage
) -> None:
    actor = await _owner(app_services)
    stream = Bytes(windows_exe() + b"\x00" * 500_000)
    with pytest.raises(DomainError) as refused:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            await store_attachment(
                session, actor=actor, upload_name="a.pdf", stream=stream, storage=storage, settings=settings
            )
    assert refused.value.errors[0].code == ErrorCode.FILE_TYPE_NOT_ALLOWED
    assert refused.value.errors[0].field == ("file",)
    assert stream.read_bytes <= CHUNK_SIZE
    assert not storage.root.exists() or files_in(storage.root) == []


class Boom(Exception):
    pass


async def test_stored_bytes_go_when_the_transaction_rolls_back(
    app_services: AppServices, settings: Settings, storage: LocalStorage
) -> None:
    actor = await _owner(app_services)
    kept: list[str] = []

    async def store_then_fail() -> None:
        async with unit_of_work(app_services.session_factory, app_services.bus) as session:
            row = await store_attachment(
                session, actor=actor, upload_name="a.pdf", stream=Bytes(tiny_pdf()), storage=storage, settings=settings
            )
            assert storage.exists(row.storage_key)
            kept.append(row.storage_key)
            raise Boom

    with pytest.raises(Boom):
        await store_then_fail()
    assert len(kept) == 1
    for _ in range(100):  # the deletion runs right after the rollback
        if not files_in(storage.root):
            break
        await asyncio.sleep(0.01)
    assert files_in(storage.root) == []


async def test_committed_bytes_stay(app_services: AppServices, settings: Settings, storage: LocalStorage) -> None:
    actor = await _owner(app_services)
    async with unit_of_work(app_services.session_factory, app_services.bus) as session:
        row = await store_attachment(
            session, actor=actor, upload_name="a.pdf", stream=Bytes(tiny_pdf()), storage=storage, settings=settings
        )
    # a later rollback on a new transaction of another session does not touch it
    with pytest.raises(Boom):
        async with unit_of_work(app_services.session_factory, app_services.bus):
            raise Boom
    await asyncio.sleep(0.01)
    assert storage.exists(row.storage_key)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("C:\\Users\\Ольга\\Приказ.pdf", "Приказ.pdf"),
        ("при\x00каз\n.pdf", "приказ.pdf"),
        ("", "файл.pdf"),
        (None, "файл.pdf"),
        ("..", "файл.pdf"),
        ("я" * 300 + ".pdf", "я" * 251 + ".pdf"),
    ],
)
def test_file_names_keep_only_a_printable_last_part(given: str | None, kept: str) -> None:
    assert clean_file_name(given, "application/pdf") == kept


def test_storage_keys_are_its_own(storage: LocalStorage) -> None:
    for key in ("../../etc/passwd", "ab/cd/../../x", "/etc/passwd", "AB/CD/" + "0" * 32):
        with pytest.raises(StorageKeyError):
            storage.path_of(key)


def _open_paths() -> set[str]:
    fds = Path("/proc/self/fd")
    return {os.readlink(fd) for fd in fds.iterdir() if fd.exists()}


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads this process's open files from /proc")
async def test_a_read_cancelled_mid_way_closes_the_file(storage: LocalStorage) -> None:
    key = await storage.save(Bytes(b"x" * (CHUNK_SIZE * 4)))
    path = str(storage.path_of(key))
    reading = asyncio.Event()

    async def consume() -> None:
        async for _chunk in storage.open(key, chunk_size=1):  # a read in flight nearly always
            reading.set()

    # as a download's response runs it: in a task group cancelled when the client goes away
    async with anyio.create_task_group() as group:
        group.start_soon(consume)
        await reading.wait()
        await asyncio.sleep(0.01)
        assert path in _open_paths()
        group.cancel_scope.cancel()
    await asyncio.sleep(0.05)  # what the loop still has to run (no garbage collection)
    assert path not in _open_paths()
