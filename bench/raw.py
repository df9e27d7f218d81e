"""The baseline server: bare Starlette under uvicorn, answering every request with fixed bytes.

It does what the network and the HTTP server cost and nothing else, so a ratio against it
shows what mailtab's own layers cost. Same uvicorn settings as ``mailtab serve`` (one
worker, h11, no access log).

    python -m bench.raw --port 8100 --body response.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def build(body: bytes, content_type: str) -> Starlette:
    async def answer(request: Request) -> Response:
        await request.body()  # read it, as a real endpoint must
        return Response(body, media_type=content_type)

    async def ready(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/graphql", answer, methods=["GET", "POST"]),
            Route("/readyz", ready),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--body", type=Path, required=True)
    parser.add_argument("--content-type", default="application/json")
    arguments = parser.parse_args()
    app = build(arguments.body.read_bytes(), arguments.content_type)
    uvicorn.run(app, host="127.0.0.1", port=arguments.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
