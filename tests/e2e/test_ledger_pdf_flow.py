"""A township clerk prints a village's 发放台账: the job runs on a real worker, the page
follows it, and the download is the signed PDF of that village."""

import re
import subprocess

from playwright.sync_api import expect

from tests.issuance.ledgerdata import ledger_cards

from .conftest import login, menu
from .jobs import JOB_TIMEOUT_MS, wait_until_succeeded


def test_a_clerk_prints_a_villages_ledger(
    settings,
    live_server,
    live_worker,
    county_admin,
    clerk_a,
    village_a,
    village_a2,
    new_page,
    tmp_path,
):
    settings.DATA_DIR = tmp_path / "data"  # the signing key made on first use goes here
    ledger_cards(village_a, count=3, acting_user=county_admin, issued=1, names=["张桂芬"])
    ledger_cards(village_a2, count=2, acting_user=county_admin, names=["龙外村"])

    page = login(new_page(), live_server, clerk_a)
    menu(page).get_by_role("link", name="发放台账").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("发放台账")
    form = page.get_by_test_id("ledger-form")
    form.get_by_label("村（社区）").select_option(label="大河社区")
    form.get_by_label("PDF（已签名）").check()
    live_worker.hold()  # the page shows the job queued before the worker takes it
    form.get_by_test_id("ledger-submit").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server.url)}/jobs/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("金碧镇大河社区发放台账（PDF）")
    expect(page.get_by_role("progressbar")).to_be_visible()
    live_worker.release()
    expect(page.get_by_test_id("job-status")).to_have_text("已完成", timeout=JOB_TIMEOUT_MS)
    wait_until_succeeded(page)

    with page.expect_download() as download_info:
        page.get_by_test_id("job-result").click()
    download = download_info.value
    assert download.suggested_filename.startswith("发放台账_金碧镇大河社区_")
    assert download.suggested_filename.endswith(".pdf")
    path = tmp_path / "ledger.pdf"
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "大河社区（3 张）" in text and "张桂芬" in text and "龙外村" not in text
    assert (
        "Signature is Valid"
        in subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    )
