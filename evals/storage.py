"""Eval results in Postgres (`eval_results`, migration 0009): one row per attempt, written as the attempt
finishes, as the database owner (the table is the operators', not any user's)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import insert, select

from db.models import EvalResult
from db.session import Database


class ResultStore:
    def __init__(self, database: Database, eval_run_id: uuid.UUID, *, suite: str, dataset: str, model: str) -> None:
        self.database = database
        self.eval_run_id = eval_run_id
        self.suite, self.dataset, self.model = suite, dataset, model

    async def add(self, case: dict[str, Any]) -> None:
        async with self.database.owner_session() as session:
            await session.execute(insert(EvalResult).values(
                eval_run_id=self.eval_run_id, suite=self.suite, dataset=self.dataset, model=self.model[:200],
                scenario_id=case["scenario_id"], attempt=case["attempt"], category=case["category"],
                passed=case["passed"], compliant=case["compliant"], latency_ms=case["latency_ms"],
                tokens=case["tokens"], docusign_calls=case["docusign_calls"],
                checks={"checks": case["checks"], "violations": case["violations"]}))

    async def rows(self) -> list[EvalResult]:
        async with self.database.owner_session() as session:
            found = await session.execute(select(EvalResult).where(EvalResult.eval_run_id == self.eval_run_id)
                                          .order_by(EvalResult.id))
            return list(found.scalars())
