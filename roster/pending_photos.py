"""A photo taken at the door survives a form error: kept for its uploader until saved.

When the verify form comes back with an error (a missing date, a mistyped phone), a
photo that passed its own checks is kept under a random token in the private data
folder, bound to the user who took it and the person it shows. The form re-shows it
and sends the token back, so the collector does not have to shoot again. Nothing is
recorded on the person until the form is saved; kept photos older than a day go away
the next time the same user keeps one.
"""

import io
import re
import secrets
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image

from .models import Person
from .verification import photo_problem

FOLDER = "pending_photos"
KEPT_FOR = timedelta(days=1)
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _path(user, person: Person, token: str, suffix: str) -> str | None:
    if not _TOKEN.match(token or ""):
        return None
    return f"{FOLDER}/{user.pk}/{person.pk}-{token}{suffix}"


def pending_photo_keep(*, user, person: Person, data: bytes) -> str:
    """Keep a checked photo for this user and person; the token to send back."""
    problem, image = photo_problem(data)
    if problem:
        raise ValueError(problem)
    _forget_old(user)
    token = secrets.token_urlsafe(24)
    default_storage.save(_path(user, person, token, ".photo"), ContentFile(data))
    default_storage.save(_path(user, person, token, ".preview.jpg"), ContentFile(_preview(image)))
    return token


def pending_photo_data(*, user, person: Person, token: str) -> bytes | None:
    """The kept photo, only for the user who took it and the person it was taken for."""
    return _read(_path(user, person, token, ".photo"))


def pending_photo_preview(*, user, person: Person, token: str) -> bytes | None:
    return _read(_path(user, person, token, ".preview.jpg"))


def _read(path: str | None) -> bytes | None:
    if path is None or not default_storage.exists(path):
        return None
    with default_storage.open(path, "rb") as file:
        return file.read()


def pending_photo_discard(*, user, person: Person, token: str) -> None:
    for suffix in (".photo", ".preview.jpg"):
        path = _path(user, person, token, suffix)
        if path is not None and default_storage.exists(path):
            default_storage.delete(path)


def _forget_old(user) -> None:
    folder = f"{FOLDER}/{user.pk}"
    if not default_storage.exists(folder):
        return
    cutoff = timezone.now() - KEPT_FOR
    for name in default_storage.listdir(folder)[1]:
        path = f"{folder}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)


def _preview(image: Image.Image) -> bytes:
    """A small JPEG, re-encoded: no EXIF (no GPS) leaves the server."""
    copy = image.convert("RGB")
    copy.thumbnail((300, 380))
    out = io.BytesIO()
    copy.save(out, format="JPEG", quality=85)
    return out.getvalue()
