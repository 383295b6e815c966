"""Browser steps shared by the import flows: upload a list, follow its job, read its result."""

from pathlib import Path

import openpyxl
from playwright.sync_api import expect

JOB_TIMEOUT_MS = 60_000  # an import on a slow CI machine; it normally takes a second or two


def open_import_form(page) -> None:
    page.locator("header.top nav").get_by_role("link", name="导入名单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入名单")


def submit_import(page, *, kind: str, file: Path, source: str = "") -> None:
    form = page.get_by_test_id("import-form")
    form.get_by_label("名单类型").select_option(label=kind)
    if source:
        form.get_by_label("来源/批次").fill(source)
    form.get_by_label("文件").set_input_files(file)
    form.get_by_role("button", name="上传并导入").click()


def wait_until_succeeded(page) -> None:
    expect(page.get_by_test_id("job-status")).to_have_text("已完成", timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_role("progressbar")).to_have_count(0)


def job_counts(page) -> dict[str, str]:
    counts = page.get_by_test_id("job-counts")
    names = counts.locator("dt").all_inner_texts()
    values = counts.locator("dd").all_inner_texts()
    assert len(names) == len(values)
    return dict(zip(names, values, strict=True))


def download_result(page, tmp_path: Path) -> list[tuple]:
    """Download the job's result file and return its rows (header first)."""
    with page.expect_download() as download_info:
        page.get_by_test_id("job-result").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / "download" / download.suggested_filename
    path.parent.mkdir(exist_ok=True)
    download.save_as(path)
    workbook = openpyxl.load_workbook(path, read_only=True)
    try:
        assert len(workbook.worksheets) == 1
        return [row for row in workbook.worksheets[0].iter_rows(values_only=True) if any(row)]
    finally:
        workbook.close()
