"""A card-system export that covers clearly fewer cards than the county knows stops at a
preview: ``--complete`` takes it as the whole county, ``--partial`` re-compares only the
persons it names, and without either nothing is written."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from dashboard.selectors import class_counts_by_township
from dayao_sscard.models import Job, JobStatus
from issuance.models import Card, CardStatus, LedgerEntry
from roster.models import CardClass, CardSystemRecord, ClassificationChange, PersonClass, SourceList
from roster.selectors import work_queue
from roster.witnesses import DISAGREEMENT
from tests.factories import BankFactory, PersonFactory, classify, put_on_list
from tests.roster.listfiles import EXPORT_HEADER, write_xlsx

pytestmark = pytest.mark.django_db(transaction=True)


def export_file(path, persons, status="制卡成功"):
    rows = [EXPORT_HEADER] + [
        [n, p.name, p.id_number, f"C{p.id_number[-8:]}", "农信社", "批量", status, "", "正常", ""]
        for n, p in enumerate(persons, start=1)
    ]
    return write_xlsx(path, rows, footer=False)


@pytest.fixture
def county(village_a):
    """Ten card holders, all in the first (complete) export."""
    persons = [
        PersonFactory(township=village_a.township, village=village_a, name=f"持卡人{n}")
        for n in range(10)
    ]
    put_on_list(*persons)
    return persons


def import_export(path, *args) -> None:
    call_command("import_list", "card_export", str(path), *args)


def state() -> tuple:
    return (
        SourceList.objects.count(),
        CardSystemRecord.objects.count(),
        sorted(PersonClass.objects.values_list("person_id", "card_class", "snapshot_id")),
        ClassificationChange.objects.count(),
        sorted(Card.objects.values_list("card_number", "status")),
        LedgerEntry.objects.count(),
    )


class TestTheCommandLine:
    def test_a_shrinking_export_is_refused_and_writes_nothing(self, county, tmp_path):
        import_export(export_file(tmp_path / "full.xlsx", county))
        before = state()
        with pytest.raises(CommandError) as refused:
            import_export(export_file(tmp_path / "three.xlsx", county[:3]))
        message = str(refused.value)
        assert "明显少于上一次完整导出的 10 条" in message
        assert "--complete" in message and "--partial" in message
        # The first export opened their cards in our ledger: an export that lacks them
        # now shows seven disagreements of the two witnesses, not seven persons without a card.
        assert "将新增的两方记录不一致人数：7" in message
        assert state() == before

    def test_an_export_of_about_the_same_size_is_not_questioned(self, county, tmp_path):
        import_export(export_file(tmp_path / "full.xlsx", county))
        import_export(export_file(tmp_path / "nine.xlsx", county[:9] + []), "--source", "x")
        assert PersonClass.objects.filter(card_class=CardClass.NO_CARD_INFO).count() == 1

    def test_partial_recompares_only_the_persons_it_names(self, county, tmp_path):
        import_export(export_file(tmp_path / "full.xlsx", county))
        import_export(
            export_file(tmp_path / "two.xlsx", county[:2], status="制卡失败"), "--partial"
        )
        classes = dict(PersonClass.objects.values_list("person_id", "card_class"))
        assert [classes[p.pk] for p in county[:2]] == [CardClass.CARD_FAILED] * 2
        assert {classes[p.pk] for p in county[2:]} == {CardClass.CARD_MADE}
        # A later full match keeps the partial export's word for the persons it names.
        call_command("match")
        assert dict(PersonClass.objects.values_list("person_id", "card_class")) == classes

    def test_complete_takes_it_as_the_whole_county(self, county, tmp_path):
        import_export(export_file(tmp_path / "full.xlsx", county))
        import_export(export_file(tmp_path / "three.xlsx", county[:3]), "--complete")
        assert PersonClass.objects.filter(card_class=CardClass.NO_CARD_INFO).count() == 7

    def test_the_two_choices_exclude_each_other(self, county, tmp_path):
        with pytest.raises(CommandError):
            import_export(export_file(tmp_path / "a.xlsx", county), "--partial", "--complete")

    def test_cards_our_ledger_knows_count_when_no_export_came_before(
        self, county, tmp_path, clerk_a
    ):
        for person in county:
            Card.objects.create(person=person, bank=BankFactory(), status=CardStatus.ACTIVATED)
        with pytest.raises(CommandError, match="系统已知的已制卡人数 10 人"):
            import_export(export_file(tmp_path / "three.xlsx", county[:3]))
        import_export(export_file(tmp_path / "three.xlsx", county[:3]), "--complete")
        # Taken as complete, the holders it lacks are a disagreement, never back in the queue.
        row = class_counts_by_township(user=clerk_a)[0]
        assert row["card_made"] == 10 and row[DISAGREEMENT] == 7
        assert list(work_queue(user=clerk_a)) == []


class TestTheWebImport:
    def upload(self, client, path):
        return client.post(
            reverse("roster:import-create"),
            {
                "kind": "card_export",
                "source": "",
                "file": SimpleUploadedFile(path.name, path.read_bytes()),
            },
        )

    def test_stops_at_a_preview_then_imports_as_the_administrator_chooses(
        self, client, county, county_admin, tmp_path
    ):
        client.force_login(county_admin)
        self.upload(client, export_file(tmp_path / "full.xlsx", county))
        before = state()
        response = self.upload(client, export_file(tmp_path / "two.xlsx", county[:2]))
        stopped = Job.objects.latest("created_at")
        assert stopped.status == JobStatus.NEEDS_CONFIRMATION
        assert state() == before
        page = client.get(response.url).content.decode()
        assert "按部分导出导入" in page and "其中将变为无制卡信息的人数" in page
        assert "--complete" not in page  # the command line's words stay on the command line

        confirm = reverse("roster:import-confirm", args=[stopped.pk])
        first = client.post(confirm, {"coverage": "partial"})
        again = client.post(confirm, {"coverage": "partial"})
        assert first.url == again.url  # a double click imports once
        done = Job.objects.latest("created_at")
        assert done.status == JobStatus.SUCCEEDED
        assert SourceList.objects.get(job=done).is_partial
        assert not PersonClass.objects.filter(card_class=CardClass.NO_CARD_INFO).exists()

    def test_an_answered_preview_no_longer_waits(self, client, county, county_admin, tmp_path):
        client.force_login(county_admin)
        self.upload(client, export_file(tmp_path / "full.xlsx", county))
        stopped_url = self.upload(client, export_file(tmp_path / "two.xlsx", county[:2])).url
        stopped = Job.objects.latest("created_at")
        client.post(reverse("roster:import-confirm", args=[stopped.pk]), {"coverage": "partial"})
        for page in (stopped_url, reverse("job-list"), reverse("home")):
            html = client.get(page).content.decode()
            assert "待确认" not in html, page
            assert "已确认" in html, page
        html = client.get(stopped_url).content.decode()
        assert 'data-testid="confirm-partial"' not in html
        assert "请选择" not in html
        assert client.get(reverse("job-status", args=[stopped.pk])).json()["status_label"] == (
            "已确认"
        )

    def test_only_the_county_administrator_may_confirm(
        self, client, county, county_admin, supervisor, clerk_a, tmp_path
    ):
        client.force_login(county_admin)
        self.upload(client, export_file(tmp_path / "full.xlsx", county))
        self.upload(client, export_file(tmp_path / "two.xlsx", county[:2]))
        stopped = Job.objects.latest("created_at")
        for user in (supervisor, clerk_a):
            client.force_login(user)
            response = client.post(
                reverse("roster:import-confirm", args=[stopped.pk]), {"coverage": "complete"}
            )
            assert response.status_code == 403
        assert Job.objects.count() == 2


class TestMatchWithOnlyPartialExports:
    """Before any complete export (the demo county, or a county that began with a partial
    one), ``match`` re-compares only the persons the partial exports name."""

    def test_persons_not_named_keep_their_class(self, county, tmp_path):
        for person in county:
            classify(person, CardClass.CARD_FAILED, "照片不合格")
        import_export(export_file(tmp_path / "two.xlsx", county[:2]), "--partial")
        call_command("match")
        classes = dict(PersonClass.objects.values_list("person_id", "card_class"))
        assert [classes[p.pk] for p in county[:2]] == [CardClass.CARD_MADE] * 2
        assert {classes[p.pk] for p in county[2:]} == {CardClass.CARD_FAILED}
        assert not ClassificationChange.objects.filter(person__in=county[2:]).exists()

    def test_persons_never_compared_stay_uncompared(self, county, tmp_path):
        import_export(export_file(tmp_path / "two.xlsx", county[:2]), "--partial")
        call_command("match")
        assert set(PersonClass.objects.values_list("person_id", flat=True)) == {
            p.pk for p in county[:2]
        }
