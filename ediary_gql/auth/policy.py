"""The access policy: every "may this actor see or do this" is answered here.

Pure functions over the actor's facts and the object in question; services
and GraphQL permission classes both call them, nothing else decides.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ediary_gql.auth.actor import Actor
from ediary_gql.db.models.enums import FeedbackCategory, IntegrationScope, NotificationKind, StaffRole
from ediary_gql.errors import DomainError, ErrorCode, forbidden, unauthenticated
from ediary_gql.events import channels
from ediary_gql.events.types import (
    AnnouncementChanged,
    ApplicationStatusChanged,
    AttendanceChanged,
    FeedbackTicketChanged,
    GradeChanged,
    NotificationCreated,
    ThreadMessage,
)


def require_actor(actor: Actor | None) -> Actor:
    if actor is None:
        raise unauthenticated()
    return actor


def require_confirmed(actor: Actor) -> None:
    if not (actor.is_confirmed or actor.is_system):
        raise DomainError(
            ErrorCode.ACCOUNT_NOT_CONFIRMED,
            "Учётная запись не подтверждена: подтвердите телефон и электронную почту",
        )


# --- users ---------------------------------------------------------------


def can_view_user(actor: Actor | None, user_id: int, *, user_school_ids: frozenset[int] = frozenset()) -> bool:
    """A user's card: the person, operators, and staff of a school the user belongs to."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == user_id:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER) & user_school_ids)


def can_view_diary_teacher(
    actor: Actor | None, user_id: int, *, teaches_at: frozenset[int], family_school_ids: frozenset[int]
) -> bool:
    """A lesson's teacher as the diary names them (DiaryTeacher): whoever may see the user's
    card, and the families (guardians, the student) of a school where the user teaches."""
    if can_view_user(actor, user_id, user_school_ids=teaches_at):
        return True
    return actor is not None and bool(teaches_at & family_school_ids)


def can_view_contacts(actor: Actor | None, user_id: int, *, user_school_ids: frozenset[int] = frozenset()) -> bool:
    """Phone and email: the person, operators, and admins of the user's schools."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == user_id:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN) & user_school_ids)


def can_view_birth_date(actor: Actor | None, user_id: int, *, user_school_ids: frozenset[int] = frozenset()) -> bool:
    """A user's birth date: the person and the admins of the user's schools. Operators
    see it for accounts that hold no school role (they check who registered); a staff
    member's birth date is not theirs to read, nor a parent's business through a lesson."""
    if actor is None:
        return False
    if actor.is_system or actor.user_id == user_id:
        return True
    if actor.schools_with(StaffRole.SCHOOL_ADMIN) & user_school_ids:
        return True
    return actor.is_operator and not user_school_ids


def can_view_membership(actor: Actor | None, user_id: int, *, school_id: int) -> bool:
    """A user's school role: the person and operators see every one; the staff of a
    school (admins, teachers) only the roles held at their own schools."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == user_id:
        return True
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER)


def can_manage_users(actor: Actor) -> bool:
    return actor.is_system or actor.is_operator


# --- notifications -------------------------------------------------------


def can_view_notification(actor: Actor | None, owner_user_id: int) -> bool:
    """A notification is private to its recipient."""
    return actor is not None and (actor.is_system or actor.user_id == owner_user_id)


# A verification code proves a phone or email only if it is read there: its
# inbox entry is never shown through the API (inbox, node, notificationReceived).
HIDDEN_NOTIFICATION_KINDS = frozenset({NotificationKind.VERIFICATION_CODE})


def shows_in_inbox(kind: NotificationKind) -> bool:
    return kind not in HIDDEN_NOTIFICATION_KINDS


def can_manage_notification_preferences(actor: Actor | None, user_id: int) -> bool:
    """Which channels a user is notified by: theirs alone to see and change, not
    even operators' (nobody else needs to know how a person is reached)."""
    return actor is not None and (actor.is_system or actor.user_id == user_id)


def ensure(allowed: bool, message: str = "Недостаточно прав для этого действия") -> None:
    if not allowed:
        raise forbidden(message)


# --- own account: registration, contacts, password, second factor ----------


def can_register(actor: Actor | None) -> bool:
    """Anyone may register: the new account proves its contacts with codes."""
    return True


def can_reset_password(actor: Actor | None) -> bool:
    """Anyone may ask for a reset: only the code sent to the account's contact lets it through."""
    return True


def can_manage_own_account(actor: Actor) -> bool:
    """Contacts and the second factor are the person's own, changed through their own session."""
    return not actor.is_system and actor.session_id is not None


# --- attachments ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HomeworkFileFacts:
    """For a file of a homework: the school of its lesson, which of the actor's wards
    (or own child) were enrolled in the lesson's class on its date, and whether the
    actor is one of the class's teachers (any subject in it, its homeroom, or the
    lesson's own teacher or substitute)."""

    school_id: int
    class_child_ids: frozenset[int] = frozenset()
    teaches_class: bool = False


