"""importRoster: its input (files as multipart uploads), summary and problems."""

from __future__ import annotations

from typing import Self

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from ediary_gql.errors import DomainError
from ediary_gql.resolvers.roster_import import RosterNotApplied
from ediary_gql.schema.errors import UserError, UserErrorCode
from ediary_gql.schema.ids import node_id
from ediary_gql.schema.mutations import Payload
from ediary_gql.services.roster_import.run import ImportResult


@strawberry.input(description="Roster files of one school; a dry run (the default) only checks them")
class ImportRosterInput:
    school_id: relay.GlobalID = node_id("School")
    files: list[Upload] = strawberry.field(
        description="CSV or XLSX, one per entity, named subjects, teachers, classes, children, guardians, timetable"
    )
    dry_run: bool = strawberry.field(default=True, description="Check only; nothing is written")


@strawberry.type(description="What an import did (or, on a dry run, would do) to one kind of row")
class ImportSummary:
    entity: str = strawberry.field(description="The kind of row")
    created: int = strawberry.field(description="How many were created")
    updated: int = strawberry.field(description="How many were changed")
    unchanged: int = strawberry.field(description="How many were already as given")


@strawberry.type(description="A bad row (or file): where it is and what is wrong")
class ImportProblem:
    file: str = strawberry.field(description="The file the problem is in")
    line: int | None = strawberry.field(description="Line in the file, the header being line 1; null for the file")
    column: str | None = strawberry.field(description="Column header; null for the whole row or file")
    code: UserErrorCode = strawberry.field(  # type: ignore[valid-type]
        description="Machine-readable code of the problem"
    )
    message: str = strawberry.field(description="The problem, for people")


@strawberry.type(
    description="Whether the roster was applied, a summary per kind of row and the problems found, "
    "or why it was refused"
)
class ImportRosterPayload(Payload):
    applied: bool = strawberry.field(
        default=False, description="True only when the real run wrote everything (there were no problems)"
    )
    summary: list[ImportSummary] = strawberry.field(
        default_factory=list, description="Per kind of row, how many were created, changed or left as they were"
    )
    problems: list[ImportProblem] = strawberry.field(
        default_factory=list, description="The problems found, each with its file, line and code"
    )
    user_errors: list[UserError] = strawberry.field(
        default_factory=list, description="Why the input was refused: each problem with its field path and code"
    )

    @classmethod
    def of(cls, result: ImportResult) -> Self:
        return cls(
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

    @classmethod
    def refused(cls, error: DomainError) -> Self:
        """A run not applied (a dry run, or problems) rolled back, and is reported as run."""
        if isinstance(error, RosterNotApplied):
            return cls.of(error.result)
        return super().refused(error)
