from django.core.management.base import BaseCommand, CommandError

from dayao_sscard.models import User
from dayao_sscard.services import otp_reset


class Command(BaseCommand):
    help = (
        "重置县人社局管理员的手机验证器（手机丢失或更换）：下次登录时重新扫码绑定。记入审计日志。"
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"没有用户名为 {options['username']} 的账号。")
        removed = otp_reset(user=user, acting_user=None)
        self.stdout.write(
            f"已删除 {user.username} 的手机验证器 {removed} 个；下次登录时将重新扫码绑定。"
        )
