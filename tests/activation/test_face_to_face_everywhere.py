"""A non-face-to-face activation (or one without the holder's ID document checked) is
refused through every entry point: the API, the service from a shell, the admin, the ORM
and ``loaddata`` (issue 9, Acceptance). The counter screen's form has its own test."""

import json

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from activation.models import Activation, ElectronicCardSigning
from issuance.models import Card, CardStatus, LedgerEntry, LedgerEvent
from issuance.services import Custody, card_record_event, cards_record_event

NUMBER = "M40000001"


@pytest.fixture
def card(branch_a, person_a) -> Card:
    """Issued to its holder: the one state activation may follow."""
    return Card.objects.create(
        person=person_a, bank=branch_a.bank, card_number=NUMBER, status=CardStatus.ISSUED
    )


def not_activated(card: Card) -> bool:
    return (
        Card.objects.get(pk=card.pk).status == CardStatus.ISSUED
        and not Activation.objects.filter(card=card).exists()
        and not LedgerEntry.objects.filter(card=card).exists()
    )


NOT_FACE_TO_FACE = [
    pytest.param(False, True, id="not-face-to-face"),
    pytest.param(True, False, id="id-not-checked"),
    pytest.param(False, False, id="neither"),
]


@pytest.mark.django_db
class TestTheApi:
    @pytest.mark.parametrize("face_to_face, identity_checked", NOT_FACE_TO_FACE)
    def test_409(self, banker_a, card, face_to_face, identity_checked):
        client = Client()
        client.force_login(banker_a)
        body = {
            "event": "activated",
            "face_to_face": face_to_face,
            "identity_checked": identity_checked,
        }
        response = client.post(
            reverse("api:card-events", args=[NUMBER]),
            data=json.dumps(body),
            content_type="application/json",
        )
        assert response.status_code == 409
        assert "金融功能激活" in response.json()["detail"]
        assert not_activated(card)

    def test_a_string_for_yes_is_not_a_yes(self, banker_a, card):
        client = Client()
        client.force_login(banker_a)
        response = client.post(
            reverse("api:card-events", args=[NUMBER]),
            data='{"event": "activated", "face_to_face": "true", "identity_checked": "true"}',
            content_type="application/json",
        )
        assert response.status_code == 400
        assert not_activated(card)


@pytest.mark.django_db
class TestTheService:
    @pytest.mark.parametrize("face_to_face, identity_checked", NOT_FACE_TO_FACE)
    @pytest.mark.parametrize("who", ["banker_a"])
    def test_validation_error(self, request, card, who, face_to_face, identity_checked):
        with pytest.raises(ValidationError, match="金融功能激活"):
            card_record_event(
                card=card,
                event=LedgerEvent.ACTIVATED,
                acting_user=request.getfixturevalue(who),
                custody=Custody(face_to_face=face_to_face, identity_checked=identity_checked),
            )
        assert not_activated(card)

    def test_the_bulk_service_never_activates(self, banker_a, card):
        with pytest.raises(ValidationError, match="逐张当面办理"):
            cards_record_event(
                cards=[card],
                event=LedgerEvent.ACTIVATED,
                acting_user=banker_a,
                custody=Custody(face_to_face=True, identity_checked=True),
            )
        assert not_activated(card)

    def test_from_the_shell(self, banker_a, card):
        code = (
            "from issuance.models import Card; "
            "from dayao_sscard.models import User; "
            "from issuance.services import Custody, card_record_event; "
            f"card_record_event(card=Card.objects.get(pk={card.pk}), event='activated', "
            f"acting_user=User.objects.get(pk={banker_a.pk}), custody=Custody(identity_checked=True))"
        )
        with pytest.raises(ValidationError, match="不得非面签激活"):
            call_command("shell", command=code, verbosity=0)
        assert not_activated(card)


@pytest.mark.django_db
class TestTheAdmin:
    """The admin holds no way to write an activation or a ledger entry."""

    @pytest.mark.parametrize("model", [Activation, LedgerEntry, Card, ElectronicCardSigning])
    def test_registered_only_read_only(self, rf, county_admin, model):
        model_admin = admin.site._registry.get(model)
        request = rf.get("/admin/")
        request.user = county_admin
        writes = [
            name
            for name in ("add", "change", "delete")
            if model_admin is not None and getattr(model_admin, f"has_{name}_permission")(request)
        ]
        assert writes == []

    @pytest.mark.parametrize("path", ["activation/activation", "issuance/ledgerentry"])
    def test_no_add_page(self, county_admin, path):
        client = Client()
        client.force_login(county_admin)
        assert client.get(f"/admin/{path}/add/").status_code == 404
        assert client.post(f"/admin/{path}/add/", {"face_to_face": ""}).status_code == 404
        assert not Activation.objects.exists()


