from collections import Counter

from django.core.management.base import BaseCommand

from roster.imports.matching import classify_all, effective_snapshot_ids, latest_snapshot
from roster.models import SourceList


class Command(BaseCommand):
    help = "按最新的卡务系统导出重新比对全部人员（可重复执行）。"
    # Run by scripts, several times a day: the system checks import every view (about
    # 0.1 s of each run); `manage.py check`, migrate and the server still run them.
    requires_system_checks = []

    def handle(self, *args, **options):
        snapshot = latest_snapshot()
        snapshot_ids = effective_snapshot_ids()
        if not snapshot_ids:
            self.stdout.write("尚未导入卡务系统导出文件，无法比对。")
            return
        if snapshot is not None:
            counts = classify_all()
        else:
            # Only partial exports so far: each re-compares the persons it names and
            # nobody else, as its import did; there is no whole county to compare with.
            counts = Counter()
            for partial in SourceList.objects.filter(pk__in=snapshot_ids).order_by("pk"):
                counts.update(classify_all(only_snapshot=partial))
        self.stdout.write(
            f"已按“{snapshot.source if snapshot else '部分导出'}”完成比对，比对结果变化 {counts['变化人数']} 人，"
            f"首次比对 {counts['首次比对人数']} 人。"
        )
