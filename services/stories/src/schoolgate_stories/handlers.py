"""Command and query handlers: the message first, named dependencies after.

Commands check what they need against the read models (the roster's facts, media
consent, the media store), then decide on their own stream. Queries read projections only,
and every answer a family gets has the media of pupils without consent taken out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from schoolgate_contracts import Event, Metadata
from schoolgate_contracts.stories import Attachment, Audience, HomeLearningTaskSet, MediaKind
from schoolgate_kit.commands import execute
from schoolgate_kit.identity import Identity
from schoolgate_kit.media import MediaIdTaken, StoredMedia
from schoolgate_kit.names import PupilName, display_names
from schoolgate_kit.problems import Conflict, NotFound, Unprocessable
from schoolgate_kit.projections import strip
from schoolgate_kit.readmodels import Doc

from schoolgate_stories import domain
from schoolgate_stories.bootstrap import Stories
from schoolgate_stories.media_retention import record_upload
from schoolgate_stories.projections import (
    COMMENTS,
    HOME_LEARNING,
    LIKES,
    MEDIA_CONSENT,
    PORTFOLIO,
    POSTS,
    PUPILS,
    SCHOOLS,
    SETTINGS,
    like_key,
    media_marker,
    when,
)

View = Literal["staff", "family", "own"]
"""Who is reading: staff see everything, families what consent allows, a pupil their own."""

THUMB_SUFFIX = "-thumb"
S = TypeVar("S")


class UnknownPupil(Unprocessable):
    slug = "unknown-pupil"
    title = "That pupil is not in this school"


class UnknownClass(Unprocessable):
    slug = "unknown-class"
    title = "That class is not in this school"


class UnknownYearGroup(Unprocessable):
    slug = "unknown-year-group"
    title = "That year group is not in this school"


class UnknownMedia(Unprocessable):
    slug = "unknown-media"
    title = "That media was not uploaded to this school"


class MediaNotYours(Unprocessable):
    slug = "media-not-yours"
    title = "Only media you uploaded yourself can be attached"


class WrongMediaKind(Unprocessable):
    slug = "wrong-media-kind"
    title = "The attachment's kind does not match the uploaded file"


class UnknownTask(Unprocessable):
    slug = "unknown-task"
    title = "That home learning is not set for this class"


class MediaIdInUse(Conflict):
    slug = "media-id-in-use"
    title = "That media id already holds another file"


class MediaNotFound(NotFound):
    slug = "media-not-found"
    title = "No such media"


@dataclass(frozen=True)
class Actor:
    subject: str
    school_id: str
    correlation_id: str


def _metadata(stories: Stories, actor: Actor) -> Metadata:
    return Metadata(
        occurred_at=stories.clock(),
        school_id=actor.school_id,
        actor=actor.subject,
        correlation_id=actor.correlation_id,
    )


async def _get_many(name: str, keys: Collection[str], *, stories: Stories) -> dict[str, Doc]:
    found = await stories.readmodels.get_many(name, keys)
    return {k: v for k, v in ((k, strip(d)) for k, d in found.items()) if v is not None}


async def _execute(
    stream: str,
    initial: Callable[[], S],
    evolve: Callable[[S, Event], S],
    decide: Callable[[S], Sequence[Event]],
    *,
    actor: Actor,
    stories: Stories,
) -> S:
    """Decide on a stream and append (see ``schoolgate_kit.commands.execute``); the state
    after the command."""
    decided = await execute(
        stories.store,
        stream,
        initial=initial,
        evolve=evolve,
        decide=decide,
        metadata=_metadata(stories, actor),
        new_id=stories.new_id,
    )
    return decided.state


async def _load(
    stream: str,
    initial: Callable[[], S],
    evolve: Callable[[S, Event], S],
    *,
    school_id: str,
    missing: str,
    stories: Stories,
) -> S:
    """A stream's state, for checks before a command. A stream of another school is "not
    found", never "forbidden", so ids cannot be probed across schools."""
    history = await stories.store.read_stream(stream)
    if history and history[0].metadata.school_id != school_id:
        raise NotFound(missing)
    state = initial()
    for recorded in history:
        state = evolve(state, recorded.event)
    return state