@pytest.mark.django_db
class TestTheDatabase:
    """Written around the service, the CHECK constraints still refuse."""

    @pytest.mark.parametrize("face_to_face, identity_checked", NOT_FACE_TO_FACE)
    def test_an_activation_row(self, banker_a, branch_a, card, face_to_face, identity_checked):
        with (
            pytest.raises(IntegrityError, match="activation_only_face_to_face"),
            transaction.atomic(),
        ):
            Activation.objects.create(
                card=card,
                activated_at=timezone.now(),
                branch=branch_a,
                face_to_face=face_to_face,
                identity_checked=identity_checked,
                recorded_by=banker_a,
            )
        assert not_activated(card)

    @pytest.mark.parametrize(
        "face_to_face, identity_checked, constraint",
        [
            (False, True, "ledger_activation_face_to_face"),
            (True, False, "ledger_activation_identity_checked"),
        ],
    )
    def test_a_ledger_entry(self, banker_a, card, face_to_face, identity_checked, constraint):
        with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
            LedgerEntry.objects.create(
                card=card,
                sequence=1,
                event=LedgerEvent.ACTIVATED,
                status_before=CardStatus.ISSUED,
                status_after=CardStatus.ACTIVATED,
                face_to_face=face_to_face,
                identity_checked=identity_checked,
                occurred_at=timezone.now(),
                recorded_by=banker_a,
            )
        assert not_activated(card)

    def test_in_bulk(self, banker_a, branch_a, card):
        with (
            pytest.raises(IntegrityError, match="activation_only_face_to_face"),
            transaction.atomic(),
        ):
            Activation.objects.bulk_create(
                [
                    Activation(
                        card=card,
                        activated_at=timezone.now(),
                        branch=branch_a,
                        face_to_face=False,
                        identity_checked=True,
                        recorded_by=banker_a,
                    )
                ]
            )
        assert not_activated(card)


@pytest.mark.django_db
class TestLoaddata:
    """A fixture holding such a record loads nothing at all."""

    def fixture(self, tmp_path, records: list[dict]) -> str:
        path = tmp_path / "activations.json"
        path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
        return str(path)

    def test_an_activation_without_face_to_face(self, tmp_path, banker_a, branch_a, card):
        signing = {
            "model": "activation.electroniccardsigning",
            "pk": 9001,
            "fields": {
                "person": card.person_id,
                "signed_at": "2026-11-28T09:30:00+08:00",
                "channel": "网点柜台",
                "recorded_by": banker_a.pk,
            },
        }
        activation = {
            "model": "activation.activation",
            "pk": 9001,
            "fields": {
                "card": card.pk,
                "activated_at": "2026-11-28T09:30:00+08:00",
                "branch": branch_a.pk,
                "face_to_face": False,
                "identity_checked": True,
                "recorded_by": banker_a.pk,
                "note": "电话激活",
            },
        }
        path = self.fixture(tmp_path, [signing, activation])
        with pytest.raises(IntegrityError, match="activation_only_face_to_face"):
            call_command("loaddata", path, verbosity=0)
        assert not ElectronicCardSigning.objects.exists()
        assert not_activated(card)

    def test_a_ledger_activation_without_the_id_check(self, tmp_path, banker_a, card):
        entry = {
            "model": "issuance.ledgerentry",
            "pk": 9001,
            "fields": {
                "card": card.pk,
                "sequence": 1,
                "event": "activated",
                "status_before": "issued",
                "status_after": "activated",
                "face_to_face": True,
                "identity_checked": False,
                "occurred_at": "2026-11-28T09:30:00+08:00",
                "recorded_at": "2026-11-28T09:31:00+08:00",
                "recorded_by": banker_a.pk,
            },
        }
        path = self.fixture(tmp_path, [entry])
        with pytest.raises(IntegrityError, match="ledger_activation_identity_checked"):
            call_command("loaddata", path, verbosity=0)
        assert not_activated(card)
