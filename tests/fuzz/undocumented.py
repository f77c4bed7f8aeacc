"""Status codes each operation really answers but its OpenAPI does not list, by API and
operation, as the fuzzing (tests/fuzz/test_openapi_fuzz.py) found them. (The 400s the kit
answers before any route runs, for every operation, are ``KIT_REFUSALS`` there.)

Every entry belongs in its route's ``responses=`` (FastAPI), with the problem+json body
it carries; until it is there the fuzzing waives the status check for exactly these codes
of exactly these operations, and every other check still holds. What they are:

- 401: nobody is signed in (gateway), or no identity token came (services).
- 403: the role or school may not do it.
- 404: no such pupil, class, post, request, invite... at this school.
- 409: it was already done (a set-up link for someone with a password, a conduct code
  already accepted, a media exception already made).
- 429: the sign-in limits (the class code a pupil types).

Remove an entry once its route documents the codes: the fuzzing then checks them.
"""

from __future__ import annotations

UNDOCUMENTED: dict[str, dict[str, frozenset[int]]] = {
    "gateway": {
        "POST /api/awards": frozenset({401, 403}),
        "POST /api/awards/{award_id}/undo": frozenset({401, 403}),
        "POST /api/classes/{class_id}/code": frozenset({401, 403}),
        "GET /api/feed": frozenset({401, 403}),
        "POST /api/join/redeem": frozenset({401, 403}),
        "GET /api/me": frozenset({401}),
        "POST /api/opening": frozenset({401}),
        "POST /api/pupil/class": frozenset({404, 429}),
        "POST /api/pupil/session": frozenset({429}),
        "POST /api/pupils/{pupil_id}/card": frozenset({401, 403, 404}),
        "GET /api/pupils/{pupil_id}/weekly-total": frozenset({401, 404}),
        "GET /api/schools/{school_id}/parents/{parent_id}": frozenset({401, 403, 404}),
        "POST /api/session": frozenset({401}),
        "POST /api/session/second-factor": frozenset({401}),
        "POST /api/setup": frozenset({401}),
        "POST /api/staff/{staff_id}/setup-link": frozenset({401, 403, 404, 409}),
    },
    "points": {
        "POST /schools/{school_id}/awards": frozenset({401, 403}),
        "POST /schools/{school_id}/awards/{award_id}/undo": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/classes/{class_id}/report": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/classes/{class_id}/total": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/pupils/{pupil_id}/summary": frozenset({401, 403}),
        "PUT /schools/{school_id}/pupils/{pupil_id}/target": frozenset({401, 403}),
        "GET /schools/{school_id}/pupils/{pupil_id}/weekly-total": frozenset({401, 403}),
        "GET /schools/{school_id}/settings": frozenset({401, 403}),
        "PUT /schools/{school_id}/settings": frozenset({401, 403}),
    },
    "roster": {
        "GET /schools/{school_id}": frozenset({401, 403}),
        "PUT /schools/{school_id}": frozenset({401, 403}),
        "GET /schools/{school_id}/classes": frozenset({401, 403}),
        "POST /schools/{school_id}/classes": frozenset({401, 403}),
        "GET /schools/{school_id}/classes/{class_id}": frozenset({401, 403}),
        "GET /schools/{school_id}/classes/{class_id}/names": frozenset({401, 403}),
        "GET /schools/{school_id}/classes/{class_id}/pupils": frozenset({401, 403}),
        "POST /schools/{school_id}/imports": frozenset({401, 403, 429}),
        "GET /schools/{school_id}/imports/{import_id}": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/imports/{import_id}/apply": frozenset({401, 403, 404, 409}),
        "GET /schools/{school_id}/pupils": frozenset({401, 403}),
        "POST /schools/{school_id}/pupils": frozenset({401, 403}),
        "GET /schools/{school_id}/pupils/{pupil_id}": frozenset({401, 403}),
        "PUT /schools/{school_id}/pupils/{pupil_id}/avatar": frozenset({401, 403}),
        "POST /schools/{school_id}/pupils/{pupil_id}/leave": frozenset({401, 403}),
        "POST /schools/{school_id}/pupils/{pupil_id}/move": frozenset({401, 403}),
        "GET /schools/{school_id}/school-ways": frozenset({401, 403}),
        "POST /schools/{school_id}/school-ways": frozenset({401, 403}),
        "POST /schools/{school_id}/school-ways/{school_way_id}/retire": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/staff": frozenset({401, 403}),
        "POST /schools/{school_id}/staff": frozenset({401, 403}),
        "GET /schools/{school_id}/year-groups": frozenset({401, 403}),
        "POST /schools/{school_id}/year-groups": frozenset({401, 403}),
    },
    "consent": {
        "POST /invites/redeem": frozenset({401, 403}),
        "GET /parents/me/children": frozenset({401, 403}),
        "GET /parents/me/notices": frozenset({401, 403}),
        "GET /schools/{school_id}/code-of-conduct": frozenset({401, 403, 404}),
        "PUT /schools/{school_id}/code-of-conduct": frozenset({401, 403}),
        "POST /schools/{school_id}/code-of-conduct/acceptances": frozenset({401, 403, 409}),
        "GET /schools/{school_id}/guardian-requests": frozenset({401, 403}),
        "GET /schools/{school_id}/invite-activity": frozenset({401, 403}),
        "PUT /schools/{school_id}/invite-policy": frozenset({401, 403}),
        "GET /schools/{school_id}/invites/{invite_id}/letter": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/invites/{invite_id}/revoke": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/media": frozenset({401, 403}),
        "GET /schools/{school_id}/notices": frozenset({401, 403}),
        "GET /schools/{school_id}/parents/{parent_id}/code-of-conduct": frozenset({401, 403, 404}),
        "DELETE /schools/{school_id}/parents/{parent_id}/suspension": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/parents/{parent_id}/suspension": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/parents/{parent_id}/suspension": frozenset({401, 403, 404}),
        "PUT /schools/{school_id}/pupils/{pupil_id}/care-status": frozenset({401, 403}),
        "GET /schools/{school_id}/pupils/{pupil_id}/consent": frozenset({401, 403}),
        (
            "POST /schools/{school_id}/pupils/{pupil_id}/guardian-requests/{request_id}/decision"
        ): frozenset({401, 403, 404}),
        "GET /schools/{school_id}/pupils/{pupil_id}/invites": frozenset({401, 403}),
        "POST /schools/{school_id}/pupils/{pupil_id}/invites": frozenset({401, 403}),
        "GET /schools/{school_id}/pupils/{pupil_id}/media": frozenset({401, 403}),
        "PUT /schools/{school_id}/pupils/{pupil_id}/media-consent": frozenset({401, 403}),
        "POST /schools/{school_id}/pupils/{pupil_id}/media-exception": frozenset({401, 403, 409}),
    },
    "stories": {
        "GET /schools/{school_id}/classes/{class_id}/home-learning": frozenset({401, 403}),
        "GET /schools/{school_id}/classes/{class_id}/portfolio/queue": frozenset({401, 403}),
        "POST /schools/{school_id}/home-learning": frozenset({401, 403}),
        "GET /schools/{school_id}/home-learning/{task_id}/submissions": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/media": frozenset({401, 403}),
        "GET /schools/{school_id}/media/{media_id}": frozenset({401, 404}),
        "POST /schools/{school_id}/portfolio": frozenset({401, 403}),
        "POST /schools/{school_id}/portfolio/{item_id}/approve": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/portfolio/{item_id}/send-back": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/posts": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/posts": frozenset({401, 403}),
        "DELETE /schools/{school_id}/posts/{post_id}": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/posts/{post_id}": frozenset({401, 403, 404}),
        "PUT /schools/{school_id}/posts/{post_id}": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/posts/{post_id}/comments": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/posts/{post_id}/comments": frozenset({401, 403, 404}),
        "DELETE /schools/{school_id}/posts/{post_id}/like": frozenset({401, 403, 404}),
        "POST /schools/{school_id}/posts/{post_id}/like": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/posts/{post_id}/likes": frozenset({401, 403, 404}),
        "GET /schools/{school_id}/pupils/{pupil_id}/portfolio": frozenset({401, 403}),
        "GET /schools/{school_id}/settings": frozenset({401, 403}),
        "PUT /schools/{school_id}/settings": frozenset({401, 403}),
    },
}
