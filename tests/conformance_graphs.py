"""The test graphs of tests/api_helpers.py, compiled, for `langgraph dev` to serve (tests/specs/conformance)."""

from tests.api_helpers import build_nested_graph, build_test_graph

test = build_test_graph()
nested = build_nested_graph()
