"""Financial activations and electronic social security card signings."""

from __future__ import annotations

from datetime import timedelta

from activation.models import Activation, ElectronicCardSigning
from issuance.models import LIVE_CARD_STATUSES, Card, CardStatus, LedgerEvent

from .base import DemoBase
from .cards import CardDraft


class Activations(DemoBase):
    """Face-to-face activations and electronic card signings of the cards made."""

    def _activations(
        self, cards: list[Card], drafts: list[CardDraft]
    ) -> tuple[list[Activation], list[ElectronicCardSigning]]:
        rng = self.rng
        activations, signings = [], []
        signed: set[int] = set()
        for card, draft in zip(cards, drafts, strict=True):
            steps = draft.journey.steps
            activated_at = [
                when
                for step, when in zip(steps, draft.times, strict=True)
                if step.event == LedgerEvent.ACTIVATED
            ]
            if activated_at:
                activations.append(
                    Activation(
                        card=card,
                        activated_at=activated_at[-1],
                        branch=draft.branch,
                        face_to_face=True,
                        identity_checked=True,
                        recorded_by=self.user,
                        note=draft.activation_note,
                    )
                )
            person = card.person
            if person.is_deceased or card.status not in LIVE_CARD_STATUSES:
                continue
            if person.pk in signed:
                continue
            if card.status == CardStatus.ACTIVATED and rng.random() < 0.6:
                signings.append(
                    ElectronicCardSigning(
                        person=person,
                        signed_at=activated_at[-1],
                        channel="网点柜台",
                        recorded_by=self.user,
                    )
                )
                signed.add(person.pk)
            elif (
                card.status == CardStatus.ISSUED
                and steps[-1].signee == person.name
                and rng.random() < 0.1
            ):
                signings.append(
                    ElectronicCardSigning(
                        person=person,
                        signed_at=draft.times[-1] + timedelta(hours=2),
                        channel="云南人社12333小程序",
                        recorded_by=self.user,
                    )
                )
                signed.add(person.pk)
        return activations, signings
