"""Media: the store port and its adapters.

Making uploads safe lives in ``schoolgate_kit.media.safety`` (and runs through
``schoolgate_kit.media.decoding``); callers import those explicitly, so that processes
which only store or serve media never import Pillow and pypdf.
"""

from schoolgate_kit.media.port import (
    MEDIA_ID,
    MediaIdTaken,
    MediaStore,
    StoredMedia,
    check_media_id,
)

__all__ = ["MEDIA_ID", "MediaIdTaken", "MediaStore", "StoredMedia", "check_media_id"]
