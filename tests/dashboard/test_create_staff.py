import io

import pytest
from django.core.management import CommandError, call_command

from dayao_sscard.models import AuditEvent, User


def create(*args):
    call_command("create_staff", *args)
    return User.objects.get(username=args[0])


@pytest.mark.django_db
class TestCreateStaff:
    def test_township_staff_by_alias(self):
        user = create(
            "wanbi", "--password", "Pw-12345678", "--role", "township_staff", "--township", "湾碧乡"
        )
        assert user.township.code == "532326206"
        assert user.check_password("Pw-12345678")
        assert not user.is_staff
        assert AuditEvent.objects.filter(action="accounts.user.created", object_id=str(user.pk))

    def test_county_admin_gets_the_admin_site(self):
        user = create("boss", "--password", "Pw-12345678", "--role", "county_admin")
        assert user.is_staff and user.is_superuser

    def test_village_collector_needs_an_existing_village(self, village_a):
        user = create(
            "cun",
            "--password",
            "Pw-12345678",
            "--role",
            "village_collector",
            "--township",
            "532326101",
            "--village",
            "大河社区",
        )
        assert user.village == village_a
        with pytest.raises(CommandError, match="没有名为“不存在村委会”的村"):
            create(
                "cun2",
                "--password",
                "Pw-12345678",
                "--role",
                "village_collector",
                "--township",
                "532326101",
                "--village",
                "不存在村委会",
            )

    def test_village_can_be_created_on_request(self, township_a):
        user = create(
            "cun3",
            "--password",
            "Pw-12345678",
            "--role",
            "village_collector",
            "--township",
            "金碧",
            "--village",
            "新村村民委员会",
            "--create-village",
        )
        assert user.village.name == "新村村委会"
        created = AuditEvent.objects.get(action="roster.village.created")
        assert (created.object_id, created.township_id) == (str(user.village.pk), township_a.pk)

    def test_a_refused_account_leaves_no_village_behind(self, township_a):
        with pytest.raises(CommandError, match="密码不符合要求"):
            create(
                "cun4",
                "--password",
                "short",
                "--role",
                "village_collector",
                "--township",
                "金碧",
                "--village",
                "新村村民委员会",
                "--create-village",
            )
        assert not township_a.villages.filter(name="新村村委会").exists()
        assert not AuditEvent.objects.exists()

    def test_bank_staff_by_branch_name(self, branch_a):
        user = create(
            "teller", "--password", "Pw-12345678", "--role", "bank_staff", "--bank", "金碧信用社"
        )
        assert user.bank_branch == branch_a

    def test_bank_staff_by_bank_alias_and_township(self, branch_a, township_a):
        branch_a.bank.aliases = ["大姚农信"]
        branch_a.bank.save()
        user = create(
            "teller",
            "--password",
            "Pw-12345678",
            "--role",
            "bank_staff",
            "--bank",
            "大姚农信",
            "--township",
            township_a.code,
        )
        assert user.bank_branch == branch_a
        assert user.township is None

    def test_a_new_bank_and_its_branch_are_set_up_and_answer_for_old_cards(
        self, township_a, person_a, county_admin
    ):
        from issuance.models import Bank, BankBranch, Card
        from issuance.services import card_create

        bank = Bank.objects.create(name="中国建设银行", short_name="建行")
        card = card_create(person=person_a, bank=bank, acting_user=county_admin)
        user = create(
            "jianhang",
            "--password",
            "Pw-12345678",
            "--role",
            "bank_staff",
            "--bank",
            "建行",
            "--township",
            "金碧镇",
        )
        branch = BankBranch.objects.get(bank=bank)
        assert user.bank_branch == branch and list(branch.townships.all()) == [township_a]
        assert list(Card.objects.for_user(user)) == [card]
        assert AuditEvent.objects.filter(action="issuance.branchtownship.created").exists()
        create(
            "jianhang2",
            "--password",
            "Pw-12345678",
            "--role",
            "bank_staff",
            "--bank",
            "中国建设银行",
            "--township",
            "金碧镇",
        )
        assert BankBranch.objects.filter(bank=bank).count() == 1

    def test_an_unknown_bank_is_created_with_its_branch(self, township_a):
        user = create(
            "minsheng",
            "--password",
            "Pw-12345678",
            "--role",
            "bank_staff",
            "--bank",
            "民生银行",
            "--township",
            "532326101",
        )
        assert str(user.bank_branch) == "民生银行金碧镇网点"

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (["--role", "township_staff"], "必须指定 --township"),
            (["--role", "township_staff", "--township", "昆明"], "未找到乡镇"),
            (["--role", "county_supervisor", "--township", "金碧"], "不能指定乡镇"),
            (["--role", "bank_staff", "--bank", "火星银行"], "未找到唯一的银行网点"),
            (["--role", "township_staff", "--township", "金碧", "--bank", "x"], "只有银行网点"),
        ],
    )
    def test_wrong_scope_is_refused_in_chinese(self, args, message):
        with pytest.raises(CommandError, match=message):
            create("bad", "--password", "Pw-12345678", *args)
        assert not User.objects.filter(username="bad").exists()

    def test_duplicate_username(self, clerk_a):
        with pytest.raises(CommandError, match="已存在"):
            create("clerk_a", "--password", "Pw-12345678", "--role", "county_admin")


