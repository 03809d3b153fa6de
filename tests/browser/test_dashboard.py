"""The dashboard and GraphiQL in headless Chromium, against a real server process.

A school admin signs in on /dashboard, watches a class on a day, a teacher marks the lesson
through the API, and the page's counts follow within a second; after a dropped connection
the page comes back by itself and resumes. Every request the page makes stays on the
server's origin. GraphiQL renders with the network cut off from everything but the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import BrowserContext, ConsoleMessage, Page, Request, Route, WebSocket, WebSocketRoute
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.settings import Settings
from tests.diary_writes_support import MONDAY, PASSWORD, World, gid, make_world
from tests.factories.classes import make_school_class
from tests.support import GraphQLClient, server_process

MARK = "mutation($i: MarkAttendanceInput!) { markAttendance(input: $i) { userErrors { code message } } }"


@pytest.fixture
async def page_server(settings: Settings, app_services: AppServices) -> AsyncIterator[str]:
    """A uvicorn process of its own on the suite's database and bus (app_services migrated it)."""
    quiet = {
        "REMINDERS_ENABLED": "false",
        "REPORTS_WORKER_ENABLED": "false",
        "WEBHOOKS_SENDER_ENABLED": "false",
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    async with server_process(settings, **quiet) as url:
        yield url


def _watch(page: Page, origin: str) -> tuple[list[str], list[str]]:
    """Every address the page asks for that is not on `origin`, and the console's errors
    (a Content-Security-Policy violation is one)."""
    outside: list[str] = []
    errors: list[str] = []
    ws_origin = origin.replace("http://", "ws://", 1)

    def on_request(request: Request) -> None:
        if not (request.url == origin or request.url.startswith(origin + "/") or request.url.startswith("data:")):
            outside.append(request.url)

    def on_websocket(socket: WebSocket) -> None:
        if not socket.url.startswith(ws_origin + "/"):
            outside.append(socket.url)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("request", on_request)
    page.on("websocket", on_websocket)
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return outside, errors


async def _mark(http: GraphQLClient, token: str, lesson_id: int, *marks: tuple[int, str]) -> None:
    data = await http.data(
        MARK,
        {
            "i": {
                "lessonId": gid("Lesson", lesson_id),
                "marks": [{"childId": gid("Child", c), "status": s} for c, s in marks],
            }
        },
        token=token,
    )
    assert data["markAttendance"]["userErrors"] == [], data


class Network:
    """The page's WebSockets pass through here to the server, so a test can cut them (as a
    dropped Wi-Fi would) and keep new ones from reaching the server until it is back."""

    def __init__(self) -> None:
        self.up = True
        self.open: list[WebSocketRoute] = []
        self.connections = 0

    async def route(self, socket: WebSocketRoute) -> None:
        if not self.up:
            await socket.close(code=1011, reason="network down")
            return
        self.connections += 1
        socket.connect_to_server()
        self.open.append(socket)

    async def cut(self) -> None:
        self.up = False
        sockets, self.open = self.open, []
        for socket in sockets:
            await socket.close(code=1011, reason="network down")


async def _sign_in(page: Page, login: str) -> None:
    await page.get_by_label("Телефон или электронная почта").fill(login)
    await page.get_by_label("Пароль").fill(PASSWORD)
    await page.get_by_role("button", name="Войти").click()


async def _pick_date(page: Page, value: str) -> None:
    await page.locator("#date").wait_for(state="visible")
    # one change event, as the date picker sends on a pick
    await page.eval_on_selector(
        "#date", "(el, v) => { el.value = v; el.dispatchEvent(new Event('change', {bubbles: true})); }", value
    )


async def _count(page: Page, class_gid: str, name: str) -> str:
    return await page.locator(f'li[data-class-id="{class_gid}"] dd[data-count="{name}"]').inner_text()


async def _wait_count(page: Page, class_gid: str, name: str, value: int, timeout_ms: float) -> None:
    await page.wait_for_function(
        "([id, name, value]) => {"
        '  const cell = document.querySelector(`li[data-class-id="${id}"] dd[data-count="${name}"]`);'
        "  return cell !== null && cell.textContent === String(value);"
        "}",
        arg=[class_gid, name, value],
        timeout=timeout_ms,
    )


async def test_the_admin_sees_marks_arrive_live(
    session: AsyncSession, browser_context: BrowserContext, page_server: str, artifacts_dir: Path, is_postgres: bool
) -> None:
    world: World = await make_world(session)
    lesson = await world.lesson(session)
    await session.commit()
    class_gid = gid("SchoolClass", world.school_class.id)

    page = await browser_context.new_page()
    outside, errors = _watch(page, page_server)
    network = Network()
    await page.route_web_socket(re.compile(r"/graphql$"), network.route)
    await page.goto(f"{page_server}/dashboard")
    await _sign_in(page, world.admin.email or "")
    # the date picker starts at the school's today (schools keep Moscow time by default)
    await page.locator("#date").wait_for(state="visible")
    assert await page.input_value("#date") == dt.datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()
    await _pick_date(page, MONDAY.isoformat())

    # the class's card shows the day's counts: 2 children × 1 lesson, nothing marked yet
    card = page.locator(f'li[data-class-id="{class_gid}"]')
    await card.wait_for()
    await _wait_count(page, class_gid, "unmarked", 2, 5000)
    assert await card.locator(".card-title").inner_text() == world.school_class.name
    await page.wait_for_selector('#connection[data-state="open"]')

    async with httpx.AsyncClient(base_url=page_server, timeout=10) as client:
        http = GraphQLClient(client)
        teacher = await http.sign_in(world.teacher.email or "", PASSWORD)

        # when the teacher marks the lesson through the API, the page's counts follow within a second
        await _mark(http, teacher, lesson.id, (world.child.id, "ABSENT"), (world.other_child.id, "PRESENT"))
        marked_at = time.monotonic()
        await _wait_count(page, class_gid, "absent", 1, 1000)
        assert time.monotonic() - marked_at < 1.0
        assert await _count(page, class_gid, "present") == "1"
        assert await _count(page, class_gid, "unmarked") == "0"
        assert await card.locator(".rate-value").inner_text() == "50%"
        # and the feed lists the marks
        feed = page.locator("#feed li")
        await feed.first.wait_for()
        assert await feed.count() == 2
        assert world.child.last_name in await page.locator("#feed").inner_text()

        # when the network drops, a mark made meanwhile reaches the page once it is back: the
        # page reconnects by itself and resumes each subscription after its last cursor
        connections = network.connections
        await network.cut()
        await page.wait_for_selector('#connection[data-state="waiting"]', timeout=5000)
        await _mark(http, teacher, lesson.id, (world.child.id, "SICK"))
        await asyncio.sleep(1.0)  # a retry or two meet the network still down
        assert await _count(page, class_gid, "sick") == "0"
        network.up = True
        await page.wait_for_selector('#connection[data-state="open"]', timeout=15_000)
        await _wait_count(page, class_gid, "sick", 1, 2000)
        assert await _count(page, class_gid, "absent") == "0"
        # the feed got the missed mark from the event log (attendanceEvents after its cursor)
        await page.wait_for_function("() => document.querySelectorAll('#feed li').length === 3", timeout=5000)
        assert "болеет" in await page.locator("#feed li").first.inner_text()
        assert network.connections > connections

    # one per backend: CI runs the suite on both
    backend = "postgres" if is_postgres else "sqlite"
    await page.screenshot(path=str(artifacts_dir / f"dashboard-{backend}.png"), full_page=True)
    # and the page kept to its server and to its Content-Security-Policy
    assert outside == []
    assert errors == []
    # the token stayed in memory
    stored = await page.evaluate("[localStorage.length, sessionStorage.length, document.cookie]")
    assert stored == [0, 0, ""]


async def test_a_teacher_sees_only_their_classes_and_a_parent_is_turned_away(
    session: AsyncSession, browser_context: BrowserContext, page_server: str
) -> None:
    world: World = await make_world(session)
    other_class = await make_school_class(
        session, school_id=world.school.id, academic_year_id=world.year.id, level=6, letter="Б"
    )
    await session.commit()

    page = await browser_context.new_page()
    outside, errors = _watch(page, page_server)
    await page.goto(f"{page_server}/dashboard")
    await _sign_in(page, world.teacher.email or "")
    await _pick_date(page, MONDAY.isoformat())
    await page.locator(f'li[data-class-id="{gid("SchoolClass", world.school_class.id)}"]').wait_for()
    await _wait_count(page, gid("SchoolClass", world.school_class.id), "unmarked", 0, 5000)
    assert await page.locator(f'li[data-class-id="{gid("SchoolClass", other_class.id)}"]').count() == 0
    assert await page.locator("#cards li").count() == 1
    # on a phone the page is one column, nothing wider than the screen
    await page.set_viewport_size({"width": 375, "height": 740})
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    await page.get_by_role("button", name="Выйти").click()
    await _sign_in(page, world.parent.email or "")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "администраторов школы и учителей" in await alert.inner_text()
    assert await page.locator("#board").is_hidden()
    assert outside == []
    assert errors == []


async def test_graphiql_renders_with_the_network_cut_off_but_the_server(
    browser_context: BrowserContext, page_server: str, artifacts_dir: Path, is_postgres: bool
) -> None:
    refused: list[str] = []

    async def only_the_server(route: Route) -> None:
        url = route.request.url
        if url.startswith((page_server + "/", "data:")):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort()

    await browser_context.route("**/*", only_the_server)
    page = await browser_context.new_page()
    outside, errors = _watch(page, page_server)
    await page.goto(f"{page_server}/graphql?q=%7B%20__typename%20%7D")
    # the editor is there, and a query runs through the server
    await page.locator(".graphiql-query-editor .CodeMirror").first.wait_for(timeout=15_000)
    await page.locator(".graphiql-execute-button").click()
    await page.locator(".graphiql-response").get_by_text('"Query"').wait_for(timeout=10_000)
    # its panels open under the same policy: the schema's documentation, the settings
    await page.get_by_label("Show Documentation Explorer").click()
    await page.locator(".graphiql-doc-explorer").get_by_text("Query").first.wait_for()
    await page.get_by_label("Open settings dialog").click()
    await page.get_by_role("dialog").wait_for()
    await page.screenshot(path=str(artifacts_dir / f"graphiql-{'postgres' if is_postgres else 'sqlite'}.png"))
    assert refused == []
    assert outside == []
    assert errors == []
