"""A bench-only receiver: the node's own app (create_app, run as `c4hub serve` runs it) with one
extra route, /bench/v1/inbox, that hands a batch to the same inbox service without checking a
signature, so bench/federation.py can time the same delivery path with and without RFC 9421.

Never part of a node: it exists only to measure what signing costs.

  python -m bench.parts.unsigned_inbox PORT PEER_ID PEER_NODE_ID PEER_NAME   (C4HUB_* env)
"""

import gc
import json
import sys
import uuid
from datetime import UTC, datetime

import uvicorn
from fastapi import Request, Response
from fastapi.concurrency import run_in_threadpool

from federation.inbox import InboxPeer, parse_batch, receive
from hub.app import create_app
from hub.db import session_scope
from hub.settings import get_settings

UNSIGNED_INBOX_PATH = "/bench/v1/inbox"


def main() -> None:
    port, peer_id, node_id, name = sys.argv[1:5]
    peer = InboxPeer(peer_id=uuid.UUID(peer_id), node_id=uuid.UUID(node_id), name=name)
    app = create_app(get_settings())

    def apply(body: bytes) -> str:
        events, _ = parse_batch(json.loads(body))
        with session_scope(app.state.sessionmaker) as session:
            return receive(session, peer, events, datetime.now(UTC)).model_dump_json()

    async def inbox(request: Request) -> Response:
        answer = await run_in_threadpool(apply, await request.body())
        return Response(answer, media_type="application/json")

    app.add_api_route(UNSIGNED_INBOX_PATH, inbox, methods=["POST"])
    gc.freeze()  # as hub.serve does
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="info")


if __name__ == "__main__":
    main()
