"""交接 pages: who may open and use them, and what they show (the matrix has every status)."""

import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from issuance.handover_selectors import handover_candidates
from issuance.handovers import Unit, handover_create, handover_receive
from issuance.models import (
    Card,
    CardStatus,
    CustodyKind,
    Handover,
    HandoverOutcome,
    HandoverStatus,
)

from .handoverdata import stock_box


def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def box(village_a):
    return stock_box(village_a, 5)


@pytest.fixture
def sent(county_admin, township_a, box):
    return handover_create(
        acting_user=county_admin,
        receiver=Unit(CustodyKind.TOWNSHIP, township=township_a),
        sender_person="赵库管",
        receiver_person="李接收",
        location="金碧镇社保中心档案室",
        card_numbers=[c.card_number for c in box],
    )


def url(name, handover):
    return reverse(f"issuance:{name}", args=[handover.pk])


@pytest.mark.django_db
class TestList:
    def test_the_receiving_township_finds_it_waiting(self, client, clerk_a, sent):
        page = signed_in(client, clerk_a).get(
            reverse("issuance:handover-list"), {"tab": "incoming"}
        )
        text = page.content.decode()
        assert sent.number in text and "待我接收（1）" in text
        assert "大姚县人力资源和社会保障局（赵库管）" in text

    def test_another_township_sees_nothing_of_it(self, client, clerk_b, sent):
        text = signed_in(client, clerk_b).get(reverse("issuance:handover-list")).content.decode()
        assert sent.number not in text

    def test_the_supervisor_reads_without_the_button(self, client, supervisor, sent):
        text = signed_in(client, supervisor).get(reverse("issuance:handover-list")).content.decode()
        assert sent.number in text and "办理交接" not in text.split("</header>")[1]

    def test_outgoing_and_differences_tabs(self, client, county_admin, clerk_a, sent, box):
        handover_receive(
            acting_user=clerk_a,
            handover=sent,
            received_numbers=[c.card_number for c in box[1:]],
            missing_reasons={sent.items.get(card=box[0]).pk: "箱内无此卡"},
        )
        client = signed_in(client, county_admin)
        outgoing = client.get(reverse("issuance:handover-list"), {"tab": "outgoing"})
        assert sent.number in outgoing.content.decode()
        differences = client.get(reverse("issuance:handover-list"), {"tab": "differences"})
        assert "未到卡 1 张，多出 0 张" in differences.content.decode()

    def test_the_menu_names_it(self, client, collector_a):
        assert "交接" in signed_in(client, collector_a).get(reverse("home")).content.decode()


@pytest.mark.django_db
class TestNewHandover:
    def test_the_list_offers_the_units_stock_cards_masked(self, client, county_admin, box):
        text = signed_in(client, county_admin).get(reverse("issuance:handover-create")).content
        text = text.decode()
        assert box[0].card_number in text and box[0].person.masked_id_number in text
        assert box[0].person.id_number not in text
        assert "金碧镇社保中心" in text  # a receiver to choose

    def test_the_total_is_the_units_stock_and_a_box_on_a_sheet_leaves_it(
        self, client, county_admin, township_a, village_a, village_a2, box
    ):
        stock_box(village_a2, 2)
        client = signed_in(client, county_admin)
        new = reverse("issuance:handover-create")
        assert 'data-testid="candidate-count">7<' in client.get(new).content.decode()
        filtered = client.get(new, {"village": village_a.pk}).content.decode()
        assert 'data-testid="candidate-count">5<' in filtered
        handover_create(
            acting_user=county_admin,
            receiver=Unit(CustodyKind.TOWNSHIP, township=township_a),
            sender_person="赵库管",
            receiver_person="李接收",
            location="档案室",
            card_numbers=[c.card_number for c in box],
        )
        assert 'data-testid="candidate-count">2<' in client.get(new).content.decode()
        past_the_end = client.get(new, {"page": "9"}).content.decode()
        assert 'data-testid="candidate-count">2<' in past_the_end

    def test_typed_numbers_make_a_handover(self, client, county_admin, township_a, box):
        response = signed_in(client, county_admin).post(
            reverse("issuance:handover-create"),
            {
                "receiver": f"township:{township_a.code}",
                "sender_person": "赵库管",
                "receiver_person": "李接收",
                "location": "金碧镇社保中心档案室",
                "card_numbers": "\n".join(f" {c.card_number.lower()} " for c in box[:3]),
                "card": [box[3].pk],
            },
            follow=True,
        )
        handover = Handover.objects.get()
        assert response.redirect_chain[-1][0] == url("handover-detail", handover)
        text = response.content.decode()
        assert f"交接单号 {handover.number}，共 4 张卡" in text
        assert handover.card_count == 4

    def test_a_refused_card_is_named_and_the_entries_kept(
        self, client, county_admin, township_a, box
    ):
        Card.objects.filter(pk=box[1].pk).update(status=CardStatus.ISSUED)
        response = signed_in(client, county_admin).post(
            reverse("issuance:handover-create"),
            {
                "receiver": f"township:{township_a.code}",
                "sender_person": "赵库管",
                "receiver_person": "李接收",
                "location": "档案室",
                "card_numbers": f"{box[0].card_number}\n{box[1].card_number}",
            },
        )
        assert response.status_code == 400
        text = response.content.decode()
        assert f"卡号{box[1].card_number}（{box[1].person.name}）" in text
        assert f"{box[0].card_number}\n{box[1].card_number}" in text  # the textarea as typed
        assert not Handover.objects.exists()

    def test_all_matching_takes_the_filtered_list(
        self, client, county_admin, township_a, village_a, village_a2, box
    ):
        stock_box(village_a2, 2)
        signed_in(client, county_admin).post(
            reverse("issuance:handover-create") + f"?village={village_a.pk}",
            {
                "receiver": f"township:{township_a.code}",
                "sender_person": "赵库管",
                "receiver_person": "李接收",
                "location": "档案室",
                "all_matching": "on",
            },
        )
        assert Handover.objects.get().card_count == 5

    def test_a_clerk_cannot_post_another_townships_cards(self, client, clerk_b, box):
        response = signed_in(client, clerk_b).post(
            reverse("issuance:handover-create"),
            {
                "receiver": "county",
                "sender_person": "甲",
                "receiver_person": "乙",
                "location": "县局",
                "card": [box[0].pk],
            },
        )
        text = response.content.decode()
        assert response.status_code == 400 and "不在您的管辖范围内" in text
        assert box[0].person.name not in text

    def test_a_receiver_outside_the_clerks_choices_is_refused(self, client, collector_a, box):
        response = signed_in(client, collector_a).post(
            reverse("issuance:handover-create"),
            {
                "receiver": "township:532326102",
                "sender_person": "甲",
                "receiver_person": "乙",
                "location": "x",
                "card_numbers": box[0].card_number,
            },
        )
        assert response.status_code == 400 and not Handover.objects.exists()