def can_view_homework_files(
    actor: Actor | None, *, school_id: int, class_child_ids: frozenset[int], teaches_class: bool
) -> bool:
    """A homework's files: the children enrolled in the lesson's class on its date and
    their guardians, the class's teachers, and the school's admins. Not the school's
    other teachers, not operators."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    if teaches_class and actor.has_role(school_id, StaffRole.TEACHER):
        return True
    return bool(actor.guardian_of & class_child_ids) or actor.student_child_id in class_child_ids


def can_view_attachment(
    actor: Actor | None,
    owner_id: int,
    *,
    staff_binding_schools: frozenset[int] = frozenset(),
    application_schools: frozenset[int] = frozenset(),
    homeworks: Iterable[HomeworkFileFacts] = (),
    feedback_tickets: Iterable[FeedbackTicketFacts] = (),
    announcements: Iterable[tuple[AnnouncementFacts, AnnouncementReader]] = (),
    message_threads: Iterable[tuple[int, bool, frozenset[int]]] = (),
) -> bool:
    """A file: its owner; for a staff-binding document (`staff_binding_schools`: the
    schools of the bindings it supports) also those who review those bindings; for a
    file of a parent's application (`application_schools`: the schools applied to),
    those schools' admins (not teachers, and not operators: it holds a child's
    documents, as `can_view_application_documents`);
    for a file of a homework (`homeworks`: one per homework it is attached to), those
    `can_view_homework_files` lets in."""
    if actor is None:
        return False
    if actor.is_system or actor.user_id == owner_id:
        return True
    if any(
        can_view_homework_files(
            actor, school_id=h.school_id, class_child_ids=h.class_child_ids, teaches_class=h.teaches_class
        )
        for h in homeworks
    ):
        return True
    # a file of a feedback ticket (`feedback_tickets`): whoever may read the ticket
    if any(can_view_feedback_ticket(actor, t) for t in feedback_tickets):
        return True
    # a file of an announcement (`announcements`: its facts with the reader's): whoever may read it
    if any(can_view_announcement(actor, a, r) for a, r in announcements):
        return True
    # a file of a message (`message_threads`: (school, left, the actor's family schools) for
    # each thread of it the actor takes part in): whoever may read the thread
    if any(
        can_view_thread(actor, school_id=school, participant=True, left=left, family_school_ids=family)
        for school, left, family in message_threads
    ):
        return True
    if staff_binding_schools and actor.is_operator:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN) & (staff_binding_schools | application_schools))


# --- schools and staff bindings ------------------------------------------


def can_view_school(
    actor: Actor | None, school_id: int, *, is_active: bool, registered_by_id: int | None, is_open: bool = True
) -> bool:
    """Active schools open to parents are a public directory; others (pending, rejected,
    in test launch): operators, the registrant, the school's staff."""
    if is_active and is_open:
        return True
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == registered_by_id:
        return True
    return any(school == school_id for school, _ in actor.memberships)


def require_may_register_school(actor: Actor) -> None:
    """Only a confirmed account may register a school (ACCOUNT_NOT_CONFIRMED otherwise)."""
    require_confirmed(actor)


def can_review_school(actor: Actor | None) -> bool:
    """A school's registration is verified by the portal's operators only."""
    return actor is not None and (actor.is_system or actor.is_operator)


def can_open_school(actor: Actor | None, school_id: int) -> bool:
    """Ending the test launch (opening to parents): the school's admin or an operator."""
    if actor is None:
        return False
    return actor.is_system or actor.is_operator or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_view_school_review(actor: Actor | None, *, registered_by_id: int | None) -> bool:
    """How a registration was decided and on what (the rejection reason, the registrant,
    the appointment document): the registrant and operators only."""
    if actor is None:
        return False
    return actor.is_system or actor.is_operator or (registered_by_id is not None and actor.user_id == registered_by_id)


def school_search_scope(actor: Actor | None) -> tuple[int | None, frozenset[int]] | None:
    """Beyond the public directory (active schools open to parents), which schools a
    search shows: None means every school (operators); else (the user whose own
    registrations they are, the schools the actor works at)."""
    if actor is None:
        return (None, frozenset())
    if actor.is_system or actor.is_operator:
        return None
    return (actor.user_id, frozenset(school for school, _ in actor.memberships))


def require_may_request_staff_binding(actor: Actor) -> None:
    """Only a confirmed account may ask to act for a school (ACCOUNT_NOT_CONFIRMED otherwise)."""
    require_confirmed(actor)


