"""Resolver of importRoster: read the uploads, run the import, keep it only when applied."""

from __future__ import annotations

import strawberry

from ediary_gql.auth import policy
from ediary_gql.context import Context
from ediary_gql.errors import DomainError, ErrorCode
from ediary_gql.resolvers.transaction import transaction
from ediary_gql.schema.errors import user_errors
from ediary_gql.schema.node import pk_of
from ediary_gql.schema.types.roster_import import (
    ImportProblem,
    ImportRosterInput,
    ImportRosterPayload,
    ImportSummary,
)
from ediary_gql.services.roster_import import importer, run
from ediary_gql.services.roster_import.files import MAX_FILE_BYTES

Info = strawberry.Info[Context, None]


async def _read(upload: object, index: int) -> run.ImportFile:
    name = str(getattr(upload, "filename", None) or f"file{index}")
    read = getattr(upload, "read", None)
    if read is None:
        raise DomainError(ErrorCode.INVALID, "Ожидается файл", field=("files", str(index)))
    content = await read(MAX_FILE_BYTES + 1)
    if not isinstance(content, bytes):
        raise DomainError(ErrorCode.INVALID, "Ожидается файл", field=("files", str(index)))
    return run.ImportFile(name=name, content=content)


async def import_roster(info: Info, input: ImportRosterInput) -> ImportRosterPayload:
    ctx = info.context
    actor = policy.require_actor(ctx.actor)
    try:
        school_id = pk_of(input.school_id, "School", field="schoolId")
        files = [await _read(f, i) for i, f in enumerate(input.files)]
        try:
            async with transaction(ctx) as session:
                result = await importer.import_roster(
                    session, actor=actor, school_id=school_id, files=files, dry_run=input.dry_run
                )
                if not result.applied:
                    raise run.RosterRejected(result)  # a dry run or problems: roll it all back
        except run.RosterRejected as rejected:
            result = rejected.result
    except DomainError as exc:
        return ImportRosterPayload(user_errors=user_errors(exc))
    return ImportRosterPayload(
        applied=result.applied,
        summary=[
            ImportSummary(entity=t.entity, created=t.created, updated=t.updated, unchanged=t.unchanged)
            for t in result.summary
        ],
        problems=[
            ImportProblem(file=p.file, line=p.line, column=p.column, code=p.code, message=p.message)
            for p in result.problems
        ],
    )
