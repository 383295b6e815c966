"""``manage.py ledger verify``: the ledger's subcommands, each a service call."""

import sys

from django.core.management.base import BaseCommand

from issuance.chain import ledger_verify


class Command(BaseCommand):
    help = "发放台账：verify 校验台账的哈希链、序号、卡片现状与已封存的日链头。"

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="subcommand", required=True)
        commands.add_parser("verify", help="校验整个台账；发现问题时以非零状态退出并指出卡号")

    def handle(self, *args, subcommand: str, **options):
        if subcommand == "verify":
            self._verify()

    def _verify(self) -> None:
        result = ledger_verify()
        if result.ok:
            self.stdout.write(result.summary())
            return
        self.stderr.write(result.summary())
        for problem in result.problems[1:]:
            self.stderr.write(f"另：{problem}")
        sys.exit(1)
