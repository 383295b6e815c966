"""Lists that change people already known, as users click them: a township clerk brings
back 12333 results and settles the 采集冲突, the county imports a death list, and a bank
clerk looks at the old stock cards of their branch.

The imports run on a real Celery worker (fixture ``live_worker``): the job page follows
the job as a user's browser does.
"""

import datetime
import re
from pathlib import Path

from django.utils import timezone
from playwright.sync_api import expect

from dayao_sscard.models import Job
from issuance.models import CancellationRequest, LedgerEvent
from issuance.services import card_create, card_record_event
from roster.models import CollectionConflict, Person, VitalStatus
from tests.factories import BankFactory, PersonFactory, make_id_number
from tests.roster.listfiles import write_xlsx

from .conftest import login
from .jobs import (
    download_result,
    job_counts,
    open_import_form,
    submit_import,
    wait_until_succeeded,
)

REPORT_HEADER = ["文件", "工作表", "行号", "姓名", "身份证号码（原文）", "问题", "处理"]


def nav(page):
    return page.locator("header.top nav")


def job_url(live_server) -> re.Pattern:
    return re.compile(rf"^{re.escape(live_server.url)}/jobs/\d+/$")


def detail_url(live_server, person) -> str:
    return f"{live_server.url}/roster/persons/{person.pk}/"


def upload_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "upload"
    folder.mkdir(exist_ok=True)
    return folder


def field_row(table, label: str):
    """The row of one field in a 采集冲突 table."""
    return table.locator(
        "tbody tr", has=table.page.locator(f'td[data-label="字段"]:text-is("{label}")')
    )


def detail_value(page, term: str):
    """The <dd> after the <dt> of that name on the person detail page."""
    return page.locator(f'dl.fields dt:text-is("{term}") + dd')


# ---- 12333采集结果 with a conflict, as the 金碧镇 clerk -------------------------------------


