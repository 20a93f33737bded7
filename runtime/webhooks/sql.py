"""The SQL the Connect worker runs, as the webhook role (asyncpg, positional parameters)."""

CLAIM = """
SELECT id, raw_body, attempts, envelope_id, hashtextextended(coalesce(envelope_id, ''), 0) AS lock_key
FROM webhook_events
WHERE status = 'pending' AND next_attempt_at <= now()
ORDER BY next_attempt_at, id
LIMIT $1
FOR UPDATE SKIP LOCKED
"""
# The same columns as CLAIM, for events this worker deferred to ask DocuSign about (and still pending).
CLAIM_DEFERRED = """
SELECT id, raw_body, attempts, envelope_id, hashtextextended(coalesce(envelope_id, ''), 0) AS lock_key
FROM webhook_events
WHERE id = ANY($1::bigint[]) AND status = 'pending'
FOR UPDATE SKIP LOCKED
"""
# While this worker asks DocuSign about an event, others leave it alone; if the worker dies, it is due again.
DEFER = "UPDATE webhook_events SET next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1"
LOCK_ENVELOPE = "SELECT pg_advisory_xact_lock($1)"
ENVELOPE_FOR_UPDATE = """
SELECT id, user_id, status, status_changed_at, last_event_at, request_id
FROM envelopes WHERE envelope_id = $1 FOR UPDATE
"""
USER_BY_BULK = "SELECT user_id FROM bulk_recipients WHERE envelope_id = $1 LIMIT 1"
USER_BY_REQUEST = "SELECT user_id FROM envelopes WHERE request_id = $1 LIMIT 1"
USER_BY_DOCUSIGN = """
SELECT id FROM profiles
WHERE docusign_user_id = $1 AND ($2 = '' OR docusign_account_id IS NULL OR docusign_account_id = $2)
LIMIT 2
"""
SAME_DATA_APPLIED = """
SELECT 1 FROM webhook_events o
WHERE o.envelope_id = $1 AND o.id <> $2 AND o.status = 'applied' AND o.event IS NOT DISTINCT FROM $3
  AND o.payload -> 'data' = (SELECT payload -> 'data' FROM webhook_events WHERE id = $2)
LIMIT 1
"""
INSERT_ENVELOPE = """
INSERT INTO envelopes (user_id, envelope_id, account_id, status, email_subject, sender_email, request_id, sent_at,
                       delivered_at, completed_at, declined_at, voided_at, voided_reason, status_changed_at,
                       last_event_at, synced_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, now())
ON CONFLICT (envelope_id) DO NOTHING
RETURNING id
"""
UPDATE_ENVELOPE = """
UPDATE envelopes SET
  status = $2, account_id = coalesce(nullif($3, ''), account_id), email_subject = coalesce($4, email_subject),
  sender_email = coalesce($5, sender_email), request_id = coalesce(request_id, $6),
  sent_at = coalesce($7, sent_at), delivered_at = coalesce($8, delivered_at),
  completed_at = coalesce($9, completed_at), declined_at = coalesce($10, declined_at),
  voided_at = coalesce($11, voided_at), voided_reason = coalesce($12, voided_reason),
  status_changed_at = $13, last_event_at = greatest(last_event_at, $14), synced_at = now(), updated_at = now()
WHERE id = $1
"""
RECIPIENTS_OF = "SELECT recipient_id, status, status_changed_at FROM recipients WHERE envelope_pk = $1"
UPSERT_RECIPIENT = """
INSERT INTO recipients AS r (envelope_pk, user_id, recipient_id, recipient_type, name, email, routing_order, status,
                             client_user_id, sent_at, delivered_at, signed_at, declined_at, declined_reason,
                             status_changed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (envelope_pk, recipient_id) DO UPDATE SET
  status = CASE WHEN $16 THEN excluded.status ELSE r.status END,
  status_changed_at = CASE WHEN $16 THEN excluded.status_changed_at ELSE r.status_changed_at END,
  sent_at = coalesce(excluded.sent_at, r.sent_at), delivered_at = coalesce(excluded.delivered_at, r.delivered_at),
  signed_at = coalesce(excluded.signed_at, r.signed_at), declined_at = coalesce(excluded.declined_at, r.declined_at),
  declined_reason = coalesce(excluded.declined_reason, r.declined_reason),
  name = CASE WHEN $17 THEN coalesce(excluded.name, r.name) ELSE r.name END,
  email = CASE WHEN $17 THEN coalesce(excluded.email, r.email) ELSE r.email END,
  routing_order = CASE WHEN $17 THEN excluded.routing_order ELSE r.routing_order END,
  recipient_type = CASE WHEN $17 THEN excluded.recipient_type ELSE r.recipient_type END,
  client_user_id = coalesce(excluded.client_user_id, r.client_user_id),
  updated_at = now()
"""
BULK_ROWS = """
UPDATE bulk_recipients SET status = $2, updated_at = now()
WHERE envelope_id = $1 AND status NOT IN ($2, 'failed')
RETURNING operation_id
"""
BULK_COUNTERS = """
WITH c AS (
  SELECT count(*) AS n,
         count(*) FILTER (WHERE status = 'queued') AS queued,
         count(*) FILTER (WHERE status IN ('sent', 'delivered', 'completed', 'declined', 'voided')) AS sent,
         count(*) FILTER (WHERE status IN ('delivered', 'completed', 'declined')) AS delivered,
         count(*) FILTER (WHERE status = 'completed') AS completed,
         count(*) FILTER (WHERE status = 'declined') AS declined,
         count(*) FILTER (WHERE status = 'voided') AS voided,
         count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status IN ('queued', 'sent', 'delivered')) AS open
  FROM bulk_recipients WHERE operation_id = $1
)
UPDATE bulk_operations o SET
  queued = c.queued, sent = c.sent, delivered = c.delivered, completed = c.completed, declined = c.declined,
  voided = c.voided, failed = c.failed, updated_at = now(),
  status = CASE WHEN c.open = 0 AND c.n >= o.total AND o.status IN ('pending', 'sending', 'sent') THEN 'completed'
                ELSE o.status END
FROM c WHERE o.id = $1
RETURNING o.id, o.user_id, o.batch_id, o.batch_name, o.status, o.total, o.queued, o.sent, o.delivered,
          o.completed, o.declined, o.voided, o.failed
"""
AUDIT = """
INSERT INTO audit_log (user_id, actor, operation, envelope_id, arguments, status, outcome, finished_at, duration_ms)
VALUES ($1, 'webhook', $2, $3, $4::jsonb, 'succeeded', $5::jsonb, clock_timestamp(), 0)
"""
FINISH = """
UPDATE webhook_events SET status = $2, user_id = coalesce($3, user_id), attempts = attempts + 1,
  processed_at = now(), last_error = $4
WHERE id = $1
"""
RETRY = """
UPDATE webhook_events SET status = $2::text, attempts = attempts + 1, last_error = $3,
  next_attempt_at = now() + make_interval(secs => $4), processed_at = CASE WHEN $2::text = 'parked' THEN now() END
WHERE id = $1
"""
NEXT_DUE = "SELECT extract(epoch FROM min(next_attempt_at) - now()) FROM webhook_events WHERE status = 'pending'"
REMATCH_ENVELOPE = """
UPDATE webhook_events SET status = 'pending', next_attempt_at = now(), last_error = NULL
WHERE status = 'unmatched' AND envelope_id = $1
"""
REMATCH_SWEEP = """
UPDATE webhook_events w SET status = 'pending', next_attempt_at = now(), last_error = NULL
WHERE w.status = 'unmatched' AND (
  EXISTS (SELECT 1 FROM envelopes e WHERE e.envelope_id = w.envelope_id)
  OR EXISTS (SELECT 1 FROM bulk_recipients b WHERE b.envelope_id = w.envelope_id)
  OR EXISTS (SELECT 1 FROM profiles p WHERE w.docusign_user_id IS NOT NULL AND p.docusign_user_id = w.docusign_user_id))
"""
