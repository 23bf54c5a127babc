"""A bench-only receiver: the node's inbox service behind a route with no signature check, so
bench/federation.py can time the same delivery path with and without RFC 9421 signing.

Never part of a node: it exists only to measure what signing costs.

  python -m bench.parts.unsigned_inbox DATABASE_URL PORT PEER_ID PEER_NODE_ID PEER_NAME
"""

import json
import sys
import uuid
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI, Request, Response

from federation.inbox import InboxPeer, parse_batch, receive
from hub.db import make_engine, make_sessionmaker, session_scope


def make_app(database_url: str, peer: InboxPeer) -> FastAPI:
    sessions = make_sessionmaker(make_engine(database_url))
    app = FastAPI()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/federation/v1/inbox")
    async def inbox(request: Request) -> Response:
        events, _ = parse_batch(json.loads(await request.body()))
        with session_scope(sessions) as session:
            result = receive(session, peer, events, datetime.now(UTC))
        return Response(result.model_dump_json(), media_type="application/json")

    return app


def main() -> None:
    url, port, peer_id, node_id, name = sys.argv[1:6]
    peer = InboxPeer(peer_id=uuid.UUID(peer_id), node_id=uuid.UUID(node_id), name=name)
    uvicorn.run(make_app(url, peer), host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
