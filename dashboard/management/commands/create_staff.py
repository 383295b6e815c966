from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from dashboard.services import staff_create_by_names
from dayao_sscard.roles import Role


class Command(BaseCommand):
    help = "创建工作人员账号并指定角色和管辖范围。"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--password", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--township", default="", help="乡镇代码或名称")
        parser.add_argument("--village", default="", help="村委会/社区名称")
        parser.add_argument(
            "--bank",
            default="",
            help="银行网点名称；或银行名称（含简称、别名）加 --township：该行服务该乡镇的网点，没有则新建",
        )
        parser.add_argument("--name", default="", help="姓名")
        parser.add_argument("--create-village", action="store_true", help="村不存在时新建")

    def handle(self, *args, **options):
        try:
            user = staff_create_by_names(
                username=options["username"],
                password=options["password"],
                role=options["role"],
                township=options["township"],
                village=options["village"],
                bank_branch=options["bank"],
                display_name=options["name"],
                create_village=options["create_village"],
            )
        except ValidationError as exc:
            raise CommandError("；".join(exc.messages)) from exc
        self.stdout.write(
            f"已创建 {user.username}（{user.get_role_display()}，{user.scope_label}）"
        )
