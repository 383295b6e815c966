import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date

from dayao_sscard.startup import resume_garbage_collection
from roster.figures import FIGURE_KEYS, FIGURE_LABELS
from roster.progress import figures_day, progress_by_township
from roster.reports import REPORT_KEYS, REPORT_LABELS, classification_report


class Command(BaseCommand):
    help = (
        "输出报表。classification：各乡镇数据比对结果；progress：各乡镇工作进度"
        "（名单人数、已死亡、待制卡、已制卡、已发放、已激活、电子社保卡等）。"
    )
    # Run by scripts, several times a day: the system checks import every view (about
    # 0.1 s of each run); `manage.py check`, migrate and the server still run them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["classification", "progress"])
        parser.add_argument("--format", choices=["json", "text"], default="text")
        parser.add_argument(
            "--date",
            default="",
            help="progress：某一天的进度（取当天或之前最近一次快照），默认今天",
        )

    def handle(self, *args, **options):
        resume_garbage_collection()
        if options["name"] == "progress":
            day = None
            if options["date"]:
                day = parse_date(options["date"])
                if day is None:
                    raise CommandError(
                        f"日期“{options['date']}”无法识别，请写成 2026-06-05 的形式。"
                    )
                try:
                    figures_day(day)
                except ValidationError as exc:
                    raise CommandError(exc.messages[0]) from exc
            self._write(progress_by_township(day=day), FIGURE_KEYS, FIGURE_LABELS, **options)
            return
        self._write(classification_report(), REPORT_KEYS, REPORT_LABELS, **options)

    def _write(self, report, keys, labels, **options):
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
            return
        self.stdout.write("\t".join(["乡镇", *(labels[k] for k in keys)]))
        for row in report["townships"]:
            self.stdout.write("\t".join([row["name"], *(str(row[k]) for k in keys)]))
        self.stdout.write("\t".join(["合计", *(str(report["total"][k]) for k in keys)]))
