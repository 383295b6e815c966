"""The counter pages: a bank clerk who may, those who may not, a clerk of another branch."""

import datetime
import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from activation.models import Activation, ElectronicCardSigning
from activation.views import FOUND_KEY
from dayao_sscard.models import AuditEvent
from issuance.models import Card, CardStatus, LedgerEntry, LedgerEvent
from issuance.services import Custody, card_make_instant, card_record_event
from tests.roster.photos import photo_bytes

from .counter import card_of, other_bank_clerk

pytestmark = pytest.mark.django_db

LOOKUP = reverse("activation:counter")
ACTIONS = ("counter-instant-card", "counter-issue", "counter-activate", "counter-ecard")


def page_url(person, name="counter-person") -> str:
    return reverse(f"activation:{name}", kwargs={"pk": person.pk})


def look_up(client, text: str):
    return client.post(LOOKUP, {"q": text})


def text_of(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


class TestFindingThePerson:
    def test_a_scan_opens_the_persons_counter_page(self, client, banker_a, ready_a):
        client.force_login(banker_a)
        response = look_up(client, ready_a.id_number)
        assert response.status_code == 302 and response.url == page_url(ready_a)

        page = text_of(client.get(response.url))
        assert ready_a.name in page
        assert ready_a.masked_id_number in page and ready_a.id_number not in page
        assert "尚无社保卡" in page and 'data-testid="instant-form"' in page
        # Found outside the clerk's list scope: the look is recorded.
        event = AuditEvent.objects.get(action="activation.counter.person_found")
        assert (event.actor, event.object_id) == (banker_a, str(ready_a.pk))

    def test_the_page_of_a_person_nobody_looked_up_is_not_found(self, client, banker_a, ready_a):
        client.force_login(banker_a)
        assert client.get(page_url(ready_a)).status_code == 404
        for name in ACTIONS:
            assert client.post(page_url(ready_a, name)).status_code == 404

    def test_part_of_a_number_finds_nobody(self, client, banker_a, ready_a):
        client.force_login(banker_a)
        response = look_up(client, ready_a.id_number[-8:])
        assert response.status_code == 200
        assert "没有找到" in text_of(response)
        assert FOUND_KEY not in client.session

    def test_by_card_number(self, client, banker_a, branch_a, person_a):
        card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000077")
        client.force_login(banker_a)
        response = look_up(client, "m0000 0077")
        assert response.url == page_url(person_a)

    def test_an_empty_scan_says_what_to_do(self, client, banker_a):
        client.force_login(banker_a)
        assert "请输入或扫描身份证号码、社保卡卡号" in text_of(look_up(client, ""))

    def test_one_input_with_focus(self, client, banker_a):
        client.force_login(banker_a)
        page = client.get(LOOKUP).content.decode()
        assert page.count("autofocus") == 1 and 'id="counter-q"' in page


class TestTheVisit:
    def test_instant_issue_activate_ecard_in_one_visit(self, client, banker_a, branch_a, ready_a):
        client.force_login(banker_a)
        look_up(client, ready_a.id_number)

        steps = [
            ("counter-instant-card", {"card_number": "M20261129"}),
            ("counter-issue", {"signee": ready_a.name, "identity_checked": "on"}),
            ("counter-activate", {"face_to_face": "on", "identity_checked": "on"}),
            ("counter-ecard", {"channel": "网点柜台", "signed_on": timezone.localdate()}),
        ]
        for name, data in steps:
            response = client.post(page_url(ready_a, name), data)
            assert response.status_code == 302, text_of(response)
            assert response.url == page_url(ready_a)

        card = Card.objects.get(person=ready_a)
        assert card.status == CardStatus.ACTIVATED and card.card_number == "M20261129"
        assert Activation.objects.get(card=card).branch == branch_a
        assert ElectronicCardSigning.objects.filter(person=ready_a).exists()
        page = text_of(client.get(page_url(ready_a)))
        assert 'data-testid="counter-status">已激活' in page
        assert "电子社保卡已签发" in page and 'data-testid="nothing-left"' in page

    def test_a_refresh_after_the_redirect_does_nothing_more(self, client, banker_a, ready_a):
        client.force_login(banker_a)
        look_up(client, ready_a.id_number)
        client.post(page_url(ready_a, "counter-instant-card"), {"card_number": "M20261129"})
        again = client.post(page_url(ready_a, "counter-instant-card"), {"card_number": "M2"})
        assert again.status_code == 400
        assert Card.objects.filter(person=ready_a).count() == 1
        assert LedgerEntry.objects.count() == 2

    def test_a_bad_card_number_comes_back_with_the_reason_and_what_was_typed(
        self, client, banker_a, ready_a
    ):
        client.force_login(banker_a)
        look_up(client, ready_a.id_number)
        response = client.post(page_url(ready_a, "counter-instant-card"), {"card_number": "M12"})
        assert response.status_code == 400
        page = text_of(response)
        assert "应为9至20位（输入了3位）" in page and 'value="M12"' in page
        assert not Card.objects.exists()


class TestActivationForm:
    """The form is one entry point of the face-to-face rule: it refuses without both boxes."""

    @pytest.fixture
    def issued(self, branch_a, person_a):
        return card_of(branch_a, person_a, CardStatus.ISSUED, number="M00000009")

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"identity_checked": "on"}, "金融功能激活只能当面办理（面签），不得非面签激活。"),
            ({"face_to_face": "on"}, "金融功能激活必须当面核验持卡人本人的身份证件。"),
            ({}, "金融功能激活只能当面办理（面签），不得非面签激活。"),
        ],
    )
    def test_refused_without_face_to_face_or_without_the_id_checked(
        self, client, banker_a, issued, person_a, data, message
    ):
        client.force_login(banker_a)
        response = client.post(page_url(person_a, "counter-activate"), data)
        assert response.status_code == 400
        assert message in text_of(response)
        issued.refresh_from_db()
        assert issued.status == CardStatus.ISSUED
        assert not Activation.objects.exists()
        assert not issued.ledger_entries.filter(event="activated").exists()

    def test_the_township_clerk_may_not_activate(self, client, clerk_a, issued, person_a):
        client.force_login(clerk_a)
        data = {"face_to_face": "on", "identity_checked": "on"}
        assert client.post(page_url(person_a, "counter-activate"), data).status_code == 403
        assert client.get(LOOKUP).status_code == 403
        issued.refresh_from_db()
        assert issued.status == CardStatus.ISSUED


