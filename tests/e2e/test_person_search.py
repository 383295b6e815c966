"""Finding a person, seeing their details, editing contact data, exporting the list."""

import re

import openpyxl
from playwright.sync_api import expect

from dayao_sscard.models import AuditEvent

from .conftest import login, menu


def masked(id_number: str) -> str:
    return f"532326********{id_number[-4:]}"


def test_clerk_searches_views_and_reveals_id(live_server, clerk_a, person_a, person_b, page):
    login(page, live_server, clerk_a)

    page.get_by_placeholder("姓名、身份证号或后几位、村名").fill(person_a.name)
    page.get_by_role("button", name="查询").click()

    table = page.get_by_test_id("person-table")
    row = table.locator("tbody tr", has_text=person_a.name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(masked(person_a.id_number))
    expect(row).not_to_contain_text(person_a.id_number)
    expect(table).not_to_contain_text(person_b.name)

    row.get_by_role("link", name=person_a.name).click()
    expect(page).to_have_url(f"{live_server.url}/roster/persons/{person_a.pk}/")
    expect(page.get_by_test_id("id-number")).to_have_text(masked(person_a.id_number))

    page.get_by_role("button", name="显示完整号码").click()
    expect(page.get_by_test_id("full-id-number")).to_have_text(person_a.id_number)
    expect(page.get_by_role("button", name="显示完整号码")).to_have_count(0)
    assert AuditEvent.objects.filter(
        action="roster.person.id_number_viewed", actor=clerk_a, object_id=str(person_a.pk)
    ).exists()


def test_clerk_cannot_open_person_of_another_township(live_server, clerk_a, person_b, page):
    login(page, live_server, clerk_a)

    response = page.goto(f"{live_server.url}/roster/persons/{person_b.pk}/")

    assert response.status == 404
    expect(page.locator("main")).to_contain_text("不在您的管辖范围内")
    expect(page.locator("main")).not_to_contain_text(person_b.name)


def test_supervisor_sees_person_read_only(live_server, supervisor, person_a, page):
    login(page, live_server, supervisor)

    page.goto(f"{live_server.url}/roster/persons/{person_a.pk}/")

    expect(page.get_by_role("heading", level=1)).to_contain_text(person_a.name)
    expect(page.get_by_test_id("id-number")).to_have_text(masked(person_a.id_number))
    expect(page.get_by_role("button", name="显示完整号码")).to_have_count(0)
    expect(page.get_by_text("修改联系信息")).to_have_count(0)


def test_clerk_edits_phone(live_server, clerk_a, person_a, page):
    login(page, live_server, clerk_a)
    page.goto(f"{live_server.url}/roster/persons/{person_a.pk}/")

    page.get_by_role("link", name="修改联系信息").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("修改联系信息")
    page.fill("#id_phone", "13912345678")
    page.get_by_role("button", name="保存").click()

    expect(page).to_have_url(f"{live_server.url}/roster/persons/{person_a.pk}/")
    expect(page.locator(".messages")).to_contain_text("已保存")
    phone = page.locator("dl.fields dt", has_text="联系电话").locator(
        "xpath=following-sibling::dd[1]"
    )
    expect(phone).to_have_text("139****5678")
    expect(page.locator("dl.fields")).not_to_contain_text("13912345678")
    person_a.refresh_from_db()
    assert person_a.phone == "13912345678"


def test_clerk_exports_list_to_excel(live_server, clerk_a, person_a, person_b, page, tmp_path):
    login(page, live_server, clerk_a)
    page.goto(f"{live_server.url}/roster/persons/")
    expect(page.get_by_test_id("person-table")).to_contain_text(person_a.name)

    page.get_by_role("button", name="导出当前结果为 Excel").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/jobs/\d+/$"))
    expect(page.get_by_test_id("job-status")).to_have_text("已完成")
    with page.expect_download() as download_info:
        page.click("[data-testid=job-result]")
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)

    workbook = openpyxl.load_workbook(path, read_only=True)
    cells = {
        str(value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    }
    workbook.close()
    assert person_a.name in cells
    assert person_b.name not in cells


def test_collector_on_phone_sees_only_own_village(
    live_server, collector_a, person_a, person_a2, new_page
):
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    login(page, live_server, collector_a)
    expect(page.get_by_test_id("home-title")).to_have_text("大河社区信息采集")

    menu(page).get_by_role("link", name="人员查询").click()

    table = page.get_by_test_id("person-table")
    expect(table.get_by_role("link", name=person_a.name)).to_be_visible()
    expect(table).not_to_contain_text(person_a2.name)
    expect(table).not_to_contain_text("龙街村委会")
    expect(page.locator("main")).to_contain_text("共 1 人")