def can_view_staff_binding(actor: Actor | None, *, requester_id: int, school_id: int) -> bool:
    """A staff-binding request: the requester, operators, and the school's admins."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == requester_id:
        return True
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_decide_staff_binding(actor: Actor | None, *, requester_id: int, school_id: int, role: StaffRole) -> bool:
    """Operators decide SCHOOL_ADMIN requests (a school's first admin among them); the
    school's admin decides TEACHER and INTEGRATOR requests; nobody decides their own."""
    if actor is None:
        return False
    if actor.is_system:
        return True
    if actor.user_id == requester_id:
        return False
    if role == StaffRole.SCHOOL_ADMIN:
        return actor.is_operator
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def staff_binding_review_scope(actor: Actor) -> frozenset[int] | None:
    """Schools whose staff-binding requests the actor may list: None means every
    school (operators); an empty set means none."""
    if actor.is_system or actor.is_operator:
        return None
    return actor.schools_with(StaffRole.SCHOOL_ADMIN)


# --- audit trail ---------------------------------------------------------


def audit_scope(actor: Actor | None) -> frozenset[int] | None:
    """Schools whose audit trail the actor may read; None means every entry (operators)."""
    actor = require_actor(actor)
    if actor.is_operator or actor.is_system:
        return None
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    if not schools:
        raise forbidden("Журнал изменений доступен операторам и ответственным за дневник школы")
    return schools


def can_view_audit_entry(actor: Actor | None, *, school_id: int | None) -> bool:
    """One entry of the audit trail: within the actor's `audit_scope`."""
    if actor is None or not (actor.is_operator or actor.is_system or actor.schools_with(StaffRole.SCHOOL_ADMIN)):
        return False
    scope = audit_scope(actor)
    return scope is None or school_id in scope


# Audit entries whose before/after hold diary content (grades, attendance, homework).
DIARY_AUDIT_ACTIONS = frozenset(
    {
        "enterGrade",
        "correctGrade",
        "deleteGrade",
        "markAttendance",
        "assignHomework",
        "markHomeworkDone",
        # lessons carry their topics
        "createLesson",
        "updateLesson",
        "generateLessons",
        "createTimetableTemplate",
        # bulk writes by sourcedId (services/sync): the records' values, per item
        "syncLessons",
        "syncGrades",
        "syncAttendance",
    }
)


def can_read_audit_values(actor: Actor | None, *, action: str, school_id: int | None) -> bool:
    """An audit entry's before and after. Operators read every entry, but the values of
    diary content (grades, attendance, homework) only the school's own admins: operators
    see no diary content (they see who did what, and when)."""
    if actor is None:
        return False
    if action not in DIARY_AUDIT_ACTIONS or actor.is_system:
        return True
    return school_id is not None and actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


# --- diary writes: lessons, homework, grades, attendance -------------------
# Teaching assignments are rows, not actor facts: callers pass `assigned`
# (the actor teaches that subject in that class) or `teaches_class` (any subject).


def can_write_diary(
    actor: Actor | None, *, school_id: int, assigned: bool, scope: IntegrationScope | None = None
) -> bool:
    """Schedule, homework, grades, attendance of a class × subject: the teacher
    assigned to it, or an admin of the school. Operators keep out of diary content.
    `scope`: the integration scope that writes this kind of record (grades:write for
    grades, attendance:write for marks), held at the school (see "integrations" below)."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    if scope is not None and integration_may(actor, school_id, scope):
        return True
    return assigned and actor.has_role(school_id, StaffRole.TEACHER)


def diary_write_schools(actor: Actor, scope: IntegrationScope) -> frozenset[int] | None:
    """The schools `can_write_diary` can admit the actor at (with `scope` for an
    integration); None: any (a trusted in-process caller). A record found outside them
    is refused anyway, so a write may look for it there first."""
    if actor.is_system:
        return None
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER)
    school = actor.integration_school_id
    if school is not None and integration_may(actor, school, scope):
        schools |= {school}
    return schools


def can_view_lesson(actor: Actor | None, *, school_id: int, class_child_ids: frozenset[int]) -> bool:
    """A lesson or its homework: the school's teachers and admins, and the children of
    the class (`class_child_ids`: enrolled on the lesson's date) and their guardians."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER):
        return True
    if integration_may(actor, school_id, IntegrationScope.DIARY_READ):
        return True
    return bool(actor.guardian_of & class_child_ids) or actor.student_child_id in class_child_ids


def can_view_child_record(actor: Actor | None, *, child_id: int, school_id: int, teaches: bool) -> bool:
    """A child's grade or attendance mark: the child's guardians, the child, their
    teacher (`teaches`: for a grade, of that class × subject; for attendance, of that
    class), and the school's admins. Operators see no diary content."""
    if actor is None:
        return False
    if actor.is_system or child_id in actor.guardian_of or actor.student_child_id == child_id:
        return True
    if actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    if integration_may(actor, school_id, IntegrationScope.DIARY_READ):
        return True
    return teaches and actor.has_role(school_id, StaffRole.TEACHER)


def can_mark_homework_done(actor: Actor | None, *, child_id: int) -> bool:
    """Only the student or their guardian marks homework done."""
    if actor is None:
        return False
    return actor.is_system or child_id in actor.guardian_of or actor.student_child_id == child_id


def can_watch_attendance(actor: Actor | None, *, school_id: int, teaches_class: bool | None) -> bool:
    """The attendance feed of a class (`teaches_class`: any subject in it) or, with
    `teaches_class` None, of a whole school: its admins and its integration with
    events:read; a class also its teachers."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    if integration_may(actor, school_id, IntegrationScope.EVENTS_READ):
        return True
    return bool(teaches_class) and actor.has_role(school_id, StaffRole.TEACHER)


def can_view_attendance_statistics(actor: Actor | None, *, school_id: int, teaches_class: bool | None) -> bool:
    """attendanceStatistics of a class (`teaches_class`: the actor teaches a subject in it)
    or, with `teaches_class` None, of a whole school: the school's admins; a class also its
    teachers. Operators, parents and students: never."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return bool(teaches_class) and actor.has_role(school_id, StaffRole.TEACHER)


def can_view_grade_statistics(actor: Actor | None, *, school_id: int, teaches_class: bool) -> bool:
    """gradeStatistics of a class over a period (every subject): the school's admins and the
    teachers of the class (`teaches_class`: a subject in it). Operators, parents and students: never."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return teaches_class and actor.has_role(school_id, StaffRole.TEACHER)


# --- school setup: years, subjects, classes, children, imports -------------


def can_set_up_school(actor: Actor | None, school_id: int) -> bool:
    """Years, periods, subjects, control types, classes, teachers, enrolments: the
    school's own admin only. Operators verify schools but do not run them."""
    if actor is None:
        return False
    return actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_import_roster(actor: Actor | None, school_id: int) -> bool:
    """Roster imports: the school's admin, or its integrator (a third-party system
    that syncs rosters by external IDs, scoped to that one school: a person holding the
    INTEGRATOR role there, or an integration with roster:write)."""
    if actor is None:
        return False
    if integration_may(actor, school_id, IntegrationScope.ROSTER_WRITE):
        return True
    return actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN, StaffRole.INTEGRATOR)


def can_view_school_structure(
    actor: Actor | None, school_id: int, *, family_school_ids: frozenset[int] = frozenset()
) -> bool:
    """A school's years, subjects, control types and classes: its staff, operators,
    and families (guardians, students) of children enrolled there
    (`family_school_ids`: schools where the actor's wards or own child are enrolled)."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator:
        return True
    if any(school == school_id for school, _ in actor.memberships):
        return True
    return school_id in family_school_ids


def can_view_class_roster(actor: Actor | None, school_id: int) -> bool:
    """Who is in a class: the school's teachers and admins."""
    if actor is None:
        return False
    return actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER)