class TestWhoMay:
    @pytest.fixture
    def stock(self, branch_a, person_a):
        return card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000010")

    def test_the_supervisor_reads_and_is_offered_nothing(self, client, supervisor, stock, person_a):
        client.force_login(supervisor)
        page = text_of(client.get(page_url(person_a)))
        assert person_a.name in page and "当前账号不能办理发放" in page
        assert '<form method="post" action="/counter/persons/' not in page
        data = {"signee": person_a.name, "identity_checked": "on"}
        assert client.post(page_url(person_a, "counter-issue"), data).status_code == 403
        stock.refresh_from_db()
        assert stock.status == CardStatus.IN_STOCK

    def test_the_county_issues_but_makes_no_card(self, client, county_admin, stock, person_a):
        client.force_login(county_admin)
        page = text_of(client.get(page_url(person_a)))
        assert 'data-testid="issue-form"' in page
        data = {"signee": person_a.name, "identity_checked": "on"}
        assert client.post(page_url(person_a, "counter-issue"), data).status_code == 302
        stock.refresh_from_db()
        assert stock.status == CardStatus.ISSUED

    def test_another_branchs_clerk_gets_404_on_every_counter_page(
        self, client, banker_b, stock, person_a, ready_a
    ):
        client.force_login(banker_b)
        for person in (person_a, ready_a):
            assert look_up(client, person.id_number).status_code == 200  # 没有找到
            assert client.get(page_url(person)).status_code == 404
            assert client.get(page_url(person, "counter-photo")).status_code == 404
            for name in ACTIONS:
                assert client.post(page_url(person, name), {}).status_code == 404
        stock.refresh_from_db()
        assert stock.status == CardStatus.IN_STOCK

    def test_a_person_found_once_is_not_served_once_another_bank_made_the_card(
        self, client, banker_a, township_a, ready_a
    ):
        client.force_login(banker_a)
        look_up(client, ready_a.id_number)
        other = other_bank_clerk(township_a, serves=[township_a])
        card_of(other.bank_branch, ready_a, CardStatus.IN_STOCK, number="B00000002")
        assert client.get(page_url(ready_a)).status_code == 404