# -- the roster's facts ------------------------------------------------------------------


async def school(school_id: str, *, stories: Stories) -> Doc:
    found = strip(await stories.readmodels.get(SCHOOLS, school_id))
    return {"classes": {}, "year_groups": {}, "class_year_groups": {}, **(found or {})}


async def school_today(school_id: str, *, stories: Stories) -> date:
    facts = await school(school_id, stories=stories)
    zone = facts.get("timezone") or stories.settings.school_timezone
    return stories.clock().astimezone(ZoneInfo(zone)).date()


async def pupil(pupil_id: str, school_id: str, *, stories: Stories) -> Doc | None:
    """A pupil of this school who has not left, or None."""
    found = strip(await stories.readmodels.get(PUPILS, pupil_id))
    if found is None or found["school_id"] != school_id or found["left"]:
        return None
    return found


async def pupils(pupil_ids: Iterable[str], school_id: str, *, stories: Stories) -> list[Doc]:
    """Those of ``pupil_ids`` who are in this school now."""
    found = await _get_many(PUPILS, set(pupil_ids), stories=stories)
    return [p for p in found.values() if p["school_id"] == school_id and not p["left"]]


async def class_members(school_id: str, class_id: str, *, stories: Stories) -> list[Doc]:
    found = await stories.readmodels.find(
        PUPILS, {"school_id": school_id, "class_id": class_id, "left": False}
    )
    return [d for d in (strip(f) for f in found) if d is not None]


async def names_in_class(school_id: str, class_id: str, *, stories: Stories) -> dict[str, str]:
    """How each pupil of a class is shown: first name, more only where two share it."""
    members = await class_members(school_id, class_id, stories=stories)
    return display_names(PupilName(m["pupil_id"], m["first_name"], m["surname"]) for m in members)


async def check_audience(audience: Audience, school_id: str, *, stories: Stories) -> Doc:
    """The audience's classes or year group are this school's; answer the school's facts."""
    domain.check_audience(audience)
    facts = await school(school_id, stories=stories)
    for class_id in audience.class_ids:
        if class_id not in facts["classes"]:
            raise UnknownClass(f"There is no class {class_id!r} in this school.")
    if audience.year_group_id is not None and audience.year_group_id not in facts["year_groups"]:
        raise UnknownYearGroup(f"There is no year group {audience.year_group_id!r}.")
    return facts


# -- media consent -----------------------------------------------------------------------


async def cleared(pupil_ids: Collection[str], school_id: str, *, stories: Stories) -> set[str]:
    """Those of ``pupil_ids`` who may appear in media now (no document: no consent)."""
    found = await _get_many(MEDIA_CONSENT, set(pupil_ids), stories=stories)
    return {p for p, d in found.items() if d["school_id"] == school_id and d["may_appear"]}


async def gate(
    attachments: Sequence[Attachment], school_id: str, *, stories: Stories
) -> domain.Gate:
    """Check every tagged pupil is in the school; say who may appear, and the names of
    those who may not as their class shows them."""
    tagged = domain.tagged(attachments)
    if not tagged:
        return domain.Gate()
    known = {p["pupil_id"]: p for p in await pupils(tagged, school_id, stories=stories)}
    for pupil_id in tagged:
        if pupil_id not in known:
            raise UnknownPupil(f"There is no pupil {pupil_id!r} in this school.")
    may = await cleared(tagged, school_id, stories=stories)
    names: dict[str, str] = {}
    for class_id in sorted({known[p]["class_id"] for p in tagged if p not in may}):
        names.update(await names_in_class(school_id, class_id, stories=stories))
    return domain.Gate(cleared=frozenset(may), names=names)


STAFF_ONLY = frozenset({"tagged_pupil_ids", "no_child_recognisable"})


def _visible_attachments(attachments: Sequence[Doc], may: Collection[str]) -> list[Doc]:
    return [a for a in attachments if all(p in may for p in a["tagged_pupil_ids"])]


