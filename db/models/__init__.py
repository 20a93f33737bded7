"""Every table of the product. Import from here so Alembic sees the whole metadata."""

from db.models.approvals import Approval
from db.models.assistants import Assistant, AssistantVersion
from db.models.audit import AuditLog
from db.models.base import Base
from db.models.bulk import BulkOperation, BulkRecipient
from db.models.crons import Cron
from db.models.documents import AnalysisResult, Document
from db.models.envelopes import Envelope, MirrorSync, Recipient, WebhookEvent
from db.models.evals import EvalResult
from db.models.identity import ApiCredential, ApiKey, Profile, UserPreferences
from db.models.store import StoreItem, StoreVector
from db.models.threads import Run, Thread

# Tables whose rows belong to one user, with the column that says whose. RLS is enabled and forced on each.
USER_OWNED: dict[str, str] = {
    "profiles": "id",
    "api_credentials": "user_id",
    "api_keys": "user_id",
    "user_preferences": "user_id",
    "envelopes": "user_id",
    "recipients": "user_id",
    "documents": "user_id",
    "analysis_results": "user_id",
    "bulk_operations": "user_id",
    "bulk_recipients": "user_id",
    "audit_log": "user_id",
    "webhook_events": "user_id",
    "threads": "user_id",
    "runs": "user_id",
    "store_items": "user_id",
    "store_vectors": "user_id",
    "assistants": "user_id",
    "assistant_versions": "user_id",
    "approvals": "user_id",
    "crons": "user_id",
}

__all__ = [
    "AnalysisResult", "ApiCredential", "Approval", "ApiKey", "Assistant", "AssistantVersion", "AuditLog", "Base", "BulkOperation", "BulkRecipient", "Cron",
    "Document", "Envelope", "EvalResult", "MirrorSync", "Profile", "Recipient", "Run", "StoreItem", "StoreVector", "Thread", "USER_OWNED", "UserPreferences", "WebhookEvent",
]
