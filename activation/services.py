"""Counter writes: issuing and activating a card at the counter, and the electronic card.

Issuance and activation are ledger events: they go through
``issuance.services.card_record_event``, the one write path of a card's ledger (which
also writes the ``Activation``), with the custody ``issuance.events.custody_for_event``
makes of the clerk's entries, as for the API; here only what the counter says about them
is added — where (the clerk's branch), who signed, and what was checked.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from dayao_sscard.audit import audit_record, snapshot
from dayao_sscard.permissions import require
from issuance.events import custody_for_event
from issuance.models import CARD_MADE_STATUSES, Card, IssueMethod, LedgerEvent
from issuance.services import card_record_event
from roster.models import Person

from .models import ElectronicCardSigning

ECARD_CHANNELS = ("网点柜台", "云南人社12333小程序", "掌上12333", "微信", "支付宝")


def _counter_place(acting_user) -> str:
    branch = getattr(acting_user, "bank_branch", None)
    return f"{branch}柜台" if branch is not None else "县人社局"


def card_issue_at_counter(
    *, card: Card, acting_user, signee: str, identity_checked: bool, note: str = ""
) -> Card:
    """发放 at the counter (网点柜台发放): the card goes into its holder's hands.

    At the counter the holder signs: another name is refused, not taken for a proxy.
    Handing a card to a proxy needs a written entrustment and an approval on record,
    which the counter does not take.
    """
    if "".join(signee.split()) != "".join(card.person.name.split()):
        raise ValidationError(
            f"网点柜台发放须由持卡人{card.person.name}本人签收；"
            "他人代领须凭经批准的代管（代领）审批，不能在柜台办理。"
        )
    return card_record_event(
        card=card,
        event=LedgerEvent.ISSUED,
        acting_user=acting_user,
        note=note.strip(),
        custody=custody_for_event(
            event=LedgerEvent.ISSUED,
            acting_user=acting_user,
            to_party=card.person.name,
            location=_counter_place(acting_user),
            signee=signee.strip(),
            method=IssueMethod.COUNTER,
            identity_checked=identity_checked,
        ),
    )


def card_activate_at_counter(
    *, card: Card, acting_user, face_to_face: bool, identity_checked: bool, note: str = ""
) -> Card:
    """金融功能激活, face to face: refused by the ledger unless both boxes were ticked."""
    return card_record_event(
        card=card,
        event=LedgerEvent.ACTIVATED,
        acting_user=acting_user,
        note=note.strip(),
        custody=custody_for_event(
            event=LedgerEvent.ACTIVATED,
            acting_user=acting_user,
            location=_counter_place(acting_user),
            face_to_face=face_to_face,
            identity_checked=identity_checked,
        ),
    )


def ecard_sign(
    *, person: Person, acting_user, channel: str, signed_at: datetime | None = None
) -> ElectronicCardSigning:
    """Record that the person's electronic card (电子社保卡) was signed; once per person.

    The electronic card is the image of a physical one: the person must hold a card made.
    """
    require(acting_user, "activation.sign_ecard", person)
    channel = channel.strip()
    if not channel:
        raise ValidationError("请选择电子社保卡的签发渠道。")
    now = timezone.now()
    signed_at = signed_at or now
    if signed_at > now:
        raise ValidationError("签发时间不能晚于现在。")
    try:
        with transaction.atomic():
            locked = Person.objects.select_for_update().get(pk=person.pk)
            if locked.is_deceased:
                raise ValidationError("该人员已登记死亡，不能签发电子社保卡。")
            earlier = ElectronicCardSigning.objects.filter(person=locked).first()
            if earlier is not None:
                raise ValidationError(_already_signed(earlier))
            made = Card.objects.filter(person=locked, status__in=CARD_MADE_STATUSES)
            if not made.exists():
                raise ValidationError("该人员还没有制成的社保卡，制卡后才能签发电子社保卡。")
            if not made.for_user(acting_user).exists():
                raise ValidationError(
                    "该人员的社保卡不由本网点负责，请到发卡银行的网点登记电子社保卡。"
                )
            signing = ElectronicCardSigning.objects.create(
                person=locked, signed_at=signed_at, channel=channel[:50], recorded_by=acting_user
            )
            audit_record(
                actor=acting_user,
                action="activation.ecard.signed",
                obj=signing,
                after=snapshot(signing),
            )
            return signing
    except IntegrityError as exc:
        # The person row lock keeps this from happening but for a row written without it.
        earlier = ElectronicCardSigning.objects.get(person=person)
        raise ValidationError(_already_signed(earlier)) from exc


def _already_signed(earlier: ElectronicCardSigning) -> str:
    day = timezone.localtime(earlier.signed_at).strftime("%Y-%m-%d")
    return f"该人员已于{day}签发电子社保卡（{earlier.channel}），不能重复登记。"


def counter_person_opened(*, person: Person, acting_user) -> None:
    """A clerk found, by exact ID number, a person outside their branch's list scope (one
    without a card yet): the look is recorded, as a full ID number's is."""
    audit_record(actor=acting_user, action="activation.counter.person_found", obj=person)
