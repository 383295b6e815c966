"""The stock work list, a card's second-issuance page, the recovery list and the pending
注销: each URL with a user who may, one who may not and one of another township."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from issuance import stock
from issuance.models import (
    AttemptMethod,
    AttemptOutcome,
    CancellationRequest,
    CardStatus,
    ProvincialEntry,
    SecondIssuanceAttempt,
)
from roster.services import person_mark_deceased
from tests.factories import PersonFactory
from tests.issuance.stockdata import old_card

pytestmark = pytest.mark.django_db


@pytest.fixture
def card_a(branch_a, person_a):
    return old_card(branch_a, person_a, number="M00000001")


def _messages(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def _attempt(card, user, outcome=AttemptOutcome.UNREACHABLE, note="电话停机"):
    return stock.attempt_record(
        card=card,
        acting_user=user,
        attempted_at=timezone.now() - datetime.timedelta(hours=2),
        method=AttemptMethod.PHONE,
        outcome=outcome,
        note=note,
    )


class TestWorkList:
    url = reverse("issuance:stock-cards")

    def test_it_shows_the_last_attempt_of_each_card(self, client, clerk_a, card_a):
        _attempt(card_a, clerk_a, AttemptOutcome.AGREED, note="")
        _attempt(card_a, clerk_a, note="又联系不上")
        client.force_login(clerk_a)
        response = client.get(self.url)
        [row] = response.context["page"]
        assert row.last_outcome == AttemptOutcome.UNREACHABLE and row.attempt_count == 2
        body = response.content.decode()
        assert (
            "联系不上" in body and "共联系 2 次" in body and card_a.person.masked_id_number in body
        )
        assert card_a.person.id_number not in body

    def test_filters_by_contact_state_and_village(
        self, client, clerk_a, card_a, branch_a, person_a2
    ):
        other = old_card(branch_a, person_a2, status=CardStatus.ISSUED, issued_days_ago=400)
        _attempt(card_a, clerk_a)
        client.force_login(clerk_a)

        def names(**query):
            return [c.person.name for c in client.get(self.url, query).context["page"]]

        assert sorted(names()) == sorted([card_a.person.name, other.person.name])
        assert names(contact="unreachable") == [card_a.person.name]
        assert names(contact="none") == [other.person.name]
        assert names(state="due_dormant") == [other.person.name]
        assert names(state="stock") == [card_a.person.name]
        assert names(village=str(person_a2.village_id)) == [other.person.name]
        assert names(state="recovered") == []

    def test_another_township_sees_none_of_it(self, client, clerk_b, card_a):
        client.force_login(clerk_b)
        assert list(client.get(self.url).context["page"]) == []

    def test_the_dormant_tick_box_only_for_who_may(self, client, collector_a, clerk_a, card_a):
        client.force_login(collector_a)
        assert 'data-testid="mark-dormant"' not in client.get(self.url).content.decode()
        client.force_login(clerk_a)
        assert 'data-testid="mark-dormant"' in client.get(self.url).content.decode()

    def test_a_page_costs_the_same_queries_for_many_cards(
        self, client, clerk_a, branch_a, village_a, django_assert_max_num_queries
    ):
        for n in range(3):
            card = old_card(branch_a, PersonFactory(township=village_a.township, village=village_a))
            _attempt(card, clerk_a, note=f"第{n}次")
        client.force_login(clerk_a)
        client.get(self.url)  # warm the session and caches
        with django_assert_max_num_queries(20) as few:
            client.get(self.url)
        for n in range(30):
            card = old_card(branch_a, PersonFactory(township=village_a.township, village=village_a))
            _attempt(card, clerk_a, note=f"再{n}次")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(self.url)
        assert response.context["page"].paginator.count == 33


class TestCardPage:
    def url(self, card):
        return reverse("issuance:stock-card", args=[card.pk])

    def test_the_clerk_is_led_to_recovery_after_a_failure(self, client, clerk_a, card_a):
        _attempt(card_a, clerk_a)
        client.force_login(clerk_a)
        response = client.get(self.url(card_a))
        assert response.context["can_recover"] and not response.context["can_issue"]
        assert "二次发放未成功（联系不上）：电话停机" in response.content.decode()

    def test_the_collector_records_attempts_but_does_not_recover(self, client, collector_a, card_a):
        _attempt(card_a, collector_a)
        client.force_login(collector_a)
        response = client.get(self.url(card_a))
        assert response.context["can_attempt"] and not response.context["can_recover"]

    def test_the_supervisor_reads_only(self, client, supervisor, card_a):
        client.force_login(supervisor)
        response = client.get(self.url(card_a))
        assert response.status_code == 200
        assert not (response.context["can_attempt"] or response.context["can_recover"])

    def test_another_township_gets_404(self, client, clerk_b, card_a):
        client.force_login(clerk_b)
        assert client.get(self.url(card_a)).status_code == 404


class TestAttemptPost:
    def url(self, card):
        return reverse("issuance:stock-card-attempt", args=[card.pk])

    def data(self, **kw):
        return {
            "attempted_at": "2026-11-01T09:30",
            "method": "visit",
            "contacted": "其子",
            "outcome": "refused",
            "note": "本人表示已有他行卡，拒绝领取",
            **kw,
        }

    def test_the_clerk_records_it(self, client, clerk_a, card_a):
        client.force_login(clerk_a)
        response = client.post(self.url(card_a), self.data())
        assert response.status_code == 302
        attempt = SecondIssuanceAttempt.objects.get()
        assert attempt.outcome == "refused" and attempt.contacted == "其子"
        assert timezone.localtime(attempt.attempted_at).hour == 9
        assert "可在下方办理回收登记" in " ".join(_messages(response))

    def test_a_failure_without_reason_stays_on_the_page(self, client, clerk_a, card_a):
        client.force_login(clerk_a)
        response = client.post(self.url(card_a), self.data(note=""))
        assert response.status_code == 400
        assert "必须写明原因" in response.content.decode()
        assert not SecondIssuanceAttempt.objects.exists()

    def test_a_death_is_sent_to_the_person_page(self, client, clerk_a, card_a):
        client.force_login(clerk_a)
        response = client.post(
            self.url(card_a), self.data(outcome="deceased", note="村小组长告知已去世")
        )
        assert "登记死亡" in " ".join(_messages(response))
        page = client.get(reverse("issuance:stock-card", args=[card_a.pk]))
        assert page.context["holder_dead_unregistered"] and not page.context["can_recover"]

    def test_supervisor_may_not_and_another_township_gets_404(
        self, client, supervisor, clerk_b, card_a
    ):
        client.force_login(supervisor)
        assert client.post(self.url(card_a), self.data()).status_code == 403
        client.force_login(clerk_b)
        assert client.post(self.url(card_a), self.data()).status_code == 404
        assert not SecondIssuanceAttempt.objects.exists()


class TestIssuePost:
    def url(self, card):
        return reverse("issuance:stock-card-issue", args=[card.pk])

    data = {"method": "door_to_door", "location": "大河社区3组", "identity_checked": "on"}

    def test_the_clerk_issues_to_the_holder(self, client, clerk_a, card_a):
        _attempt(card_a, clerk_a, AttemptOutcome.COLLECTED, note="")
        client.force_login(clerk_a)
        assert client.get(reverse("issuance:stock-card", args=[card_a.pk])).context["can_issue"]
        assert client.post(self.url(card_a), self.data).status_code == 302
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.ISSUED and card_a.custodian == card_a.person.name

    def test_without_the_id_check_it_is_refused_on_the_page(self, client, clerk_a, card_a):
        client.force_login(clerk_a)
        response = client.post(self.url(card_a), {**self.data, "identity_checked": ""})
        assert response.status_code == 400 and "核验" in response.content.decode()

    def test_a_mailed_card_needs_its_tracking_number_as_on_the_card_page(
        self, client, clerk_a, card_a
    ):
        _attempt(card_a, clerk_a, AttemptOutcome.COLLECTED, note="")
        client.force_login(clerk_a)
        mailed = {**self.data, "method": "mail", "location": "县邮政局"}
        response = client.post(self.url(card_a), mailed)
        assert response.status_code == 400 and "邮寄单号" in response.content.decode()
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.IN_STOCK
        assert (
            client.post(self.url(card_a), {**mailed, "tracking_number": "EMS1234"}).status_code
            == 302
        )
        entry = card_a.ledger_entries.latest("sequence")
        assert entry.note == "邮寄单号：EMS1234；二次发放"

    def test_a_second_click_is_told_it_was_done(self, client, clerk_a, card_a):
        _attempt(card_a, clerk_a, AttemptOutcome.COLLECTED, note="")
        client.force_login(clerk_a)
        client.post(self.url(card_a), self.data)
        response = client.post(self.url(card_a), self.data, follow=True)
        assert response.status_code == 200 and "无需重复登记" in response.content.decode()
        assert card_a.ledger_entries.filter(event="issued").count() == 1

    def test_the_bank_issues_at_its_counter_not_from_the_work_list(self, client, banker_a, card_a):
        client.force_login(banker_a)
        page = client.get(reverse("issuance:stock-card", args=[card_a.pk]))
        assert page.status_code == 200 and not page.context["can_issue"]
        assert client.post(self.url(card_a), self.data).status_code == 403
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.IN_STOCK

    def test_supervisor_may_not_and_another_township_gets_404(
        self, client, supervisor, clerk_b, card_a
    ):
        client.force_login(supervisor)
        assert client.post(self.url(card_a), self.data).status_code == 403
        client.force_login(clerk_b)
        assert client.post(self.url(card_a), self.data).status_code == 404
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.IN_STOCK


class TestRecoverPost:
    def url(self, card):
        return reverse("issuance:stock-card-recover", args=[card.pk])

    def test_the_clerk_recovers(self, client, clerk_a, card_a):
        client.force_login(clerk_a)
        response = client.post(self.url(card_a), {"reason": "拒绝领取", "location": "档案柜"})
        assert response.status_code == 302
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.RECOVERED and card_a.custody_location == "档案柜"

    def test_a_second_click_is_told_and_changes_nothing(self, client, clerk_a, card_a):
        client.force_login(clerk_a)
        client.post(self.url(card_a), {"reason": "拒绝领取"})
        response = client.post(self.url(card_a), {"reason": "拒绝领取"})
        assert response.status_code == 400 and "不能办理“回收登记”" in response.content.decode()

    def test_collector_may_not_and_another_township_gets_404(
        self, client, collector_a, clerk_b, card_a
    ):
        client.force_login(collector_a)
        assert client.post(self.url(card_a), {"reason": "x"}).status_code == 403
        client.force_login(clerk_b)
        assert client.post(self.url(card_a), {"reason": "x"}).status_code == 404
        card_a.refresh_from_db()
        assert card_a.status == CardStatus.IN_STOCK


class TestMarkDormant:
    url = reverse("issuance:stock-cards-mark-dormant")

    @pytest.fixture
    def issued(self, branch_a, person_a):
        return old_card(branch_a, person_a, status=CardStatus.ISSUED, issued_days_ago=400)

    def test_the_clerk_marks_the_ticked_cards(self, client, clerk_a, issued):
        client.force_login(clerk_a)
        response = client.post(
            self.url, {"card": [issued.pk], "reason": "一年未激活", "query": "state=due_dormant"}
        )
        assert response.url.endswith("?state=due_dormant")
        issued.refresh_from_db()
        assert issued.status == CardStatus.DORMANT

    def test_without_a_reason_nothing_moves(self, client, clerk_a, issued):
        client.force_login(clerk_a)
        response = client.post(self.url, {"card": [issued.pk], "reason": ""})
        assert "必须写明原因" in " ".join(_messages(response))
        issued.refresh_from_db()
        assert issued.status == CardStatus.ISSUED

    def test_collector_may_not_and_another_township_is_refused(
        self, client, collector_a, clerk_b, issued
    ):
        client.force_login(collector_a)
        assert client.post(self.url, {"card": [issued.pk], "reason": "x"}).status_code == 403
        client.force_login(clerk_b)
        response = client.post(self.url, {"card": [issued.pk], "reason": "x"})
        assert "不在您管辖范围内" in " ".join(_messages(response))
        issued.refresh_from_db()
        assert issued.status == CardStatus.ISSUED


class TestCancellations:
    @pytest.fixture
    def pending(self, card_a, clerk_a):
        person_mark_deceased(
            person=card_a.person,
            acting_user=clerk_a,
            death_date=datetime.date(2026, 3, 4),
            source="村委会证明",
        )
        return CancellationRequest.objects.get(card=card_a)

    def carry_out(self, request):
        return reverse("issuance:cancellation-carry-out", args=[request.pk])

    def test_the_clerk_sees_and_carries_it_out(self, client, clerk_a, pending):
        client.force_login(clerk_a)
        listed = client.get(reverse("issuance:cancellation-list"))
        assert list(listed.context["page"]) == [pending]
        assert 'data-testid="carry-out"' in listed.content.decode()
        response = client.post(self.carry_out(pending))
        assert "已注销" in " ".join(_messages(response))
        pending.refresh_from_db()
        assert pending.status == CancellationRequest.Status.DONE
        assert pending.card.status == CardStatus.CANCELLED
        again = client.post(self.carry_out(pending))
        assert "无需再办理" in " ".join(_messages(again))

    def test_the_supervisor_reads_without_the_button(self, client, supervisor, pending):
        client.force_login(supervisor)
        listed = client.get(reverse("issuance:cancellation-list"))
        assert list(listed.context["page"]) == [pending]
        assert 'data-testid="carry-out"' not in listed.content.decode()
        assert client.post(self.carry_out(pending)).status_code == 403

    def test_collector_may_not_and_another_township_gets_404(
        self, client, collector_a, clerk_b, pending
    ):
        client.force_login(collector_a)
        assert client.get(reverse("issuance:cancellation-list")).status_code == 403
        assert client.post(self.carry_out(pending)).status_code == 403
        client.force_login(clerk_b)
        assert list(client.get(reverse("issuance:cancellation-list")).context["page"]) == []
        assert client.post(self.carry_out(pending)).status_code == 404
        pending.refresh_from_db()
        assert pending.status == CancellationRequest.Status.PENDING


class TestRecoveryList:
    @pytest.fixture
    def entry(self, card_a, clerk_a):
        return stock.card_recover(
            card=card_a, acting_user=clerk_a, reason="拒绝领取"
        ).ledger_entries.latest("sequence")

    def test_listed_exported_and_marked(self, client, clerk_a, entry):
        client.force_login(clerk_a)
        listed = client.get(reverse("issuance:recovery-list"))
        assert list(listed.context["page"]) == [entry]
        assert entry.card.person.masked_id_number in listed.content.decode()
        exported = client.post(reverse("issuance:recovery-export"))
        assert exported.status_code == 200
        assert (
            "回收清单" in exported["Content-Disposition"]
            or "attachment" in exported["Content-Disposition"]
        )
        assert b"".join(exported.streaming_content)[:2] == b"PK"
        response = client.post(reverse("issuance:recovery-mark-entered"), {"entry": [entry.pk]})
        assert "已登记 1 条" in " ".join(_messages(response))
        assert list(client.get(reverse("issuance:recovery-list")).context["page"]) == []

    def test_the_banker_reads_and_exports_but_does_not_mark(self, client, banker_a, entry):
        client.force_login(banker_a)
        listed = client.get(reverse("issuance:recovery-list"))
        assert list(listed.context["page"]) == [entry]
        assert 'data-testid="mark-entered"' not in listed.content.decode()
        response = client.post(reverse("issuance:recovery-mark-entered"), {"entry": [entry.pk]})
        assert response.status_code == 403
        assert not ProvincialEntry.objects.exists()

    def test_the_collector_may_not_and_another_township_sees_nothing(
        self, client, collector_a, clerk_b, entry
    ):
        client.force_login(collector_a)
        assert client.get(reverse("issuance:recovery-list")).status_code == 403
        assert client.post(reverse("issuance:recovery-export")).status_code == 403
        client.force_login(clerk_b)
        assert list(client.get(reverse("issuance:recovery-list")).context["page"]) == []
        response = client.post(reverse("issuance:recovery-mark-entered"), {"entry": [entry.pk]})
        assert response.status_code == 403
        assert not ProvincialEntry.objects.exists()
