"""Photos are judged by their header before a pixel is decoded, and kept at card size."""

import resource
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from roster.verification import photo_problem
from tests.roster.photos import photo_bytes, png_bomb
from tests.roster.test_verification_views import form_data


def test_the_probe_bomb_is_refused_before_decoding():
    # The probe's file: 10,000 × 12,500 pixels in a few hundred KB, 1.6 GB once decoded.
    bomb = png_bomb(10_000, 12_500)
    assert len(bomb) < 1024 * 1024
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    problem, image = photo_problem(bomb)
    assert image is None and "照片像素过大" in problem
    assert time.monotonic() - started < 0.5
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 50 * 1024


def test_a_png_over_its_limit_is_refused_with_its_size(settings):
    problem, _ = photo_problem(png_bomb(3_600, 4_500))  # 16.2 million pixels
    assert "照片像素过大（3600×4500），最多 1600 万像素" in problem


def test_the_limit_is_a_setting(settings):
    settings.IMAGE_MAX_PIXELS = 400_000
    problem, _ = photo_problem(photo_bytes(width=600, height=750))
    assert "最多 40 万像素" in problem


def test_pillow_itself_refuses_far_larger_images_everywhere(settings):
    assert Image.MAX_IMAGE_PIXELS == settings.IMAGE_MAX_PIXELS


def test_a_large_phone_photo_is_kept_upright_at_card_size():
    # 3,024 × 4,032 shot sideways (EXIF "rotate 90°"): decoded at half scale, stored upright.
    problem, image = photo_problem(photo_bytes(width=4032, height=3024, exif_orientation=6))
    assert problem is None
    assert image.size == (1200, 1600)


@pytest.mark.django_db
def test_the_verify_form_refuses_the_bomb_and_saves_nothing(client, clerk_a, person_a):
    client.force_login(clerk_a)
    bomb = SimpleUploadedFile("me.png", png_bomb(10_000, 12_500), "image/png")
    response = client.post(
        reverse("roster:person-verify", args=[person_a.pk]),
        form_data(person_a, photo_upload=bomb),
    )
    assert response.status_code == 200
    assert "照片像素过大" in response.content.decode()
    person_a.refresh_from_db()
    assert not person_a.photo
