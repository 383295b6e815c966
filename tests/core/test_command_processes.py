"""The data commands as a county's scripts run them: ``manage.py`` in its own process.

Their start-up loads none of the big libraries only some commands need (Celery, openpyxl,
the import-export admin, WeasyPrint), and they end without the interpreter's teardown;
their output must still arrive whole and their writes be committed.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import make_id_number
from tests.roster.listfiles import EXPORT_HEADER, write_csv, write_xlsx

PROJECT = Path(__file__).resolve().parents[2]
HEAVY = ("celery", "kombu", "openpyxl", "import_export", "tablib", "weasyprint")


def manage(env, *args):
    return subprocess.run(
        [sys.executable, str(PROJECT / "manage.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    folder = tmp_path_factory.mktemp("commands")
    env = {
        **os.environ,
        "DAYAO_DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "",
    }
    assert manage(env, "migrate", "-v0").returncode == 0
    return env


def test_start_up_and_the_data_commands_load_no_heavy_library(env):
    code = (
        "import sys, django; django.setup();"
        "import roster.management.commands.import_list, roster.management.commands.match;"
        "import roster.management.commands.report;"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=PROJECT
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_a_days_commands_write_their_whole_output_and_commit(env, tmp_path):
    ids = [make_id_number() for _ in range(300)]
    listed = [["序号", "所属乡镇", "村委会", "姓名", "身份证号码", "人员类别"]] + [
        [n, "金碧镇", "大河社区", f"人{n}", id_number, "低保" if n % 3 == 0 else ""]
        for n, id_number in enumerate(ids, start=1)
    ]
    unissued = manage(
        env,
        "import_list",
        "unissued",
        str(write_csv(tmp_path / "list.csv", listed, encoding="gb18030")),
        "--source",
        "州第二批",
    )
    assert unissued.returncode == 0, unissued.stderr
    assert unissued.stdout.splitlines()[-1] == "问题行：0"
    assert "新增人员：300" in unissued.stdout

    records = [EXPORT_HEADER] + [
        [
            n,
            "某人",
            id_number,
            f"Y{n}",
            "中国农业银行大姚县支行",
            "批量制卡",
            "制卡成功",
            "",
            "正常",
            "",
        ]
        for n, id_number in enumerate(ids[:100], start=1)
    ]
    export = manage(
        env, "import_list", "card_export", str(write_xlsx(tmp_path / "e.xlsx", records))
    )
    assert export.returncode == 0, export.stderr
    assert "卡务记录：100" in export.stdout

    match = manage(env, "match")
    assert match.returncode == 0, match.stderr
    assert "比对结果变化 0 人，首次比对 0 人。" in match.stdout

    report = manage(env, "report", "classification", "--format", "json")
    assert report.returncode == 0, report.stderr
    total = json.loads(report.stdout)["total"]
    assert (total["listed"], total["card_made"], total["no_card_info"]) == (300, 100, 200)


def test_a_refused_file_still_exits_non_zero_with_its_message(env, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = manage(env, "import_list", "unissued", str(empty), "--source", "省第一批")
    assert result.returncode == 1
    assert "文件是空的" in result.stderr
