"""The schedule: lessons made by hand, weekly timetable templates, lessons generated
from a template over a period.

No teacher, class or room is booked twice at overlapping times on a date, and an
exact duplicate is refused; each refusal names the lesson in the way. The check
runs under a per-school lock (see `diary_facts.lock_school`), so two racing
requests serialize and the second sees the first's lesson; the unique index
(class_id, date, start_time) backs exact duplicates.

- `data`: the data classes of inputs (a lesson, changes, a template) and of results
- `checks`: a lesson's fields, its class and subject, the actor's subjects, the teacher's
  assignment, the year, the days off (school holidays, the production calendar)
- `bookings`: the booking rules (no double booking, no duplicate) and the insert
- `by_hand`: `create_lesson`, `update_lesson`
- `timetable`: `create_timetable_template`, `template_slots`, `generate_lessons`
"""

from ediary_gql.services.lessons.by_hand import create_lesson, update_lesson
from ediary_gql.services.lessons.data import KEEP, LessonChanges, LessonData, SlotData, TemplateData
from ediary_gql.services.lessons.timetable import create_timetable_template, generate_lessons, template_slots

__all__ = [
    "KEEP",
    "LessonChanges",
    "LessonData",
    "SlotData",
    "TemplateData",
    "create_lesson",
    "create_timetable_template",
    "generate_lessons",
    "template_slots",
    "update_lesson",
]
