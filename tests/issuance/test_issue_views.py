"""The card page with its ledger and 发放, and the 集中发放 pages: a user who may, one who
may not, one of another township."""

import shutil
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone

from issuance import issuing
from issuance.models import Card, CardStatus, LedgerEntry, LedgerEvent, SignOffSheet

from .issuing import stock_card, village_with_cards


@pytest.fixture
def card(county_admin, branch_a, person_a):
    return stock_card(person=person_a, branch=branch_a, user=county_admin, number="M20000001")


def signed_in(client, user):
    client.force_login(user)
    return client


def now_field() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def issue_data(**fields) -> dict:
    return {
        "method": "window",
        "place": "金碧镇社保中心",
        "signee": "张桂芬",
        "identity_checked": "on",
        "occurred_at": now_field(),
        **fields,
    }


@pytest.mark.django_db
class TestCardPage:
    def test_the_card_its_holder_masked_and_its_ledger(self, client, clerk_a, card):
        response = signed_in(client, clerk_a).get(reverse("issuance:card-detail", args=[card.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        assert card.person.masked_id_number in html and card.person.id_number not in html
        assert html.count('data-testid="ledger-entry"') == 3
        assert "制卡完成" in html and "金碧信用社柜台" in html
        assert 'data-testid="issue-form"' in html and 'value="张桂芬"' in html
        assert 'value="金碧镇社保中心"' in html

    def test_the_card_page_and_its_stock_work_page_link_each_other(self, client, clerk_a, card):
        signed_in(client, clerk_a)
        detail = reverse("issuance:card-detail", args=[card.pk])
        work = reverse("issuance:stock-card", args=[card.pk])
        assert f'href="{work}"' in client.get(detail).content.decode()
        assert f'href="{detail}"' in client.get(work).content.decode()
        Card.objects.filter(pk=card.pk).update(status=CardStatus.CANCELLED)
        assert f'href="{work}"' not in client.get(detail).content.decode()

    def test_read_only_and_bank_staff_see_no_issue_form(self, client, supervisor, banker_a, card):
        for user in (supervisor, banker_a):
            client.force_login(user)
            response = client.get(reverse("issuance:card-detail", args=[card.pk]))
            assert response.status_code == 200
            assert 'data-testid="issue-form"' not in response.content.decode()

    def test_another_township_gets_404(self, client, clerk_b, card):
        response = signed_in(client, clerk_b).get(reverse("issuance:card-detail", args=[card.pk]))
        assert response.status_code == 404

    def test_the_person_page_links_to_it(self, client, clerk_a, card):
        response = signed_in(client, clerk_a).get(
            reverse("roster:person-detail", args=[card.person.pk])
        )
        assert reverse("issuance:card-detail", args=[card.pk]) in response.content.decode()


@pytest.mark.django_db
class TestIssueOnTheCardPage:
    def url(self, card):
        return reverse("issuance:card-issue", args=[card.pk])

    def test_issued_and_shown_in_the_timeline(self, client, collector_a, card):
        client = signed_in(client, collector_a)
        response = client.post(self.url(card), issue_data(method="door_to_door", place="3组"))
        assert response.status_code == 302
        assert Card.objects.get(pk=card.pk).status == CardStatus.ISSUED
        page = client.get(response.url).content.decode()
        assert "已登记发放（上门发放），签收人：张桂芬" in page
        assert "上门发放" in page and 'data-testid="entry-signee">张桂芬' in page
        assert "该卡已发放（现由张桂芬持有），无需再办理发放" in page
        assert 'data-testid="issue-form"' not in page

    def test_window_and_mail_show_their_chinese_names(self, client, clerk_a, card):
        client = signed_in(client, clerk_a)
        client.post(self.url(card), issue_data(method="mail", tracking_number="SF1001"))
        page = client.get(reverse("issuance:card-detail", args=[card.pk])).content.decode()
        assert "邮寄发放" in page and "邮寄单号：SF1001" in page

    def test_a_refusal_is_shown_and_nothing_typed_is_lost(self, client, clerk_a, card):
        data = issue_data(identity_checked="", place="金碧镇社保中心2号窗口", note="本人来领")
        response = signed_in(client, clerk_a).post(self.url(card), data)
        html = response.content.decode()
        assert response.status_code == 400
        assert "发放前必须核验签收人的身份证件" in html
        assert 'value="金碧镇社保中心2号窗口"' in html and 'value="本人来领"' in html
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK

    def test_a_proxy_without_approval_is_refused_with_its_reason(self, client, clerk_a, card):
        data = issue_data(method="proxy", proxy_name="张三", proxy_id_number="53232619800517001X")
        response = signed_in(client, clerk_a).post(self.url(card), data)
        assert response.status_code == 400
        html = response.content.decode()
        assert "系统中没有持卡人张桂芬的代管（代领）审批，不能发放给代领人张三" in html
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK

    def test_a_second_submit_is_told_kindly_and_does_nothing(self, client, clerk_a, card):
        client = signed_in(client, clerk_a)
        client.post(self.url(card), issue_data())
        response = client.post(self.url(card), issue_data(), follow=True)
        assert "发放给张桂芬，无需重复登记" in response.content.decode()
        assert LedgerEntry.objects.filter(card=card, event=LedgerEvent.ISSUED).count() == 1

    def test_may_not_and_other_township(self, client, supervisor, banker_a, clerk_b, card):
        for user, status in ((supervisor, 403), (banker_a, 403), (clerk_b, 404)):
            client.force_login(user)
            assert client.post(self.url(card), issue_data()).status_code == status
        assert Card.objects.get(pk=card.pk).status == CardStatus.IN_STOCK


@pytest.fixture
def cards(county_admin, branch_a, village_a):
    return village_with_cards(village_a, branch_a, county_admin, ["张一", "李二", "王三"])


def create(client, village, **fields):
    data = {"village": village.pk, "day": f"{timezone.localdate():%Y-%m-%d}", "place": "居委会"}
    return client.post(reverse("issuance:sign-off-create"), {**data, **fields})


def pdf_text(pdf: bytes, tmp_path, tool: str = "pdftotext") -> str:
    path = tmp_path / "sheet.pdf"
    path.write_bytes(pdf)
    args = [tool, "-layout", str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


@pytest.mark.django_db
class TestSignOffPages:
    def test_a_collector_prints_the_sheet_of_their_village(
        self, client, collector_a, village_a, cards, tmp_path
    ):
        client = signed_in(client, collector_a)
        assert client.get(reverse("issuance:sign-off-create")).status_code == 200
        response = create(client, village_a)
        sheet = SignOffSheet.objects.get()
        assert response.status_code == 302 and response.url.endswith(f"/sign-off/{sheet.pk}/")
        pdf = client.get(reverse("issuance:sign-off-pdf", args=[sheet.pk]))
        assert pdf["Content-Type"] == "application/pdf"
        text = pdf_text(pdf.content, tmp_path)
        assert "社会保障卡集中发放签收表" in text
        assert "金碧镇" in text and "大河社区" in text and "居委会" in text
        for card in cards:
            assert card.person.name in text and card.card_number in text
            assert card.person.masked_id_number in text and card.person.id_number not in text
        assert (
            "本表共列社会保障卡 3 张" in text
            and "签收人签名" in text
            and "村（社区）干部（签字）" in text
        )
        fonts = pdf_text(pdf.content, tmp_path, tool="pdffonts").splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # emb column

    def test_not_for_a_village_outside_the_users_scope(
        self, client, collector_a, clerk_b, village_a, village_a2, cards
    ):
        for user, village in ((collector_a, village_a2), (clerk_b, village_a)):
            client.force_login(user)
            response = create(client, village)
            assert response.status_code == 400 and "请选择村（社区）" in response.content.decode()
        assert not SignOffSheet.objects.exists()

    def test_nothing_waiting_is_said(self, client, collector_a, village_a):
        response = create(signed_in(client, collector_a), village_a)
        assert response.status_code == 400
        assert "目前没有等待发放给持卡人的社保卡" in response.content.decode()

    def test_bank_staff_and_the_supervisor_make_no_sheet(
        self, client, banker_a, supervisor, village_a, cards
    ):
        for user in (banker_a, supervisor):
            client.force_login(user)
            assert create(client, village_a).status_code == 403

    def test_recording_the_day(self, client, collector_a, village_a, cards):
        client = signed_in(client, collector_a)
        create(client, village_a)
        sheet = SignOffSheet.objects.get()
        rows = dict(sheet.rows.values_list("card__person__name", "pk"))
        url = reverse("issuance:sign-off-record", args=[sheet.pk])
        assert client.get(url).status_code == 200
        data = {
            f"signed_{rows['张一']}": "on",
            f"signed_{rows['王三']}": "on",
            "identity_checked": "on",
            "occurred_at": now_field(),
        }
        response = client.post(url, data, follow=True)
        html = response.content.decode()
        assert "本人签收 2 人，代领 0 人，未领取 1 人（仍在库存）" in html
        status = dict(Card.objects.values_list("person__name", "status"))
        assert status == {"张一": "issued", "李二": "in_stock", "王三": "issued"}
        again = client.post(url, data, follow=True)
        assert "发放结果已登记" in again.content.decode()
        assert LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).count() == 2
        listing = client.get(reverse("issuance:sign-off-list")).content.decode()
        assert sheet.number in listing and "已登记" in listing

    def test_a_refused_submit_names_the_card_and_keeps_the_ticks(
        self, client, collector_a, clerk_a, village_a, cards
    ):
        client = signed_in(client, collector_a)
        create(client, village_a)
        sheet = SignOffSheet.objects.get()
        rows = dict(sheet.rows.values_list("card__person__name", "pk"))
        data = {
            f"signed_{rows['张一']}": "on",
            f"signed_{rows['李二']}": "on",
            f"who_{rows['李二']}": "proxy",
            f"proxy_name_{rows['李二']}": "李大",
            f"proxy_id_{rows['李二']}": "53232619800517001X",
            "identity_checked": "on",
            "occurred_at": now_field(),
        }
        url = reverse("issuance:sign-off-record", args=[sheet.pk])
        response = client.post(url, data)
        html = response.content.decode()
        assert response.status_code == 400
        assert "李二（代领）" in html and 'value="李大"' in html
        assert not LedgerEntry.objects.filter(event=LedgerEvent.ISSUED).exists()

    def test_a_proxy_row_needs_its_proxy(self, client, collector_a, village_a, cards):
        client = signed_in(client, collector_a)
        create(client, village_a)
        sheet = SignOffSheet.objects.get()
        row = sheet.rows.get(card__person__name="王三")
        data = {
            f"signed_{row.pk}": "on",
            f"who_{row.pk}": "proxy",
            "identity_checked": "on",
            "occurred_at": now_field(),
        }
        response = client.post(reverse("issuance:sign-off-record", args=[sheet.pk]), data)
        assert response.status_code == 400
        assert "第3行 王三：请填写代领人姓名" in response.content.decode()

    def test_another_township_sees_nothing(
        self, client, collector_a, clerk_b, banker_a, village_a, cards
    ):
        client = signed_in(client, collector_a)
        create(client, village_a)
        sheet = SignOffSheet.objects.get()
        client.force_login(clerk_b)
        for name in ("sign-off-detail", "sign-off-pdf", "sign-off-record"):
            assert client.get(reverse(f"issuance:{name}", args=[sheet.pk])).status_code == 404
        assert sheet.number not in client.get(reverse("issuance:sign-off-list")).content.decode()
        client.force_login(banker_a)
        assert client.get(reverse("issuance:sign-off-list")).status_code == 403


def test_the_pdf_tools_are_installed():
    assert shutil.which("pdftotext") and shutil.which("pdffonts")


@pytest.mark.django_db
def test_the_sheet_keeps_its_printed_rows(collector_a, county_admin, branch_a, village_a, cards):
    sheet = issuing.sign_off_sheet_create(
        acting_user=collector_a, village=village_a, day=timezone.localdate(), place="居委会"
    )
    village_with_cards(village_a, branch_a, county_admin, ["新来"], first=7)
    assert sheet.rows.count() == 3


@pytest.mark.django_db
def test_a_long_sheet_is_a4_portrait_with_whole_rows_on_each_page(
    collector_a, county_admin, branch_a, village_a, tmp_path
):
    names = [f"村民{n:02d}" for n in range(1, 41)]
    village_with_cards(village_a, branch_a, county_admin, names)
    sheet = issuing.sign_off_sheet_create(
        acting_user=collector_a, village=village_a, day=timezone.localdate(), place="居委会"
    )
    path = tmp_path / "long.pdf"
    path.write_bytes(issuing_pdf(sheet))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    assert "595.276 x 841.89 pts (A4)" in info
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    assert pages >= 2
    on_page = {}
    for number in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(path), "-"],
            capture_output=True,
            text=True,
        ).stdout
        if "村民" in text:
            assert "签收人签名" in text  # the column heads on every page with rows
        for line in text.splitlines():
            for n, name in enumerate(names, start=1):
                if name in line:
                    # A row kept whole: its name and its card number on one line of one page.
                    assert f"M3{n:07d}" in line
                    on_page[name] = number
    assert set(on_page) == set(names)


def issuing_pdf(sheet) -> bytes:
    from dayao_sscard.pdf import pdf_from_template
    from issuance.selectors import sign_off_rows

    return pdf_from_template(
        "issuance/sign_off_sheet_pdf.html",
        {"sheet": sheet, "rows": list(sign_off_rows(sheet=sheet))},
    )
