"""Prometheus metrics of every floor: runs, streams, tools, DocuSign calls, webhooks, analysis (served at /metrics).

Defined in one module so every part increments the same series and nothing registers a name twice.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RUNS = Counter("dsa_runs_total", "Agent runs finished, by status", ["status"])
RUN_SECONDS = Histogram("dsa_run_duration_seconds", "Agent run duration",
                        buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120))
STREAM_CLIENTS = Gauge("dsa_stream_clients", "Open SSE stream clients")
TOOL_CALLS = Counter("dsa_tool_calls_total", "Agent tool calls, by tool and status", ["tool", "status"])
DOCUSIGN_CALLS = Counter("dsa_docusign_calls_total", "DocuSign API calls, by operation and HTTP status",
                         ["operation", "status"])
DOCUSIGN_TOKEN_GRANTS = Counter("dsa_docusign_token_grants_total", "Access tokens obtained from DocuSign's account "
                                "server (refresh or JWT grant), by the credential's grant type", ["grant"])
WEBHOOK_DELIVERIES = Counter("dsa_webhook_deliveries_total", "Connect deliveries, by outcome", ["outcome"])
RUNS_ACTIVE = Gauge("dsa_runs_active", "Runs executing in this process")
RUNS_CREATED = Counter("dsa_run_requests_total", "Runs created, by multitask strategy", ["multitask_strategy"])
WEBHOOK_EVENTS = Counter("dsa_webhook_events_processed_total", "Connect events processed by the worker, by outcome",
                         ["outcome"])
WEBHOOK_UNMATCHED = Counter("dsa_webhook_events_unmatched_total",
                            "Connect events naming an envelope or user we do not know")
ANALYSIS_MODEL_CALLS = Counter("dsa_analysis_model_calls_total", "Model calls made for document analysis", ["kind"])
