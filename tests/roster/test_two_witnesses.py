"""Our card ledger and the card-system export are two witnesses; neither overrules the other.

A person whose card our ledger shows made never falls back to 无制卡信息 or into the
verification queue because an export lacks the card: the disagreement is shown and counted.
"""

import openpyxl
import pytest
from django.urls import reverse

from dashboard.selectors import class_counts_by_township
from dayao_sscard.models import Job
from issuance.models import Card, CardStatus
from roster.models import CardClass
from roster.reports import PAGE_KEYS, classification_report
from roster.selectors import (
    DISAGREEMENT,
    PersonFilters,
    disagreements,
    person_list,
    verification_progress,
    work_queue,
)
from tests.factories import BankFactory, PersonFactory, classify, put_on_list
from tests.roster.test_matching import export

pytestmark = pytest.mark.django_db


def card(person, status: str) -> Card:
    return Card.objects.create(person=person, bank=BankFactory(), status=status)


@pytest.fixture
def holder(village_a):
    """Activated face to face at the counter, in our ledger."""
    person = PersonFactory(township=village_a.township, village=village_a, name="王建国")
    card(person, CardStatus.ACTIVATED)
    put_on_list(person)
    return person


@pytest.fixture
def waiting(village_a):
    """No card anywhere: the export says 无制卡信息 and our ledger agrees."""
    person = PersonFactory(township=village_a.township, village=village_a, name="赵小英")
    put_on_list(person)
    return person


def import_export_without(holder, waiting) -> None:
    """An export that names neither person (as a partial or faulty export would)."""
    from roster.imports.matching import classify_all

    export()
    classify_all()
    holder.refresh_from_db()


class TestAnActivatedHolderMissingFromTheExport:
    def test_stays_out_of_the_verification_queue(self, holder, waiting, clerk_a):
        import_export_without(holder, waiting)
        assert holder.classification.card_class == CardClass.NO_CARD_INFO
        assert list(work_queue(user=clerk_a)) == [waiting]

    def test_counts_as_card_made_and_as_a_disagreement_never_as_no_card_info(
        self, holder, waiting, clerk_a
    ):
        import_export_without(holder, waiting)
        row = class_counts_by_township(user=clerk_a)[0]
        assert row["card_made"] == 1
        assert row[DISAGREEMENT] == 1
        assert row["no_card_info"] == 1  # the waiting person only
        assert list(disagreements(user=clerk_a)) == [holder]

    def test_every_page_figure_agrees(self, holder, waiting, clerk_a):
        import_export_without(holder, waiting)
        home = class_counts_by_township(user=clerk_a)[0]
        listed = person_list(user=clerk_a, filters=PersonFilters(card_class="card_made"))
        no_info = person_list(user=clerk_a, filters=PersonFilters(card_class="no_card_info"))
        disagreeing = person_list(user=clerk_a, filters=PersonFilters(card_class=DISAGREEMENT))
        assert home["card_made"] == listed.count() == 1
        assert home["no_card_info"] == no_info.count() == 1
        assert home[DISAGREEMENT] == disagreeing.count() == 1
        progress = verification_progress(user=clerk_a)
        assert sum(row["pending"] for row in progress) == 1

    def test_a_card_still_in_production_keeps_the_person_out_of_the_queue(self, waiting, clerk_a):
        card(waiting, CardStatus.IN_PRODUCTION)
        classify(waiting, CardClass.NO_CARD_INFO)
        assert list(work_queue(user=clerk_a)) == []

    def test_a_cancelled_card_does_not_count_as_made(self, waiting, clerk_a):
        card(waiting, CardStatus.CANCELLED)
        classify(waiting, CardClass.NO_CARD_INFO)
        assert list(work_queue(user=clerk_a)) == [waiting]
        assert list(disagreements(user=clerk_a)) == []

    def test_the_pinned_report_keeps_its_keys_and_the_page_adds_the_disagreement(
        self, holder, waiting
    ):
        import_export_without(holder, waiting)
        pinned = classification_report()
        assert DISAGREEMENT not in pinned["total"]
        page = classification_report(keys=PAGE_KEYS)
        assert DISAGREEMENT in page["total"]


