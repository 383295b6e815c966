from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboard.selectors import demo_counter_examples
from dashboard.services import demo_users_ensure
from dayao_sscard.models import User
from dayao_sscard.roles import Role


class Command(BaseCommand):
    help = "为每个角色创建一个演示账号，并打印用户名和密码。"

    def handle(self, *args, **options):
        logins_file = settings.DATA_DIR / "demo-logins.json"
        try:
            logins = demo_users_ensure(logins_file=logins_file)
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(f"演示账号（密码保存在 {logins_file}）：")
        for username, password, label in logins:
            self.stdout.write(f"  {label:<12} 用户名 {username:<12} 密码 {password}")
        admins = User.objects.filter(
            username__in=[username for username, _, _ in logins], role=Role.COUNTY_ADMIN
        ).values_list("username", flat=True)
        for username in admins:
            self.stdout.write(
                f"  {username} 是县人社局管理员，登录还须手机验证器的6位验证码："
                "首次登录时页面显示二维码和密钥，用手机上的验证器应用扫码（或输入密钥）绑定。"
            )
        self._counter_examples(logins)

    def _counter_examples(self, logins) -> None:
        """What the demo bank clerk can try at 网点柜面 (if the demo county is there)."""
        usernames = [username for username, _, _ in logins]
        clerk = User.objects.filter(username__in=usernames, role=Role.BANK_STAFF).first()
        if clerk is None or clerk.bank_branch is None:
            return
        examples = demo_counter_examples(user=clerk)
        lines = [
            ("即时制卡（输入身份证号码）", examples["instant"]),
            ("发放（输入社保卡卡号）", examples["issue"]),
            ("激活（输入社保卡卡号）", examples["activate"]),
        ]
        if not any(numbers for _, numbers in lines):
            return
        self.stdout.write(f"网点柜面演示（用户名 {clerk.username}，{clerk.bank_branch}）：")
        for label, numbers in lines:
            if numbers:
                self.stdout.write(f"  {label}：{'、'.join(numbers)}")
