"""Upload and comparison pages, each with a user who may, one who may not, another township."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dayao_sscard.models import Job, JobStatus
from roster.imports import list_import
from roster.models import CardClass, ClassificationChange, Person, SourceList
from tests.factories import classify, make_id_number
from tests.roster.listfiles import EXPORT_HEADER, UNISSUED_HEADER, write_xlsx


@pytest.fixture
def listed(tmp_path, county_admin):
    """Two people in 金碧镇 (one failed card, one with none) and one in 石羊镇."""
    a, b, c = make_id_number(), make_id_number(), make_id_number()
    rows = [
        UNISSUED_HEADER,
        [1, "甲", "", "", a, "", "金碧", "大河社区"],
        [2, "乙", "", "", b, "", "金碧", "龙街村委会"],
        [3, "丙", "", "", c, "", "石羊", "石羊社区"],
        [4, "坏", "", "", "5.32326E+17", "", "金碧", ""],
    ]
    path = write_xlsx(tmp_path / "l.xlsx", rows)
    list_import(
        kind="unissued",
        path=path,
        original_name="l.xlsx",
        source="省第一批",
        acting_user=county_admin,
    )
    export = [EXPORT_HEADER, [1, "甲", a, "", "农行", "批量制卡", "制卡失败", "照片不合格", "", ""]]
    path = write_xlsx(tmp_path / "e.xlsx", export)
    list_import(kind="card_export", path=path, original_name="e.xlsx", acting_user=county_admin)
    return a, b, c


def upload(client, tmp_path, name="list.xlsx", kind="unissued", source="省第一批", content=None):
    if content is None:
        rows = [
            UNISSUED_HEADER,
            [1, "张三", "", "", make_id_number(), "", "金碧", ""],
            [2, "坏号", "", "", "123", "", "金碧", ""],
        ]
        content = write_xlsx(tmp_path / name, rows).read_bytes()
    return client.post(
        reverse("roster:import-create"),
        {"kind": kind, "source": source, "file": SimpleUploadedFile(name, content)},
    )


@pytest.mark.django_db
class TestUpload:
    def test_admin_uploads_and_the_job_reports_with_an_error_report(
        self, client, county_admin, tmp_path, django_capture_on_commit_callbacks
    ):
        client.force_login(county_admin)
        with django_capture_on_commit_callbacks(execute=True):
            response = upload(client, tmp_path)
        job = Job.objects.get()
        assert response.url == reverse("job-detail", args=[job.pk])
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, job.error
        assert job.counts["新增人员"] == 1 and job.counts["问题行"] == 1
        assert job.result_name.startswith("问题行报告")
        download = client.get(reverse("job-result", args=[job.pk]))
        assert download.status_code == 200
        import io

        import openpyxl

        rows = list(
            openpyxl.load_workbook(
                io.BytesIO(b"".join(download.streaming_content))
            ).active.iter_rows(values_only=True)
        )
        assert rows[1][2] == 3 and rows[1][3] == "坏号"

    def test_a_broken_file_fails_the_job_with_a_chinese_message(
        self, client, county_admin, tmp_path, django_capture_on_commit_callbacks
    ):
        client.force_login(county_admin)
        with django_capture_on_commit_callbacks(execute=True):
            upload(client, tmp_path, content=b"PK\x03\x04broken")
        job = Job.objects.get()
        assert job.status == JobStatus.FAILED
        assert "无法打开" in job.error
        assert not Person.objects.exists() and not SourceList.objects.exists()

    def test_the_same_file_twice_imports_once(
        self, client, county_admin, tmp_path, django_capture_on_commit_callbacks
    ):
        client.force_login(county_admin)
        rows = [UNISSUED_HEADER, [1, "张三", "", "", make_id_number(), "", "金碧", ""]]
        content = write_xlsx(tmp_path / "x.xlsx", rows).read_bytes()
        with django_capture_on_commit_callbacks(execute=True):
            upload(client, tmp_path, content=content)
            upload(client, tmp_path, content=content)
        second = Job.objects.order_by("id").last()
        assert "未作任何修改" in second.counts["结果"]
        assert SourceList.objects.count() == 1 and Person.objects.count() == 1

    def test_form_errors_are_in_chinese(self, client, county_admin, tmp_path):
        client.force_login(county_admin)
        response = upload(client, tmp_path, name="list.pdf", content=b"%PDF")
        assert "只支持 .xlsx、.xls、.csv 文件" in response.content.decode()
        response = upload(client, tmp_path, source="")
        assert "请填写批次或补贴项目名称" in response.content.decode()
        assert not Job.objects.exists()

    def test_township_staff_may_only_bring_back_12333_results(self, client, clerk_a, tmp_path):
        client.force_login(clerk_a)
        response = client.get(reverse("roster:import-create"))
        assert response.status_code == 200
        assert [k for k, _ in response.context["form"].fields["kind"].choices] == [
            "collection_12333"
        ]
        response = upload(client, tmp_path)
        assert response.status_code == 200
        assert "选择一个有效的选项" in response.content.decode()
        assert not Job.objects.exists()

    @pytest.mark.parametrize("persona", ["supervisor", "collector_a", "banker_a"])
    def test_only_the_county_admin_may_import(self, client, request, persona, tmp_path):
        client.force_login(request.getfixturevalue(persona))
        assert client.get(reverse("roster:import-create")).status_code == 403
        assert upload(client, tmp_path).status_code == 403
        assert not Job.objects.exists()


@pytest.mark.django_db
class TestComparisonPage:
    url = reverse("roster:comparison")

    def test_clerk_sees_own_township_and_its_villages(self, client, clerk_a, listed):
        client.force_login(clerk_a)
        response = client.get(self.url)
        assert response.status_code == 200
        rows = response.context["report"]["townships"]
        assert [(r["code"], r["listed"], r["card_failed"], r["invalid_id"]) for r in rows] == [
            ("532326101", 2, 1, 1)
        ]
        assert {v["village__name"] for v in response.context["villages"]} == {
            "大河社区",
            "龙街村委会",
        }

    def test_clerk_cannot_look_into_another_township(self, client, clerk_a, listed):
        client.force_login(clerk_a)
        response = client.get(self.url, {"township": "532326102"})
        assert response.context["villages"] == []
        assert "石羊社区" not in response.content.decode()

    def test_supervisor_sees_every_township(self, client, supervisor, listed):
        client.force_login(supervisor)
        report = client.get(self.url).context["report"]
        assert len(report["townships"]) == 12
        assert report["total"]["listed"] == 3

    @pytest.mark.parametrize("persona", ["collector_a", "banker_a"])
    def test_collectors_and_banks_may_not(self, client, request, persona):
        client.force_login(request.getfixturevalue(persona))
        assert client.get(self.url).status_code == 403

    def test_the_class_list_filters_to_listed_people(self, client, clerk_a, listed):
        a, b, c = listed
        client.force_login(clerk_a)
        response = client.get(
            reverse("roster:person-list"), {"on_list": "unissued", "card_class": "card_failed"}
        )
        assert [p.id_number for p in response.context["page"]] == [a]


@pytest.mark.django_db
class TestWhatTheComparisonStandsOn:
    """The sentence above the figures names the exports they come from, never 均未比对
    beside figures."""

    url = reverse("roster:comparison")

    def basis(self, client, user) -> str:
        client.force_login(user)
        html = client.get(self.url).content.decode()
        start = html.index('data-testid="comparison-basis"')
        return html[start : html.index("</p>", start)]

    def test_results_without_any_export_are_not_called_uncompared(
        self, client, supervisor, person_a
    ):
        classify(person_a, CardClass.NO_CARD_INFO)
        text = self.basis(client, supervisor)
        assert "均未比对" not in text and "导入前已有的比对结果" in text

    def test_nothing_compared_says_so(self, client, supervisor, person_a):
        assert "以下人员均未比对" in self.basis(client, supervisor)

    def test_a_partial_export_alone_is_named(self, client, county_admin, person_a, tmp_path):
        path = write_xlsx(
            tmp_path / "part.xlsx",
            [
                EXPORT_HEADER,
                [1, "甲", person_a.id_number, "Y1", "农行", "批量制卡", "制卡成功", "", "正常", ""],
            ],
        )
        list_import(
            kind="card_export",
            path=path,
            original_name="part.xlsx",
            acting_user=county_admin,
            coverage="partial",
        )
        text = self.basis(client, county_admin)
        assert "尚未导入" not in text
        assert "依据部分导出 1 份" in text and "part.xlsx" in text

    def test_a_partial_after_the_complete_one_is_named_beside_it(
        self, client, county_admin, listed, tmp_path
    ):
        a, b, c = listed
        path = write_xlsx(
            tmp_path / "part.xlsx",
            [EXPORT_HEADER, [1, "乙", b, "Y1", "农行", "批量制卡", "制卡成功", "", "正常", ""]],
        )
        list_import(
            kind="card_export",
            path=path,
            original_name="part.xlsx",
            acting_user=county_admin,
            coverage="partial",
        )
        text = self.basis(client, county_admin)
        assert "依据：" in text and "e.xlsx" in text
        assert "及其后的部分导出 1 份" in text and "part.xlsx" in text


@pytest.mark.django_db
class TestChangesPage:
    url = reverse("roster:comparison-changes")

    def test_changes_since_the_previous_export(
        self, client, clerk_a, clerk_b, listed, tmp_path, county_admin
    ):
        a, b, c = listed
        export = [
            EXPORT_HEADER,
            [1, "甲", a, "Y1", "农行", "批量制卡", "制卡成功", "", "正常", "2026-11-20"],
            [2, "丙", c, "Y2", "农行", "批量制卡", "制卡成功", "", "正常", "2026-11-20"],
        ]
        list_import(
            kind="card_export",
            path=write_xlsx(tmp_path / "e2.xlsx", export),
            original_name="e2.xlsx",
            acting_user=county_admin,
        )
        client.force_login(clerk_a)
        changes = list(client.get(self.url).context["page"])
        assert [(ch.person.id_number, ch.previous_class, ch.new_class) for ch in changes] == [
            (a, "card_failed", "card_made")
        ]
        client.force_login(clerk_b)
        assert [ch.person.id_number for ch in client.get(self.url).context["page"]] == [c]
        assert ClassificationChange.objects.count() == 2

    def test_collector_may_not(self, client, collector_a):
        client.force_login(collector_a)
        assert client.get(self.url).status_code == 403


@pytest.mark.django_db
class TestSubsidyPage:
    url = reverse("roster:subsidy-comparison")

    @pytest.fixture
    def subsidy(self, tmp_path, county_admin, listed):
        a, b, c = listed
        rows = [
            ["补贴项目", "乡镇", "村", "姓名", "身份证号", "补贴金额"],
            ["耕地地力保护补贴", "金碧", "大河社区", "甲", a, "100"],
            ["耕地地力保护补贴", "石羊", "石羊社区", "丙", c, "100"],
        ]
        list_import(
            kind="subsidy",
            path=write_xlsx(tmp_path / "s.xlsx", rows, footer=False),
            original_name="s.xlsx",
            source="耕地地力保护补贴",
            acting_user=county_admin,
        )

    def test_clerk_sees_own_township_recipients_without_card(self, client, clerk_a, subsidy):
        client.force_login(clerk_a)
        rows = client.get(self.url).context["rows"]
        assert rows[0]["project"] == "耕地地力保护补贴"
        assert rows[0]["report"]["total"]["subsidy_without_card"] == 1
        response = client.get(
            reverse("roster:person-list"),
            {"on_list": "subsidy", "project": "耕地地力保护补贴", "without_card": "on"},
        )
        assert [p.name for p in response.context["page"]] == ["甲"]

    def test_supervisor_sees_the_county(self, client, supervisor, subsidy):
        client.force_login(supervisor)
        assert client.get(self.url).context["rows"][0]["report"]["total"]["subsidy_recipients"] == 2

    def test_bank_may_not(self, client, banker_a):
        client.force_login(banker_a)
        assert client.get(self.url).status_code == 403


@pytest.mark.django_db
def test_township_class_export_is_named_and_lists_the_sources(
    client, clerk_a, listed, django_capture_on_commit_callbacks
):
    import openpyxl

    client.force_login(clerk_a)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("roster:person-export"),
            {"township": "532326101", "on_list": "unissued", "card_class": "card_failed"},
        )
    job = Job.objects.get()
    assert job.result_name.startswith("金碧镇_制卡失败_名单_")
    with job.result_file.open("rb") as handle:
        rows = list(
            openpyxl.load_workbook(handle, read_only=True).active.iter_rows(values_only=True)
        )
    assert rows[0][-1] == "所在名单"
    assert [(r[4], r[9], r[-1]) for r in rows[1:]] == [("甲", "制卡失败", "省第一批")]
