"""The queue grouped by each missing element, and places in the order people count them."""

import pytest
from django.urls import reverse

from roster.selectors import village_choices, village_options, work_queue_next
from tests.factories import PersonFactory, VillageFactory

QUEUE = reverse("roster:work-queue")


@pytest.fixture
def people(village_a):
    """10组 before 2组 in plain text order; 张 lacks a phone and a photo, 李 only a photo."""

    def make(name, group, **fields):
        return PersonFactory(
            township=village_a.township,
            village=village_a,
            name=name,
            group_name=group,
            card_class="no_card_info",
            id_valid_from="2015-03-01",
            id_valid_long_term=True,
            **fields,
        )

    return {
        "张": make("张", "10组", phone=""),
        "李": make("李", "2组"),
        "赵": make("赵", "十一组", occupation=""),
        "钱": make("钱", "三组", phone="", occupation=""),
    }


@pytest.mark.django_db
class TestQueueGroups:
    def test_a_person_missing_two_elements_is_under_both(self, client, collector_a, people):
        client.force_login(collector_a)
        groups = client.get(QUEUE).context["groups"]
        names = {
            key: sorted(p.name for p in client.get(QUEUE, {"group": key}).context["page"])
            for key in groups
        }
        assert groups == {key: len(members) for key, members in names.items()}
        assert names == {
            "occupation": ["赵", "钱"],
            "phone": ["张", "钱"],
            "photo": ["张", "李", "赵", "钱"],
        }

    def test_the_groups_are_named_by_element_and_counted(self, client, collector_a, people):
        client.force_login(collector_a)
        html = client.get(QUEUE).content.decode()
        assert "缺联系电话" in html and "缺职业" in html and "缺照片" in html
        assert '<span class="n">4 人</span>' in html  # 全部待核查: each person once
        assert '<span class="n">2 人</span>' in html

    def test_opening_a_group_lists_only_who_lacks_it(self, client, collector_a, people):
        client.force_login(collector_a)
        response = client.get(QUEUE, {"group": "phone"})
        assert [p.name for p in response.context["page"]] == ["钱", "张"]
        assert "缺联系电话的人员" in response.content.decode()

    def test_each_row_names_what_is_missing(self, client, collector_a, people):
        client.force_login(collector_a)
        rows = {p.name: p.missing for p in client.get(QUEUE).context["page"]}
        assert rows["钱"] == ["occupation", "phone", "photo"]
        assert rows["李"] == ["photo"]

    def test_the_queue_walks_groups_in_counting_order(self, client, collector_a, people):
        client.force_login(collector_a)
        order = [p.name for p in client.get(QUEUE).context["page"]]
        assert order == ["李", "钱", "张", "赵"]  # 2组, 三组, 10组, 十一组

    def test_save_and_next_follows_the_same_order(self, collector_a, people):
        assert work_queue_next(user=collector_a, after=people["李"]) == people["钱"]
        assert work_queue_next(user=collector_a, after=people["钱"]) == people["张"]
        assert work_queue_next(user=collector_a, after=people["赵"]) == people["李"]

    def test_clerk_of_another_township_sees_no_group(self, client, clerk_b, people):
        client.force_login(clerk_b)
        response = client.get(QUEUE)
        assert response.context["groups"] == {}
        assert response.context["total"] == 0

    def test_supervisor_may_not_open_the_queue(self, client, supervisor, people):
        client.force_login(supervisor)
        assert client.get(QUEUE).status_code == 403


@pytest.mark.django_db
class TestVillagesInCountingOrder:
    @pytest.fixture
    def villages(self, township_a):
        for name in ("10组社区", "2组社区", "一组社区"):
            VillageFactory(township=township_a, name=name)

    def test_village_pickers(self, clerk_a, villages):
        assert [v.name for v in village_choices(user=clerk_a)] == [
            "一组社区",
            "2组社区",
            "10组社区",
        ]
        labels = [label for _, label in village_options(user=clerk_a)]
        short = clerk_a.township.short_name
        assert labels == [f"{short}·一组社区", f"{short}·2组社区", f"{short}·10组社区"]

    def test_the_person_filters_offer_the_villages_in_scope(
        self, clerk_a, clerk_b, supervisor, villages, township_a
    ):
        ids = {str(v.pk) for v in village_choices(user=clerk_a)}
        assert {pk for pk, _ in village_options(user=clerk_a)} == ids
        assert {pk for pk, _ in village_options(user=supervisor)} >= ids
        assert not ids & {pk for pk, _ in village_options(user=clerk_b)}
        assert village_options(user=supervisor, township_code="no-such") == []

    def test_progress_table(self, client, clerk_a, township_a, villages):
        from roster.models import Village

        for village in Village.objects.filter(township=township_a):
            PersonFactory(township=township_a, village=village, card_class="no_card_info")
        client.force_login(clerk_a)
        rows = client.get(reverse("roster:progress")).context["rows"]
        assert [r["village__name"] for r in rows] == ["一组社区", "2组社区", "10组社区"]

    def test_comparison_village_table(self, client, clerk_a, township_a, villages):
        from roster.models import ListKind, SourceList, Village

        listed = SourceList.objects.create(
            kind=ListKind.UNISSUED, source="省第一批", file_name="a.xlsx", file_sha256="0" * 64
        )
        for village in Village.objects.filter(township=township_a):
            person = PersonFactory(township=township_a, village=village, card_class="no_card_info")
            listed.entries.create(person=person, sheet="Sheet1", row_number=1)
        client.force_login(clerk_a)
        response = client.get(reverse("roster:comparison"))
        names = [v["village__name"] for v in response.context["villages"]]
        assert names == ["一组社区", "2组社区", "10组社区"]
        assert 'data-testid="village-total"' in response.content.decode()
