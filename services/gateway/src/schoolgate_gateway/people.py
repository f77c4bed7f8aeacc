"""Names of the gateway's read models of people, and the answer to a suspended account.

Its own module, below everything that reads those models: the feed (``feed.py``), the
projections that fold them (``projections.py``) and the scopes built from them
(``scope.py``) all import it, and none of them needs another to do so.
"""

from __future__ import annotations

from schoolgate_kit.problems import Problem

STAFF = "gateway.staff"
PARENTS = "gateway.parents"
PUPILS = "gateway.pupils"
SCHOOLS = "gateway.schools"
CONDUCT = "gateway.conduct"


class Suspended(Problem):
    status, slug, title = 403, "account-suspended", "This account is suspended"