def can_view_child(actor: Actor | None, child_id: int, *, school_ids: frozenset[int] = frozenset()) -> bool:
    """A child's card: their guardians, the student themself, teachers and admins
    of a school where the child is enrolled (`school_ids`), operators."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator:
        return True
    if child_id in actor.guardian_of or actor.student_child_id == child_id:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER) & school_ids)


def can_view_child_documents(actor: Actor | None, child_id: int, *, school_ids: frozenset[int] = frozenset()) -> bool:
    """SNILS and birth certificate: the child themself, their guardians, and the
    admins of a school where the child is enrolled. Not teachers, and not
    operators: a support ticket never needs a child's documents."""
    if actor is None:
        return False
    if actor.is_system:
        return True
    if child_id in actor.guardian_of or actor.student_child_id == child_id:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN) & school_ids)


# --- diary reads and the calendar feed -------------------------------------


def can_read_diary(actor: Actor | None, *, child_id: int, school_ids: frozenset[int], teaches_class: bool) -> bool:
    """A child's diary (lessons, homework, grades, attendance): the child's guardians,
    the student, teachers of the child's class (`teaches_class`: any subject in it, or
    its homeroom) and admins of the child's school (`school_ids`). Not operators."""
    if actor is None:
        return False
    if actor.is_system or child_id in actor.guardian_of or actor.student_child_id == child_id:
        return True
    if actor.schools_with(StaffRole.SCHOOL_ADMIN) & school_ids:
        return True
    if any(integration_may(actor, school, IntegrationScope.DIARY_READ) for school in school_ids):
        return True
    return teaches_class and bool(actor.schools_with(StaffRole.TEACHER) & school_ids)


# --- child records across schools (services/child_transfers.py) ------------

# Who decides on a transfer at the school that holds the record.
CHILD_TRANSFER_ROLES = (StaffRole.SCHOOL_ADMIN,)


def can_decide_child_transfer(actor: Actor | None, *, from_school_id: int, child_id: int) -> bool:
    """A request to move a child's record to another school: the admins of the school
    that holds it and the child's guardians see and decide it. The asking school does
    not see it: to that school, a match must look the same as no match."""
    if actor is None:
        return False
    if actor.is_system or child_id in actor.guardian_of:
        return True
    return actor.has_role(from_school_id, *CHILD_TRANSFER_ROLES)


def reads_whole_diary(actor: Actor, *, child_id: int) -> bool:
    """The child's family (and the system) read the diary of every school the child was
    in; staff read only the part their own school recorded (services.diary)."""
    return actor.is_system or child_id in actor.guardian_of or actor.student_child_id == child_id


def can_view_enrollment(actor: Actor | None, child_id: int, school_id: int) -> bool:
    """One of a child's enrolments: the family and operators see every school's; staff
    only their own school's (where the child went before, or after, is not theirs)."""
    if actor is None:
        return False
    if reads_whole_diary(actor, child_id=child_id) or actor.is_operator:
        return True
    return any(school == school_id for school, _ in actor.memberships)


def can_read_class_journal(actor: Actor | None, *, school_id: int, assigned: bool) -> bool:
    """The class journal of a class × subject: the teacher assigned to it and the school's admins."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return assigned and actor.has_role(school_id, StaffRole.TEACHER)


def can_manage_calendar_feed(actor: Actor) -> bool:
    """A calendar feed is made and revoked by the person, through their own session."""
    return not actor.is_system and actor.session_id is not None


# --- parents' applications for diary access --------------------------------


def require_may_apply(actor: Actor) -> None:
    """Only a confirmed account may apply for a child's diary (ACCOUNT_NOT_CONFIRMED otherwise)."""
    require_confirmed(actor)


def can_view_application(actor: Actor | None, *, applicant_id: int, school_id: int | None) -> bool:
    """An application: its applicant, operators, and the admins of the school applied to
    (a draft, not yet sent, is the applicant's alone)."""
    if actor is None:
        return False
    if actor.is_system or actor.user_id == applicant_id:
        return True
    if school_id is None:
        return False
    return actor.is_operator or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_view_application_documents(actor: Actor | None, *, applicant_id: int, school_id: int | None) -> bool:
    """The child's SNILS, birth certificate and scans in an application: the applicant
    and the admins of the school applied to. Operators see the application (its status,
    its history) but not the child's documents, as on `Child` (`can_view_child_documents`):
    a support ticket never needs them."""
    if actor is None:
        return False
    if actor.is_system or actor.user_id == applicant_id:
        return True
    return school_id is not None and actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_edit_application(actor: Actor | None, *, applicant_id: int) -> bool:
    """Only the applicant fills in, corrects and submits their application."""
    return actor is not None and (actor.is_system or actor.user_id == applicant_id)


def can_review_application(actor: Actor | None, *, applicant_id: int, school_id: int | None) -> bool:
    """The admins of the school applied to review it (operators only read); never one's own."""
    if actor is None or school_id is None:
        return False
    if actor.is_system:
        return True
    if actor.user_id == applicant_id:
        return False
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def application_queue_scope(actor: Actor) -> frozenset[int] | None:
    """Schools whose applications the actor may list and follow: None means every
    school (operators); anyone else without a school-admin role is refused."""
    if actor.is_system or actor.is_operator:
        return None
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    if not schools:
        raise forbidden("Заявки школы видят её администраторы и операторы портала")
    return schools


