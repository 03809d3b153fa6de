"""importRoster: read the uploads, run the import, keep it only when applied."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.auth.actor import Actor
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.services.roster_import import importer, run
from ediary_gql.services.roster_import.files import MAX_FILE_BYTES

if TYPE_CHECKING:
    from ediary_gql.context import Context


class RosterNotApplied(DomainError):
    """A dry run, or a run with problems: the transaction rolls back whole, and the
    payload still reports the run (its summary and problems)."""

    def __init__(self, result: run.ImportResult) -> None:
        super().__init__(ErrorCode.INVALID_STATE, "Импорт не применён: пробный запуск или ошибки в файлах")
        self.result = result


async def _read(upload: object, index: int) -> run.ImportFile:
    name = str(getattr(upload, "filename", None) or f"file{index}")
    read = getattr(upload, "read", None)
    if read is None:
        raise DomainError(ErrorCode.INVALID, "Ожидается файл", field=("files", str(index)))
    content = await read(MAX_FILE_BYTES + 1)
    if not isinstance(content, bytes):
        raise DomainError(ErrorCode.INVALID, "Ожидается файл", field=("files", str(index)))
    return run.ImportFile(name=name, content=content)


async def import_roster(
    ctx: Context, session: AsyncSession, actor: Actor, *, school_id: int, files: list[Any], dry_run: bool
) -> run.ImportResult:
    """The applied run's result; RosterNotApplied (all rolled back) for any other."""
    read = [await _read(f, i) for i, f in enumerate(files)]
    result = await importer.import_roster(session, actor=actor, school_id=school_id, files=read, dry_run=dry_run)
    if not result.applied:
        raise RosterNotApplied(result)
    return result
