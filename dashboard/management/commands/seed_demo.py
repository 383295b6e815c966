"""``python manage.py seed_demo``: fill an empty database with a demo county."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dashboard.demo import HISTORY_DAYS, demo_seed
from issuance.models import CardStatus


class Command(BaseCommand):
    help = "生成大姚县演示数据（人员、社保卡及流转台账）；已有人员数据时跳过。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=4000, help="生成人数（默认 4000）")
        parser.add_argument("--seed", type=int, default=2026, help="随机种子（默认 2026）")

    def handle(self, *args, persons: int, seed: int, **options) -> None:
        if persons < 1:
            raise CommandError("人数必须大于0。")
        started = time.monotonic()
        counts = demo_seed(persons=persons, seed=seed)
        if counts["skipped"]:
            self.stdout.write("已有演示数据，跳过")
            return
        statuses = "，".join(
            f"{status.label} {counts['card_status'][status.value]}" for status in CardStatus
        )
        campaign_line = (
            f"工作方案：{counts['campaign']}"
            if counts["campaign_created"]
            else f"工作方案：沿用已有的当前方案“{counts['campaign']}”"
        )
        lines = [
            f"已生成演示数据（随机种子 {counts['seed']}）：",
            f"  {campaign_line}",
            f"  乡镇：{counts['townships']} 个；村（社区）：{counts['villages']} 个",
            f"  人员：{counts['persons']} 人（其中已死亡 {counts['deceased']} 人）；"
            f"人员类别：{counts['categories']} 条；代管审批：{counts['proxy_approvals']} 件",
            f"  合作银行：{counts['banks']} 家；银行网点：{counts['branches']} 个",
            f"  社保卡：{counts['cards']} 张；流转台账：{counts['ledger_entries']} 条",
            f"  金融功能激活：{counts['activations']} 条；电子社保卡签发："
            f"{counts['electronic_cards']} 条",
            f"  社保卡状态：{statuses}",
            f"  进度快照：今天一次，另按今天的进度倒推生成过去 {HISTORY_DAYS} 天的示意快照"
            f"（共 {counts['progress_snapshots']} 行，仅供演示趋势图）",
            f"用时 {time.monotonic() - started:.1f} 秒",
        ]
        self.stdout.write(self.style.SUCCESS("\n".join(lines)))