class TestBranchLists:
    @pytest.fixture
    def cards(self, branch_a, branch_b, person_a, person_a2, person_b):
        waiting = card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000011")
        Card.objects.filter(pk=waiting.pk).update(
            made_on=timezone.localdate() - datetime.timedelta(days=12)
        )
        card_of(branch_a, person_a2, CardStatus.ISSUED, number="M00000012")
        card_of(branch_b, person_b, CardStatus.IN_STOCK, number="M00000013")

    def test_the_clerk_sees_the_branchs_cards_waiting_with_how_long(self, client, banker_a, cards):
        client.force_login(banker_a)
        page = text_of(client.get(reverse("activation:branch-waiting")))
        assert "张桂芬" in page and "12天" in page
        assert "杨春梅" not in page and "罗志华" not in page
        assert "532326********" in page

    def test_issued_not_activated(self, client, banker_a, cards):
        client.force_login(banker_a)
        page = text_of(client.get(reverse("activation:branch-not-activated")))
        assert "罗志华" in page and "张桂芬" not in page

    def test_the_county_filters_by_branch(self, client, county_admin, cards, branch_b):
        client.force_login(county_admin)
        url = reverse("activation:branch-waiting")
        everyone = text_of(client.get(url))
        assert "张桂芬" in everyone and "杨春梅" in everyone
        one = text_of(client.get(url, {"branch": branch_b.pk}))
        assert "杨春梅" in one and "张桂芬" not in one

    def test_a_clerk_cannot_filter_to_another_branch(self, client, banker_a, cards, branch_b):
        client.force_login(banker_a)
        page = text_of(client.get(reverse("activation:branch-waiting"), {"branch": branch_b.pk}))
        assert "张桂芬" in page and "杨春梅" not in page

    @pytest.mark.parametrize(
        ("persona", "branch", "name", "statuses"),
        [
            ("banker_a", None, "branch-waiting", (CardStatus.IN_STOCK, CardStatus.IN_TRANSIT)),
            ("banker_a", None, "branch-not-activated", (CardStatus.ISSUED, CardStatus.DORMANT)),
            ("county_admin", None, "branch-waiting", (CardStatus.IN_STOCK, CardStatus.IN_TRANSIT)),
            ("supervisor", "branch_b", "branch-waiting", (CardStatus.IN_STOCK,)),
            ("county_admin", "branch_a", "branch-not-activated", (CardStatus.ISSUED,)),
        ],
    )
    def test_the_total_is_the_number_of_cards_listed(
        self, client, request, cards, persona, branch, name, statuses
    ):
        """The total comes from the counters, not from counting the list: they agree."""
        user = request.getfixturevalue(persona)
        client.force_login(user)
        query = {"branch": request.getfixturevalue(branch).pk} if branch else {}
        page = client.get(reverse(f"activation:{name}"), query).context["page"]
        assert page.paginator.count == len(page.object_list) > 0
        assert page.paginator.count == (
            Card.objects.for_user(user).filter(status__in=statuses).count() if not branch else 1
        )

    def test_todays_work(self, client, banker_a, ready_a):
        client.force_login(banker_a)
        look_up(client, ready_a.id_number)
        client.post(page_url(ready_a, "counter-instant-card"), {"card_number": "M20261130"})
        client.post(
            page_url(ready_a, "counter-issue"), {"signee": ready_a.name, "identity_checked": "on"}
        )
        response = client.get(reverse("activation:branch-today"))
        counts = response.context["counts"]
        assert counts == {"instant": 1, "issued": 1, "activated": 0, "ecards": 0}
        page = text_of(response)
        assert "制卡完成" in page and "发放" in page and ready_a.name in page


def test_the_county_sees_every_branchs_work_today_not_the_townships(
    client, county_admin, banker_a, clerk_a, branch_a, person_a, ready_a
):
    card_make_instant(person=ready_a, card_number="M20261131", acting_user=banker_a)
    stock = card_of(branch_a, person_a, CardStatus.IN_STOCK, number="M00000300")
    card_record_event(
        card=stock,
        event=LedgerEvent.HANDED_OVER,
        acting_user=clerk_a,
        custody=Custody(kind="village", party="大河社区", responsible_person="王村长"),
    )
    client.force_login(county_admin)
    response = client.get(reverse("activation:branch-today"))
    page = text_of(response)
    # The page below the menu (which names the 交接 pages): the day's work of the branches.
    work = page.split("</header>", 1)[1]
    assert ready_a.name in work and "制卡完成" in work
    assert "交接" not in work and person_a.name not in work
    assert response.context["counts"]["instant"] == 1
    other = client.get(reverse("activation:branch-today"), {"branch": "999999"})
    assert ready_a.name in text_of(other)  # an unknown branch filters nothing


def test_the_photo_of_a_person_found_by_id_number(client, banker_a, ready_a):
    ready_a.photo_thumbnail.save(f"{ready_a.pk}.jpg", ContentFile(photo_bytes()), save=True)
    client.force_login(banker_a)
    assert client.get(page_url(ready_a, "counter-photo")).status_code == 404
    look_up(client, ready_a.id_number)
    response = client.get(page_url(ready_a, "counter-photo"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert f'src="{page_url(ready_a, "counter-photo")}"' in text_of(client.get(page_url(ready_a)))


def test_another_banks_card_is_named_by_its_bank_only(client, banker_a, branch_a, person_a):
    """Reached through the branch's old cancelled card, the holder's new card at another
    bank shows neither its number, state nor keeper: only whose it is."""
    from tests.factories import BankFactory

    card_of(branch_a, person_a, CardStatus.CANCELLED, number="Y41239136")
    Card.objects.create(
        person=person_a,
        bank=BankFactory(name="中国邮政储蓄银行", short_name="邮储银行"),
        status=CardStatus.ACTIVATED,
        card_number="Y74059800",
        custodian="朱佳",
    )
    client.force_login(banker_a)
    page = text_of(client.get(page_url(person_a)))
    assert "Y74059800" not in page and "已激活" not in page
    assert "社保卡由邮储银行负责" in page