@pytest.mark.django_db
def test_demo_users_are_created_once_and_keep_their_passwords(tmp_path, branch_a, village_a):
    from dashboard.services import demo_users_ensure

    logins_file = tmp_path / "logins.json"
    first = demo_users_ensure(logins_file=logins_file)
    second = demo_users_ensure(logins_file=logins_file)
    assert first == second
    assert {u.role for u in User.objects.all()} == {
        "county_admin",
        "county_supervisor",
        "township_staff",
        "village_collector",
        "bank_staff",
    }
    username, password, _ = first[0]
    assert User.objects.get(username=username).check_password(password)


@pytest.mark.django_db
def test_the_command_names_the_logins_file_where_it_is(tmp_path, settings, branch_a, village_a):
    """With DAYAO_DATA_DIR elsewhere, the printed path is that one, not data/."""
    settings.DATA_DIR = tmp_path / "elsewhere"
    settings.DATA_DIR.mkdir()
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    assert f"密码保存在 {tmp_path / 'elsewhere' / 'demo-logins.json'}" in out.getvalue()
    assert (tmp_path / "elsewhere" / "demo-logins.json").exists()


@pytest.mark.django_db
class TestStaffCreateService:
    """The core service takes places as objects; it only checks they fit the role."""

    def test_a_village_of_another_township_is_refused(self, township_b, village_a):
        from django.core.exceptions import ValidationError

        from dayao_sscard.services import staff_create

        with pytest.raises(ValidationError, match="不属于"):
            staff_create(
                username="cun9",
                password="Pw-12345678",
                role="village_collector",
                township=township_b,
                village=village_a,
            )
        assert not User.objects.filter(username="cun9").exists()

    def test_a_county_role_takes_no_place(self, township_a):
        from django.core.exceptions import ValidationError

        from dayao_sscard.services import staff_create

        with pytest.raises(ValidationError, match="全县"):
            staff_create(
                username="boss2", password="Pw-12345678", role="county_admin", township=township_a
            )


@pytest.mark.django_db
class TestPasswordRules:
    @pytest.mark.parametrize(
        ("password", "reason"),
        [
            ("Pw-1", "密码太短，至少需要 8 个字符。"),
            ("password", "这个密码太常见了。"),
            ("83749261537", "密码只包含数字。"),
            ("wanbi123", "密码跟 用户名 太相似了。"),
        ],
    )
    def test_a_weak_password_is_refused_in_chinese_and_nothing_created(self, password, reason):
        with pytest.raises(CommandError) as refused:
            create(
                "wanbi", "--password", password, "--role", "township_staff", "--township", "湾碧乡"
            )
        assert str(refused.value).startswith("密码不符合要求：")
        assert reason in str(refused.value)
        assert "password" not in str(refused.value).replace(password, "")
        assert not User.objects.filter(username="wanbi").exists()
        assert not AuditEvent.objects.filter(action="accounts.user.created").exists()

    def test_the_service_itself_checks(self):
        from django.core.exceptions import ValidationError

        from dayao_sscard.services import staff_create

        with pytest.raises(ValidationError, match="密码太短"):
            staff_create(username="boss3", password="short", role="county_admin")
        assert not User.objects.filter(username="boss3").exists()
