"""待制卡, asked once: the batch, the counter's instant card and the figures agree on who
may have a (new) card made now, and say the same reason for everyone else."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from issuance.batches import batch_create
from issuance.models import Card, CardStatus
from issuance.services import card_make_instant
from roster.models import Person, VerificationStatus, VitalStatus
from roster.witnesses import card_refusal, card_refusals, ready_for_card_q

from .batchdata import bank, make_batch, ready_person


@pytest.fixture
def everyone(village_a, branch_a, clerk_a, fixed_clock):
    """One person for each thing that stands between a person and a card, and one ready."""
    persons = {
        "合格": ready_person(village_a),
        "制卡失败过": ready_person(village_a, card_class="card_failed"),
        "未比对": ready_person(village_a, card_class=None),
        "卡务已制卡": ready_person(village_a, card_class="card_made"),
        "卡务制卡中": ready_person(village_a, card_class="in_production"),
        "已故": ready_person(
            village_a, vital_status=VitalStatus.DECEASED, death_date=datetime.date(2026, 1, 5)
        ),
        "待核查": ready_person(village_a, verification_status=VerificationStatus.PENDING),
        "无法联系": ready_person(village_a, verification_status=VerificationStatus.UNREACHABLE),
        "有库存卡": ready_person(village_a),
        "在批次中": ready_person(village_a),
        "批次中卡已注销": ready_person(village_a),
    }
    Card.objects.create(person=persons["有库存卡"], bank=branch_a.bank, status=CardStatus.IN_STOCK)
    make_batch(clerk_a, [persons["在批次中"]])
    # A card withdrawn outside the batch (注销 through the ledger) leaves the member open.
    make_batch(clerk_a, [persons["批次中卡已注销"]])
    Card.objects.filter(person=persons["批次中卡已注销"]).update(status=CardStatus.CANCELLED)
    return persons


@pytest.mark.django_db
class TestOneAnswer:
    def test_the_count_and_the_refusals_agree(self, everyone):
        counted = set(Person.objects.filter(ready_for_card_q()).values_list("pk", flat=True))
        refused = card_refusals(everyone.values())
        allowed = {p.pk for p in everyone.values()} - set(refused)
        assert counted == allowed == {everyone["合格"].pk, everyone["制卡失败过"].pk}

    def test_each_reason(self, everyone):
        reasons = {name: card_refusal(person) for name, person in everyone.items()}
        assert reasons["未比对"].startswith("尚未与卡务系统比对，不知是否已有社保卡")
        assert reasons["卡务已制卡"].startswith("卡务系统比对结果为“已制卡”（一人一卡）")
        assert reasons["卡务制卡中"].startswith("卡务系统比对结果为“制卡中”（一人一卡）")
        assert reasons["已故"] == "已登记死亡，不再制卡。"
        assert reasons["待核查"] == "尚未核查完毕（待核查），请先由乡镇社保中心完成信息核查。"
        assert reasons["无法联系"] == "尚未核查完毕（无法联系），请先由乡镇社保中心完成信息核查。"
        assert reasons["有库存卡"].startswith("已有一张有效社保卡（已制卡（库存））")
        assert reasons["在批次中"].startswith("已在申领批次")
        assert reasons["批次中卡已注销"].startswith("已在申领批次")

    def test_the_documented_difference_an_id_document_expired_since_verification(
        self, village_a, fixed_clock
    ):
        """The count trusts the verification; the refusal checks the dates against today."""
        expired = ready_person(
            village_a,
            id_valid_long_term=False,
            id_valid_from=datetime.date(2006, 11, 1),
            id_valid_until=datetime.date(2026, 11, 1),
        )
        assert Person.objects.filter(ready_for_card_q(), pk=expired.pk).exists()
        assert (
            card_refusal(expired)
            == "资料不全：证件已于2026年11月01日过期。请先由乡镇社保中心核查补齐。"
        )


@pytest.mark.django_db
class TestTheBatchAndTheCounterSayTheSame:
    @pytest.mark.parametrize("name", ["未比对", "卡务已制卡", "在批次中", "待核查"])
    def test_refused_alike(self, everyone, clerk_a, banker_a, village_a, name):
        person = everyone[name]
        created = batch_create(
            acting_user=clerk_a, bank=bank(), township=village_a.township, person_ids=[person.pk]
        )
        said = card_refusal(person)
        assert created.batch is None and [r.reason for r in created.refusals] == [said]
        with pytest.raises(ValidationError) as refused:
            card_make_instant(person=person, card_number="M20261201", acting_user=banker_a)
        assert refused.value.messages == [said]
        assert not Card.objects.filter(card_number="M20261201").exists()

    def test_a_person_never_compared_gets_no_instant_card(self, everyone, banker_a):
        """Verified but never compared with the card system: the province may hold a card."""
        with pytest.raises(ValidationError, match="尚未与卡务系统比对"):
            card_make_instant(
                person=everyone["未比对"], card_number="M20261202", acting_user=banker_a
            )
        assert not everyone["未比对"].cards.exists()