def _shown(
    attachments: Sequence[Doc], may: Collection[str], view: View, school_id: str
) -> list[Doc]:
    """Staff see every attachment, marked ``hidden`` where consent keeps it from families;
    everyone else sees only what consent allows, and not who is tagged."""
    if view == "staff":
        shown = [
            {
                "no_child_recognisable": False,  # a read model written before it was asked
                **a,
                "hidden": not all(p in may for p in a["tagged_pupil_ids"]),
            }
            for a in attachments
        ]
    else:
        shown = [
            {k: v for k, v in a.items() if k not in STAFF_ONLY}
            for a in _visible_attachments(attachments, may)
        ]
    return [_with_urls(a, school_id) for a in shown]


# -- media -------------------------------------------------------------------------------


def media_kind(content_type: str) -> MediaKind:
    if content_type.startswith("image/"):
        return "image"
    if content_type.startswith("video/"):
        return "video"
    return "document"


async def check_attachments(
    attachments: Sequence[Attachment],
    *,
    school_id: str,
    owner: str,
    already: Collection[str] = (),
    stories: Stories,
) -> None:
    """Each media was uploaded to this school by ``owner`` (or is ``already`` attached to
    this post or item), and is the kind it says."""
    for attachment in attachments:
        info = await stories.media.info(attachment.media_id)
        if info is None or info.school_id != school_id:
            raise UnknownMedia(f"There is no media {attachment.media_id!r}: upload it first.")
        if info.owner != owner and attachment.media_id not in already:
            raise MediaNotYours(f"Media {attachment.media_id!r} was uploaded by someone else.")
        if media_kind(info.content_type) != attachment.kind:
            raise WrongMediaKind(
                f"Media {attachment.media_id!r} is a {media_kind(info.content_type)}, "
                f"not a {attachment.kind}."
            )


@dataclass(frozen=True)
class Uploaded:
    media_id: str
    kind: str
    content_type: str
    width: int | None
    height: int | None


async def upload_media(
    data: bytes, *, media_id: str | None, school_id: str, owner: str, stories: Stories
) -> Uploaded:
    """Make the file safe, then store each variant: ``{id}`` and, for images, ``{id}-thumb``."""
    safe = await stories.decoder.make_safe(data)
    media_id = media_id or stories.new_id().hex
    if await stories.media.info(media_id) is None:
        await record_upload(stories.readmodels, media_id, school_id, stories.clock())
    try:
        for variant, suffix in (("full", ""), ("thumb", THUMB_SUFFIX)):
            content = safe.variants.get(variant)
            if content is None:
                continue
            stored = await stories.media.put(
                media_id + suffix,
                content,
                school_id=school_id,
                owner=owner,
                content_type=safe.content_type,
            )
            if (stored.school_id, stored.owner) != (school_id, owner):
                raise MediaIdInUse(f"media id {media_id} is taken: leave it out for a new one")
    except MediaIdTaken as exc:
        raise MediaIdInUse(f"media id {media_id} is taken: leave it out for a new one") from exc
    return Uploaded(
        media_id=media_id,
        kind=safe.kind,
        content_type=safe.content_type,
        width=safe.width,
        height=safe.height,
    )


async def _children(identity: Identity, school_id: str, *, stories: Stories) -> list[Doc]:
    if not identity.pupil_ids:
        return []
    return await pupils(identity.pupil_ids, school_id, stories=stories)


async def readable_media(
    media_id: str, size: str, *, identity: Identity, school_id: str, stories: Stories
) -> tuple[StoredMedia, bytes]:
    """The bytes, for staff of the school, the uploader, and families who may see a post or
    portfolio item that holds the media (and consent does not hide it). Anyone else: 404."""
    missing = MediaNotFound(f"There is no media {media_id} here.")
    info = await stories.media.info(media_id)
    if info is None or info.school_id != school_id or identity.school_id != school_id:
        raise missing
    allowed = identity.is_staff or info.owner == identity.subject
    if not allowed and identity.pupil_ids:
        allowed = await _family_may_see(media_id, identity, school_id, stories=stories)
    if not allowed:
        raise missing
    found = await stories.media.get(media_id + (THUMB_SUFFIX if size == "thumb" else ""))
    if found is None:
        raise missing
    return found


