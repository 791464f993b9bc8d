"""The API key's own user: GET /api/3/users/me (SPEC get-user-loggedin).

Every AC key belongs to one user (§1.1) and every user may read itself, which is why clients
use this call to check a URL and key. Each sandbox account has one user, its admin (id 1,
as the SPEC example and the v1 `user_me` answer of campaigns.py).
"""

from __future__ import annotations

from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from sandbox.core import json_response

from .context import Resource

RULES = [Rule("/api/3/users/me", methods=["GET"], endpoint="user_me")]
USER_LINKS = ("lists", "userGroup", "dealGroupTotals", "dealGroupUsers", "configs")


class UsersApi(Resource):
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