# --- messages: threads and who may write to whom (services/messaging) ------
# (messages section)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A person someone wants to write to, at a thread's school: a member of its staff
    (`is_staff`), a teacher of the thread's child's class or its homeroom (`teaches_child`),
    or a member of the child's family (`family_of_child`: a guardian or the child's own login)."""

    user_id: int
    is_staff: bool = False
    is_admin: bool = False
    teaches_child: bool = False
    family_of_child: bool = False


def can_write_to(
    actor: Actor | None, *, school_id: int, child_id: int | None, actor_teaches_child: bool, recipient: Recipient
) -> bool:
    """Who may write to whom. A parent (or the child) about their own child: its teachers,
    the homeroom teacher, the school's admins, and the child's family. A teacher: the
    families of children they teach, and colleagues; an admin: any family of the school
    and colleagues. Operators take no part in conversations; nobody reaches another family."""
    if actor is None or (actor.is_operator and not actor.is_system):
        return False
    if actor.is_system:
        return True
    admin = actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)
    staff = admin or actor.has_role(school_id, StaffRole.TEACHER)
    if staff and recipient.is_staff:
        return True
    if child_id is None:
        return False
    if child_id in actor.guardian_of or actor.student_child_id == child_id:
        return recipient.family_of_child or (recipient.is_staff and (recipient.teaches_child or recipient.is_admin))
    if recipient.family_of_child:
        return admin or (staff and actor_teaches_child)
    return False


def can_start_class_thread(actor: Actor | None, *, school_id: int, teaches_class: bool) -> bool:
    """A thread with the families of a class: its teachers (any subject, or homeroom) and the school's admins."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return teaches_class and actor.has_role(school_id, StaffRole.TEACHER)


def can_view_thread(
    actor: Actor | None, *, school_id: int, participant: bool, left: bool, family_school_ids: frozenset[int]
) -> bool:
    """A thread: its participants who have not left, as long as they are still tied to its
    school (its staff, or a family of a child there). Staff whose membership ended lose it;
    operators never see threads."""
    if actor is None or not participant or left:
        return False
    if actor.is_system:
        return True
    if actor.is_operator and not actor.memberships:
        return False
    return any(school == school_id for school, _ in actor.memberships) or school_id in family_school_ids


# --- announcements (services/announcements.py) ------------------------------
# (announcements section)


@dataclass(frozen=True, slots=True)
class AnnouncementFacts:
    """What the policy decides an announcement on: its school, audience (AnnouncementAudience
    value), the classes it is addressed to (audience CLASSES), its author, and whether it
    was withdrawn."""

    school_id: int
    audience: str
    class_ids: frozenset[int]
    author_id: int
    withdrawn: bool = False


@dataclass(frozen=True, slots=True)
class AnnouncementReader:
    """Facts about a reader that live in rows: the classes (with their schools) of the
    children they are a guardian of or are themselves, enrolled today; and the classes they
    teach or are homeroom teacher of (at schools where they are staff now)."""

    family_classes: frozenset[tuple[int, int]] = frozenset()  # (class id, school id)
    taught_classes: frozenset[int] = frozenset()

    @property
    def family_schools(self) -> frozenset[int]:
        return frozenset(school for _, school in self.family_classes)

    @property
    def family_class_ids(self) -> frozenset[int]:
        return frozenset(class_id for class_id, _ in self.family_classes)


_STAFF_ROLES = (StaffRole.TEACHER, StaffRole.SCHOOL_ADMIN)


def is_announcement_addressed(actor: Actor | None, ann: AnnouncementFacts, reader: AnnouncementReader) -> bool:
    """Whether the announcement is addressed to the actor, withdrawn or not. SCHOOL: the
    school's staff, the guardians and students of children enrolled there; CLASSES: the
    guardians and students of those classes, their teachers, the school's admins; STAFF:
    the school's staff only. Operators are no audience."""
    if actor is None:
        return False
    if actor.is_system:
        return True
    staff = actor.has_role(ann.school_id, *_STAFF_ROLES)
    if ann.audience == "STAFF":
        return staff
    if ann.audience == "SCHOOL":
        return staff or ann.school_id in reader.family_schools
    if actor.has_role(ann.school_id, StaffRole.SCHOOL_ADMIN):
        return True
    if ann.class_ids & reader.family_class_ids:
        return True
    return staff and bool(ann.class_ids & reader.taught_classes)


def can_view_announcement(actor: Actor | None, ann: AnnouncementFacts, reader: AnnouncementReader) -> bool:
    """An announcement (and its files): those it is addressed to while it stands; once
    withdrawn, only its author and the school's admins (who may still need it)."""
    if ann.withdrawn:
        return actor is not None and (actor.is_system or can_edit_announcement(actor, ann))
    return is_announcement_addressed(actor, ann, reader)


def can_publish_announcement(
    actor: Actor | None, *, school_id: int, audience: str, class_ids: frozenset[int], taught_classes: frozenset[int]
) -> bool:
    """The school's admins: any audience. Its teachers: audience CLASSES only, and only
    classes they teach or are homeroom teacher of."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return (
        actor.has_role(school_id, StaffRole.TEACHER)
        and audience == "CLASSES"
        and bool(class_ids)
        and class_ids <= taught_classes
    )


def can_edit_announcement(actor: Actor | None, ann: AnnouncementFacts) -> bool:
    """Update or withdraw: its author while still staff of the school, or the school's admins."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(ann.school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return actor.user_id == ann.author_id and actor.has_role(ann.school_id, *_STAFF_ROLES)


def may_follow_school_announcements(actor: Actor | None, *, school_id: int, reader: AnnouncementReader) -> bool:
    """announcementEvents(schoolId): someone who may be addressed there — the school's
    staff, or a family with a child enrolled there (each event is then checked on its own)."""
    if actor is None:
        return False
    return actor.is_system or actor.has_role(school_id, *_STAFF_ROLES) or school_id in reader.family_schools


# --- feedback tickets (services/feedback.py) --------------------------------
# (feedback section)


# A ticket of these categories about a school's record is shared with that school's admins.
SCHOOL_FEEDBACK_CATEGORIES = frozenset({FeedbackCategory.CONTENT_ERROR})