async def _family_may_see(
    media_id: str, identity: Identity, school_id: str, *, stories: Stories
) -> bool:
    children = await _children(identity, school_id, stories=stories)
    if not children:
        return False
    where = {"school_id": school_id, media_marker(media_id): True}
    now = stories.clock()
    for doc in await stories.readmodels.find(POSTS, where):
        post = strip(doc) or {}
        if not _post_visible(post, now) or not any(covers(post["audience"], c) for c in children):
            continue
        if await _attachment_visible(post["attachments"], media_id, school_id, stories=stories):
            return True
    child_ids = {c["pupil_id"] for c in children}
    for doc in await stories.readmodels.find(PORTFOLIO, {**where, "status": "approved"}):
        item = strip(doc) or {}
        if item["pupil_id"] not in child_ids:
            continue
        if await _attachment_visible(item["attachments"], media_id, school_id, stories=stories):
            return True
    return False


async def _attachment_visible(
    attachments: Sequence[Doc], media_id: str, school_id: str, *, stories: Stories
) -> bool:
    held = [a for a in attachments if a["media_id"] == media_id]
    tagged = {p for a in held for p in a["tagged_pupil_ids"]}
    may = await cleared(tagged, school_id, stories=stories)
    return bool(_visible_attachments(held, may))


# -- posts -------------------------------------------------------------------------------


def covers(audience: Doc, pupil: Doc) -> bool:
    """Is this pupil's family in the post's audience? (Same school is checked before.)"""
    match audience["kind"]:
        case "school":
            return True
        case "classes":
            return pupil["class_id"] in audience["class_ids"]
    return bool(pupil.get("year_group_id") == audience["year_group_id"])


def covers_class(audience: Doc, class_id: str, facts: Doc) -> bool:
    match audience["kind"]:
        case "school":
            return True
        case "classes":
            return class_id in audience["class_ids"]
    year_group = facts["class_year_groups"].get(class_id)
    return year_group is not None and year_group == audience["year_group_id"]


def _post_visible(post: Doc, now: datetime) -> bool:
    return bool(post["visible_from"] <= when(now))


async def publish_post(
    command: domain.PublishPost, *, actor: Actor, stories: Stories
) -> domain.Post:
    await _load(
        domain.post_stream(command.post_id),
        domain.initial_post,
        domain.evolve_post,
        school_id=actor.school_id,
        missing=f"There is no post {command.post_id}.",
        stories=stories,
    )
    await check_attachments(
        command.attachments, school_id=actor.school_id, owner=command.author_id, stories=stories
    )
    checked = await gate(command.attachments, actor.school_id, stories=stories)
    state = await _execute(
        domain.post_stream(command.post_id),
        domain.initial_post,
        domain.evolve_post,
        lambda state: domain.decide_publish(state, command, checked),
        actor=actor,
        stories=stories,
    )
    return state


async def current_post(post_id: str, *, school_id: str, stories: Stories) -> domain.Post:
    """The post as its stream says, for checks before a change."""
    missing = f"There is no post {post_id}."
    state = await _load(
        domain.post_stream(post_id),
        domain.initial_post,
        domain.evolve_post,
        school_id=school_id,
        missing=missing,
        stories=stories,
    )
    if not state.exists:
        raise NotFound(missing)
    return state


async def edit_post(command: domain.EditPost, *, actor: Actor, stories: Stories) -> domain.Post:
    before = await current_post(command.post_id, school_id=actor.school_id, stories=stories)
    if before.author_id != command.edited_by and not command.may_edit_others:
        raise domain.NotYourPost("You can change only the posts you wrote.")
    await check_attachments(
        command.attachments,
        school_id=actor.school_id,
        owner=command.edited_by,
        already=before.media_ids,
        stories=stories,
    )
    checked = await gate(command.attachments, actor.school_id, stories=stories)
    state = await _execute(
        domain.post_stream(command.post_id),
        domain.initial_post,
        domain.evolve_post,
        lambda state: domain.decide_edit(state, command, checked),
        actor=actor,
        stories=stories,
    )
    return state


