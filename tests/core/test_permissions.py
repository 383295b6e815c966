"""The one answer to "may this user do this action to this object": every action × persona."""

import pytest
from django.core.exceptions import PermissionDenied

from dayao_sscard.permissions import ACTION_LABELS, may, require, require_all
from roster.models import Person
from tests.permissions import PERSONAS, build_world

# Y may, N may not; left with the object in the persona's scope, right with one of
# township B. Every declared action has a row: a new action cannot go untested.
EXPECTED = """
# action                             object  anon admin super town village bank | out of scope
roster.search_persons                -       N    Y     Y     Y    Y       Y
roster.open_person                   person  N    Y     Y     Y    Y       Y    | N Y Y N N N
roster.edit_person_contact           person  N    Y     N     Y    Y       N    | N Y N N N N
roster.verify_person                 person  N    Y     N     Y    Y       N    | N Y N N N N
roster.mark_person_deceased          person  N    Y     N     Y    Y       N    | N Y N N N N
roster.undo_person_deceased          person  N    Y     N     Y    N       N    | N Y N N N N
roster.reveal_person_id              person  N    Y     N     Y    Y       Y    | N Y N N N N
roster.view_person_categories        person  N    Y     Y     Y    Y       N    | N Y Y N N N
roster.export_persons                -       N    Y     Y     Y    Y       Y
roster.export_persons_in_full        -       N    Y     N     Y    Y       N
roster.import_lists                  -       N    Y     N     Y    N       N
roster.import_unissued               -       N    Y     N     N    N       N
roster.import_subsidy                -       N    Y     N     N    N       N
roster.import_card_export            -       N    Y     N     N    N       N
roster.import_deaths                 -       N    Y     N     N    N       N
roster.import_collection_12333       -       N    Y     N     Y    N       N
roster.view_conflicts                -       N    Y     Y     Y    Y       N
roster.resolve_conflicts             person  N    Y     N     Y    Y       N    | N Y N N N N
roster.view_work_queue               -       N    Y     N     Y    Y       N
roster.view_progress                 -       N    Y     Y     Y    Y       N
roster.view_comparison               -       N    Y     Y     Y    N       N
roster.view_subsidy_comparison       -       N    Y     Y     Y    N       N
issuance.view_stock_cards            -       N    Y     Y     Y    Y       Y
issuance.open_cards_from_export      -       N    Y     N     N    N       N
issuance.create_card                 person  N    Y     N     Y    N       Y    | N Y N N N N
issuance.make_instant_card           nocard  N    N     N     N    N       Y    | N N N N N N
issuance.record_card_event           card    N    Y     N     Y    N       Y    | N Y N N N N
issuance.record_card_distribution    card    N    Y     N     Y    Y       Y    | N Y N N N N
issuance.activate_card               card    N    N     N     N    N       Y    | N N N N N N
issuance.queue_card_cancellation     person  N    Y     N     Y    Y       N    | N Y N N N N
issuance.withdraw_card_cancellation  person  N    Y     N     Y    N       N    | N Y N N N N
issuance.cancel_card                 card    N    Y     N     Y    N       Y    | N Y N N N N
issuance.record_second_issuance      card    N    Y     N     Y    Y       Y    | N Y N N N N
issuance.recover_card                card    N    Y     N     Y    N       Y    | N Y N N N N
issuance.mark_card_dormant           card    N    Y     N     Y    N       Y    | N Y N N N N
issuance.view_recoveries             -       N    Y     Y     Y    N       Y
issuance.mark_provincial_entry       recovery N   Y     N     Y    N       N    | N Y N N N N
issuance.view_cancellations          -       N    Y     Y     Y    N       Y
issuance.view_batches               batch   N    Y     Y     Y    N       N    | N Y Y N N N
issuance.create_batch                person  N    Y     N     Y    N       N    | N Y N N N N
issuance.change_batch                batch   N    Y     N     Y    N       N    | N Y N N N N
issuance.send_batch                  batch   N    Y     N     Y    N       N    | N Y N N N N
issuance.download_batch_file         batch   N    Y     N     Y    N       N    | N Y N N N N
issuance.import_batch_result         batch   N    Y     N     Y    N       N    | N Y N N N N
issuance.view_proxy_approvals        approval N   Y     Y     Y    Y       N    | N Y Y N N N
issuance.register_proxy_approval     person  N    Y     N     Y    Y       N    | N Y N N N N
issuance.approve_proxy_approval      approval N   Y     N     Y    N       N    | N Y N N N N
issuance.revoke_proxy_approval       approval N   Y     N     Y    N       N    | N Y N N N N
issuance.issue_to_proxy              approval N   Y     N     Y    Y       N    | N Y N N N N
issuance.view_cadres                 -       N    Y     Y     Y    N       N
issuance.view_custody_risks          -       N    Y     Y     Y    Y       N
issuance.view_reconciliation         -       N    Y     Y     Y    N       Y
issuance.view_card                   card    N    Y     Y     Y    Y       Y    | N Y Y N N N
issuance.issue_card                  card    N    Y     N     Y    Y       N    | N Y N N N N
issuance.view_sign_off_sheets        sheet   N    Y     Y     Y    Y       N    | N Y Y N N N
issuance.create_sign_off_sheet       village N    Y     N     Y    Y       N    | N Y N N N N
issuance.record_sign_off_sheet       sheet   N    Y     N     Y    Y       N    | N Y N N N N
issuance.view_handovers              handover N    Y     Y     Y    Y       Y    | N Y Y N N N
issuance.create_handover             -       N    Y     N     Y    Y       Y
issuance.receive_handover            handover N   N     N     Y    N       N    | N N N N N N
issuance.attach_handover_sheet       handover N   N     N     Y    N       Y    | N N N N N N
issuance.view_ledger                 -       N    Y     Y     Y    Y       N
activation.view_counter              -       N    Y     Y     N    N       Y
activation.sign_ecard                person  N    Y     N     N    N       Y    | N Y N N N N
dashboard.make_progress_report       -       N    Y     Y     N    N       N
dayao_sscard.view_audit_log          -       N    Y     Y     N    N       N
dashboard.view_supervision           -       N    Y     Y     Y    Y       N
dayao_sscard.manage_reference_data   -       N    Y     N     N    N       N
dayao_sscard.open_job                job     N    Y     Y     Y    Y       Y    | N Y Y N N N
dayao_sscard.download_job_result     job     N    Y     Y     Y    Y       Y    | N Y N N N N
"""


