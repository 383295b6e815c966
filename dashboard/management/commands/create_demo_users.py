from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboard.services import demo_users_ensure


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