async def delete_post(command: domain.DeletePost, *, actor: Actor, stories: Stories) -> None:
    """Its words go with it: the key they were sealed with is destroyed once the deletion is
    recorded (again on a retry, which finds the post deleted). Its photos go too
    (``media_retention``)."""
    await current_post(command.post_id, school_id=actor.school_id, stories=stories)
    await _execute(
        domain.post_stream(command.post_id),
        domain.initial_post,
        domain.evolve_post,
        lambda state: domain.decide_delete(state, command),
        actor=actor,
        stories=stories,
    )
    if stories.keyring is not None:
        await asyncio.to_thread(
            stories.keyring.erase, "post", command.post_id, school_id=actor.school_id
        )


async def like(post_id: str, *, liked: bool, actor: Actor, stories: Stories) -> bool:
    state = await _execute(
        domain.like_stream(post_id, actor.subject),
        lambda: False,
        domain.evolve_like,
        lambda state: domain.decide_like(
            state, post_id=post_id, parent_id=actor.subject, like=liked
        ),
        actor=actor,
        stories=stories,
    )
    return state


async def comments_enabled(school_id: str, *, stories: Stories) -> bool:
    """From the school's own stream: a command must not act on a lagging read model."""
    enabled = False
    for recorded in await stories.store.read_stream(domain.settings_stream(school_id)):
        enabled = domain.evolve_settings(enabled, recorded.event)
    return enabled


async def add_comment(command: domain.AddComment, *, actor: Actor, stories: Stories) -> None:
    await current_post(command.post_id, school_id=actor.school_id, stories=stories)
    enabled = await comments_enabled(actor.school_id, stories=stories)
    await _execute(
        domain.post_stream(command.post_id),
        domain.initial_post,
        domain.evolve_post,
        lambda state: domain.decide_comment(state, command, comments_enabled=enabled),
        actor=actor,
        stories=stories,
    )


async def change_settings(enabled: bool, *, actor: Actor, stories: Stories) -> bool:
    state = await _execute(
        domain.settings_stream(actor.school_id),
        lambda: False,
        domain.evolve_settings,
        lambda state: domain.decide_settings(state, enabled, changed_by=actor.subject),
        actor=actor,
        stories=stories,
    )
    return state


# -- reading posts -----------------------------------------------------------------------


async def post_doc(post_id: str, school_id: str, *, stories: Stories) -> Doc:
    found = strip(await stories.readmodels.get(POSTS, post_id))
    if found is None or found["school_id"] != school_id:
        raise NotFound(f"There is no post {post_id}.")
    return found


async def family_may_see(post: Doc, children: Sequence[Doc], *, stories: Stories) -> bool:
    return _post_visible(post, stories.clock()) and any(
        covers(post["audience"], c) for c in children
    )


async def post_views(
    posts: Sequence[Doc], view: View, *, reader: str, stories: Stories
) -> list[Doc]:
    """Posts as answered: families get only the media consent allows, and whether they
    liked each; staff see all, each attachment marked ``hidden`` where families would not."""
    if not posts:
        return []
    school_id = posts[0]["school_id"]
    tagged = {p for post in posts for a in post["attachments"] for p in a["tagged_pupil_ids"]}
    may = await cleared(tagged, school_id, stories=stories)
    counts = {
        post["post_id"]: len(await stories.readmodels.find(LIKES, {"post_id": post["post_id"]}))
        for post in posts
    }
    mine = await _get_many(LIKES, [like_key(p["post_id"], reader) for p in posts], stories=stories)
    now = stories.clock()
    return [
        {
            "post_id": post["post_id"],
            "author_id": post["author_id"],
            "audience": post["audience"],
            "text": post["text"],
            "attachments": _shown(post["attachments"], may, view, school_id),
            "visible_from": post["visible_from"],
            "scheduled": not _post_visible(post, now),
            "published_at": post["published_at"],
            "edited_at": post["edited_at"],
            "like_count": counts[post["post_id"]],
            "liked": like_key(post["post_id"], reader) in mine,
        }
        for post in posts
    ]


