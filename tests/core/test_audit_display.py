"""The person history and the audit log speak Chinese: no codes, ids, ISO times or paths."""

import ast
import datetime
import importlib
import importlib.util
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from dayao_sscard.admin import AuditedAdmin
from dayao_sscard.audit import ACTION_LABELS, ADMIN_VERBS, action_label, audit_record
from issuance.models import LedgerEvent
from roster.models import VerificationStatus
from roster.services import person_verify
from tests.factories import CampaignFactory
from tests.roster.photos import photo_bytes

ROOT = Path(__file__).resolve().parents[2]
SKIPPED_DIRS = {"tests", "migrations", "bench", "scripts", "docs", "data", "fixtures"}
ACTION = re.compile(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$")
ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")


def _source_files():
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or SKIPPED_DIRS & set(parts[:-1]):
            continue
        yield path


def _is_module_path(text: str) -> bool:
    """``roster.imports.tables`` or ``dayao_sscard.context_processors.navigation``."""
    parent, _, name = text.rpartition(".")
    try:
        if importlib.util.find_spec(text) is not None:
            return True
    except (ImportError, ValueError):
        pass
    try:
        return hasattr(importlib.import_module(parent), name)
    except ImportError:
        return False


def _looks_like_action(text: str) -> bool:
    """``<app>.<model>.<verb>``, not a module path such as ``roster.imports.tables``."""
    app_labels = {config.label for config in apps.get_app_configs()} | {"accounts"}
    return (
        bool(ACTION.match(text))
        and text.partition(".")[0] in app_labels
        and not _is_module_path(text)
    )


def _written_actions() -> tuple[set[str], set[str]]:
    """Literal actions, and f-string action templates (with ``{}`` for each hole)."""
    literals, templates = set(), set()
    for path in _source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if _looks_like_action(node.value):
                    literals.add(node.value)
            elif (
                isinstance(node, ast.keyword)
                and node.arg == "action"
                and isinstance(node.value, ast.JoinedStr)
            ):
                templates.add(
                    "".join(
                        part.value if isinstance(part, ast.Constant) else "{}"
                        for part in node.value.values
                    )
                )
    return literals, templates


def _expand(template: str) -> set[str]:
    """Every action a known f-string can write; a new template must be added here."""
    if template == "issuance.card.{}":
        return {f"issuance.card.{event}" for event in LedgerEvent.values}
    if template in ("{}.{}", "{}.deleted"):  # AuditedAdmin: <model label>.<verb>
        return {
            f"{model._meta.label_lower}.{verb}"
            for model, model_admin in admin.site._registry.items()
            if isinstance(model_admin, AuditedAdmin)
            for verb in ADMIN_VERBS
        }
    raise AssertionError(f"an audit action is built as f-string {template!r}: list its values")


def test_every_action_the_code_writes_has_a_chinese_label():
    literals, templates = _written_actions()
    assert "roster.person.verified" in literals  # the scan itself works
    actions = literals | {a for t in templates for a in _expand(t)}
    unlabelled = sorted(a for a in actions if not action_label(a))
    assert unlabelled == []
    for action in actions:
        assert re.search(r"[\u4e00-\u9fff]", action_label(action)), action


def test_the_table_has_no_labels_for_actions_nobody_writes():
    literals, templates = _written_actions()
    actions = literals | {a for t in templates for a in _expand(t)}
    assert sorted(set(ACTION_LABELS) - actions) == []


@pytest.fixture
def verified(clerk_a, person_a, time_machine):
    """person_a verified by clerk_a with a photo: status, phone, photo, verifier, time."""
    clerk_a.display_name = "金碧镇社保中心李芳"
    clerk_a.save()
    person_a.phone = ""
    person_a.save()
    # A fixed moment, to check the time zone: 06:05 UTC is 14:05 in 大姚. Set as the
    # verification is written: the audit log refuses a changed row afterwards.
    time_machine.move_to(datetime.datetime(2026, 7, 2, 6, 5, tzinfo=datetime.UTC), tick=False)
    person_verify(
        person=person_a,
        acting_user=clerk_a,
        expected_version=person_a.version,
        elements={
            "phone": "13912345678",
            "occupation": "农民",
            "id_valid_from": datetime.date(2015, 3, 1),
            "id_valid_until": datetime.date(2035, 3, 1),
        },
        photo=photo_bytes(),
    )
    person_a.refresh_from_db()
    assert person_a.verification_status == VerificationStatus.READY
    return person_a


def _history(client, person) -> str:
    response = client.get(reverse("roster:person-detail", args=[person.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    return html[html.index('data-testid="history"') :]


@pytest.mark.django_db
def test_person_history_is_written_in_words(client, clerk_a, verified):
    client.force_login(clerk_a)
    history = _history(client, verified)

    assert "核查人员信息" in history and "上传照片" in history
    assert "2026-07-02 14:05" in history
    assert "待核查 → 待制卡" in history
    assert "金碧镇社保中心李芳" in history  # the verifier and the clerk, by name
    assert re.search(r"核查时间：</span>（空） → \d{4}-\d\d-\d\d \d\d:\d\d<", history)
    assert "照片：</span>（空） → 已上传" in history
    for code in ("pending", "ready", "roster.person", "photos/", ".jpg", "照片缩略图", "版本"):
        assert code not in history, code
    assert not ISO_TIME.search(history)
    assert f"核查人：</span>（空） → {clerk_a.pk}<" not in history
    assert "clerk_a" not in history  # the display name, not the login


@pytest.mark.django_db
def test_audit_log_is_written_in_words(client, supervisor, county_admin, verified, branch_a):
    from dayao_sscard.services import staff_create

    staff_create(
        username="bank_li",
        password="A-long-enough-pw-1",
        role="bank_staff",
        bank_branch=branch_a,
        display_name="金碧信用社李明",
        acting_user=county_admin,
    )
    client.force_login(supervisor)
    response = client.get(reverse("audit-list"))
    html = response.content.decode()
    table = html[html.index('data-testid="audit-table"') :]

    assert "新建工作人员账号" in table
    assert "角色：</span>合作银行网点工作人员" in table  # choice label, not bank_staff
    assert f"所属银行网点：</span>{branch_a}" in table  # a name, not an id
    assert "2026-07-02 14:05" in table
    for code in ("roster.person", "accounts.user", "bank_staff", "pending", "photos/"):
        assert code not in table, code
    assert not ISO_TIME.search(table)
    # The filters offer actions and people by name.
    assert '<option value="roster.person.verified">核查人员信息</option>' in html
    assert "金碧镇社保中心李芳" in html


@pytest.mark.django_db
def test_audit_filter_by_action_and_person(client, supervisor, clerk_a, verified):
    client.force_login(supervisor)
    response = client.get(
        reverse("audit-list"), {"action": "roster.person.verified", "user": clerk_a.username}
    )
    assert [e.action for e in response.context["page"]] == ["roster.person.verified"]


@pytest.mark.django_db
def test_summaries_keep_chinese_keys_and_drop_technical_ones(client, supervisor, county_admin):
    campaign = CampaignFactory(name="演示方案", is_active=False)
    audit_record(
        actor=None,
        action="roster.demo.seeded",
        obj=campaign,
        after={"读取行数": 494, "seed": 2026, "file_sha256": "ab" * 32},
        note="生成演示数据",
    )
    client.force_login(supervisor)
    html = client.get(reverse("audit-list")).content.decode()
    table = html[html.index('data-testid="audit-table"') :]
    assert "读取行数：</span>494" in table
    assert "生成演示数据" in table and "系统" in table
    assert "seed" not in table and "abab" not in table


def _village_moves(person, villages, admin) -> None:
    for before, after in zip(villages, villages[1:], strict=False):
        audit_record(
            actor=admin,
            action="roster.person.updated",
            obj=person,
            before={"village": before.pk},
            after={"village": after.pk},
        )


@pytest.mark.django_db
def test_the_log_names_a_pages_related_records_in_one_query_per_kind(
    client, supervisor, county_admin, person_a
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import VillageFactory

    client.force_login(supervisor)
    villages = [VillageFactory(township=person_a.township, name=f"第{n}村") for n in range(3)]
    _village_moves(person_a, villages, county_admin)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("audit-list"))

    more = [VillageFactory(township=person_a.township, name=f"新{n}村") for n in range(8)]
    _village_moves(person_a, [villages[-1], *more], county_admin)
    gone = VillageFactory(township=person_a.township, name="已撤并村")
    _village_moves(person_a, [more[-1], gone], county_admin)
    gone_pk = gone.pk
    gone.delete()
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("audit-list")).content.decode()

    assert len(many) == len(few)
    table = html[html.index('data-testid="audit-table"') :]
    assert "第0村 → 第1村" in table.replace("</span>", "")
    assert "新7村 → （已删除）" in table
    assert str(gone_pk) not in table.split("<tbody>")[1].split("</tbody>")[0].replace(
        str(person_a.pk), ""
    )
