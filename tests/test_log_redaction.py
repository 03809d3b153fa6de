"""No personal data in logs: a server process at DEBUG with JSON logs runs a
representative flow (register with codes, confirm, sign in, a bad token, a child with a
SNILS and a birth certificate read by their school's admin, a SNILS typed into a query),
and no line it wrote carries a SNILS, a certificate number, a password, a code or a token."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from ediary_gql.auth import personal_fields
from ediary_gql.context import AppServices
from ediary_gql.db.models.enums import Channel
from ediary_gql.log_config import RedactingFilter, redact
from ediary_gql.settings import Settings
from tests import registration_support as reg
from tests.diary_writes_support import PASSWORD, gid
from tests.factories import make_child, make_enrollment, make_school_admin, make_school_class
from tests.log_scan import main as scan_main
from tests.log_scan import scan
from tests.support import GraphQLClient, free_port, wait_healthy

SNILS = "11223344595"
CERT_NUMBER = "654321"
PORTAL_CODE = "portal-code-7f3a9c"
PORTAL_STATE = "portal-state-b41e"


def test_the_processor_redacts_by_key_and_by_value() -> None:
    event = {
        "event": "signed in with code 123456 and Bearer abc.def.ghi",
        "password": "Синий-трактор-2026",
        "refresh_token": "r-1",
        "status_code": 200,
        "nested": {"snils": SNILS, "note": "СНИЛС 112-233-445 95, eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"},
        "items": ["+79161234567"],
    }
    out = redact(None, "info", dict(event))
    assert out["password"] == out["refresh_token"] == personal_fields.REDACTED
    assert out["status_code"] == 200
    assert out["nested"]["snils"] == personal_fields.REDACTED
    assert "112-233-445 95" not in json.dumps(out, ensure_ascii=False)
    assert "eyJ" not in out["nested"]["note"]
    assert "123456" not in out["event"]
    assert "abc.def" not in out["event"]
    assert out["items"] == [personal_fields.REDACTED.join(["+", ""])]
    record = logging.LogRecord("sqlalchemy.engine", logging.INFO, __file__, 1, "params %r", (("ИВАНОВ", SNILS),), None)
    RedactingFilter().filter(record)
    assert SNILS not in record.getMessage()
    assert "ИВАНОВ" in record.getMessage()


async def test_a_flow_at_debug_writes_no_personal_data(
    gql: GraphQLClient, session: AsyncSession, app_services: AppServices, settings: Settings, tmp_path: Path
) -> None:
    scan_file = tmp_path / "scan.log"
    stderr_file = tmp_path / "stderr.log"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": settings.broadcast_url,
        "BROADCAST_NAMESPACE": settings.broadcast_namespace,
        "SECRET_KEY": settings.secret_key,
        "UPLOAD_DIR": str(settings.upload_dir),
        "LOG_LEVEL": "DEBUG",
        "LOG_JSON": "true",
        "LOG_SCAN_FILE": str(scan_file),
        "DISPATCHER_ENABLED": "true",  # the development channel "sends" the codes
        "PASSWORD_HASH_TIME_COST": "1",
        "PASSWORD_HASH_MEMORY_KIB": "1024",
    }
    url = f"http://127.0.0.1:{port}"
    with stderr_file.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: ASYNC220 - one server for the test
            [sys.executable, "-m", "uvicorn", "ediary_gql.app:create_app", "--factory", "--port", str(port),
             "--log-level", "debug"],
            env=env,
            stdout=sink,
            stderr=sink,
        )  # fmt: skip
        try:
            await wait_healthy(url, proc)
            async with httpx.AsyncClient(base_url=url, timeout=30) as http:
                client = GraphQLClient(http)
                registered = await reg.register(client)
                user_id = int(relay.GlobalID.from_id(registered["user"]["id"]).node_id)
                token = registered["accessToken"]
                secrets = [registered["accessToken"], registered["refreshToken"], reg.PASSWORD]
                for channel, name in ((Channel.SMS, "SMS"), (Channel.EMAIL, "EMAIL")):
                    code = await reg.latest_code(app_services, user_id, channel)
                    secrets.append(code)
                    await client.data(reg.CONFIRM_CONTACT, {"i": {"channel": name, "code": code}}, token=token)
                signed = await client.data(reg.SIGN_IN, {"i": {"login": reg.EMAIL, "password": reg.PASSWORD}})
                secrets.append(signed["signIn"]["accessToken"])
                await client.post(reg.SIGN_IN, {"i": {"login": reg.EMAIL, "password": "Неверный-пароль-1"}})
                await client.post("{ me { id } }", token=signed["signIn"]["accessToken"] + "x")
                school_class = await make_school_class(session)
                admin = await make_school_admin(session, password=PASSWORD, school_id=school_class.school_id)
                child = await make_child(session, snils=SNILS, birth_cert_number=CERT_NUMBER)
                await make_enrollment(session, child_id=child.id, class_id=school_class.id)
                await session.commit()
                admin_token = await client.sign_in(admin.email or "", PASSWORD)
                secrets.append(admin_token)
                card = await client.data(
                    "query Card($id: ID!) { child(id: $id) { snils birthCertificate { number } } }",
                    {"id": gid("Child", child.id)},
                    token=admin_token,
                )
                assert card["child"]["snils"] == SNILS
                # a SNILS typed into a query's literal, and a broken query
                await client.post(f'{{ child(id: "{SNILS}") {{ id }} }}', token=admin_token)
                await client.post("{ child(id: ", token=admin_token)
                # a portal's callback: its one-time code and state stay out of the access log
                await http.get("/auth/oidc/callback", params={"code": PORTAL_CODE, "state": PORTAL_STATE})
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    lines = scan_file.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 10  # DEBUG wrote plenty
    assert any(line.startswith("{") for line in lines)
    assert any("/auth/oidc/callback?[omitted]" in line for line in lines)
    needles = [SNILS, "112-233-445 95", CERT_NUMBER, PORTAL_CODE, PORTAL_STATE, *secrets]
    everything = lines + stderr_file.read_text(encoding="utf-8", errors="replace").splitlines()
    hits = scan(everything, needles)
    assert hits == [], hits[:5]
    assert scan_main([str(scan_file)]) == 0


def test_the_scan_reads_json_lines_as_the_text_they_hold() -> None:
    # a SNILS or a token in a JSON value is found; Cyrillic written as \u escapes is not a code
    leaked = json.dumps({"event": "child_read", "snils_seen": "see 112-233-445 95"})
    token = json.dumps({"event": "x", "header": "Bearer abc.def.ghi"})
    cyrillic = json.dumps({"event": "sql", "statement": "code = ? ('QUIZ', 'Самостоятельная работа')"})
    hits = {number: found for number, found, _ in scan([leaked, token, cyrillic])}
    assert "SNILS" in hits[1]
    assert "bearer token" in hits[2]
    assert 3 not in hits