@dataclass(frozen=True, slots=True)
class FeedbackTicketFacts:
    """What the policy decides a feedback ticket (and its files) on: its author, its
    category, and the school whose record it is about (None: no school's)."""

    author_id: int
    category: FeedbackCategory
    school_id: int | None = None


def _feedback_school(ticket: FeedbackTicketFacts) -> int | None:
    return ticket.school_id if ticket.category in SCHOOL_FEEDBACK_CATEGORIES else None


def can_view_feedback_ticket(actor: Actor | None, ticket: FeedbackTicketFacts) -> bool:
    """A feedback ticket and its files: its author, operators, and for an error in a
    school's data (CONTENT_ERROR about a school's record) that school's admins."""
    if actor is None:
        return False
    if actor.is_system or actor.is_operator or actor.user_id == ticket.author_id:
        return True
    school = _feedback_school(ticket)
    return school is not None and actor.has_role(school, StaffRole.SCHOOL_ADMIN)


def can_work_feedback_ticket(actor: Actor | None, ticket: FeedbackTicketFacts) -> bool:
    """Take into work and answer: operators, and the admins of the school a CONTENT_ERROR
    ticket is about; never one's own ticket."""
    if actor is None:
        return False
    if actor.is_system:
        return True
    if actor.user_id == ticket.author_id:
        return False
    if actor.is_operator:
        return True
    school = _feedback_school(ticket)
    return school is not None and actor.has_role(school, StaffRole.SCHOOL_ADMIN)


def can_reopen_feedback_ticket(actor: Actor | None, ticket: FeedbackTicketFacts) -> bool:
    """Only the author reopens their ticket (the service checks the 7-day window)."""
    return actor is not None and (actor.is_system or actor.user_id == ticket.author_id)


def can_close_feedback_ticket(actor: Actor | None, ticket: FeedbackTicketFacts) -> bool:
    """An answered ticket is closed by its author or by those who work it."""
    return can_reopen_feedback_ticket(actor, ticket) or can_work_feedback_ticket(actor, ticket)


def feedback_queue_scope(actor: Actor) -> frozenset[int] | None:
    """Whose tickets the actor's queue holds: None means every ticket (operators); else the
    schools whose CONTENT_ERROR tickets the actor (their admin) works. Anyone else is refused."""
    if actor.is_system or actor.is_operator:
        return None
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    if not schools:
        raise forbidden("Очередь обращений видят операторы портала и ответственные за дневник школы")
    return schools


# --- notices of new records and reminders (services/record_notices.py, reminders.py)
# (notices section)


# --- the events query: which event channels a viewer reads (services/event_stream.py)
# Each subscription's `may_follow` admits a viewer to its channels; `events` (the HTTP twin
# of the streams) reads the log through the channels below, the same viewers' channels,
# and then re-checks every event with the subscription's own rule (resolvers/event_stream.py).


@dataclass(frozen=True, slots=True)
class EventReader:
    """Facts about a viewer that live in rows, for `event_channels`: the applications they
    submitted (with the school applied to), the threads they take part in and have not
    left, the classes they are assigned to teach (with their schools), the schools of
    their wards' (or their own) classes today, and whether they wrote a feedback ticket."""

    applications: frozenset[tuple[int, int | None]] = frozenset()  # (application id, school id)
    threads: frozenset[int] = frozenset()
    taught_classes: frozenset[tuple[int, int]] = frozenset()  # (class id, school id)
    family_schools: frozenset[int] = frozenset()
    wrote_feedback: bool = False


def event_channels(actor: Actor | None, reader: EventReader) -> dict[str, frozenset[str]]:
    """The channels of each event kind the viewer may read at all, as the subscriptions
    admit them (a bounded list: the viewer's own, their children's, their classes', their
    schools'):

    - notifications: their own (notificationReceived);
    - grades: their wards' and their own child record's (gradeEvents; staff follow a child
      one by one, there is no school-wide grade channel to read);
    - attendance: a school admin's schools (attendanceEvents(schoolId)), a teacher's
      assigned classes at schools where they teach now (attendanceEvents(classId)), not
      those of a school whose channel they read already (one copy of each change);
    - applications: a school admin's schools (applicationStatusChanged, unless an operator:
      operators follow applications one by one), and the applications they submitted
      (applicationStatusChanged(applicationId)) but those to a school read whole;
    - messages: the threads they take part in and have not left (threadEvents; the copy of
      a new message on their own messages channel repeats the thread's), not an operator's
      without a school role (can_view_thread);
    - announcements: schools where they are staff or have a child enrolled (announcementEvents);
    - feedback: the tickets' channel for operators, school admins (their queues) and
      authors (their own tickets)."""
    if actor is None:
        return {}
    admin_schools = frozenset() if actor.is_operator else actor.schools_with(StaffRole.SCHOOL_ADMIN)
    children = set(actor.guardian_of)
    if actor.student_child_id is not None:
        children.add(actor.student_child_id)
    attendance_admin = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    found: dict[str, frozenset[str]] = {
        NotificationCreated.kind: frozenset({channels.user_notifications(actor.user_id)}),
        GradeChanged.kind: frozenset(channels.child_grades(child) for child in children),
        AttendanceChanged.kind: frozenset(
            [channels.school_attendance(school) for school in attendance_admin]
            + [
                channels.class_attendance(class_id)
                for class_id, school in reader.taught_classes
                if school not in attendance_admin and actor.has_role(school, StaffRole.TEACHER)
            ]
        ),
        ApplicationStatusChanged.kind: frozenset(
            [channels.school_applications(school) for school in admin_schools]
            + [
                channels.application_status(application)
                for application, school in reader.applications
                if school is None or school not in admin_schools
            ]
        ),
        ThreadMessage.kind: (
            frozenset()
            if actor.is_operator and not actor.memberships
            else frozenset(channels.thread_messages(thread) for thread in reader.threads)
        ),
        AnnouncementChanged.kind: frozenset(
            channels.school_announcements(school)
            for school in actor.schools_with(*_STAFF_ROLES) | reader.family_schools
        ),
        FeedbackTicketChanged.kind: (
            frozenset({channels.feedback_tickets()})
            if actor.is_operator or actor.schools_with(StaffRole.SCHOOL_ADMIN) or reader.wrote_feedback
            else frozenset()
        ),
    }
    return {kind: names for kind, names in found.items() if names}