def _with_urls(attachment: Doc, school_id: str) -> Doc:
    url = f"/schools/{school_id}/media/{attachment['media_id']}"
    return {
        **attachment,
        "url": url,
        "thumb_url": f"{url}?size=thumb" if attachment["kind"] == "image" else None,
    }


def post_view_of(state: domain.Post, *, school_id: str, now: datetime) -> Doc:
    """A post just written, as staff see it (the read model may not have it yet)."""
    assert state.post_id is not None and state.audience is not None
    assert state.visible_from is not None and state.author_id is not None
    return {
        "post_id": state.post_id,
        "author_id": state.author_id,
        "audience": state.audience.model_dump(mode="json"),
        "text": state.text,
        "attachments": [
            _with_urls({**a.model_dump(mode="json"), "hidden": False}, school_id)
            for a in state.attachments
        ],
        "visible_from": when(state.visible_from),
        "scheduled": state.visible_from > now,
        "published_at": None,
        "edited_at": None,
        "like_count": 0,
    }


async def posts_for_class(class_id: str, school_id: str, *, stories: Stories) -> list[Doc]:
    """Every post whose audience includes the class, newest first, scheduled ones too."""
    facts = await school(school_id, stories=stories)
    if class_id not in facts["classes"]:
        raise NotFound(f"There is no class {class_id} in this school.")
    found = await stories.readmodels.find(
        POSTS, {"school_id": school_id}, order_by="visible_from", descending=True
    )
    posts = [p for p in (strip(d) for d in found) if p is not None]
    return [p for p in posts if covers_class(p["audience"], class_id, facts)]


async def posts_for_child(child: Doc, *, stories: Stories) -> list[Doc]:
    """What the child's family sees: posts to them that are already visible, newest first."""
    found = await stories.readmodels.find(
        POSTS, {"school_id": child["school_id"]}, order_by="visible_from", descending=True
    )
    now = stories.clock()
    posts = [p for p in (strip(d) for d in found) if p is not None]
    return [p for p in posts if _post_visible(p, now) and covers(p["audience"], child)]


async def likes_of(post_id: str, *, stories: Stories) -> list[str]:
    found = await stories.readmodels.find(LIKES, {"post_id": post_id}, order_by="liked_at")
    return [d["parent_id"] for d in found]


async def comments_of(post_id: str, *, stories: Stories) -> list[Doc]:
    found = await stories.readmodels.find(COMMENTS, {"post_id": post_id}, order_by="added_at")
    return [
        {k: d[k] for k in ("comment_id", "post_id", "author_id", "text", "added_at")} for d in found
    ]


async def settings_of(school_id: str, *, stories: Stories) -> bool:
    found = await stories.readmodels.get(SETTINGS, school_id)
    return bool(found and found["comments_enabled"])


# -- portfolio ---------------------------------------------------------------------------


async def submit_item(command: domain.SubmitItem, *, actor: Actor, stories: Stories) -> domain.Item:
    stream = domain.portfolio_stream(command.item_id)
    before = await _load(
        stream,
        domain.initial_item,
        domain.evolve_item,
        school_id=actor.school_id,
        missing=f"There is no portfolio item {command.item_id}.",
        stories=stories,
    )
    if command.task_id is not None:
        task = strip(await stories.readmodels.get(HOME_LEARNING, command.task_id))
        if (
            task is None
            or task["school_id"] != actor.school_id
            or task["class_id"] != (command.class_id)
        ):
            raise UnknownTask(f"There is no home learning {command.task_id!r} for your class.")
    await check_attachments(
        command.attachments,
        school_id=actor.school_id,
        owner=command.pupil_id,
        already=before.media_ids if before.pupil_id == command.pupil_id else (),
        stories=stories,
    )
    checked = await gate(command.attachments, actor.school_id, stories=stories)
    state = await _execute(
        stream,
        domain.initial_item,
        domain.evolve_item,
        lambda state: domain.decide_submit(state, command, checked),
        actor=actor,
        stories=stories,
    )
    return state


