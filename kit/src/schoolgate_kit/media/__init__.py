from schoolgate_kit.media.port import (
    MEDIA_ID,
    MediaIdTaken,
    MediaStore,
    StoredMedia,
    check_media_id,
)

__all__ = ["MEDIA_ID", "MediaIdTaken", "MediaStore", "StoredMedia", "check_media_id"]
