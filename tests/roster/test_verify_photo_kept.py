"""A photo taken at the door survives a validation error or an edit conflict."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dayao_sscard.roles import Role
from roster.models import Person, VerificationStatus
from tests.factories import PersonFactory, UserFactory
from tests.roster.photos import photo_bytes
from tests.roster.test_verification_views import form_data as verification_form_data
from tests.roster.test_verification_views import verify_url


def kept_url(person, token):
    return reverse("roster:person-kept-photo", args=[person.pk, token])


def form_data(person, **changes):
    """The verify form filled in, with a good phone number unless ``changes`` says otherwise."""
    return verification_form_data(person, **{"phone": "13987651234", **changes})


def a_photo():
    return SimpleUploadedFile("me.jpg", photo_bytes(), "image/jpeg")


@pytest.fixture
def pending(village_a):
    return PersonFactory(
        township=village_a.township, village=village_a, name="王秀英", card_class="no_card_info"
    )


@pytest.fixture
def kept(client, collector_a, pending):
    """The collector's first try: a good photo, a mistyped phone number."""
    client.force_login(collector_a)
    response = client.post(
        verify_url(pending), form_data(pending, phone="1398765", photo_upload=a_photo())
    )
    assert response.status_code == 200
    return response


@pytest.mark.django_db
class TestPhotoSurvivesAnError:
    def test_the_form_comes_back_with_the_photo_kept_and_nothing_saved(self, kept, pending):
        token = kept.context["kept_photo"]
        assert re.fullmatch(r"[A-Za-z0-9_-]{20,64}", token)
        html = kept.content.decode()
        assert f'name="photo_token" value="{token}"' in html
        assert kept_url(pending, token) in html
        assert "照片已暂存" in html
        assert kept.context["form"].errors["phone"]
        pending.refresh_from_db()
        assert not pending.photo and pending.version == 1

    def test_the_preview_is_a_small_jpeg_for_its_collector(self, client, kept, pending):
        response = client.get(kept_url(pending, kept.context["kept_photo"]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/jpeg"
        assert response["Cache-Control"] == "private, no-store"
        assert response.content[:2] == b"\xff\xd8"

    def test_saving_again_uses_the_kept_photo_without_a_second_shot(self, client, kept, pending):
        token = kept.context["kept_photo"]
        response = client.post(verify_url(pending), form_data(pending, photo_token=token))
        assert response.status_code == 302
        pending.refresh_from_db()
        assert pending.photo and pending.photo_thumbnail
        assert pending.verification_status == VerificationStatus.READY
        # Used once: the kept copy is gone.
        assert client.get(kept_url(pending, token)).status_code == 404

    def test_a_second_error_keeps_it_still(self, client, kept, pending):
        token = kept.context["kept_photo"]
        again = client.post(verify_url(pending), form_data(pending, phone="1", photo_token=token))
        assert again.status_code == 200
        assert again.context["kept_photo"] == token
        assert client.get(kept_url(pending, token)).status_code == 200

    def test_a_new_photo_replaces_the_kept_one(self, client, kept, pending):
        token = kept.context["kept_photo"]
        again = client.post(
            verify_url(pending),
            form_data(pending, phone="1", photo_token=token, photo_upload=a_photo()),
        )
        assert again.context["kept_photo"] not in ("", token)
        assert client.get(kept_url(pending, token)).status_code == 404

    def test_an_edit_conflict_keeps_it_too(self, client, collector_a, clerk_a, pending):
        stale = form_data(pending, photo_upload=a_photo())
        client.force_login(clerk_a)
        client.post(verify_url(pending), form_data(pending, occupation="务工"))
        client.force_login(collector_a)
        response = client.post(verify_url(pending), stale)
        assert response.status_code == 409
        token = response.context["kept_photo"]
        assert token
        fresh = Person.objects.get(pk=pending.pk)
        saved = client.post(verify_url(pending), form_data(fresh, photo_token=token))
        assert saved.status_code == 302
        fresh.refresh_from_db()
        assert fresh.photo


@pytest.mark.django_db
class TestKeptPhotoBelongsToItsCollector:
    def test_another_user_in_scope_cannot_see_or_use_it(self, client, kept, pending, clerk_a):
        token = kept.context["kept_photo"]
        client.force_login(clerk_a)
        assert client.get(kept_url(pending, token)).status_code == 404
        response = client.post(verify_url(pending), form_data(pending, photo_token=token))
        assert response.status_code == 302
        pending.refresh_from_db()
        assert not pending.photo

    def test_it_is_not_for_another_person(self, client, kept, pending, village_a, collector_a):
        other = PersonFactory(
            township=village_a.township, village=village_a, card_class="no_card_info"
        )
        token = kept.context["kept_photo"]
        assert client.get(kept_url(other, token)).status_code == 404
        client.post(verify_url(other), form_data(other, photo_token=token))
        other.refresh_from_db()
        assert not other.photo

    def test_a_clerk_of_another_township_gets_404(self, client, kept, pending, clerk_b):
        client.force_login(clerk_b)
        assert client.get(kept_url(pending, kept.context["kept_photo"])).status_code == 404

    def test_a_supervisor_may_not(self, client, kept, pending, supervisor):
        client.force_login(supervisor)
        assert client.get(kept_url(pending, kept.context["kept_photo"])).status_code == 403

    def test_a_forged_token_finds_nothing(self, client, kept, pending):
        for token in ("..", "x" * 30, "..%2F..%2Fsecret_key"):
            assert client.get(kept_url(pending, token)).status_code == 404

    def test_a_collector_of_the_same_village_cannot_use_it(self, client, kept, pending, village_a):
        colleague = UserFactory(
            username="collector_a2",
            role=Role.VILLAGE_COLLECTOR,
            township=village_a.township,
            village=village_a,
        )
        client.force_login(colleague)
        assert client.get(kept_url(pending, kept.context["kept_photo"])).status_code == 404


@pytest.mark.django_db
def test_a_refused_photo_is_not_kept(client, collector_a, pending):
    client.force_login(collector_a)
    landscape = SimpleUploadedFile("wide.jpg", photo_bytes(width=800, height=600), "image/jpeg")
    response = client.post(verify_url(pending), form_data(pending, photo_upload=landscape))
    assert response.status_code == 200
    assert response.context["kept_photo"] == ""
    assert "竖版证件照" in response.content.decode()


@pytest.mark.django_db
class TestTheSummaryAfterAnError:
    def test_names_the_field_to_correct_and_not_the_kept_photo(self, kept):
        html = kept.content.decode()
        errors = html[html.index('data-testid="form-errors"') :]
        errors = errors[: errors.index("</div>")]
        assert "未保存，请改正 1 处" in errors and "联系电话格式不正确" in errors
        assert "联系电话：联系电话" not in errors
        summary = html[html.index('data-testid="problems"') :]
        summary = summary[: summary.index("</div>")]
        assert "尚缺" not in summary
        assert "照片已暂存" in summary
