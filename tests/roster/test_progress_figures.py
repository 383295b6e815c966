"""The progress figures (进度数字) are one truth: ``report progress``, the comparison report
and the card ledger's own counts agree, from the counters, right after every kind of write."""

import datetime
import io
import json

import pytest
from django.core.management import call_command
from django.db.models import Count

from activation.services import card_activate_at_counter, card_issue_at_counter, ecard_sign
from dayao_sscard.roles import Role
from issuance.models import Card, CardStatus
from roster.figures import FIGURE_KEYS, REPORT_KEYS
from roster.imports import list_import
from roster.models import DailyFigures, FigureCount, Township
from roster.progress import (
    count_figures,
    expected_share,
    figures_drift,
    figures_rebuild,
    figures_snapshot,
    next_stage,
    progress_by_township,
    progress_by_village,
    progress_trend,
    stage_standing,
)
from roster.reports import classification_report
from tests.factories import BankBranchFactory, PersonFactory, UserFactory, put_on_list
from tests.samples import SAMPLES

pytestmark = pytest.mark.django_db

LEDGER_FIGURES = {
    "made": (
        CardStatus.IN_STOCK,
        CardStatus.IN_TRANSIT,
        CardStatus.ISSUED,
        CardStatus.ACTIVATED,
        CardStatus.DORMANT,
        CardStatus.RECOVERED,
    ),
    "issued": (CardStatus.ISSUED, CardStatus.ACTIVATED, CardStatus.DORMANT),
    "activated": (CardStatus.ACTIVATED,),
}


def report_progress(*args) -> dict:
    out = io.StringIO()
    call_command("report", "progress", "--format", "json", *args, stdout=out)
    return json.loads(out.getvalue())


def import_samples() -> None:
    for kind, name, source in (
        ("unissued", "province_batch1.xlsx", "省第一批"),
        ("unissued", "prefecture_batch2.csv", "州第二批"),
        ("subsidy", "subsidy_gdlb.csv", "耕地地力保护补贴"),
        ("card_export", "card_export.xlsx", ""),
    ):
        list_import(kind=kind, path=SAMPLES / name, original_name=name, source=source)


def assert_one_truth() -> None:
    """The counters equal a count from scratch, and every report reads the same figures."""
    assert figures_drift() == {}
    progress = report_progress()
    assert progress == progress_by_township()
    comparison = classification_report()
    per_code = {row["code"]: row for row in progress["townships"]}
    for row in comparison["townships"]:
        assert per_code[row["code"]]["listed"] == row["listed"]
        assert per_code[row["code"]]["deceased"] == row["deceased"]
    for key, statuses in LEDGER_FIGURES.items():
        ledger = dict(
            Card.objects.filter(status__in=statuses)
            .values_list("person__township__code")
            .annotate(n=Count("person_id", distinct=True))
        )
        assert {c: r[key] for c, r in per_code.items() if r[key]} == ledger, key
    for row in progress["townships"]:
        assert set(REPORT_KEYS) <= row.keys()
    assert progress["total"] == {
        key: sum(row[key] for row in progress["townships"]) for key in FIGURE_KEYS
    }


class TestOneTruthThroughTheWrites:
    def test_after_the_sample_imports_an_issuance_and_an_activation(self, time_machine):
        import_samples()
        assert_one_truth()
        totals = report_progress()["total"]
        assert totals["listed"] == 400
        assert totals["made"] > 0

        card = Card.objects.filter(status=CardStatus.IN_STOCK).select_related("person").first()
        branch = BankBranchFactory(bank=card.bank, township=card.person.township)
        banker = UserFactory(role=Role.BANK_STAFF, bank_branch=branch, township=None)
        card_issue_at_counter(
            card=card, acting_user=banker, signee=card.person.name, identity_checked=True
        )
        after_issue = report_progress()["total"]
        assert after_issue["issued"] == totals["issued"] + 1
        assert_one_truth()

        card.refresh_from_db()
        card_activate_at_counter(
            card=card, acting_user=banker, face_to_face=True, identity_checked=True
        )
        ecard_sign(person=card.person, acting_user=banker, channel="网点柜台")
        after_activation = report_progress()["total"]
        assert after_activation["activated"] == totals["activated"] + 1
        assert after_activation["e_card"] == totals["e_card"] + 1
        assert after_activation["issued"] == after_issue["issued"]
        assert_one_truth()

    def test_a_deceased_listed_person_counts_once_in_both_reports(self, village_a, clerk_a):
        from roster.services import person_mark_deceased

        person = PersonFactory(township=village_a.township, village=village_a)
        put_on_list(person)
        person_mark_deceased(
            person=person,
            acting_user=clerk_a,
            death_date=datetime.date(2026, 11, 1),
            source="村委会",
            note="死亡证明",
        )
        assert report_progress()["total"]["deceased"] == 1
        assert classification_report()["total"]["deceased"] == 1
        assert_one_truth()