@pytest.mark.django_db
class TestDetailAndPrint:
    def test_the_detail_lists_the_cards_masked(self, client, clerk_a, sent, box):
        text = signed_in(client, clerk_a).get(url("handover-detail", sent)).content.decode()
        assert box[0].person.masked_id_number in text and box[0].person.id_number not in text
        assert "确认接收" in text and "打印交接单" in text

    def test_another_township_gets_404_everywhere(self, client, clerk_b, sent):
        client = signed_in(client, clerk_b)
        for name in ("handover-detail", "handover-pdf", "handover-sheet-file"):
            assert client.get(url(name, sent)).status_code == 404

    def test_the_printed_sheet_names_both_parties_the_cards_and_their_count(
        self, client, collector_a, village_a, tmp_path, county_admin, township_a
    ):
        cards = stock_box(village_a, 50)
        handover = handover_create(
            acting_user=county_admin,
            receiver=Unit(CustodyKind.TOWNSHIP, township=township_a),
            sender_person="赵库管",
            receiver_person="李接收",
            location="金碧镇社保中心档案室",
            card_numbers=[c.card_number for c in cards],
        )
        response = signed_in(client, collector_a).get(url("handover-pdf", handover))
        assert response["Content-Type"] == "application/pdf"
        path = tmp_path / "sheet.pdf"
        path.write_bytes(response.content)
        text = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        for expected in (
            "大姚县社会保障卡交接单",
            handover.number,
            "大姚县人力资源和社会保障局",
            "金碧镇社保中心",
            "赵库管",
            "李接收",
            "金碧镇社保中心档案室",
            "合计：50 张（大写：伍拾张）",
            cards[0].card_number,
            cards[49].person.name,
            cards[0].person.masked_id_number,
            "责任人签字",
        ):
            assert expected in text, expected
        assert cards[0].person.id_number not in text


