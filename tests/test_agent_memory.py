"""The agent's long-term memory: learned from sends, told by the user, shown in the prompt, forgotten on
request; all in the user's own Store (`db.store.UserStore`), with vector search when embeddings are set."""

from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from agent_helpers import Chat, interrupts, tool_results
from langchain_core.embeddings import Embeddings

from agent.prompts import system_prompt
from db import profiles
from db.store import UserStore
from tools import memory
from tools.base import execute
from tools.common import preferences
from tools.registry import BY_NAME

APPROVE = {"type": "approve"}


def with_store(chat: Chat) -> tuple[Chat, UserStore]:
    store = UserStore(chat.database, chat.user_id)
    return dataclasses.replace(chat, graph=chat.graph.copy(update={"store": store})), store


async def call(chat: Chat, store: UserStore, tool: str, **args: Any) -> dict[str, Any]:
    ctx = dataclasses.replace(chat.tool_context(f"call-{uuid.uuid4().hex[:6]}"), store=store)
    return await execute(BY_NAME[tool], args, ctx)


async def test_a_send_teaches_contacts_and_template(chat: Chat) -> None:
    chat, store = with_store(chat)
    state = await chat.say("send the NDA template to bob@example.com and cc alice@example.com")
    assert interrupts(state)
    assert await store.asearch(memory.CONTACTS) == []  # nothing is learned from a send nobody approved
    state = await chat.resume(APPROVE)
    assert "error" not in tool_results(state)[-1][1]
    contacts = {i.key: i.value for i in await store.asearch(memory.CONTACTS)}
    assert set(contacts) == {"bob@example.com", "alice@example.com"}
    assert (await store.aget(memory.DEFAULTS, memory.PREFERRED_TEMPLATE)).value["name"] == "NDA"

    prompt = system_prompt(await preferences(chat.tool_context("p")),
                           memories=(await memory.recall(store)).prompt_line())
    assert "alice@example.com" in prompt and "preferred_template: NDA" in prompt


async def test_remember_list_and_forget(chat: Chat) -> None:
    chat, store = with_store(chat)
    assert (await call(chat, store, "remember", kind="contact", name="Dana Cruz", email="Dana@Example.com"))["summary"]
    await call(chat, store, "remember", kind="default_cc", name="Legal", email="legal@example.com")
    await call(chat, store, "remember", kind="preferred_template", template="Mutual NDA")
    listed = await call(chat, store, "list_memories")
    assert listed["contacts"] == [{"name": "Dana Cruz", "email": "dana@example.com"}]
    assert listed["default_cc"] == [{"name": "Legal", "email": "legal@example.com"}]
    assert listed["preferred_template"] == {"name": "Mutual NDA"}

    bad = await call(chat, store, "remember", kind="contact", name="No Email")
    assert bad["error"] == "invalid_argument" and bad["field"] == "email"
    missing = await call(chat, store, "forget", kind="contact", name="Nobody Here")
    assert missing["error"] == "not_remembered"
    assert len((await call(chat, store, "list_memories"))["contacts"]) == 1  # the failures changed nothing

    assert (await call(chat, store, "forget", kind="contact", name="dana cruz"))["removed"] == 1
    await call(chat, store, "forget", kind="default_cc", email="legal@example.com")
    assert await store.aget(memory.DEFAULTS, memory.DEFAULT_CC) is None
    await call(chat, store, "remember", kind="contact", name="Eve", email="eve@example.com")
    assert (await call(chat, store, "forget", kind="everything"))["removed"] == 2
    assert (await call(chat, store, "list_memories"))["summary"] == "I don't remember anything for you yet."


async def test_memory_is_per_user(chat: Chat) -> None:
    chat, store = with_store(chat)
    await call(chat, store, "remember", kind="contact", name="Frank", email="frank@example.com")
    other = await profiles.ensure_user(chat.database, f"other-{uuid.uuid4().hex[:6]}@example.com", "Other")
    assert (await memory.recall(UserStore(chat.database, other))).contacts == []


async def test_without_a_store_the_tools_say_so(chat: Chat) -> None:
    payload = await execute(BY_NAME["list_memories"], {}, chat.tool_context("no-store"))
    assert payload["error"] == "no_memory"


class WordEmbeddings(Embeddings):
    """A bag-of-words embedding over a fixed vocabulary: deterministic, and similar texts score higher."""

    VOCABULARY = ["contract", "nda", "lawyer", "legal", "invoice", "payment", "friday", "offer"]

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [[float(text.lower().count(word)) for word in self.VOCABULARY] for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


async def test_vector_search_ranks_by_meaning(chat: Chat) -> None:
    store = UserStore(chat.database, chat.user_id, index={"dims": 8, "embed": WordEmbeddings(), "fields": ["text"]})
    await store.aput(("notes",), "a", {"text": "the legal team reviews every NDA"})
    await store.aput(("notes",), "b", {"text": "invoice payment due friday"})
    await store.aput(("notes",), "c", {"text": "no vector for me"}, index=False)
    found = await store.asearch(("notes",), query="payment of the invoice")
    assert [i.key for i in found][:2] == ["b", "a"] and found[0].score > found[1].score
    assert abs(found[0].score - 2 / 6 ** 0.5) < 1e-9  # cosine of (invoice, payment) and (invoice, payment, friday)
    assert found[-1].key == "c" and found[-1].score is None


async def test_a_preferred_template_is_one_the_account_has(chat: Chat) -> None:
    """The name is resolved as a send resolves it (a typo finds the one template it is close to), and what is
    kept is the template's real name; words that name no template are refused and nothing is kept."""
    chat, store = with_store(chat)
    typo = await call(chat, store, "remember", kind="preferred_template", template="mutal nda")
    assert typo["summary"] == "I'll use the template “Mutual NDA” when you don't name one.", typo
    assert (await store.aget(memory.DEFAULTS, memory.PREFERRED_TEMPLATE)).value == {"name": "Mutual NDA"}
    garbled = await call(chat, store, "remember", kind="preferred_template", template="offer letter, make that")
    assert (garbled["error"], garbled["field"]) == ("unknown_template", "template"), garbled
    assert "Offer Letter" in garbled["message"]  # the names it could have meant
    assert (await store.aget(memory.DEFAULTS, memory.PREFERRED_TEMPLATE)).value == {"name": "Mutual NDA"}
