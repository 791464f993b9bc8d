"""Token checks: the API key's own user (GET /api/3/users/me) and the bare API root.

Every AC key belongs to one user (§1.1) and every user may read itself, which is why clients
use `users/me` (SPEC get-user-loggedin) to check a URL and key. Each sandbox account has one
user, its admin (id 1, as the SPEC example and the v1 `user_me` answer of campaigns.py).

tap-activecampaign checks the key with `GET {api_url}/api/3/` before any stream (TAP
`client.py` `check_api_token`, every release) and only looks at the status: 200 for a good
key; anything else is an error it raises from the body's `errors`/`message`. The reference
documents no body for that URL; the sandbox answers an empty JSON object. A missing or wrong
key gets the 403 every path gets (§1.6).
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource

RULES = [
    Rule("/api/3/", methods=["GET"], endpoint="api_root"),
    Rule("/api/3/users/me", methods=["GET"], endpoint="user_me"),
]
USER_LINKS = ("lists", "userGroup", "dealGroupTotals", "dealGroupUsers", "configs")


class UsersApi(Resource):
    def api_root(self, request: Request) -> Response:
        return json_response({})

    def user_me(self, request: Request) -> Response:
        base = self.base(request)
        return json_response(
            {
                "user": {
                    "username": "admin",
                    "firstName": "Sandbox",
                    "lastName": "Admin",
                    "email": "admin@example.com",
                    "phone": "",
                    "signature": None,
                    "links": {name: f"{base}/api/3/users/1/{name}" for name in USER_LINKS},
                    "id": "1",
                }
            }
        )