class TestCounters:
    def test_rebuild_repairs_counters_written_behind_the_services(self, person_a):
        put_on_list(person_a)
        FigureCount.objects.all().update(n=99)
        assert figures_drift() != {}
        figures_rebuild()
        assert figures_drift() == {}
        assert report_progress()["total"]["listed"] == 1

    def test_count_from_scratch_per_village(self, person_a, person_a2, village_a, village_a2):
        put_on_list(person_a, person_a2)
        counts = count_figures(type(person_a).objects.all())
        assert counts[(village_a.township_id, village_a.pk)]["listed"] == 1
        assert counts[(village_a2.township_id, village_a2.pk)]["listed"] == 1


class TestScope:
    def test_a_township_clerk_gets_their_township_a_collector_their_village(
        self, person_a, person_a2, village_a, clerk_a, collector_a, clerk_b
    ):
        put_on_list(person_a, person_a2)
        clerk = progress_by_township(user=clerk_a)
        assert [row["code"] for row in clerk["townships"]] == [village_a.township.code]
        assert clerk["total"]["listed"] == 2
        assert progress_by_township(user=collector_a)["total"]["listed"] == 1
        assert progress_by_township(user=clerk_b)["total"]["listed"] == 0
        villages = progress_by_village(user=clerk_a, township=village_a.township)
        assert {row["name"]: row["listed"] for row in villages["villages"]}[village_a.name] == 1
        collector = progress_by_village(user=collector_a, township=village_a.township)
        assert [row["name"] for row in collector["villages"]] == [village_a.name]

    def test_a_bank_clerk_gets_no_figures(self, person_a, banker_a):
        put_on_list(person_a)
        assert progress_by_township(user=banker_a)["total"]["listed"] == 0


class TestSnapshots:
    def test_a_past_day_reads_its_snapshot_and_the_trend_ends_today(self, time_machine, person_a):
        time_machine.move_to(datetime.datetime(2026, 6, 1, 23, 0, tzinfo=datetime.UTC))
        put_on_list(person_a)
        assert figures_snapshot() > 0
        time_machine.move_to(datetime.datetime(2026, 6, 3, 10, 0, tzinfo=datetime.UTC))
        second = PersonFactory(township=person_a.township, village=person_a.village)
        put_on_list(second)
        day = datetime.date(2026, 6, 2)
        assert report_progress("--date", day.isoformat())["total"]["listed"] == 1
        assert report_progress()["total"]["listed"] == 2
        trend = progress_trend(days=30)
        assert [(row["date"], row["listed"]) for row in trend] == [
            ("2026-06-02", 1),
            ("2026-06-03", 2),
        ]

    def test_snapshot_repairs_drift_first(self, person_a):
        put_on_list(person_a)
        FigureCount.objects.all().delete()
        figures_snapshot(datetime.date(2026, 6, 1))
        row = DailyFigures.objects.get(day=datetime.date(2026, 6, 1))
        assert row.figures["listed"] == 1
        assert figures_drift() == {}

    def test_a_day_without_figures_is_refused_not_answered_with_other_figures(
        self, time_machine, person_a
    ):
        """Seen on the demo: --date 2027-01-01 printed today's figures under that date, and
        a day before the first snapshot printed a county of nobody (all 0). The progress
        report page refuses both; so does the command, in Chinese, exiting non-zero."""
        from django.core.management.base import CommandError

        time_machine.move_to(datetime.datetime(2026, 6, 1, 23, 0, tzinfo=datetime.UTC))
        put_on_list(person_a)
        figures_snapshot()
        time_machine.move_to(datetime.datetime(2026, 6, 3, 10, 0, tzinfo=datetime.UTC))

        with pytest.raises(CommandError, match="以后的日期"):
            report_progress("--date", "2026-06-04")
        with pytest.raises(CommandError, match="没有每日进度快照"):
            report_progress("--date", "2026-05-31")
        assert report_progress("--date", "2026-06-03")["total"]["listed"] == 1  # today: live
        assert report_progress("--date", "2026-06-02")["date"] == "2026-06-02"

    def test_an_unreadable_date_is_refused_in_chinese(self):
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="无法识别"):
            report_progress("--date", "6月2日")


