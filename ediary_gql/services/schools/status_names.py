"""How a school's status and launch mode are named in messages."""

from __future__ import annotations

from ediary_gql.db.models.enums import LaunchMode, SchoolStatus

STATUS_NAMES = {
    SchoolStatus.PENDING: "на проверке",
    SchoolStatus.ACTIVE: "подключена",
    SchoolStatus.REJECTED: "отклонена",
}
LAUNCH_NAMES = {LaunchMode.TEST: "тестовый запуск", LaunchMode.OPEN: "открыта для родителей"}
