# ruff: noqa: S608 - the statements are assembled from this module's own text; values are bound
"""The read rows of `bench diary`: each GraphQL selection and its raw-SQL limit.

A limit is the same rows as the selection asks for, built as JSON by PostgreSQL in one
statement (plain ids, no access facts), fetched through asyncpg. The diary's
statements take ($1 child, $2 from, $3 to); the journal's ($1 class, $2 subject,
$3 period start, $4 period end).
"""

from __future__ import annotations

from dataclasses import dataclass

DIARY_ARGS = "query($c: ID!, $from: Date!, $to: Date!) {\n  diary(childId: $c, from: $from, to: $to) "
JOURNAL_ARGS = "query($c: ID!, $s: ID!, $p: ID!) {\n  classJournal(classId: $c, subjectId: $s, periodId: $p) "


@dataclass(frozen=True, slots=True)
class Read:
    name: str
    query: str
    sql: str
    target: float  # our throughput should be at least this share of the limit's
    target_text: str
    journal: bool = False


def _name(a: str) -> str:
    return f"concat_ws(' ', {a}.last_name, {a}.first_name, {a}.middle_name)"


def _person(a: str) -> str:
    return f"json_build_object('id', {a}.id, 'fullName', {_name(a)})"


def _diary_sql(lesson: str) -> str:
    """The child's lessons in [$2, $3] grouped by day; `lesson` builds one lesson's object."""
    return f"""
SELECT coalesce(json_agg(d ORDER BY d.date), '[]')::text FROM (
  SELECT l.date, json_agg({lesson} ORDER BY l.start_time, l.id) AS lessons
  FROM lessons l
  JOIN subjects s ON s.id = l.subject_id
  JOIN users u ON u.id = l.teacher_id
  JOIN school_classes c ON c.id = l.class_id
  JOIN enrollments e ON e.class_id = l.class_id AND e.child_id = $1
   AND e.starts_on <= l.date AND (e.ends_on IS NULL OR e.ends_on >= l.date)
  WHERE l.date BETWEEN $2 AND $3
  GROUP BY l.date
) d
"""


# --- (a) minimal ---------------------------------------------------------------------

MINIMAL = DIARY_ARGS + "{\n    date\n    lessons { lesson { id date } subject { name } }\n  }\n}"
MINIMAL_SQL = _diary_sql(
    "json_build_object('lesson', json_build_object('id', l.id, 'date', l.date), "
    "'subject', json_build_object('name', s.name))"
)

# --- (b) the bench's selection of before -------------------------------------------------

_CURRENT_FIELDS = """
      lesson { id date startTime endTime lessonNumber room topic status }
      subject { id name shortName }
      teacher { id fullName }
      homework { isDone homework { id text dueOn } }
      grades { id value weight comment gradedOn%s }
      attendance { id status minutesLate }"""
CURRENT = DIARY_ARGS + "{\n    date\n    lessons {" + _CURRENT_FIELDS % "" + "\n    }\n  }\n}"
_CONTROL = " controlType { name weight }"
WITH_CONTROL = DIARY_ARGS + "{\n    date\n    lessons {" + _CURRENT_FIELDS % _CONTROL + "\n    }\n  }\n}"


def _current_sql(control: bool) -> str:
    control_type = (
        ", 'controlType', (SELECT json_build_object('name', ct.name, 'weight', ct.weight) "
        "FROM control_types ct WHERE ct.id = g.control_type_id)"
        if control
        else ""
    )
    return _diary_sql(f"""json_build_object(
    'lesson', json_build_object('id', l.id, 'date', l.date, 'startTime', l.start_time, 'endTime', l.end_time,
                                'lessonNumber', l.lesson_number, 'room', l.room, 'topic', l.topic, 'status', l.status),
    'subject', json_build_object('id', s.id, 'name', s.name, 'shortName', s.short_name),
    'teacher', {_person("u")},
    'homework', (SELECT coalesce(json_agg(json_build_object('isDone', hc.id IS NOT NULL,
                   'homework', json_build_object('id', h.id, 'text', h.text, 'dueOn', h.due_on)) ORDER BY h.id), '[]')
                 FROM homeworks h LEFT JOIN homework_completions hc ON hc.homework_id = h.id AND hc.child_id = $1
                 WHERE h.lesson_id = l.id),
    'grades', (SELECT coalesce(json_agg(json_build_object('id', g.id, 'value', g.value, 'weight', g.weight,
                 'comment', g.comment, 'gradedOn', g.graded_on{control_type}) ORDER BY g.graded_on, g.id), '[]')
               FROM grades g
               WHERE g.school_id = l.school_id AND g.lesson_id = l.id AND g.child_id = $1 AND g.deleted_at IS NULL),
    'attendance', (SELECT json_build_object('id', a.id, 'status', a.status, 'minutesLate', a.minutes_late)
                   FROM attendances a WHERE a.school_id = l.school_id AND a.lesson_id = l.id AND a.child_id = $1)
  )""")


