import json

from django.core.management.base import BaseCommand

from roster.reports import REPORT_KEYS, REPORT_LABELS, classification_report


class Command(BaseCommand):
    help = "输出报表。classification：各乡镇数据比对结果。"
    # Run by scripts, several times a day: the system checks import every view (about
    # 0.1 s of each run); `manage.py check`, migrate and the server still run them.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("name", choices=["classification"])
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, **options):
        report = classification_report()
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=1))
            return
        header = ["乡镇", *(REPORT_LABELS[k] for k in REPORT_KEYS)]
        self.stdout.write("\t".join(header))
        for row in report["townships"]:
            self.stdout.write("\t".join([row["name"], *(str(row[k]) for k in REPORT_KEYS)]))
        self.stdout.write("\t".join(["合计", *(str(report["total"][k]) for k in REPORT_KEYS)]))
