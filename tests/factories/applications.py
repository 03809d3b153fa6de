"""Applications for diary access, their files, history and number counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.db.models.applications import (
    Application,
    ApplicationAttachment,
    ApplicationEvent,
    ApplicationNumberCounter,
)
from ediary_gql.db.models.classes import SchoolClass
from ediary_gql.db.models.enums import (
    ApplicationAction,
    ApplicationAttachmentKind,
    ApplicationStatus,
)
from ediary_gql.db.models.geo import Settlement
from ediary_gql.db.models.schools import School
from tests.factories._base import (
    birth_certificate,
    fake,
    now,
    persist,
    person_name,
    random_sex,
    seq,
    snils11,
    take_parents,
)
from tests.factories.attachments import make_attachment
from tests.factories.children import make_child
from tests.factories.classes import make_school_class
from tests.factories.users import make_user


async def make_application(session: AsyncSession, **overrides: Any) -> Application:
    """A fully filled DRAFT for a school class.

    Any other `status` gets what that status needs: a number, submission time
    and due date; a rejection reason; the approved child.
    """
    o = take_parents(overrides)
    if "applicant_id" not in o:
        o["applicant_id"] = (await make_user(session)).id
    if "class_id" not in o:
        if "school_id" in o and o["school_id"] is None:
            o["class_id"] = None  # a draft with no school chosen yet
        else:
            kwargs = {"school_id": o["school_id"]} if "school_id" in o else {}
            o["class_id"] = (await make_school_class(session, **kwargs)).id
    if o["class_id"] is not None and "school_id" not in o:
        school_class = await session.get(SchoolClass, o["class_id"])
        assert school_class is not None
        o["school_id"] = school_class.school_id
    if o.get("school_id") is not None and "settlement_id" not in o:
        school = await session.get(School, o["school_id"])
        assert school is not None
        o["settlement_id"] = school.settlement_id
    if o.get("settlement_id") is not None and "region_code" not in o:
        settlement = await session.get(Settlement, o["settlement_id"])
        assert settlement is not None
        o["region_code"] = settlement.region_code

    n = seq()
    sex = o.get("child_sex") or random_sex()
    name = person_name(sex)
    birth_date = fake.date_of_birth(minimum_age=7, maximum_age=16)
    series, number = birth_certificate(n)
    status = o.get("status", ApplicationStatus.DRAFT)
    fields: dict[str, Any] = {
        "status": status,
        "child_last_name": name["last_name"],
        "child_first_name": name["first_name"],
        "child_middle_name": name["middle_name"],
        "child_birth_date": birth_date,
        "child_sex": sex,
        "child_snils": snils11(n),
        "birth_cert_series": series,
        "birth_cert_number": number,
        "birth_cert_issued_on": birth_date + dt.timedelta(days=10),
        "citizenship": "643",
    }
    if status is not ApplicationStatus.DRAFT:
        submitted = now()
        fields |= {
            "number": f"ED-{submitted.year}-{n % 1_000_000:06d}",
            "submitted_at": submitted,
            "due_on": submitted.date() + dt.timedelta(days=7),
        }
    if status is ApplicationStatus.REJECTED:
        fields |= {"decided_at": now(), "rejection_reason": "Сведения о ребёнке не совпадают"}
    fields.update(o)
    if status is ApplicationStatus.APPROVED and fields.get("child_id") is None:
        child = await make_child(
            session,
            last_name=fields["child_last_name"],
            first_name=fields["child_first_name"],
            middle_name=fields["child_middle_name"],
            birth_date=fields["child_birth_date"],
            sex=fields["child_sex"],
            snils=fields["child_snils"],
            birth_cert_series=fields["birth_cert_series"],
            birth_cert_number=fields["birth_cert_number"],
            birth_cert_issued_on=fields["birth_cert_issued_on"],
        )
        fields |= {"child_id": child.id, "decided_at": fields.get("decided_at") or now()}
    return await persist(session, Application(**fields))


async def make_application_attachment(session: AsyncSession, **overrides: Any) -> ApplicationAttachment:
    o = take_parents(overrides)
    if "application_id" not in o:
        o["application_id"] = (await make_application(session)).id
    if "attachment_id" not in o:
        application = await session.get(Application, o["application_id"])
        assert application is not None
        o["attachment_id"] = (await make_attachment(session, owner_id=application.applicant_id)).id
    fields: dict[str, Any] = {"kind": ApplicationAttachmentKind.BIRTH_CERTIFICATE}
    fields.update(o)
    return await persist(session, ApplicationAttachment(**fields))


async def make_application_event(session: AsyncSession, **overrides: Any) -> ApplicationEvent:
    """By default the CREATE step of the application, by its applicant."""
    o = take_parents(overrides)
    if "application_id" not in o:
        o["application_id"] = (await make_application(session)).id
    application = await session.get(Application, o["application_id"])
    assert application is not None
    fields: dict[str, Any] = {
        "from_status": None,
        "to_status": application.status,
        "action": ApplicationAction.CREATE,
        "actor_id": application.applicant_id,
    }
    fields.update(o)
    return await persist(session, ApplicationEvent(**fields))


async def make_application_number_counter(session: AsyncSession, **overrides: Any) -> ApplicationNumberCounter:
    """The counter for the first year without one, from this year on."""
    o = take_parents(overrides)
    if "year" not in o:
        taken = set((await session.scalars(select(ApplicationNumberCounter.year))).all())
        o["year"] = next(y for y in range(now().year, 10_000) if y not in taken)
    fields: dict[str, Any] = {"last_value": 0}
    fields.update(o)
    return await persist(session, ApplicationNumberCounter(**fields))