# --- (d) every field of the diary graph a parent sees ----------------------------------------

FULL = (
    DIARY_ARGS
    + """{
    date
    lessons {
      lesson {
        id date startTime endTime startsAt endsAt lessonNumber room topic status
        schoolClass { id name level letter }
        substituteTeacher { id fullName }
      }
      subject { id name shortName }
      teacher { id lastName firstName middleName fullName }
      homework {
        isDone
        homework {
          id text publishedOn dueOn expectedMinutes
          attachments { id fileName contentType sizeBytes sha256 createdAt url }
        }
      }
      grades {
        id value numericValue kind weight comment gradedOn isDeleted
        controlType { id code name weight isDefault }
        period { id number name startsOn endsOn }
        teacher { id fullName }
        history { action oldValue newValue oldComment newComment reason changedAt changedBy { id fullName } }
      }
      attendance { id status minutesLate reason markedAt markedBy { id fullName } }
    }
  }
}"""
)
_AT_SCHOOL = "(l.date + l.{0}) AT TIME ZONE 'Europe/Moscow'"
FULL_SQL = _diary_sql(f"""json_build_object(
    'lesson', json_build_object('id', l.id, 'date', l.date, 'startTime', l.start_time, 'endTime', l.end_time,
       'startsAt', {_AT_SCHOOL.format("start_time")}, 'endsAt', {_AT_SCHOOL.format("end_time")},
       'lessonNumber', l.lesson_number, 'room', l.room, 'topic', l.topic, 'status', l.status,
       'schoolClass', json_build_object('id', c.id, 'name', c.level || c.letter, 'level', c.level, 'letter', c.letter),
       'substituteTeacher', (SELECT {_person("st")} FROM users st WHERE st.id = l.substitute_teacher_id)),
    'subject', json_build_object('id', s.id, 'name', s.name, 'shortName', s.short_name),
    'teacher', json_build_object('id', u.id, 'lastName', u.last_name, 'firstName', u.first_name,
                                 'middleName', u.middle_name, 'fullName', {_name("u")}),
    'homework', (SELECT coalesce(json_agg(json_build_object(
        'isDone', EXISTS (SELECT 1 FROM homework_completions hc WHERE hc.homework_id = h.id AND hc.child_id = $1),
        'homework', json_build_object('id', h.id, 'text', h.text, 'publishedOn', h.published_on, 'dueOn', h.due_on,
          'expectedMinutes', h.expected_minutes,
          'attachments', (SELECT coalesce(json_agg(json_build_object('id', f.id, 'fileName', f.file_name,
                            'contentType', f.content_type, 'sizeBytes', f.size_bytes, 'sha256', f.sha256,
                            'createdAt', f.created_at, 'url', 'http://127.0.0.1/files/' || f.id) ORDER BY f.id), '[]')
                          FROM homework_attachments ha JOIN attachments f ON f.id = ha.attachment_id
                          WHERE ha.homework_id = h.id))) ORDER BY h.id), '[]')
        FROM homeworks h WHERE h.lesson_id = l.id),
    'grades', (SELECT coalesce(json_agg(json_build_object('id', g.id, 'value', g.value,
        'numericValue', g.numeric_value, 'kind', g.kind, 'weight', g.weight, 'comment', g.comment,
        'gradedOn', g.graded_on, 'isDeleted', g.deleted_at IS NOT NULL,
        'controlType', (SELECT json_build_object('id', ct.id, 'code', ct.code, 'name', ct.name, 'weight', ct.weight,
                          'isDefault', ct.school_id IS NULL) FROM control_types ct WHERE ct.id = g.control_type_id),
        'period', (SELECT json_build_object('id', p.id, 'number', p.number, 'name', p.name,
                     'startsOn', p.starts_on, 'endsOn', p.ends_on) FROM periods p WHERE p.id = g.period_id),
        'teacher', (SELECT {_person("gt")} FROM users gt WHERE gt.id = g.teacher_id),
        'history', (SELECT coalesce(json_agg(json_build_object('action', r.action, 'oldValue', r.old_value,
                      'newValue', r.new_value, 'oldComment', r.old_comment, 'newComment', r.new_comment,
                      'reason', r.reason, 'changedAt', r.changed_at, 'changedBy', {_person("rb")}) ORDER BY r.id), '[]')
                    FROM grade_revisions r JOIN users rb ON rb.id = r.changed_by_id WHERE r.grade_id = g.id)
        ) ORDER BY g.graded_on, g.id), '[]')
        FROM grades g
               WHERE g.school_id = l.school_id AND g.lesson_id = l.id AND g.child_id = $1 AND g.deleted_at IS NULL),
    'attendance', (SELECT json_build_object('id', a.id, 'status', a.status, 'minutesLate', a.minutes_late,
                     'reason', a.reason, 'markedAt', a.marked_at, 'markedBy', {_person("mb")})
                   FROM attendances a JOIN users mb ON mb.id = a.marked_by_id
                   WHERE a.school_id = l.school_id AND a.lesson_id = l.id AND a.child_id = $1)
  )""")

