"""A child's averages in a subject over a period, as the server computes them
(services/averages.py): in a class journal's rows and on Child.averages."""

from __future__ import annotations

from typing import Self

import strawberry

from ediary_gql.schema.types.subject import Subject
from ediary_gql.services import averages as averages_service


@strawberry.type(description="A child's averages in a subject over a period (numeric regular grades only)")
class SubjectAverage:
    subject: Subject = strawberry.field(description="The subject averaged")
    average: float = strawberry.field(description="Arithmetic mean, 2 decimals")
    weighted_average: float = strawberry.field(description="Mean weighted by the control types' weights, 2 decimals")
    count: int = strawberry.field(description="Grades counted")

    @classmethod
    def build(cls, found: averages_service.SubjectAverage) -> Self:
        return cls(
            subject=Subject(
                id=found.subject_id,
                name=found.subject_name,
                short_name=found.subject_short_name,
                sourced_id=found.subject_external_id,
                _school_id=found.subject_school_id,
            ),
            average=float(found.average),
            weighted_average=float(found.weighted_average),
            count=found.count,
        )
