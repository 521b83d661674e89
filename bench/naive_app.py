"""The naive endpoint the command benchmark compares kehu with: a minimal FastAPI app that
calls a plain ``eventsourcing`` Application with a trivial aggregate — no audit envelope, no
authentication, no idempotency, no retry. Served by uvicorn like kehu:

    NAIVE_POSTGRES_SCHEMA=… uvicorn bench.naive_app:app

It reads the PostgreSQL connection from the library's own variables (``POSTGRES_*``), with
the same connection pool size as kehu's defaults.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event
from fastapi import FastAPI
from pydantic import BaseModel


class Thing(Aggregate):
    """A trivial aggregate: a name, and a count of things done to it."""

    @event("Created")
    def __init__(self, name: str) -> None:
        self.name = name
        self.done = 0

    @event("Acted")
    def act(self, note: str) -> None:
        self.done += 1


class Things(Application[UUID]):
    name = "naive"


class Create(BaseModel):
    name: str


class Act(BaseModel):
    note: str


app = FastAPI()
things = Things()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/things", status_code=201)
def create(body: Create) -> dict[str, Any]:
    thing = Thing(body.name)
    recordings = things.save(thing)
    return {"id": str(thing.id), "position": recordings[-1].notification.id}


@app.post("/things/{thing_id}/act")
def act(thing_id: UUID, body: Act) -> dict[str, Any]:
    thing: Thing = things.repository.get(thing_id)
    thing.act(body.note)
    recordings = things.save(thing)
    return {
        "id": str(thing.id),
        "version": thing.version,
        "position": recordings[-1].notification.id,
    }