class TestPages:
    def test_the_person_page_shows_both_witnesses_and_what_to_do(
        self, client, holder, waiting, clerk_a
    ):
        import_export_without(holder, waiting)
        client.force_login(clerk_a)
        page = client.get(reverse("roster:person-detail", args=[holder.pk])).content.decode()
        assert "两方记录不一致" in page
        assert "无制卡信息" in page and "已激活" in page
        assert "处理建议" in page

    def test_a_person_whose_witnesses_agree_shows_no_disagreement(
        self, client, holder, waiting, clerk_a
    ):
        import_export_without(holder, waiting)
        client.force_login(clerk_a)
        page = client.get(reverse("roster:person-detail", args=[waiting.pk])).content.decode()
        assert 'data-testid="disagreement"' not in page

    def test_the_disagreement_page_lists_the_township_clerks_own(
        self, client, holder, waiting, clerk_a
    ):
        import_export_without(holder, waiting)
        client.force_login(clerk_a)
        response = client.get(reverse("roster:comparison-disagreements"))
        assert response.status_code == 200
        page = response.content.decode()
        assert holder.name in page and waiting.name not in page

    def test_another_townships_clerk_sees_none_of_them(self, client, holder, waiting, clerk_b):
        import_export_without(holder, waiting)
        client.force_login(clerk_b)
        page = client.get(reverse("roster:comparison-disagreements")).content.decode()
        assert holder.name not in page

    def test_a_bank_clerk_may_not_open_it(self, client, holder, waiting, banker_a):
        import_export_without(holder, waiting)
        client.force_login(banker_a)
        assert client.get(reverse("roster:comparison-disagreements")).status_code == 403

    def test_the_person_list_links_the_disagreement_only_for_who_may_open_it(
        self, client, holder, waiting, clerk_a, collector_a
    ):
        import_export_without(holder, waiting)
        disagreements_url = reverse("roster:comparison-disagreements")
        client.force_login(clerk_a)
        page = client.get(reverse("roster:person-list")).content.decode()
        assert "两方不一致" in page and disagreements_url in page
        client.force_login(collector_a)
        page = client.get(reverse("roster:person-list")).content.decode()
        assert "两方不一致" in page and disagreements_url not in page

    def test_a_holder_never_compared_is_no_disagreement_on_the_list_either(
        self, client, holder, clerk_a
    ):
        client.force_login(clerk_a)
        page = client.get(reverse("roster:person-list")).content.decode()
        assert "两方不一致" not in page
        assert list(disagreements(user=clerk_a)) == []


class TestTheExport:
    def test_says_what_the_lists_say_of_a_holder_missing_from_the_export(
        self, client, holder, waiting, clerk_a, django_capture_on_commit_callbacks
    ):
        import_export_without(holder, waiting)
        client.force_login(clerk_a)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(reverse("roster:person-export"), {"card_class": "card_made"})
        with Job.objects.get().result_file.open("rb") as handle:
            rows = list(openpyxl.load_workbook(handle).active.values)
        column = rows[0].index("比对结果")
        assert [row[column] for row in rows[1:]] == [
            "已制卡（两方记录不一致：卡务系统为无制卡信息）"
        ]


def test_the_read_api_gives_the_counted_class_and_the_exports_word(
    client, holder, waiting, clerk_a
):
    import_export_without(holder, waiting)
    client.force_login(clerk_a)
    data = client.get(reverse("api:person-detail", args=[holder.id_number])).json()
    assert data["card_class"] == CardClass.CARD_MADE
    assert data["export_card_class"] == CardClass.NO_CARD_INFO
    assert data["witnesses_disagree"] is True
    agreeing = client.get(reverse("api:person-detail", args=[waiting.id_number])).json()
    assert agreeing["card_class"] == agreeing["export_card_class"] == CardClass.NO_CARD_INFO
    assert agreeing["witnesses_disagree"] is False


def test_the_disagreement_page_says_how_many_the_comparison_table_counts(
    client, holder, waiting, clerk_a, village_a
):
    """The page lists everyone in scope; the comparison table counts listed persons only."""
    off_list = PersonFactory(township=village_a.township, village=village_a, name="钱不在单")
    card(off_list, CardStatus.ISSUED)
    import_export_without(holder, waiting)
    client.force_login(clerk_a)
    page = client.get(reverse("roster:comparison-disagreements")).content.decode()
    table = classification_report(user=clerk_a, keys=PAGE_KEYS)["total"][DISAGREEMENT]
    assert 'data-testid="disagreement-count">2<' in page
    assert f'data-testid="disagreement-listed">{table}<' in page
    assert table == 1


class TestACardMadeSinceTheLatestExport:
    """A card our ledger recorded made after the export came in is not in it yet: 已制卡,
    no disagreement; the next complete export that still lacks it is one."""

    def made_in_our_ledger(self, holder):
        from django.utils import timezone

        from issuance.models import LedgerEntry, LedgerEvent
        from roster.progress import figures_touch

        card = Card.objects.get(person=holder)
        # Recounted as the ledger's service does: the entry is what tells the kept
        # disagreement (and the counters) the card was made after the export.
        with figures_touch([holder.pk]):
            LedgerEntry.objects.create(
                card=card,
                sequence=1,
                event=LedgerEvent.PRODUCED,
                status_after=CardStatus.IN_STOCK,
                occurred_at=timezone.now(),
            )

    def test_made_since_is_not_a_disagreement_until_the_next_export(self, client, clerk_a, holder):
        from roster.imports.matching import classify_all
        from roster.progress import figures_rebuild

        import_export_without(holder, holder)
        self.made_in_our_ledger(holder)
        assert not disagreements(user=clerk_a).exists()
        client.force_login(clerk_a)
        url = reverse("roster:person-detail", args=[holder.pk])
        assert "两方记录不一致" not in client.get(url).content.decode()
        export()
        classify_all()
        # An import recounts the county after its match, whether or not a class changed.
        figures_rebuild()
        assert list(disagreements(user=clerk_a)) == [holder]
        assert "两方记录不一致" in client.get(url).content.decode()
