from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dayao_sscard.services import login_unlock


class Command(BaseCommand):
    help = "解除登录锁定：清除某个用户名（或某个登录地址）的登录失败记录，并记入审计日志。"

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", default="", help="被锁定的用户名")
        parser.add_argument("--address", default="", help="被锁定的登录地址（IP）")

    def handle(self, *args, **options):
        try:
            failures = login_unlock(
                username=options["username"], address=options["address"], acting_user=None
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        who = options["username"] or f"地址 {options['address']}"
        self.stdout.write(f"已解除 {who} 的登录锁定（清除登录失败记录 {failures} 次）。")