def test_clerk_imports_12333_results_and_takes_the_12333_phone(
    live_server, live_worker, clerk_a, clerk_b, person_a, new_page, tmp_path
):
    Person.objects.filter(pk=person_a.pk).update(phone="13887654321", occupation="")
    path = write_xlsx(
        upload_dir(tmp_path) / "12333采集结果.xlsx",
        [
            ["身份证号码", "姓名", "职业", "联系电话"],
            [person_a.id_number, person_a.name, "务工", "13900001111"],
        ],
    )

    page = login(new_page(), live_server, clerk_a)
    open_import_form(page)
    kinds = page.get_by_test_id("import-form").get_by_label("名单类型").locator("option")
    assert kinds.all_inner_texts() == ["12333采集结果"]

    submit_import(page, kind="12333采集结果", file=path)

    expect(page).to_have_url(job_url(live_server))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "导入12333采集结果：12333采集结果.xlsx"
    )
    wait_until_succeeded(page)
    counts = job_counts(page)
    assert counts["读取行数"] == "1"
    assert (counts["更新人员"], counts["补全字段"], counts["冲突字段"]) == ("1", "1", "1")
    assert counts["问题行"] == "0"

    # ---- while it is pending, the 石羊镇 clerk sees none of it ----------------------------
    other = login(new_page(), live_server, clerk_b)
    nav(other).get_by_role("link", name="采集冲突").click()
    expect(other.get_by_role("heading", level=1)).to_have_text("采集冲突")
    expect(other.get_by_test_id("conflict-person")).to_have_count(0)
    expect(other.locator("main")).to_contain_text("没有待处理的采集冲突。")
    expect(other.locator("main")).not_to_contain_text(person_a.name)

    response = other.goto(f"{live_server.url}/roster/conflicts/{person_a.pk}/")
    assert response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("未找到")
    expect(other.locator("main")).not_to_contain_text(person_a.name)

    # ---- the 金碧镇 clerk settles it --------------------------------------------------------
    # The blank was filled at once; the differing phone waits for the clerk.
    nav(page).get_by_role("link", name="采集冲突").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("采集冲突")
    expect(page.locator("main")).to_contain_text("共 1 人有待处理的采集冲突。")
    group = page.get_by_test_id("conflict-person")
    expect(group).to_have_count(1)
    expect(group.get_by_role("heading", level=2)).to_contain_text(person_a.name)
    expect(group.locator("tbody tr")).to_have_count(1)  # the occupation is no conflict
    phone = field_row(group, "联系电话")
    # A township clerk may resolve the conflicts, so the phones are not masked here.
    expect(phone.locator('td[data-label="系统值"]')).to_have_text("13887654321")
    expect(phone.locator('td[data-label="12333值"]')).to_have_text("13900001111")
    expect(phone.locator('td[data-label="来源"]')).to_contain_text("第2行")

    phone.get_by_label("采用12333值").check()
    group.get_by_role("button", name=f"保存{person_a.name}的选择").click()

    expect(page).to_have_url(f"{live_server.url}/roster/conflicts/")
    expect(page.locator(".messages li.success")).to_have_text(f"已处理{person_a.name}的采集冲突。")
    expect(page.get_by_test_id("conflict-person")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("没有待处理的采集冲突。")

    page.goto(detail_url(live_server, person_a))
    expect(page.get_by_role("heading", level=1)).to_contain_text(person_a.name)
    expect(detail_value(page, "联系电话")).to_have_text("139****1111")
    expect(detail_value(page, "职业")).to_have_text("务工")

    person = Person.objects.get(pk=person_a.pk)
    assert (person.phone, person.occupation) == ("13900001111", "务工")
    conflict = CollectionConflict.objects.get(person=person_a)
    assert (conflict.field, conflict.resolution, conflict.resolved_by) == (
        "phone",
        "taken",
        clerk_a,
    )


# ---- 死亡人员名单, as the county administrator ----------------------------------------------


def test_county_imports_a_death_list(
    live_server, live_worker, ledger_flushable, county_admin, person_a, new_page, tmp_path
):
    card = card_create(person=person_a, bank=BankFactory(), acting_user=county_admin)
    unknown = make_id_number()
    path = write_xlsx(
        upload_dir(tmp_path) / "火化信息.xlsx",
        [
            ["序号", "姓名", "身份证号码", "死亡日期"],
            [1, person_a.name, person_a.id_number, "2026-10-01"],
            [2, "外县人", unknown, "2026-10-02"],
        ],
    )

    page = login(new_page(), live_server, county_admin)
    open_import_form(page)
    submit_import(page, kind="死亡人员名单", source="民政火化信息", file=path)

    expect(page).to_have_url(job_url(live_server))
    expect(page.get_by_role("heading", level=1)).to_have_text("导入死亡人员名单：民政火化信息")
    wait_until_succeeded(page)
    counts = job_counts(page)
    assert counts["读取行数"] == "2"
    assert (counts["标记死亡"], counts["系统中无此人"], counts["原已死亡"]) == ("1", "1", "0")
    assert counts["列入注销的社保卡"] == "1"
    assert counts["问题行"] == "0"  # someone not in the system is listed, not an error

    header, *rows = download_result(page, tmp_path)
    assert list(header) == REPORT_HEADER
    assert rows == [
        ("火化信息.xlsx", "名单", 3, "外县人", unknown, "系统中无此人", "未匹配，无需处理")
    ]

    page.goto(detail_url(live_server, person_a))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(person_a.name)
    expect(heading.locator(".badge.deceased")).to_have_text("已死亡")
    expect(detail_value(page, "死亡日期")).to_have_text("2026-10-01（民政火化信息）")
    expect(page.get_by_role("link", name="核查/采集信息")).to_have_count(0)

    person = Person.objects.get(pk=person_a.pk)
    assert person.vital_status == VitalStatus.DECEASED
    assert person.death_date == datetime.date(2026, 10, 1)
    assert CancellationRequest.objects.get(card=card).status == "pending"


def test_death_list_without_a_source_is_refused(
    live_server, county_admin, person_a, page, tmp_path
):
    path = write_xlsx(
        upload_dir(tmp_path) / "d.xlsx",
        [["姓名", "身份证号码", "死亡日期"], [person_a.name, person_a.id_number, "2026-10-01"]],
    )
    login(page, live_server, county_admin)
    open_import_form(page)

    submit_import(page, kind="死亡人员名单", file=path)

    expect(page).to_have_url(f"{live_server.url}/roster/imports/new/")
    form = page.get_by_test_id("import-form")
    expect(form.locator(".errorlist")).to_contain_text("请填写死亡信息来源")
    assert not Job.objects.exists()
    assert Person.objects.get(pk=person_a.pk).vital_status == VitalStatus.ALIVE


# ---- 库存卡与睡眠卡, as the 金碧信用社 clerk -----------------------------------------------


def produced_card(person, *, branch, days_ago: int, acting_user, number: str):
    when = timezone.now() - datetime.timedelta(days=days_ago)
    card = card_create(
        person=person,
        bank=branch.bank,
        acting_user=acting_user,
        occurred_at=when - datetime.timedelta(days=30),
    )
    return card_record_event(
        card=card,
        event=LedgerEvent.PRODUCED,
        acting_user=acting_user,
        occurred_at=when,
        card_number=number,
    )


def test_banker_sees_old_stock_of_their_branch_only(
    live_server,
    ledger_flushable,
    county_admin,
    banker_a,
    branch_a,
    branch_b,
    person_a,
    person_b,
    village_a,
    page,
):
    old = produced_card(
        person_a, branch=branch_a, days_ago=200, acting_user=county_admin, number="A00000001"
    )
    produced_card(
        person_b, branch=branch_b, days_ago=200, acting_user=county_admin, number="B00000002"
    )
    recent = PersonFactory(township=village_a.township, village=village_a, name="李新卡")
    produced_card(
        recent, branch=branch_a, days_ago=10, acting_user=county_admin, number="A30000003"
    )

    login(page, live_server, banker_a)
    nav(page).get_by_role("link", name="库存/睡眠卡").click()

    expect(page).to_have_url(f"{live_server.url}/issuance/stock-cards/")
    expect(page.get_by_role("heading", level=1)).to_have_text("库存卡与睡眠卡核实")
    banks = page.get_by_test_id("bank-table").locator("tbody tr")
    expect(banks).to_have_count(1)
    expect(banks.locator('td[data-label="银行"]')).to_have_text(branch_a.bank.name)
    expect(banks.locator('td[data-label="库存卡"]')).to_have_text("1")
    expect(banks.locator('td[data-label="睡眠卡"]')).to_have_text("0")

    cards = page.get_by_test_id("stock-table").locator("tbody tr")
    expect(cards).to_have_count(1)
    row = cards.first
    expect(row.locator('td[data-label="持卡人"]')).to_contain_text(person_a.name)
    expect(row.locator('td[data-label="卡号"]')).to_have_text("A00000001")
    expect(row.locator('td[data-label="银行网点"]')).to_have_text(str(branch_a))
    expect(row.locator('td[data-label="状态"]')).to_have_text("已制卡（库存）")
    expect(row.locator('td[data-label="制卡日期"]')).to_have_text(f"{old.made_on:%Y-%m-%d}")
    table = page.get_by_test_id("stock-table")
    expect(table).not_to_contain_text(person_b.name)
    expect(table).not_to_contain_text(recent.name)
