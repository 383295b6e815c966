from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from roster.imports import ExportCoverage, ExportShrinks, ListImportError, list_import
from roster.models import ListKind


class Command(BaseCommand):
    help = "导入名单：unissued（未制卡人员名单）、card_export（卡务系统导出）、subsidy（补贴对象名单）。"
    # Run by scripts, several times a day: the system checks import every view (about
    # 0.1 s of each run); `manage.py check`, migrate and the server still run them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=ListKind.values)
        parser.add_argument("path")
        parser.add_argument(
            "--source", default="", help="来源/批次，如“省第一批”“耕地地力保护补贴”"
        )
        coverage = parser.add_mutually_exclusive_group()
        coverage.add_argument(
            "--partial",
            dest="coverage",
            action="store_const",
            const=ExportCoverage.PARTIAL,
            default=ExportCoverage.UNSAID,
            help="卡务系统导出只覆盖部分人员：只重新比对文件中的人员",
        )
        coverage.add_argument(
            "--complete",
            dest="coverage",
            action="store_const",
            const=ExportCoverage.COMPLETE,
            help="卡务系统导出覆盖全县：即使记录明显少于上次，也按全县完整导出比对",
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        if options["kind"] == ListKind.UNISSUED and not options["source"]:
            raise CommandError("导入未制卡人员名单请用 --source 指明批次，如 --source 省第一批")
        try:
            result = list_import(
                kind=options["kind"],
                path=path,
                original_name=path.name,
                source=options["source"],
                coverage=options["coverage"],
            )
        except ExportShrinks as exc:
            lines = [
                str(exc),
                "如确是全县完整导出，请加 --complete 重新导入；"
                "如只是部分导出，请加 --partial 重新导入，只重新比对文件中的人员。",
                *(f"  {label}：{value}" for label, value in exc.preview.items()),
            ]
            raise CommandError("\n".join(lines)) from exc
        except ListImportError as exc:
            raise CommandError(str(exc)) from exc
        for label, value in result.summary().items():
            self.stdout.write(f"{label}：{value}")
        for problem in result.problems:
            self.stdout.write(
                f"  问题行 {problem.sheet} 第{problem.row_number}行 {problem.name}：{problem.reason}"
            )