# --- reports: who may ask, who may download
# A report is made for a person and goes to them alone: the system and integrations ask
# for none, and being a portal operator gives no report (operators see no diary content).
# Facts in rows come from the caller (services/reports/requests.py): the schools of the
# child's enrolments over the report's dates, and whether the actor teaches the class.


def _may_ask_for_reports(actor: Actor | None) -> bool:
    return actor is not None and not actor.is_system and not actor.is_integration


def can_request_child_report(
    actor: Actor | None, *, child_id: int, school_ids: frozenset[int], teaches_class: bool
) -> bool:
    """A child's report: whoever may read the child's diary over its dates — the child's
    guardians, the student themself, teachers of the child's class then (`teaches_class`:
    any subject in it, or its homeroom) and admins of its school (`school_ids`)."""
    if actor is None or not _may_ask_for_reports(actor):
        return False
    return can_read_diary(actor, child_id=child_id, school_ids=school_ids, teaches_class=teaches_class)


def can_request_class_report(actor: Actor | None, *, school_id: int, teaches_class: bool) -> bool:
    """A class's report: the school's admins, and the class's teachers (`teaches_class`)."""
    if actor is None or not _may_ask_for_reports(actor):
        return False
    if actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return teaches_class and actor.has_role(school_id, StaffRole.TEACHER)


def can_request_school_report(actor: Actor | None, *, school_id: int) -> bool:
    """A whole school's report: its admins."""
    return _may_ask_for_reports(actor) and actor is not None and actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def can_view_report(actor: Actor | None, *, requested_by_id: int) -> bool:
    """A requested report (its status, its events, its file): the person who asked for it."""
    return actor is not None and not actor.is_system and actor.user_id == requested_by_id


def can_download_report(actor: Actor | None, *, requested_by_id: int) -> bool:
    """A report's file: its requester only (the file shows what they could see when it was made)."""
    return can_view_report(actor, requested_by_id=requested_by_id)


def can_manage_report_templates(actor: Actor | None, *, school_id: int) -> bool:
    """createReportTemplate / updateReportTemplate: the school's admins and teachers (people)."""
    if actor is None or not _may_ask_for_reports(actor):
        return False
    return actor.has_role(school_id, StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER)


def can_view_report_templates(
    actor: Actor | None, *, school_id: int, family_school_ids: frozenset[int] = frozenset()
) -> bool:
    """A school's templates (to choose one when asking): its staff, and the families of
    its children (`family_school_ids`: the schools of the actor's children)."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER):
        return True
    return school_id in family_school_ids


def can_view_report_remark(
    actor: Actor | None, *, child_id: int, school_id: int, on_subject: bool, teaches: bool
) -> bool:
    """A remark on a child's period, to one who may read the child's diary (checked by the
    caller): the family sees every one; staff those of their own school's periods, and a
    teacher one on a subject only when teaching it in the child's class there (or being
    its homeroom teacher), as with the subject's grades (`teaches`)."""
    if actor is None:
        return False
    if reads_whole_diary(actor, child_id=child_id):
        return True
    if school_id not in diary_staff_schools(actor):
        return False
    if actor.has_role(school_id, StaffRole.SCHOOL_ADMIN) or diary_integration_school(actor) == school_id:
        return True
    return teaches or not on_subject


def can_add_report_remark(actor: Actor | None, *, school_id: int, teaches_child: bool) -> bool:
    """addReportRemark on a child's period: admins of the period's school, and teachers
    there of the child's class in that period (`teaches_child`: a subject, or its homeroom)."""
    if actor is None or not _may_ask_for_reports(actor):
        return False
    if actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return teaches_child and actor.has_role(school_id, StaffRole.TEACHER)


# --- integrations: sync (services/sync) -------------------------------------
# Bulk upserts keyed by the school's external IDs (sourcedId), and who sees those IDs.


def can_sync(actor: Actor | None, school_id: int, *, scope: IntegrationScope) -> bool:
    """syncLessons (`scope` roster:write), syncGrades (grades:write), syncAttendance
    (attendance:write) at a school: its admins, or its integration holding the scope. The
    writes then follow the teachers' rules, as an admin's do; teachers write their own
    records one by one (createLesson, enterGrade, markAttendance), operators never."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return integration_may(actor, school_id, scope)  # the integrations' rule, below


SOURCED_ID_SCOPES = (IntegrationScope.ROSTER_READ, IntegrationScope.ROSTER_WRITE)


def can_view_sourced_ids(actor: Actor | None, school_id: int) -> bool:
    """The IDs a school's own systems gave its people (a teacher's or a guardian's
    sourcedId), and such a person found by one (nodeBySourcedId): the school's admins and
    its integration with a roster scope. Not teachers, families or operators: the
    mapping is the school's bookkeeping with its systems."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return any(integration_may(actor, school_id, scope) for scope in SOURCED_ID_SCOPES)


# --- integrations: service accounts (services/integrations.py) --------------
# An integration is a school's service account (OAuth2 client credentials): it acts at
# that one school, within its scopes, through a user row of its own that holds no role.
# The checks above admit it where its scope says so (can_write_diary with grades:write or
# attendance:write, can_import_roster with roster:write, can_watch_attendance with
# events:read, the diary reads with diary:read); everything else refuses it, as it
# refuses any user without a role.