async def current_item(item_id: str, *, school_id: str, stories: Stories) -> domain.Item:
    """The item as its stream says, for checks before a review."""
    missing = f"There is no portfolio item {item_id}."
    state = await _load(
        domain.portfolio_stream(item_id),
        domain.initial_item,
        domain.evolve_item,
        school_id=school_id,
        missing=missing,
        stories=stories,
    )
    if state.status == "none":
        raise NotFound(missing)
    return state


async def review_item(
    item_id: str,
    *,
    approve: bool,
    note: str = "",
    actor: Actor,
    stories: Stories,
) -> domain.Item:
    await current_item(item_id, school_id=actor.school_id, stories=stories)

    def decide(state: domain.Item) -> list[Any]:
        if approve:
            return domain.decide_approve(state, item_id=item_id, approved_by=actor.subject)
        return domain.decide_send_back(
            state, item_id=item_id, note=note, sent_back_by=actor.subject
        )

    state = await _execute(
        domain.portfolio_stream(item_id),
        domain.initial_item,
        domain.evolve_item,
        decide,
        actor=actor,
        stories=stories,
    )
    return state


def item_view_of(state: domain.Item, *, item_id: str, school_id: str) -> Doc:
    """An item just written, as its pupil or teacher sees it."""
    return {
        "item_id": item_id,
        "pupil_id": state.pupil_id,
        "class_id": state.class_id,
        "text": state.text,
        "attachments": [
            _with_urls({**a.model_dump(mode="json"), "hidden": False}, school_id)
            for a in state.attachments
        ],
        "task_id": state.task_id,
        "status": state.status,
        "note": state.note,
    }


async def item_views(items: Sequence[Doc], view: View, *, stories: Stories) -> list[Doc]:
    """Families see approved items only, only the media consent allows, and no notes."""
    if view == "family":
        items = [i for i in items if i["status"] == "approved"]
    if not items:
        return []
    school_id = items[0]["school_id"]
    tagged = {p for i in items for a in i["attachments"] for p in a["tagged_pupil_ids"]}
    may = await cleared(tagged, school_id, stories=stories)
    return [
        {
            "item_id": item["item_id"],
            "pupil_id": item["pupil_id"],
            "class_id": item["class_id"],
            "text": item["text"],
            "attachments": _shown(item["attachments"], may, view, school_id),
            "task_id": item["task_id"],
            "status": item["status"],
            "note": None if view == "family" else item["note"],
            "submitted_at": item["submitted_at"],
            "decided_at": item["decided_at"],
        }
        for item in items
    ]


async def portfolio_of(pupil_id: str, school_id: str, *, stories: Stories) -> list[Doc]:
    found = await stories.readmodels.find(
        PORTFOLIO,
        {"school_id": school_id, "pupil_id": pupil_id},
        order_by="submitted_at",
        descending=True,
    )
    return [d for d in (strip(f) for f in found) if d is not None]


async def queue_of(class_id: str, school_id: str, *, stories: Stories) -> list[Doc]:
    """Work waiting for the class's teachers, oldest first."""
    found = await stories.readmodels.find(
        PORTFOLIO,
        {"school_id": school_id, "class_id": class_id, "status": "submitted"},
        order_by="submitted_at",
    )
    return [d for d in (strip(f) for f in found) if d is not None]


# -- home learning -----------------------------------------------------------------------


async def set_task(
    command: domain.SetTask, *, actor: Actor, stories: Stories
) -> HomeLearningTaskSet:
    facts = await school(actor.school_id, stories=stories)
    if command.class_id not in facts["classes"]:
        raise UnknownClass(f"There is no class {command.class_id!r} in this school.")
    stream = domain.task_stream(command.task_id)
    await _load(
        stream,
        lambda: None,
        domain.evolve_task,
        school_id=actor.school_id,
        missing=f"There is no home learning {command.task_id}.",
        stories=stories,
    )
    today = await school_today(actor.school_id, stories=stories)
    state = await _execute(
        stream,
        lambda: None,
        domain.evolve_task,
        lambda state: domain.decide_task(state, command, today),
        actor=actor,
        stories=stories,
    )
    assert state is not None
    return state