def _rows():
    rows = {}
    for line in EXPECTED.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            left, _, right = line.partition("|")
            name, kind, *answers = left.split()
            rows[name] = (kind, answers, right.split())
    return rows


ROWS = _rows()


def test_every_declared_action_has_a_row_and_a_chinese_label():
    assert set(ROWS) == set(ACTION_LABELS)
    assert all(any("\u4e00" <= c <= "\u9fff" for c in label) for label in ACTION_LABELS.values())


@pytest.fixture
def world(db):
    return build_world()


def _object(world, kind: str, persona: str, in_scope: bool):
    if kind == "person":
        return world.person(in_scope)
    if kind == "card":
        return world.card(in_scope)
    if kind == "nocard":
        return world.person_without_card(in_scope)
    if kind == "job":
        return world.job(persona, in_scope)
    if kind == "batch":
        return world.batch(in_scope)
    if kind == "recovery":
        return world.recovery(in_scope)
    if kind == "approval":
        return world.approval(in_scope)
    if kind == "village":
        return world.village(in_scope)
    if kind == "sheet":
        return world.sheet(in_scope)
    if kind == "handover":
        return world.handover(in_scope)
    return None


@pytest.mark.parametrize("name", sorted(ROWS))
def test_the_action_matrix(world, name):
    kind, in_scope, out_of_scope = ROWS[name]
    wrong = []
    halves = [(True, in_scope)] + ([(False, out_of_scope)] if out_of_scope else [])
    for scoped, answers in halves:
        for persona, answer in zip(PERSONAS, answers, strict=True):
            obj = _object(world, kind, persona, scoped)
            got = may(world.users[persona], name, obj)
            if got != (answer == "Y"):
                wrong.append(f"{persona} {'in' if scoped else 'out of'} scope: {got}")
    assert not wrong, f"{name}: " + "; ".join(wrong)


@pytest.mark.django_db
class TestTheAnswer:
    def test_a_page_of_buttons_asks_the_scope_once(self, world, django_assert_num_queries):
        clerk = world.users["township_staff"]
        person = Person.objects.get(pk=world.person_in.pk)
        with django_assert_num_queries(1):
            for perm in (
                "roster.open_person",
                "roster.edit_person_contact",
                "roster.verify_person",
                "roster.mark_person_deceased",
                "roster.undo_person_deceased",
                "roster.reveal_person_id",
                "roster.view_person_categories",
                "roster.resolve_conflicts",
                "issuance.create_card",
                "issuance.queue_card_cancellation",
            ):
                assert clerk.has_perm(perm, person)

    def test_the_superuser_flag_does_not_widen_a_role(self, world):
        clerk = world.users["township_staff"]
        clerk.is_superuser = True
        clerk.save()
        assert not clerk.has_perm("roster.edit_person_contact", world.person_out)
        assert not clerk.has_perm("roster.import_card_export")
        # Django's own model permissions (the reference-data admin) still follow the flag.
        assert clerk.has_perm("roster.change_township")

    def test_an_inactive_account_may_nothing(self, world):
        clerk = world.users["township_staff"]
        clerk.is_active = False
        assert not clerk.has_perm("roster.open_person", world.person_in)

    def test_refusals_say_why_in_chinese(self, world):
        banker = world.users["bank_staff"]
        with pytest.raises(PermissionDenied, match="合作银行网点工作人员不能修改人员联系信息"):
            require(banker, "roster.edit_person_contact", world.person_in)
        with pytest.raises(PermissionDenied, match="只读"):
            require(world.users["county_supervisor"], "roster.verify_person", world.person_in)
        with pytest.raises(PermissionDenied, match="该人员不在您的管辖范围内，不能登记死亡"):
            require(world.users["township_staff"], "roster.mark_person_deceased", world.person_out)
        with pytest.raises(PermissionDenied, match="该社保卡不在您的管辖范围内"):
            require(banker, "issuance.record_card_event", world.card_out)

    def test_many_objects_are_checked_in_one_query(self, world, django_assert_num_queries):
        clerk = world.users["township_staff"]
        with django_assert_num_queries(1):
            require_all(clerk, "roster.mark_person_deceased", Person, [world.person_in.pk])
        with pytest.raises(PermissionDenied, match="有1个人员不在您的管辖范围内"):
            require_all(
                clerk,
                "roster.mark_person_deceased",
                Person,
                [world.person_in.pk, world.person_out.pk],
            )
