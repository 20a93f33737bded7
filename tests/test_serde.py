"""Event JSON: a run's encoder writes the same bytes as `serde.dumps`, encoding each whole message once."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage

from runtime.runs import serde


class CountingMessage(HumanMessage):
    """Counts how often it is encoded (pydantic's model_dump is the cost the run encoder saves)."""

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        CountingMessage.dumped += 1
        return super().model_dump(**kwargs)


CountingMessage.dumped = 0  # type: ignore[attr-defined]


def test_run_encoder_writes_the_same_bytes_and_encodes_each_message_once() -> None:
    encoder = serde.RunEncoder()
    asked = CountingMessage("what time is it", id="m1")
    conversation: list[Any] = [asked]
    for step in range(5):  # a values event per superstep, the conversation growing
        state = {"messages": conversation, "step": step}
        assert encoder.dumps(state) == serde.dumps(state)
        conversation = [*conversation, AIMessage(f"answer {step}", id=f"a{step}")]
    assert CountingMessage.dumped == 5 + 1  # once per plain dumps above, once for the run encoder

    chunk = AIMessageChunk("tok", id="c1")  # chunks are new objects per token: encoded as they are
    assert encoder.dumps([chunk, {"langgraph_node": "model"}]) == serde.dumps([chunk, {"langgraph_node": "model"}])
    chunk.content = "token"
    assert b'"token"' in encoder.dumps([chunk])