def integration_may(actor: Actor | None, school_id: int, scope: IntegrationScope) -> bool:
    """The integration holds `scope` at `school_id` (and is an integration at all)."""
    return actor is not None and actor.has_scope(school_id, scope)


def can_manage_integrations(actor: Actor | None, school_id: int) -> bool:
    """Create, rotate the secret of, revoke and list a school's integrations: its admins
    (people). Not operators, not teachers, and not an integration itself."""
    if actor is None or actor.is_integration:
        return False
    return actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN)


def diary_staff_schools(actor: Actor) -> frozenset[int]:
    """The schools whose part of a diary the actor reads as staff (not family): where they
    teach or administer, and an integration's school when it holds diary:read."""
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN, StaffRole.TEACHER)
    school = actor.integration_school_id
    if school is not None and integration_may(actor, school, IntegrationScope.DIARY_READ):
        schools |= {school}
    return schools


def diary_integration_school(actor: Actor) -> int | None:
    """The school whose part of a diary an integration reads (diary:read), or None."""
    school = actor.integration_school_id
    return school if school is not None and integration_may(actor, school, IntegrationScope.DIARY_READ) else None


# --- integrations: the change feed and webhooks (services/changes.py, services/webhooks)
# A school's change feed (changes, changeEvents) and its webhooks: its admins, and its
# integration holding events:read. What changed is told by type and ID only; reading the
# record itself takes what reading it always takes (an integration: diary:read). An
# integration manages the webhooks it registered, an admin every webhook of the school.
# Teachers, families and operators: neither.


def can_read_changes(actor: Actor | None, school_id: int) -> bool:
    """The school's change feed: every create, update and delete of its records."""
    if actor is None:
        return False
    if actor.is_system or actor.has_role(school_id, StaffRole.SCHOOL_ADMIN):
        return True
    return integration_may(actor, school_id, IntegrationScope.EVENTS_READ)


def changes_school(actor: Actor) -> int | None:
    """The school whose changes an actor reads when it names none: an integration's own,
    or the one school a person administers (None: they must name it)."""
    if actor.is_integration:
        return actor.integration_school_id
    schools = actor.schools_with(StaffRole.SCHOOL_ADMIN)
    return next(iter(schools)) if len(schools) == 1 else None


def can_manage_webhook(actor: Actor | None, *, school_id: int, integration_id: int | None) -> bool:
    """Register a webhook of the school (`integration_id`: the registering integration's, or
    None for a person's), or see, change, delete and redeliver one: whoever reads the
    school's changes, an integration only its own webhooks."""
    if actor is None or not can_read_changes(actor, school_id):
        return False
    return not actor.is_integration or actor.integration_id == integration_id


# --- integrations: OneRoster (services/oneroster) ----------------------------
# The OneRoster 1.2 rostering endpoints (/ims/oneroster/rostering/v1p2/…) answer an
# integration holding roster:read, about its own school only. People (admins included)
# use GraphQL; their tokens are refused here. Personal fields follow the rules above
# (can_view_contacts): an integration is no admin, so phones and emails come masked.


def oneroster_school(actor: Actor | None) -> int | None:
    """The school whose roster the actor reads over OneRoster, or None (refused)."""
    if actor is None or not actor.is_integration:
        return None
    school = actor.integration_school_id
    return school if school is not None and integration_may(actor, school, IntegrationScope.ROSTER_READ) else None


# --- personal data: access log, export, erasure (services/personal_data) ------------
# Which fields are personal, and which rule above decides who sees each, is listed in
# auth/personal_fields.py.


def can_view_sensitive_access_log(actor: Actor | None, *, child_id: int, school_ids: frozenset[int]) -> bool:
    """Who read a child's SNILS and birth certificate: the child's guardians and the
    admins of a school the child is at now (`school_ids`: not the schools the child has left).
    Not teachers, not operators."""
    if actor is None:
        return False
    if actor.is_system or child_id in actor.guardian_of:
        return True
    return bool(actor.schools_with(StaffRole.SCHOOL_ADMIN) & school_ids)


def can_request_own_data(actor: Actor | None) -> bool:
    """A person asks for their own data, or for its erasure; an integration has none."""
    return actor is not None and not actor.is_system and not actor.is_integration


def can_view_data_request(actor: Actor | None, *, requester_id: int | None, is_erasure: bool) -> bool:
    """A data request: its requester; an erasure request also the operators who decide it
    (an export is the requester's alone)."""
    if actor is None:
        return False
    if actor.is_system or (requester_id is not None and actor.user_id == requester_id):
        return True
    return is_erasure and actor.is_operator


def can_download_data_export(actor: Actor | None, *, requester_id: int | None) -> bool:
    """An export's file is its requester's alone: not even operators read it."""
    return actor is not None and requester_id is not None and actor.user_id == requester_id


def can_decide_erasure(actor: Actor | None, *, requester_id: int | None) -> bool:
    """Operators decide erasure requests, never their own."""
    if actor is None:
        return False
    if actor.is_system:
        return True
    return actor.is_operator and actor.user_id != requester_id


# --- identities at the portal and consent (services/identities.py, services/consents.py) ---


def can_manage_identities(actor: Actor) -> bool:
    """Linking and unlinking are a person's own, through their own session (not an integration's)."""
    return can_manage_own_account(actor) and not actor.is_integration


def can_unlink_identity(actor: Actor, *, owner_id: int) -> bool:
    """Only the account's owner unlinks its identity; to anyone else it does not exist."""
    return can_manage_identities(actor) and actor.user_id == owner_id


def can_manage_consent(actor: Actor) -> bool:
    """Consent is given and withdrawn by the person, in their own session."""
    return can_manage_identities(actor)
