"""Crons: runs a user scheduled (`/runs/crons`, `/threads/{thread_id}/runs/crons`)."""
