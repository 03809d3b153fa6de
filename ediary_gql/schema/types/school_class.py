"""SchoolClass ("5А") and who is in it: TeachingAssignment (teacher × class × subject),
Child (a pupil) and Enrollment (a child in a class from one date to another).

One module, because the types name each other: a class lists its children, a child
names its class. SNILS and the birth certificate are guarded per field by the policy
(`can_view_child_documents`): others get null.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry
from strawberry import relay

from ediary_gql.auth import personal_fields, policy
from ediary_gql.db.models import enums
from ediary_gql.db.models.calendar import AcademicYear as AcademicYearRow
from ediary_gql.db.models.children import Child as ChildRow
from ediary_gql.db.models.children import Enrollment as EnrollmentRow
from ediary_gql.db.models.classes import SchoolClass as SchoolClassRow
from ediary_gql.db.models.classes import Subject as SubjectRow
from ediary_gql.db.models.classes import TeachingAssignment as TeachingAssignmentRow
from ediary_gql.db.models.users import User as UserRow
from ediary_gql.resolvers import class_rosters, diary, enrolments, personal_data, school_structure
from ediary_gql.resolvers import reports as report_reads
from ediary_gql.schema.ids import pk
from ediary_gql.schema.node import EntityNode
from ediary_gql.schema.types.academic_year import AcademicYear
from ediary_gql.schema.types.averages import SubjectAverage
from ediary_gql.schema.types.report import ReportRemark
from ediary_gql.schema.types.subject import Subject
from ediary_gql.schema.types.user import User

if TYPE_CHECKING:
    from ediary_gql.context import Context


async def _visible_user(info: strawberry.Info[Context, None], user_id: int | None) -> User | None:
    if user_id is None:
        return None
    row = await info.context.loaders.by_id(UserRow).load(user_id)
    if row is None or not await User.visible(info.context, row):
        return None
    return User.from_row(row)


@strawberry.type(name="SchoolClass", description='A class of a school in an academic year, e.g. "5А"')
class SchoolClass(EntityNode):
    model = SchoolClassRow

    id: relay.NodeID[int]
    level: int = strawberry.field(description="Grade level, 1 to 11")
    letter: str = strawberry.field(description="One capital Cyrillic letter")
    sourced_id: str | None = strawberry.field(description="The school's external ID (roster imports)")
    _school_id: strawberry.Private[int]
    _academic_year_id: strawberry.Private[int]
    _homeroom_teacher_id: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id,
            level=row.level,
            letter=row.letter,
            sourced_id=row.external_id,
            _school_id=row.school_id,
            _academic_year_id=row.academic_year_id,
            _homeroom_teacher_id=row.homeroom_teacher_id,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await school_structure.may_view_school_structure(context, row.school_id)

    @strawberry.field(description='Level and letter, e.g. "5А"')
    def name(self) -> str:
        return f"{self.level}{self.letter}"

    @strawberry.field(description="The academic year of the class")
    async def academic_year(self, info: strawberry.Info[Context, None]) -> AcademicYear:
        row = await info.context.loaders.by_id(AcademicYearRow).load(self._academic_year_id)
        assert row is not None  # noqa: S101 - a foreign key
        return AcademicYear.from_row(row)

    @strawberry.field(description="The homeroom teacher (классный руководитель); null if none or not yours to see")
    async def homeroom_teacher(self, info: strawberry.Info[Context, None]) -> User | None:
        return await _visible_user(info, self._homeroom_teacher_id)

    @strawberry.field(description="Children enrolled today, by name; school staff only (null for others)")
    async def children(self, info: strawberry.Info[Context, None]) -> list[Child] | None:
        if not policy.can_view_class_roster(info.context.actor, self._school_id):
            return None
        return [Child.from_row(r) for r in await class_rosters.class_children(info.context, self.id)]

    @strawberry.field(description="Who teaches which subject in this class")
    async def teachers(self, info: strawberry.Info[Context, None]) -> list[TeachingAssignment]:
        return [TeachingAssignment.from_row(r) for r in await class_rosters.class_assignments(info.context, self.id)]


@strawberry.type(name="TeachingAssignment", description="A teacher teaches a subject in a class")
class TeachingAssignment(EntityNode):
    model = TeachingAssignmentRow

    id: relay.NodeID[int]
    _teacher_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]
    _subject_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(id=row.id, _teacher_id=row.teacher_id, _class_id=row.class_id, _subject_id=row.subject_id)

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        klass = await context.loaders.by_id(SchoolClassRow).load(row.class_id)
        return klass is not None and await school_structure.may_view_school_structure(context, klass.school_id)

    @strawberry.field(description="The teacher; null if not yours to see")
    async def teacher(self, info: strawberry.Info[Context, None]) -> User | None:
        return await _visible_user(info, self._teacher_id)

    @strawberry.field(description="The class")
    async def school_class(self, info: strawberry.Info[Context, None]) -> SchoolClass:
        row = await info.context.loaders.by_id(SchoolClassRow).load(self._class_id)
        assert row is not None  # noqa: S101 - a foreign key
        return SchoolClass.from_row(row)

    @strawberry.field(description="The subject")
    async def subject(self, info: strawberry.Info[Context, None]) -> Subject:
        row = await info.context.loaders.by_id(SubjectRow).load(self._subject_id)
        assert row is not None  # noqa: S101 - a foreign key
        return Subject.from_row(row)


# --- the children ---------------------------------------------------------------------------


Sex = strawberry.enum(enums.Sex, description="A child's sex")


@strawberry.type(description="A birth certificate (свидетельство о рождении)")
class BirthCertificate:
    series: str = strawberry.field(description="Series of the certificate")
    number: str = strawberry.field(description="Number of the certificate")
    issued_on: dt.date | None = strawberry.field(description="Date of issue")


@strawberry.type(name="Child", description="A child (pupil) of a school")
class Child(EntityNode):
    model = ChildRow

    id: relay.NodeID[int]
    last_name: str = strawberry.field(description="Family name")
    first_name: str = strawberry.field(description="Given name")
    middle_name: str | None = strawberry.field(description="Patronymic, if any")
    birth_date: dt.date = strawberry.field(description="Date of birth")
    sex: Sex = strawberry.field(description="The child's sex")  # type: ignore[valid-type]
    citizenship: str = strawberry.field(description="OKSM code of the citizenship, 643 for Russia")
    sourced_id: str | None = strawberry.field(description="The school's external ID (roster imports, sync)")
    _snils: strawberry.Private[str | None]
    _cert: strawberry.Private[tuple[str, str, dt.date | None] | None]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        cert = None
        if row.birth_cert_series is not None and row.birth_cert_number is not None:
            cert = (row.birth_cert_series, row.birth_cert_number, row.birth_cert_issued_on)
        return cls(
            id=row.id,
            last_name=row.last_name,
            first_name=row.first_name,
            middle_name=row.middle_name,
            birth_date=row.birth_date,
            sex=enums.Sex(row.sex),
            citizenship=row.citizenship,
            sourced_id=row.external_id,
            _snils=row.snils,
            _cert=cert,
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await enrolments.may_view_child(context, row.id)

    @strawberry.field(description="Last, first and middle name")
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    @strawberry.field(
        description="SNILS, 11 digits; only for the child, their guardians and their school's admins (null for others)"
    )
    async def snils(self, info: strawberry.Info[Context, None]) -> str | None:
        if self._snils is None or not await enrolments.may_view_child_documents(info.context, self.id):
            return None
        await personal_data.shown_document(  # an audited read
            info.context, self.id, personal_fields.CHILD_SNILS.key, operation=personal_data.operation_name(info)
        )
        return self._snils

    @strawberry.field(
        description="Birth certificate; only for the child, their guardians and their school's admins (null for others)"
    )
    async def birth_certificate(self, info: strawberry.Info[Context, None]) -> BirthCertificate | None:
        if self._cert is None or not await enrolments.may_view_child_documents(info.context, self.id):
            return None
        series, number, issued_on = self._cert
        await personal_data.shown_document(  # an audited read
            info.context,
            self.id,
            personal_fields.CHILD_BIRTH_CERTIFICATE.key,
            operation=personal_data.operation_name(info),
        )
        return BirthCertificate(series=series, number=number, issued_on=issued_on)

    @strawberry.field(description="The class the child is in now (the enrolment in force)")
    async def current_class(self, info: strawberry.Info[Context, None]) -> SchoolClass | None:
        enrollment = await enrolments.current_enrollment(info.context, self.id)
        if enrollment is None:
            return None
        row = await info.context.loaders.by_id(SchoolClassRow).load(enrollment.class_id)
        # a school the child left does not see where the child went
        if row is None or not await SchoolClass.visible(info.context, row):
            return None
        return SchoolClass.from_row(row)

    @strawberry.field(description="Every class enrolment of the child, oldest first")
    async def enrollments(self, info: strawberry.Info[Context, None]) -> list[Enrollment]:
        return [Enrollment.from_row(r) for r in await enrolments.child_enrollments(info.context, self.id)]

    @strawberry.field(
        description="Averages per subject over a period; for those who may read the child's diary. Without "
        "periodId: the current period of the child's school (School.currentPeriod), [] when it has none"
    )
    async def averages(
        self,
        info: strawberry.Info[Context, None],
        period_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="The period; by default the current one")
        ] = None,
    ) -> list[SubjectAverage]:
        found = await diary.child_averages(
            info.context,
            child_id=self.id,
            period_id=None if period_id is None else pk(period_id, "Period", field="periodId"),
        )
        return [SubjectAverage.build(a) for a in found]

    @strawberry.field(
        description="Teachers' remarks on the child's periods (addReportRemark), oldest first; for those who may "
        "read the child's diary (null for others)"
    )
    async def report_remarks(
        self,
        info: strawberry.Info[Context, None],
        period_id: Annotated[
            relay.GlobalID | None, strawberry.argument(description="Only the remarks of this period")
        ] = None,
    ) -> list[ReportRemark] | None:
        rows = await report_reads.child_report_remarks(
            info.context,
            child_id=self.id,
            period_id=None if period_id is None else pk(period_id, "Period", field="periodId"),
        )
        return None if rows is None else [ReportRemark.from_row(r) for r in rows]


@strawberry.type(name="Enrollment", description="A child in a class from startsOn until endsOn (open while null)")
class Enrollment(EntityNode):
    model = EnrollmentRow

    id: relay.NodeID[int]
    starts_on: dt.date = strawberry.field(description="First day, inclusive")
    ends_on: dt.date | None = strawberry.field(description="Last day, inclusive")
    _child_id: strawberry.Private[int]
    _class_id: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: Any) -> Self:
        return cls(
            id=row.id, starts_on=row.starts_on, ends_on=row.ends_on, _child_id=row.child_id, _class_id=row.class_id
        )

    @classmethod
    async def visible(cls, context: Context, row: Any) -> bool:
        return await enrolments.may_view_child(context, row.child_id)

    @strawberry.field(description="The child")
    async def child(self, info: strawberry.Info[Context, None]) -> Child:
        row = await info.context.loaders.by_id(ChildRow).load(self._child_id)
        assert row is not None  # noqa: S101 - a foreign key
        return Child.from_row(row)

    @strawberry.field(description="The class")
    async def school_class(self, info: strawberry.Info[Context, None]) -> SchoolClass:
        row = await info.context.loaders.by_id(SchoolClassRow).load(self._class_id)
        assert row is not None  # noqa: S101 - a foreign key
        return SchoolClass.from_row(row)
