"""Records of services/oneroster as OneRoster 1.2 JSON: the spec's field names, its
references ({"href", "sourcedId", "type"}) and its envelopes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from ediary_gql.services.oneroster.reads import Record
from ediary_gql.services.oneroster.sources import Collection, sourced_id

Json = dict[str, Any]

# the envelope of a list and of one record (schools are orgs, students and teachers users)
LIST_KEYS: Mapping[Collection, str] = {
    Collection.ORGS: "orgs",
    Collection.SCHOOLS: "orgs",
    Collection.ACADEMIC_SESSIONS: "academicSessions",
    Collection.CLASSES: "classes",
    Collection.COURSES: "courses",
    Collection.USERS: "users",
    Collection.STUDENTS: "users",
    Collection.TEACHERS: "users",
    Collection.ENROLLMENTS: "enrollments",
}
ONE_KEYS: Mapping[Collection, str] = {
    Collection.ORGS: "org",
    Collection.SCHOOLS: "org",
    Collection.ACADEMIC_SESSIONS: "academicSession",
    Collection.CLASSES: "class",
    Collection.COURSES: "course",
    Collection.USERS: "user",
    Collection.STUDENTS: "user",
    Collection.TEACHERS: "user",
    Collection.ENROLLMENTS: "enrollment",
}


class Refs:
    """References to records under one base URL (…/ims/oneroster/rostering/v1p2)."""

    def __init__(self, base: str, school_id: int) -> None:
        self.base = base.rstrip("/")
        self.school = self.ref("orgs", "org", sourced_id("School", school_id, None))

    def ref(self, path: str, type_name: str, sid: str) -> Json:
        # "/", "=" and "+" (of a base64 global ID) stand as they are in a path
        return {"href": f"{self.base}/{path}/{quote(sid, safe='/=+')}", "sourcedId": sid, "type": type_name}


def timestamp(value: Any) -> str | None:
    """dateLastModified: ISO 8601 in UTC with milliseconds, `2026-12-03T06:00:00.000Z`."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    moment = moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def _grades(level: Any) -> list[str]:
    """A class level as the CEDS grade code OneRoster uses ("05")."""
    return [] if level is None else [f"{int(level):02d}"]


def _base(record: Record) -> Json:
    return {
        "sourcedId": sourced_id(record["gid_type"], int(record["pk"]), record["ext"]),
        "status": record["status"],
        "dateLastModified": timestamp(record["dateLastModified"]),
    }


def org(record: Record, refs: Refs) -> Json:
    return {
        **_base(record),
        "name": record["name"],
        "type": record["type"],
        "identifier": record["identifier"],
        "parent": None,
        "children": [],
    }


def _session_ref(refs: Refs, gid_type: str, pk: int) -> Json:
    return refs.ref("academicSessions", "academicSession", sourced_id(gid_type, pk, None))


def academic_session(record: Record, refs: Refs) -> Json:
    parent = record["parent_pk"]
    year_ends_on = record["year_ends_on"]
    return {
        **_base(record),
        "title": record["title"],
        "startDate": day(record["startDate"]),
        "endDate": day(record["endDate"]),
        "type": record["type"],
        "parent": None if parent is None else _session_ref(refs, "AcademicYear", int(parent)),
        "children": [_session_ref(refs, "Period", pk) for pk in record.get("children_pks", [])],
        # the year in which the school year ends ("2027" for 2026/2027)
        "schoolYear": None if year_ends_on is None else str(year_ends_on)[:4],
        "org": refs.school,
    }


def school_class(record: Record, refs: Refs) -> Json:
    return {
        **_base(record),
        "title": record["title"],
        "classCode": record["classCode"],
        "classType": record["classType"],
        "location": None,
        "grades": _grades(record["level"]),
        "subjects": [],
        # a homeroom class of ours belongs to no one course: its subjects are courses
        "course": None,
        "school": refs.school,
        "terms": [_session_ref(refs, "AcademicYear", int(record["year_pk"]))],
        "periods": [],
    }


def course(record: Record, refs: Refs) -> Json:
    return {
        **_base(record),
        "title": record["title"],
        "schoolYear": None,
        "courseCode": record["courseCode"],
        "grades": [],
        "subjects": [record["title"]],
        "org": refs.school,
    }


def user(record: Record, refs: Refs) -> Json:
    return {
        **_base(record),
        "enabledUser": "true",
        # our usernames are phones and emails, which an integration sees masked
        "username": "",
        "userIds": [],
        "givenName": record["givenName"],
        "familyName": record["familyName"],
        "middleName": record["middleName"],
        "roles": [{"roleType": "primary", "role": record["role"], "org": refs.school}],
        "agents": [],
        "primaryOrg": refs.school,
        "email": record["email"],
        "sms": None,
        "phone": record["phone"],
        "identifier": None,
        "grades": _grades(record["level"]),
    }


def enrollment(record: Record, refs: Refs) -> Json:
    user_sid = sourced_id(record["user_type"], int(record["user_pk"]), record["user_ext"])
    class_sid = sourced_id("SchoolClass", int(record["class_pk"]), record["class_ext"])
    return {
        **_base(record),
        "role": record["role"],
        "primary": record["primary"],
        "user": refs.ref("users", "user", user_sid),
        "class": refs.ref("classes", "class", class_sid),
        "school": refs.school,
        "beginDate": day(record["beginDate"]),
        "endDate": day(record["endDate"]),
    }


Serializer = Callable[[Record, Refs], Json]
SERIALIZERS: Mapping[Collection, Serializer] = {
    Collection.ORGS: org,
    Collection.SCHOOLS: org,
    Collection.ACADEMIC_SESSIONS: academic_session,
    Collection.CLASSES: school_class,
    Collection.COURSES: course,
    Collection.USERS: user,
    Collection.STUDENTS: user,
    Collection.TEACHERS: user,
    Collection.ENROLLMENTS: enrollment,
}
_COMMON = ("sourcedId", "status", "dateLastModified")
_ORG = (*_COMMON, "name", "type", "identifier", "parent", "children")
_SESSION = (*_COMMON, "title", "startDate", "endDate", "type", "parent", "children", "schoolYear", "org")
_CLASS = (*_COMMON, "title", "classCode", "classType", "location", "grades", "subjects", "course", "school")
_COURSE = (*_COMMON, "title", "schoolYear", "courseCode", "grades", "subjects", "org")
_PERSON = ("enabledUser", "username", "userIds", "givenName", "familyName", "middleName", "roles", "agents")
_USER = (*_COMMON, *_PERSON, "primaryOrg", "email", "sms", "phone", "identifier", "grades")
_ENROLLMENT = (*_COMMON, "role", "primary", "user", "class", "school", "beginDate", "endDate")
# what `fields=` may select, per collection (each serializer's keys, in its order)
FIELDS: Mapping[Collection, tuple[str, ...]] = {
    Collection.ORGS: _ORG,
    Collection.SCHOOLS: _ORG,
    Collection.ACADEMIC_SESSIONS: _SESSION,
    Collection.CLASSES: (*_CLASS, "terms", "periods"),
    Collection.COURSES: _COURSE,
    Collection.USERS: _USER,
    Collection.STUDENTS: _USER,
    Collection.TEACHERS: _USER,
    Collection.ENROLLMENTS: _ENROLLMENT,
}


def selected(item: Json, fields: tuple[str, ...] | None) -> Json:
    return item if fields is None else {name: item[name] for name in fields}
