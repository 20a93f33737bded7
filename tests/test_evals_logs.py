"""What approval compliance is read from: the emulator's request log and `GET /v1/audit`, tied by trace token."""

from __future__ import annotations

import uuid

import httpx
from langgraph_sdk import get_client

from api.auth import issue_token
from docusign_agent.settings import Settings
from tests.eval_helpers import eval_server


async def test_request_log_and_audit_trail_agree(settings: Settings) -> None:
    with eval_server(settings) as (url, configured):
        await _check(url, configured)


async def _check(url: str, settings: Settings) -> None:
    def headers(name: str) -> dict[str, str]:
        user = uuid.uuid4()
        return {"Authorization": f"Bearer {issue_token(settings, user, f'{name}-{user.hex[:6]}@example.com')}"}

    auditor = headers("auditor")
    client = get_client(url=url, headers=auditor, timeout=60)
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        mark = (await http.get("/_emulator/requests", params={"after": 2**62})).json()["last_seq"]
        thread = (await client.threads.create())["thread_id"]
        state = await client.runs.wait(thread, "agent", input={"messages": [
            {"type": "human", "content": "send the NDA template to bob@example.com"}]})
        assert state.get("__interrupt__"), state["messages"][-1]
        assert state["__interrupt__"][0]["value"]["action_requests"][0]["name"] == "send_template"
        await client.runs.wait(thread, "agent", command={"resume": {"decisions": [{"type": "approve"}]}})

        audit = (await http.get("/v1/audit", params={"thread_id": thread}, headers=auditor)).json()
        [send] = [row for row in audit if row["operation"] == "send_template"]
        assert send["status"] == "succeeded" and send["tool_call_id"] and send["docusign_trace_token"]
        logged = (await http.get("/_emulator/requests", params={"after": mark})).json()["requests"]
        [post] = [r for r in logged if r["method"] == "POST" and r["path"].endswith("/envelopes")]
        assert post["body_status"] == "sent" and post["status_code"] == 201
        assert post["trace_token"] == send["docusign_trace_token"]
        account = post["account_id"]
        mine = (await http.get("/_emulator/requests", params={"after": mark, "account_id": account})).json()
        assert mine["requests"] and all(r["account_id"] == account for r in mine["requests"])

        # Another user sees none of it; bad filters are refused naming the field, and change nothing.
        assert (await http.get("/v1/audit", headers=headers("someone-else"))).json() == []
        refused = await http.get("/v1/audit", params={"limit": 0}, headers=auditor)
        assert refused.status_code == 422 and "limit" in refused.text
        bad_mark = await http.get("/_emulator/requests", params={"after": -1})
        assert bad_mark.status_code == 400 and "after" in bad_mark.text
        again = (await http.get("/v1/audit", params={"thread_id": thread}, headers=auditor)).json()
        assert again == audit
        assert (await http.get("/v1/audit")).status_code == 401