class TestAgainstTheDeadlines:
    STAGE = {
        "code": "produce",
        "starts_on": datetime.date(2026, 6, 10),
        "deadline": datetime.date(2026, 7, 10),
        "target": 90,
    }

    def test_even_pace_towards_the_target(self):
        assert expected_share(self.STAGE, datetime.date(2026, 6, 1)) == 0
        assert expected_share(self.STAGE, datetime.date(2026, 6, 25)) == 45
        assert expected_share(self.STAGE, datetime.date(2026, 8, 1)) == 90

    def test_behind_when_short_of_the_expected_share(self):
        standing = stage_standing(
            {"made": 40, "should_hold": 100}, self.STAGE, datetime.date(2026, 6, 25)
        )
        assert standing["share"] == 40 and standing["expected"] == 45
        assert standing["short"] == 5 and standing["behind"]
        assert standing["days_left"] == 15
        ahead = stage_standing(
            {"made": 50, "should_hold": 100}, self.STAGE, datetime.date(2026, 6, 25)
        )
        assert not ahead["behind"]

    def test_the_next_stage_is_the_first_deadline_not_passed(self):
        stages = [
            {"code": "compare", "deadline": datetime.date(2026, 6, 5)},
            {"code": "verify", "deadline": datetime.date(2026, 6, 10)},
        ]
        assert next_stage(stages, datetime.date(2026, 6, 5))["code"] == "compare"
        assert next_stage(stages, datetime.date(2026, 6, 6))["code"] == "verify"
        assert next_stage(stages, datetime.date(2026, 9, 1))["code"] == "verify"


def test_every_township_is_in_the_report_even_without_persons():
    report = report_progress()
    assert len(report["townships"]) == Township.objects.count()
    assert report["total"]["listed"] == 0


def test_the_worker_beat_retakes_todays_snapshot_every_hour(person_a):
    from dayao_sscard.celery import app
    from roster.tasks import progress_snapshot

    entry = app.conf.beat_schedule["snapshot-progress-figures"]
    assert entry["task"] == progress_snapshot.name
    assert entry["schedule"].minute == {55}
    put_on_list(person_a)
    progress_snapshot()
    progress_snapshot()
    assert DailyFigures.objects.get().figures["listed"] == 1


@pytest.mark.django_db(transaction=True)
def test_clerks_at_once_and_a_recount_of_the_county_lose_no_change(village_a, clerk_a):
    """Four clerks register deaths in one village while the county is recounted (an import
    ending): every change is in the counters, none twice."""
    import threading

    from django.db import connection

    from dayao_sscard.models import User
    from roster.models import Person
    from roster.services import person_mark_deceased

    persons = [PersonFactory(township=village_a.township, village=village_a) for _ in range(4)]
    put_on_list(*persons)
    barrier = threading.Barrier(len(persons) + 1)
    errors = []

    def clerk(person):
        try:
            barrier.wait()
            person_mark_deceased(
                person=Person.objects.get(pk=person.pk),
                acting_user=User.objects.get(pk=clerk_a.pk),
                death_date=datetime.date(2026, 11, 1),
                source="村委会",
                note="死亡证明",
            )
        except Exception as exc:  # noqa: BLE001 - the test reports whatever a thread met
            errors.append(exc)
        finally:
            connection.close()

    def recount():
        try:
            barrier.wait()
            figures_rebuild()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=clerk, args=(p,)) for p in persons]
    threads.append(threading.Thread(target=recount))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert figures_drift() == {}
    assert report_progress()["total"]["deceased"] == 4


def test_the_administrator_sets_deadlines_and_targets_in_the_admin(client, county_admin):
    from django.urls import reverse

    from dayao_sscard.models import Campaign
    from tests.factories import CampaignFactory

    campaign = CampaignFactory()
    client.force_login(county_admin)
    url = reverse("admin:dayao_sscard_campaign_change", args=[campaign.pk])
    page = client.get(url).content.decode()
    assert "制卡目标（%）" in page and "激活截止" in page
    form = {
        "name": campaign.name,
        "document_number": campaign.document_number,
        "starts_on": "2026-05-20",
        "is_active": "on",
        "compare_deadline": "2026-06-05",
        "verify_deadline": "2026-06-10",
        "produce_deadline": "2026-07-10",
        "distribute_deadline": "2026-08-20",
        "activate_deadline": "2026-08-30",
        "compare_target": "100",
        "verify_target": "95",
        "produce_target": "90",
        "distribute_target": "90",
        "activate_target": "85",
        "custody_risk_days": "30",
    }
    assert client.post(url, form).status_code == 302
    stages = {s["code"]: s for s in Campaign.objects.get(pk=campaign.pk).stages()}
    assert stages["produce"]["target"] == 90
    assert stages["produce"]["starts_on"] == datetime.date(2026, 6, 10)
    refused = client.post(url, {**form, "activate_target": "120"})
    assert refused.status_code == 200 and "120" in refused.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).activate_target == 85
