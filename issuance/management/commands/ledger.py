"""``manage.py ledger verify|pdf``: the ledger's subcommands, each a service call."""

import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from issuance.chain import ledger_verify
from issuance.ledger_exports import ledger_pdf_write_for_command


class Command(BaseCommand):
    help = (
        "发放台账。verify：校验台账的哈希链、序号、卡片现状与已封存的日链头；"
        "pdf：生成乡镇（或村）发放台账的签名PDF。"
    )

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser("verify", help="校验整个台账；发现问题时以非零状态退出并指出卡号")
        pdf = subcommands.add_parser("pdf", help="生成签名的发放台账PDF")
        pdf.add_argument("--township", required=True, help="乡镇区划代码")
        pdf.add_argument("--village", default="", help="村（社区）名称，不填为全乡镇")
        pdf.add_argument("--out", required=True, help="输出文件路径")

    def handle(self, *args, **options):
        if options["subcommand"] == "verify":
            self._verify()
        elif options["subcommand"] == "pdf":
            self._pdf(options)

    def _verify(self) -> None:
        result = ledger_verify()
        if result.ok:
            self.stdout.write(result.summary())
            return
        self.stderr.write(result.summary())
        for problem in result.problems[1:]:
            self.stderr.write(f"另：{problem}")
        sys.exit(1)

    def _pdf(self, options) -> None:
        out = Path(options["out"])
        partial = out.with_name(f".{out.name}.partial")
        try:
            with partial.open("wb") as stream:
                cards = ledger_pdf_write_for_command(
                    township_code=options["township"], village_name=options["village"], out=stream
                )
            partial.replace(out)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError("；".join(getattr(exc, "messages", [str(exc)]))) from exc
        except OSError as exc:
            raise CommandError(f"无法写入文件 {out}：{exc.strerror}") from exc
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"已生成发放台账 {out}（{cards} 张社保卡，已签名）")
