from django.core.management.base import BaseCommand

from roster.imports.matching import classify_all, effective_snapshot_ids, latest_snapshot


class Command(BaseCommand):
    help = "按最新的卡务系统导出重新比对全部人员（可重复执行）。"

    def handle(self, *args, **options):
        snapshot = latest_snapshot()
        if not effective_snapshot_ids():
            self.stdout.write("尚未导入卡务系统导出文件，无法比对。")
            return
        counts = classify_all()
        self.stdout.write(
            f"已按“{snapshot.source if snapshot else '部分导出'}”完成比对，比对结果变化 {counts['变化人数']} 人，"
            f"首次比对 {counts['首次比对人数']} 人。"
        )