@pytest.mark.django_db
class TestReceiving:
    def test_the_page_lists_the_expected_cards(self, client, clerk_a, sent, box):
        text = signed_in(client, clerk_a).get(url("handover-receive", sent)).content.decode()
        assert f'data-card-number="{box[0].card_number}"' in text
        assert "全部接收（5 张全部到卡）" in text

    def test_a_card_not_scanned_without_a_reason_keeps_the_page(self, client, clerk_a, sent, box):
        scanned = "\n".join(c.card_number for c in box[1:]) + "\nZZ0000001"
        response = signed_in(client, clerk_a).post(
            url("handover-receive", sent), {"action": "scanned", "scanned": scanned}
        )
        assert response.status_code == 400
        text = response.content.decode()
        assert "请逐张填写未到卡原因" in text and box[0].card_number in text
        assert 'name="extra_number" value="ZZ0000001"' in text
        assert scanned in text
        sent.refresh_from_db()
        assert sent.status == HandoverStatus.PENDING

    def test_scanned_with_reasons_records_the_differences(self, client, clerk_a, sent, box):
        item = sent.items.get(card=box[0])
        response = signed_in(client, clerk_a).post(
            url("handover-receive", sent),
            {
                "action": "scanned",
                "scanned": "\n".join(c.card_number for c in box[1:]) + "\nZZ0000001",
                f"reason_{item.pk}": "箱内无此卡",
                "extra_number": ["ZZ0000001"],
                "extra_reason": ["他乡的卡混入"],
            },
            follow=True,
        )
        text = response.content.decode()
        assert "已接收 4 张；未到卡 1 张、多出 1 张" in text
        assert "箱内无此卡" in text and "他乡的卡混入" in text
        sent.refresh_from_db()
        assert sent.status == HandoverStatus.RECEIVED_WITH_DIFFERENCES
        # A second submission (the back button, a double click) does nothing again.
        again = client.post(url("handover-receive", sent), {"action": "all"}, follow=True)
        assert "未重复办理" in again.content.decode()
        item.refresh_from_db()
        assert item.outcome == HandoverOutcome.MISSING
        # The card turns up: received late.
        client.post(url("handover-receive-late", sent), {"item": item.pk})
        item.refresh_from_db()
        assert item.outcome == HandoverOutcome.RECEIVED_LATE
        assert Card.objects.get(pk=box[0].pk).status == CardStatus.IN_STOCK

    def test_all_at_once(self, client, clerk_a, sent):
        response = signed_in(client, clerk_a).post(
            url("handover-receive", sent), {"action": "all"}, follow=True
        )
        assert "的全部 5 张卡" in response.content.decode()
        assert Handover.objects.get().status == HandoverStatus.RECEIVED

    def test_the_collector_may_not(self, client, collector_a, sent):
        assert signed_in(client, collector_a).get(url("handover-receive", sent)).status_code == 403


@pytest.mark.django_db
class TestSignedSheet:
    def test_upload_and_download(self, client, clerk_a, sent):
        scan = SimpleUploadedFile("签字单.pdf", b"%PDF-1.4\nsigned\n%%EOF")
        response = signed_in(client, clerk_a).post(
            url("handover-attach-sheet", sent), {"file": scan}, follow=True
        )
        text = response.content.decode()
        assert "已上传签字交接单扫描件" in text and "签字单.pdf" in text
        download = client.get(url("handover-sheet-file", sent))
        assert b"".join(download.streaming_content) == b"%PDF-1.4\nsigned\n%%EOF"
        assert download["Cache-Control"] == "private, no-store"

    def test_a_wrong_file_is_refused_in_chinese(self, client, clerk_a, sent):
        scan = SimpleUploadedFile("a.docx", b"PK\x03\x04 not a scan")
        response = signed_in(client, clerk_a).post(
            url("handover-attach-sheet", sent), {"file": scan}, follow=True
        )
        assert "扫描件只能是 PDF、JPG 或 PNG 文件" in response.content.decode()
        sent.refresh_from_db()
        assert not sent.sheet


@pytest.mark.django_db
def test_the_receiving_township_is_told_on_its_home_page(client, clerk_a, clerk_b, sent):
    home = signed_in(client, clerk_a).get(reverse("home")).content.decode()
    assert "有 1 张交接单等待本单位接收" in home
    elsewhere = signed_in(client, clerk_b).get(reverse("home")).content.decode()
    assert "等待本单位接收" not in elsewhere


@pytest.mark.django_db
def test_a_long_list_of_refusals_is_cut_with_the_count(client, county_admin, township_a):
    response = signed_in(client, county_admin).post(
        reverse("issuance:handover-create"),
        {
            "receiver": f"township:{township_a.code}",
            "sender_person": "赵库管",
            "receiver_person": "李接收",
            "location": "档案室",
            "card_numbers": "\n".join(f"NO{n:08d}" for n in range(60)) + "\n" + "X" * 300,
        },
    )
    text = response.content.decode()
    assert response.status_code == 400
    assert "卡号NO00000049：系统中没有这张卡" in text and "NO00000050：" not in text
    assert "另有 11 张卡不能交接" in text


@pytest.mark.django_db
def test_the_card_list_finds_cards_by_the_start_of_their_number(county_admin, village_a):
    box = stock_box(village_a, 3)
    other = stock_box(village_a, 1)
    start = box[0].card_number[:-2]
    found = set(handover_candidates(user=county_admin, query=start))
    assert set(box) <= found and other[0] not in found
    assert set(handover_candidates(user=county_admin, query="无此人")) == set()
