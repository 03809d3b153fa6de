"""Fields of Attachment that need related rows or a policy decision."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry import relay

from ediary_gql.auth import policy
from ediary_gql.resolvers import diary_visibility
from ediary_gql.services import attachments as service

if TYPE_CHECKING:
    from ediary_gql.context import Context

DOWNLOAD_ROUTE = "download_attachment"


async def staff_binding_schools(context: Context, attachment_id: int) -> frozenset[int]:
    """Schools of the staff bindings this attachment is the document of."""
    loader = context.loaders.grouped(service.staff_binding_schools)
    return frozenset(await loader.load(attachment_id))


async def application_schools(context: Context, attachment_id: int) -> frozenset[int]:
    """Schools of the submitted applications this attachment is a file of."""
    loader = context.loaders.grouped(service.application_schools)
    return frozenset(await loader.load(attachment_id))


async def homework_facts(context: Context, attachment_id: int) -> list[policy.HomeworkFileFacts]:
    """For each homework this attachment is a file of: what the policy decides on."""
    actor = context.actor
    if actor is None:
        return []
    loader = context.loaders.grouped(service.homework_lessons)
    lessons: list[service.HomeworkLesson] = await loader.load(attachment_id)
    family = service.family_of(actor)
    facts = []
    for lesson in lessons:
        children = (
            await diary_visibility.class_children(context.loaders, lesson.class_id, lesson.date)
            if family
            else frozenset()
        )
        teaches = actor.user_id in lesson.teacher_ids or await diary_visibility.teaches(
            context, context.loaders, lesson.class_id, None
        )
        facts.append(
            policy.HomeworkFileFacts(
                school_id=lesson.school_id, class_child_ids=children & family, teaches_class=teaches
            )
        )
    return facts


async def feedback_tickets(context: Context, attachment_id: int) -> list[policy.FeedbackTicketFacts]:
    """The feedback tickets this attachment is a file of, as the policy decides on them."""
    return await context.loaders.grouped(service.feedback_tickets).load(attachment_id)


async def may_view(context: Context, attachment_id: int, owner_id: int) -> bool:
    schools = await staff_binding_schools(context, attachment_id)
    applied_to = await application_schools(context, attachment_id)
    return policy.can_view_attachment(
        context.actor,
        owner_id,
        staff_binding_schools=schools,
        application_schools=applied_to,
        homeworks=await homework_facts(context, attachment_id),
        feedback_tickets=await feedback_tickets(context, attachment_id),
    )


def download_url(context: Context, attachment_id: int) -> str:
    """Where to GET the file (with the same Authorization header as for the API)."""
    global_id = relay.to_base64("Attachment", attachment_id)
    return str(context.request.url_for(DOWNLOAD_ROUTE, attachment_id=global_id))


def download_url_prefix(context: Context) -> str:
    """download_url up to the attachment's global ID, which ends it (for SQL to append)."""
    return str(context.request.url_for(DOWNLOAD_ROUTE, attachment_id="_")).removesuffix("_")