async def task_doc(task_id: str, school_id: str, *, stories: Stories) -> Doc:
    found = strip(await stories.readmodels.get(HOME_LEARNING, task_id))
    if found is None or found["school_id"] != school_id:
        raise NotFound(f"There is no home learning {task_id}.")
    return found


def task_view(task: Doc) -> Doc:
    return {
        k: task[k]
        for k in ("task_id", "class_id", "title", "instructions", "due_on", "set_by", "set_at")
    }


async def tasks_of(class_id: str, school_id: str, *, stories: Stories) -> list[Doc]:
    found = await stories.readmodels.find(
        HOME_LEARNING, {"school_id": school_id, "class_id": class_id}, order_by="set_at"
    )
    return [task_view(d) for d in reversed(found)]


STATUS_ORDER = {"approved": 3, "submitted": 2, "sent_back": 1}


async def submissions(task: Doc, *, stories: Stories) -> list[Doc]:
    """Every pupil in the class now, with where their home learning stands."""
    school_id, class_id = task["school_id"], task["class_id"]
    members = await class_members(school_id, class_id, stories=stories)
    names = display_names(PupilName(m["pupil_id"], m["first_name"], m["surname"]) for m in members)
    items = await stories.readmodels.find(
        PORTFOLIO, {"school_id": school_id, "task_id": task["task_id"]}, order_by="submitted_at"
    )
    best: dict[str, Doc] = {}
    for item in items:
        held = best.get(item["pupil_id"])
        # one approved piece of work counts as done, whatever else the pupil handed in
        if held is None or STATUS_ORDER[item["status"]] >= STATUS_ORDER[held["status"]]:
            best[item["pupil_id"]] = item
    rows = []
    for member in sorted(members, key=lambda m: (names[m["pupil_id"]].casefold(), m["pupil_id"])):
        handed_in = best.get(member["pupil_id"])
        rows.append(
            {
                "pupil_id": member["pupil_id"],
                "name": names[member["pupil_id"]],
                "status": "not_yet" if handed_in is None else handed_in["status"],
                "item_id": None if handed_in is None else handed_in["item_id"],
                "submitted_at": None if handed_in is None else handed_in["submitted_at"],
            }
        )
    return rows


FAMILY_STATUS = {"approved": "approved", "submitted": "submitted", "sent_back": "submitted"}
"""A family learns that work was handed in; what the teacher asked to change is the
pupil's business, and the work itself waits for approval, as in the portfolio."""


async def home_learning_of(pupil: Doc, view: View, *, stories: Stories) -> list[Doc]:
    """The home learning of the pupil's class now, newest first, each with where the
    pupil's hand-in stands and the work handed in that this reader may see."""
    school_id = pupil["school_id"]
    tasks = await tasks_of(pupil["class_id"], school_id, stories=stories)
    if not tasks:
        return []
    task_ids = {t["task_id"] for t in tasks}
    handed = [
        i
        for i in await portfolio_of(pupil["pupil_id"], school_id, stories=stories)
        if i["task_id"] in task_ids
    ]
    best: dict[str, str] = {}
    for item in handed:
        held = best.get(item["task_id"])
        if held is None or STATUS_ORDER[item["status"]] > STATUS_ORDER[held]:
            best[item["task_id"]] = item["status"]
    shown = await item_views(handed, view, stories=stories)
    rows = []
    for task in tasks:
        status = best.get(task["task_id"], "not_yet")
        rows.append(
            {
                "task": task,
                "status": FAMILY_STATUS.get(status, status) if view == "family" else status,
                "work": [w for w in shown if w["task_id"] == task["task_id"]],
            }
        )
    return rows
