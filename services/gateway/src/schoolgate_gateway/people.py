"""Names of the gateway's read models of people, and the answer to a suspended account.

Its own module, below everything that reads those models: the feed (``feed.py``), the
projections that fold them (``projections.py``) and the scopes built from them
(``scope.py``) all import it, and none of them needs another to do so.
"""

from __future__ import annotations

from typing import Any

from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.problems import Problem
from schoolgate_kit.readmodels import ReadModelStore

STAFF = "gateway.staff"
PARENTS = "gateway.parents"
PUPILS = "gateway.pupils"
SCHOOLS = "gateway.schools"
CONDUCT = "gateway.conduct"


class Suspended(Problem):
    status, slug, title = 403, "account-suspended", "This account is suspended"


async def class_names(readmodels: ReadModelStore, class_id: str) -> dict[str, str]:
    """The names a class knows its pupils by: first names, with just enough of a surname
    where two share one. Never a full name: these go on classroom screens."""
    found = await readmodels.find(PUPILS, {"class_id": class_id, "left": False})
    return display_names(PupilName(p["pupil_id"], p["first_name"], p["surname"]) for p in found)


async def classmates(readmodels: ReadModelStore, class_id: str) -> list[dict[str, Any]]:
    """A class's pupils as a classroom screen lists them: id, class name and monster."""
    names = await class_names(readmodels, class_id)
    found = await readmodels.find(PUPILS, {"class_id": class_id, "left": False})
    return sorted(
        (
            {"pupil_id": p["pupil_id"], "name": names[p["pupil_id"]], "avatar": p["avatar"]}
            for p in found
        ),
        key=lambda p: p["name"],
    )
