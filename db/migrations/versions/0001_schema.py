"""The tables: identity, envelope mirror, webhooks, documents and analysis, bulk sends, audit.

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 11:44:00.564187
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('profiles',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('docusign_user_id', sa.String(length=64), nullable=True),
    sa.Column('docusign_account_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_profiles')),
    sa.UniqueConstraint('email', name=op.f('uq_profiles_email'))
    )
    op.create_index('ix_profiles_docusign_user_id', 'profiles', ['docusign_user_id'], unique=False)
    op.create_table('analysis_results',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('question_hash', sa.String(length=64), server_default='', nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('prompt_version', sa.String(length=32), nullable=False),
    sa.Column('result', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('input_tokens', sa.Integer(), nullable=True),
    sa.Column('output_tokens', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("kind IN ('summary', 'key_terms', 'risks', 'question')", name=op.f('ck_analysis_results_kind_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_analysis_results_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_results')),
    sa.UniqueConstraint('user_id', 'content_hash', 'kind', 'question_hash', 'model', 'prompt_version', name='uq_analysis_results_key')
    )
    op.create_table('api_credentials',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('docusign_user_id', sa.String(length=64), nullable=False),
    sa.Column('base_uri', sa.Text(), nullable=False),
    sa.Column('grant_type', sa.String(length=32), nullable=False),
    sa.Column('access_token', sa.LargeBinary(), nullable=False),
    sa.Column('refresh_token', sa.LargeBinary(), nullable=True),
    sa.Column('key_id', sa.String(length=32), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('scopes', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False),
    sa.Column('status', sa.String(length=32), server_default='active', nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("grant_type IN ('jwt', 'authorization_code')", name=op.f('ck_api_credentials_grant_type_valid')),
    sa.CheckConstraint("status IN ('active', 'reconnect_required')", name=op.f('ck_api_credentials_status_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_api_credentials_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_credentials')),
    sa.UniqueConstraint('user_id', 'account_id', name=op.f('uq_api_credentials_user_id_account_id'))
    )
    op.create_table('api_keys',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_api_keys_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash'))
    )
    op.create_index('ix_api_keys_user_id', 'api_keys', ['user_id'], unique=False)
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('actor', sa.String(length=16), nullable=False),
    sa.Column('operation', sa.String(length=100), nullable=False),
    sa.Column('envelope_id', sa.String(length=64), nullable=True),
    sa.Column('thread_id', sa.String(length=64), nullable=True),
    sa.Column('run_id', sa.String(length=64), nullable=True),
    sa.Column('tool_call_id', sa.String(length=100), nullable=True),
    sa.Column('arguments', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('status', sa.String(length=24), nullable=False),
    sa.Column('outcome', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('error_code', sa.String(length=100), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('docusign_trace_token', sa.String(length=100), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('clock_timestamp()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.CheckConstraint("actor IN ('user', 'agent', 'webhook', 'system')", name=op.f('ck_audit_log_actor_valid')),
    sa.CheckConstraint("status IN ('started', 'awaiting_approval', 'succeeded', 'failed', 'rejected')", name=op.f('ck_audit_log_status_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_audit_log_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_envelope_id', 'audit_log', ['envelope_id'], unique=False)
    op.create_index('ix_audit_log_user_id_started_at', 'audit_log', ['user_id', sa.literal_column('started_at DESC')], unique=False)
    op.create_table('bulk_operations',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('batch_name', sa.String(length=100), nullable=False),
    sa.Column('template_id', sa.String(length=64), nullable=False),
    sa.Column('bulk_list_id', sa.String(length=64), nullable=True),
    sa.Column('batch_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('queued', sa.Integer(), server_default='0', nullable=False),
    sa.Column('sent', sa.Integer(), server_default='0', nullable=False),
    sa.Column('delivered', sa.Integer(), server_default='0', nullable=False),
    sa.Column('completed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('declined', sa.Integer(), server_default='0', nullable=False),
    sa.Column('voided', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'completed', 'failed')", name=op.f('ck_bulk_operations_status_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_bulk_operations_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_operations')),
    sa.UniqueConstraint('batch_id', name=op.f('uq_bulk_operations_batch_id'))
    )
    op.create_index('ix_bulk_operations_user_id', 'bulk_operations', ['user_id'], unique=False)
    op.create_table('envelopes',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('envelope_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('email_subject', sa.Text(), nullable=True),
    sa.Column('sender_email', sa.String(length=320), nullable=True),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('voided_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_event_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('synced_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('created', 'sent', 'delivered', 'signed', 'completed', 'declined', 'voided', 'deleted', 'correct', 'authoritativecopy', 'transfercompleted', 'template', 'timedout', 'processing')", name=op.f('ck_envelopes_status_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_envelopes_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_envelopes')),
    sa.UniqueConstraint('envelope_id', name=op.f('uq_envelopes_envelope_id'))
    )
    op.create_index('ix_envelopes_request_id', 'envelopes', ['request_id'], unique=False)
    op.create_index('ix_envelopes_user_id_status', 'envelopes', ['user_id', 'status'], unique=False)
    op.create_index('ix_envelopes_user_id_status_changed_at', 'envelopes', ['user_id', sa.literal_column('status_changed_at DESC')], unique=False)
    op.create_table('user_preferences',
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('theme', sa.String(length=16), server_default='system', nullable=False),
    sa.Column('notify_in_app', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('notify_email_on_completed', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('notify_email_on_declined', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('tone', sa.String(length=16), server_default='friendly', nullable=False),
    sa.Column('verbosity', sa.String(length=16), server_default='normal', nullable=False),
    sa.Column('confirm_reminders', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('default_signing_order', sa.String(length=16), server_default='parallel', nullable=False),
    sa.Column('reminder_days', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("default_signing_order IN ('parallel', 'sequential')", name=op.f('ck_user_preferences_default_signing_order_valid')),
    sa.CheckConstraint("theme IN ('system', 'light', 'dark')", name=op.f('ck_user_preferences_theme_valid')),
    sa.CheckConstraint("tone IN ('concise', 'friendly', 'formal')", name=op.f('ck_user_preferences_tone_valid')),
    sa.CheckConstraint("verbosity IN ('brief', 'normal', 'detailed')", name=op.f('ck_user_preferences_verbosity_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_user_preferences_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_user_preferences'))
    )
    op.create_table('webhook_events',
    sa.Column('id', sa.BigInteger(), sa.Identity(always=True), nullable=False),
    sa.Column('dedupe_key', sa.String(length=128), nullable=False),
    sa.Column('event', sa.String(length=64), nullable=True),
    sa.Column('account_id', sa.String(length=64), nullable=True),
    sa.Column('docusign_user_id', sa.String(length=64), nullable=True),
    sa.Column('envelope_id', sa.String(length=64), nullable=True),
    sa.Column('recipient_id', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.UUID(), nullable=True),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('raw_body', sa.Text(), nullable=False),
    sa.Column('payload', postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='pending', nullable=False),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('deliveries', sa.Integer(), server_default='1', nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'applied', 'duplicate', 'failed', 'parked', 'unmatched')", name=op.f('ck_webhook_events_status_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_webhook_events_user_id_profiles'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_webhook_events_dedupe_key'))
    )
    op.create_index('ix_webhook_events_due', 'webhook_events', ['next_attempt_at'], unique=False, postgresql_where=sa.text("status = 'pending'"))
    op.create_index('ix_webhook_events_envelope_id', 'webhook_events', ['envelope_id', 'id'], unique=False)
    op.create_index('ix_webhook_events_user_id', 'webhook_events', ['user_id'], unique=False)
    op.create_table('bulk_recipients',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('operation_id', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('row_number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('role_name', sa.String(length=100), nullable=True),
    sa.Column('envelope_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), server_default='queued', nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'sent', 'delivered', 'completed', 'declined', 'voided', 'failed')", name=op.f('ck_bulk_recipients_status_valid')),
    sa.ForeignKeyConstraint(['operation_id'], ['bulk_operations.id'], name=op.f('fk_bulk_recipients_operation_id_bulk_operations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_bulk_recipients_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_recipients')),
    sa.UniqueConstraint('operation_id', 'row_number', name=op.f('uq_bulk_recipients_operation_id_row_number'))
    )
    op.create_index('ix_bulk_recipients_envelope_id', 'bulk_recipients', ['envelope_id'], unique=False)
    op.create_index('ix_bulk_recipients_user_id', 'bulk_recipients', ['user_id'], unique=False)
    op.create_table('documents',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('envelope_pk', sa.UUID(), nullable=True),
    sa.Column('docusign_document_id', sa.String(length=64), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), server_default='application/pdf', nullable=False),
    sa.Column('size_bytes', sa.BigInteger(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.Column('processing_status', sa.String(length=16), server_default='uploaded', nullable=False),
    sa.Column('page_count', sa.Integer(), nullable=True),
    sa.Column('text_content', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("processing_status IN ('uploaded', 'extracting', 'ready', 'failed')", name=op.f('ck_documents_processing_status_valid')),
    sa.ForeignKeyConstraint(['envelope_pk'], ['envelopes.id'], name=op.f('fk_documents_envelope_pk_envelopes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_documents_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    op.create_index('ix_documents_content_hash', 'documents', ['content_hash'], unique=False)
    op.create_index('ix_documents_envelope_pk', 'documents', ['envelope_pk'], unique=False)
    op.create_index('ix_documents_user_id_created_at', 'documents', ['user_id', sa.literal_column('created_at DESC')], unique=False)
    op.create_table('recipients',
    sa.Column('id', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('envelope_pk', sa.UUID(), nullable=False),
    sa.Column('user_id', sa.UUID(), nullable=False),
    sa.Column('recipient_id', sa.String(length=64), nullable=False),
    sa.Column('recipient_type', sa.String(length=32), server_default='signer', nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('routing_order', sa.Integer(), server_default='1', nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('client_user_id', sa.String(length=100), nullable=True),
    sa.Column('signing_url', sa.Text(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("recipient_type IN ('signer', 'carbon_copy', 'certified_delivery', 'in_person_signer', 'agent', 'editor', 'intermediary', 'witness', 'notary', 'seal')", name=op.f('ck_recipients_recipient_type_valid')),
    sa.CheckConstraint("status IN ('created', 'sent', 'delivered', 'signed', 'completed', 'declined', 'autoresponded', 'faxpending', 'correct', 'voided')", name=op.f('ck_recipients_status_valid')),
    sa.ForeignKeyConstraint(['envelope_pk'], ['envelopes.id'], name=op.f('fk_recipients_envelope_pk_envelopes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['profiles.id'], name=op.f('fk_recipients_user_id_profiles'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients')),
    sa.UniqueConstraint('envelope_pk', 'recipient_id', name=op.f('uq_recipients_envelope_pk_recipient_id'))
    )
    op.create_index('ix_recipients_user_id_email', 'recipients', ['user_id', 'email'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_recipients_user_id_email', table_name='recipients')
    op.drop_table('recipients')
    op.drop_index('ix_documents_user_id_created_at', table_name='documents')
    op.drop_index('ix_documents_envelope_pk', table_name='documents')
    op.drop_index('ix_documents_content_hash', table_name='documents')
    op.drop_table('documents')
    op.drop_index('ix_bulk_recipients_user_id', table_name='bulk_recipients')
    op.drop_index('ix_bulk_recipients_envelope_id', table_name='bulk_recipients')
    op.drop_table('bulk_recipients')
    op.drop_index('ix_webhook_events_user_id', table_name='webhook_events')
    op.drop_index('ix_webhook_events_envelope_id', table_name='webhook_events')
    op.drop_index('ix_webhook_events_due', table_name='webhook_events', postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('webhook_events')
    op.drop_table('user_preferences')
    op.drop_index('ix_envelopes_user_id_status_changed_at', table_name='envelopes')
    op.drop_index('ix_envelopes_user_id_status', table_name='envelopes')
    op.drop_index('ix_envelopes_request_id', table_name='envelopes')
    op.drop_table('envelopes')
    op.drop_index('ix_bulk_operations_user_id', table_name='bulk_operations')
    op.drop_table('bulk_operations')
    op.drop_index('ix_audit_log_user_id_started_at', table_name='audit_log')
    op.drop_index('ix_audit_log_envelope_id', table_name='audit_log')
    op.drop_table('audit_log')
    op.drop_index('ix_api_keys_user_id', table_name='api_keys')
    op.drop_table('api_keys')
    op.drop_table('api_credentials')
    op.drop_table('analysis_results')
    op.drop_index('ix_profiles_docusign_user_id', table_name='profiles')
    op.drop_table('profiles')
