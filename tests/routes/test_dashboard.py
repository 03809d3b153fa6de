"""/dashboard, /static and GraphiQL's page over real HTTP, and the WebSocket origin check.

The page itself runs in a real browser in tests/browser/test_dashboard.py."""

from __future__ import annotations

import re
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncSession

from ediary_gql.context import AppServices
from ediary_gql.routes.dashboard import STATIC_DIR
from ediary_gql.settings import Settings
from ediary_gql.ws_origins import WebSocketOriginGuard, same_host
from tests.diary_writes_support import World, make_world
from tests.support import GraphQLClient, server_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def world(session: AsyncSession) -> World:
    return await make_world(session)


class _Assets(HTMLParser):
    """What a page loads, and any inline script or style it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "style" in a:
            self.inline.append(f"style attribute on <{tag}>")
        if any(name.startswith("on") for name in a):
            self.inline.append(f"event handler on <{tag}>")
        if tag == "script":
            if a.get("src"):
                self.urls.append(a["src"] or "")
            else:
                self._in_script = True
        if tag == "link" and a.get("href") and a.get("rel") in ("stylesheet", "icon"):
            self.urls.append(a["href"] or "")
        if tag == "style":
            self.inline.append("<style>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline.append("inline <script>")


def _assets(html: str) -> _Assets:
    parser = _Assets()
    parser.feed(html)
    return parser


def _policy(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


async def test_the_dashboard_page_has_a_strict_policy_and_no_inline_code(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.get("/dashboard")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        policy = _policy(response.headers["content-security-policy"])
        host = urlsplit(server).netloc
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"

        page = _assets(response.text)
        assert page.inline == []
        # everything it loads is the server's own, and is there
        assert page.urls, "the page loads its script and style"
        for url in page.urls:
            if url.startswith("data:"):
                continue
            assert url.startswith("/static/dashboard/"), url
            asset = await http.get(url)
            assert asset.status_code == 200, url
            assert asset.headers["x-content-type-options"] == "nosniff"
        script = await http.get("/static/dashboard/dashboard.js")
        assert "javascript" in script.headers["content-type"]


async def test_a_smuggled_host_stays_out_of_the_policy(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.get("/dashboard", headers={"host": "evil.example; script-src *"})
    policy = response.headers["content-security-policy"]
    assert "evil" not in policy
    assert _policy(policy)["script-src"] == ["'self'"]


def test_the_page_never_keeps_the_token_in_browser_storage() -> None:
    for path in (STATIC_DIR / "dashboard").glob("*.js"):
        text = path.read_text(encoding="utf-8")
        for forbidden in ("localStorage", "sessionStorage", "document.cookie", "innerHTML", "eval("):
            assert forbidden not in text, f"{path.name}: {forbidden}"
        # no origin but the page's own
        assert not re.search(r"https?://", text), path.name


async def test_static_files_answer_404_outside_the_folder(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        assert (await http.get("/static/../settings.py")).status_code == 404
        assert (await http.get("/static/dashboard/nothing.js")).status_code == 404


async def test_graphiql_loads_its_assets_from_the_server(server: str) -> None:
    async with httpx.AsyncClient(base_url=server) as http:
        response = await http.get("/graphql", headers={"accept": "text/html"})
        assert response.status_code == 200
        assert "unpkg.com" not in response.text
        page = _assets(response.text)
        assert page.inline == []
        policy = _policy(response.headers["content-security-policy"])
        assert policy["script-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"]
        for url in page.urls:
            if url.startswith("data:"):
                continue
            assert url.startswith("/static/graphiql/"), url
            assert (await http.get(url)).status_code == 200, url


async def test_graphiql_from_the_cdn_is_an_option(settings: Settings, app_services: AppServices) -> None:
    async with (
        server_process(settings, GRAPHIQL_CDN="true", REMINDERS_ENABLED="false") as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "https://unpkg.com/graphiql@" in response.text


def test_the_static_files_ship_in_the_package_with_their_licences() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ediary_gql"]
    shipped = {p.relative_to(STATIC_DIR.parent).as_posix() for p in STATIC_DIR.rglob("*") if p.is_file()}
    patterns = [pattern for pattern in data if pattern.startswith("static/")]
    for name in shipped:
        assert any(Path(name).match(pattern) for pattern in patterns), f"{name} is not package data"
    graphiql = STATIC_DIR / "graphiql"
    for licence in ("react", "react-dom", "graphiql"):
        assert (graphiql / "licenses" / f"{licence}.LICENSE").read_text().startswith("MIT License")
    versions = (graphiql / "VERSIONS.md").read_text()
    assert "18.2.0" in versions
    assert "3.8.3" in versions


# --- the WebSocket origin check -------------------------------------------------------------


async def test_the_page_origin_opens_a_socket_and_another_origin_is_refused(
    server: str, ws_url: str, gql: GraphQLClient, world: World
) -> None:
    token = await world.token(gql, world.admin)
    async with websockets.connect(
        f"{ws_url}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=server,  # type: ignore[arg-type]
    ) as conn:
        await conn.send(f'{{"type":"connection_init","payload":{{"authorization":"Bearer {token}"}}}}')
        assert '"connection_ack"' in str(await conn.recv())

    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            f"{ws_url}/graphql",
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            origin="https://evil.example",  # type: ignore[arg-type]
        ):
            pass
    assert refused.value.response.status_code == 403


def test_allowed_origins() -> None:
    guard = WebSocketOriginGuard(lambda *_: None, allowed=["https://dash.school.example/"])  # type: ignore[arg-type, return-value]
    assert guard.admits(None, "api.example")  # not a browser
    assert guard.admits("https://dash.school.example", "api.example")
    assert guard.admits("https://API.example", "api.example")
    assert guard.admits("https://api.example", "api.example:443")
    assert not guard.admits("https://api.example.evil", "api.example")
    assert not guard.admits("null", "api.example")
    assert not guard.admits("http://dash.school.example:8080", "api.example")
    anyone = WebSocketOriginGuard(lambda *_: None, allowed=["*"])  # type: ignore[arg-type, return-value]
    assert anyone.admits("https://anywhere.example", "api.example")
    assert same_host("http://127.0.0.1:8000", "127.0.0.1:8000")
    assert not same_host("http://127.0.0.1:8001", "127.0.0.1:8000")
