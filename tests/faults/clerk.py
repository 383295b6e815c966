"""A clerk's browser against the installation of the environment (tests only).

``python -m tests.faults.clerk USERNAME`` reads a JSON list of requests on stdin — each
``{"get": path}`` or ``{"post": path, "data": {...}, "files": {field: file path}}`` — makes
them as that user, logged in through Django's own login, and prints one JSON line per
request: status, redirect, seconds taken and the page's text.
"""

import json
import os
import sys
import time
from contextlib import ExitStack

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    django.setup()
    from django.test import Client

    from dayao_sscard.models import User

    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=sys.argv[1]))
    for request in json.load(sys.stdin):
        started = time.monotonic()
        if "get" in request:
            response = client.get(request["get"])
        else:
            data = dict(request.get("data", {}))
            with ExitStack() as files:
                for field, path in request.get("files", {}).items():
                    data[field] = files.enter_context(open(path, "rb"))
                response = client.post(request["post"], data)
        body = b"".join(response) if response.streaming else response.content
        print(
            json.dumps(
                {
                    "path": request.get("get") or request.get("post"),
                    "status": response.status_code,
                    "location": response.get("Location", ""),
                    "seconds": round(time.monotonic() - started, 2),
                    "text": body.decode("utf-8", "replace"),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
