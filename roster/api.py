"""A small read API for counter systems and scripts (session login)."""

from django.http import HttpRequest, JsonResponse

from dayao_sscard.api import api_view, json_response
from dayao_sscard.permissions import may

from .models import CardClass
from .selectors import person_card_witnesses, person_cards, person_get_by_id_number


@api_view(
    methods=("GET",),
    actions=("roster.open_person",),
    not_found="未找到该身份证号码的人员，或该人员不在您的管辖范围内。",
)
def person_by_id_number(request: HttpRequest, id_number: str) -> JsonResponse:
    person = person_get_by_id_number(user=request.user, raw_id_number=id_number)
    data = person_as_json(
        person,
        latest_card=person_cards(user=request.user, person=person).first(),
        with_categories=may(request.user, "roster.view_person_categories", person),
        witnesses=person_card_witnesses(person=person),
    )
    return json_response(data)


def person_as_json(person, *, latest_card, with_categories: bool, witnesses: dict) -> dict:
    """Identity and contact values masked: the caller already knows whom they asked for.
    Categories (poverty, disability…) only for roles that may see them, not the bank counter;
    ``latest_card`` is the newest card the caller reaches. ``card_class`` is the reconciled
    class every page counts (a card our ledger shows made is 已制卡); ``export_card_class``
    is what the card-system export says, and ``witnesses_disagree`` tells them apart."""
    card_class = witnesses["card_class"]
    return {
        "id_number": person.masked_id_number,
        "name": person.name,
        "gender": person.gender,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "ethnicity": person.ethnicity,
        "phone": person.masked_phone,
        "township": {"code": person.township.code, "name": person.township.name},
        "village": person.village.name if person.village_id else None,
        "vital_status": person.vital_status,
        "card_class": card_class or None,
        "card_class_label": CardClass(card_class).label if card_class else None,
        "export_card_class": person.card_class or None,
        "witnesses_disagree": witnesses["disagrees"],
        **(
            {"categories": [c.category for c in person.categories.all()]} if with_categories else {}
        ),
        "card": (
            {
                "status": latest_card.status,
                "status_label": latest_card.get_status_display(),
                "bank": str(latest_card.bank),
                "card_number_tail": (latest_card.card_number or "")[-4:],
            }
            if latest_card
            else None
        ),
    }