# --- the class journal ---------------------------------------------------------------------


def _journal(attendance: bool) -> str:
    cell = "lessonId grades { id value weight }" + (" attendance { id status }" if attendance else "")
    return (
        JOURNAL_ARGS
        + "{\n    lessons { id date topic }\n    rows {\n      child { id lastName firstName }\n"
        + f"      cells {{ {cell} }}\n      average {{ average weightedAverage count }}\n    }}\n  }}\n}}"
    )


def _journal_sql(attendance: bool) -> str:
    marks = (
        """, a AS (
  SELECT child_id, lesson_id, json_build_object('id', id, 'status', status) AS mark
  FROM attendances WHERE school_id = (SELECT school_id FROM school_classes WHERE id = $1)
   AND lesson_id IN (SELECT id FROM l)
)"""
        if attendance
        else ""
    )
    cell_mark = ",\n                 'attendance', a.mark" if attendance else ""
    join_mark = "\n               LEFT JOIN a ON a.lesson_id = l.id AND a.child_id = c.id" if attendance else ""
    return f"""
WITH l AS (
  SELECT id, date, start_time, topic FROM lessons
  WHERE class_id = $1 AND subject_id = $2 AND date BETWEEN $3 AND $4
), c AS (
  SELECT ch.id, ch.last_name, ch.first_name, ch.middle_name FROM children ch
  WHERE ch.id IN (SELECT child_id FROM enrollments WHERE class_id = $1 AND starts_on <= $4
                  AND (ends_on IS NULL OR ends_on >= $3))
), g AS (
  SELECT child_id, lesson_id, json_agg(json_build_object('id', id, 'value', value, 'weight', weight)
                                       ORDER BY graded_on, id) AS grades
  FROM grades WHERE school_id = (SELECT school_id FROM school_classes WHERE id = $1)
   AND lesson_id IN (SELECT id FROM l) AND deleted_at IS NULL GROUP BY child_id, lesson_id
){marks}, av AS (
  SELECT child_id, round(avg(numeric_value), 2) AS average,
         round(sum(numeric_value * weight) / sum(weight), 2) AS weighted, count(*) AS n
  FROM grades WHERE school_id = (SELECT school_id FROM school_classes WHERE id = $1)
   AND child_id IN (SELECT id FROM c) AND subject_id = $2 AND graded_on BETWEEN $3 AND $4
   AND deleted_at IS NULL AND kind = 'REGULAR' AND numeric_value IS NOT NULL GROUP BY child_id
)
SELECT json_build_object(
  'lessons', (SELECT coalesce(json_agg(json_build_object('id', id, 'date', date, 'topic', topic)
              ORDER BY date, start_time, id), '[]') FROM l),
  'rows', (SELECT coalesce(json_agg(json_build_object(
     'child', json_build_object('id', c.id, 'lastName', c.last_name, 'firstName', c.first_name),
     'cells', (SELECT coalesce(json_agg(json_build_object('lessonId', l.id,
                 'grades', coalesce(g.grades, '[]'::json){cell_mark}) ORDER BY l.date, l.start_time, l.id), '[]')
               FROM l LEFT JOIN g ON g.lesson_id = l.id AND g.child_id = c.id{join_mark}),
     'average', (SELECT json_build_object('average', av.average, 'weightedAverage', av.weighted, 'count', av.n)
                 FROM av WHERE av.child_id = c.id)
  ) ORDER BY c.last_name, c.first_name, c.middle_name, c.id), '[]') FROM c)
)::text
"""


HALF, TWO_THIRDS = 1 / 2, 2 / 3
READS = (
    Read("diary a: minimal", MINIMAL, MINIMAL_SQL, HALF, "≥ 1/2"),
    Read("diary b: the bench's", CURRENT, _current_sql(control=False), HALF, "≥ 1/2"),
    Read("diary c: b + controlType", WITH_CONTROL, _current_sql(control=True), HALF, "≥ 1/2"),
    Read("diary d: everything", FULL, FULL_SQL, HALF, "≥ 1/2"),
    Read("journal with attendance", _journal(True), _journal_sql(True), TWO_THIRDS, "≥ 2/3", journal=True),
    Read("journal without attendance", _journal(False), _journal_sql(False), TWO_THIRDS, "≥ 2/3", journal=True),
)
