"""How long batch card-making (批量制卡) takes for one large batch, step by step.

Makes ``--persons`` (default 3,000) 待制卡 persons of one township, each with a stored photo
of the size verification keeps (1200×1600 JPEG, about ``--photo-kb`` KB), then times:
making the batch (cards applied), marking it sent (制卡中), writing the bank's zip (sheet
and photos) to a file, and importing a result file (xlsx) with a failure in every fifth
row. The figures decide whether the zip can be made while the clerk waits (it is) or
needs a background job.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/dayao_batchbench \\
        .venv/bin/python bench/batch_benchmark.py --persons 3000

It runs in a test database (``test_<name>``, created and dropped) and a temporary media
folder; nothing else is touched.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")


def photo_jpeg(target_kb: int) -> bytes:
    """A portrait-sized JPEG with enough texture to weigh what a phone photo weighs."""
    from PIL import Image

    rng = random.Random(7)
    side = 8
    while True:
        small = Image.new("RGB", (side * 3, side * 4))
        small.putdata(
            [
                (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                for _ in range(12 * side * side)
            ]
        )
        image = small.resize((1200, 1600), Image.BICUBIC)
        out = io.BytesIO()
        image.save(out, format="JPEG", quality=88)
        if out.tell() >= target_kb * 1024 or side > 400:
            return out.getvalue()
        side = int(side * 1.2) + 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--photo-kb", type=int, default=250)
    args = parser.parse_args()

    media = tempfile.mkdtemp(prefix="dayao-batch-bench-")
    os.environ["DAYAO_DATA_DIR"] = media

    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    settings.MEDIA_ROOT = Path(media) / "private"
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        run(args, settings.MEDIA_ROOT)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args, media_root: Path) -> None:
    import openpyxl
    from django.db import connection

    from dayao_sscard.models import User
    from dayao_sscard.roles import Role
    from issuance.batches import batch_create, batch_file_write, batch_result_import, batch_send
    from issuance.models import Bank
    from roster.id_numbers import compute_check_char
    from roster.models import CardClass, Person, PersonClass, Township, Village

    township = Township.objects.get(code="532326101")
    village = Village.objects.create(township=township, name="大河社区")
    clerk = User.objects.create(username="bench_clerk", role=Role.TOWNSHIP_STAFF, township=township)
    bank = Bank.objects.create(name="云南省农村信用社（大姚县联社）", short_name="农信社")
    photo = photo_jpeg(args.photo_kb)
    photos = media_root / "photos" / "bench"
    photos.mkdir(parents=True)
    persons = []
    for n in range(args.persons):
        body = f"5323261980{1 + n // 28 % 12:02d}{1 + n % 28:02d}{n // 336 % 1000:03d}"
        (photos / f"{n}.jpg").write_bytes(photo)
        persons.append(
            Person(
                id_number=body + compute_check_char(body),
                name=f"测试{n}",
                gender="male" if int(body[16]) % 2 else "female",
                birth_date=None,
                occupation="农民",
                address="大姚县金碧镇大河社区",
                phone="13887654321",
                township=township,
                village=village,
                group_name=f"{n % 9 + 1}组",
                verification_status="ready",
                id_valid_long_term=True,
                id_valid_from="2016-04-01",
                photo=f"photos/bench/{n}.jpg",
            )
        )
    persons = Person.objects.bulk_create(persons, batch_size=1000)
    PersonClass.objects.bulk_create(
        [
            PersonClass(
                person=p, card_class=CardClass.NO_CARD_INFO, classified_at="2026-06-01T00:00Z"
            )
            for p in persons
        ]
    )
    print(f"{connection.vendor}: {len(persons)} persons, photo {len(photo) / 1024:.0f} KB each")

    def timed(label, call):
        started = time.perf_counter()
        value = call()
        print(f"{label:<34} {time.perf_counter() - started:6.2f} s")
        return value

    created = timed(
        "make the batch (cards applied)",
        lambda: batch_create(
            acting_user=clerk, bank=bank, township=township, person_ids=[p.pk for p in persons]
        ),
    )
    assert not created.refusals, created.refusals[:3]
    batch = created.batch
    timed("mark it sent (制卡中)", lambda: batch_send(batch=batch, acting_user=clerk))
    with tempfile.TemporaryFile() as handle:
        written = timed(
            "write the bank's zip",
            lambda: batch_file_write(batch=batch, acting_user=clerk, stream=handle),
        )
        print(f"{'  zip size':<34} {handle.tell() / 2**20:6.1f} MB, {written.photos} photos")

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["序号", "姓名", "社会保障号码", "社会保障卡卡号", "制卡结果", "失败原因"])
    for n, person in enumerate(persons):
        failed = n % 5 == 0
        sheet.append(
            [
                n + 1,
                person.name,
                person.id_number,
                "" if failed else f"J{n:08d}",
                "失败" if failed else "成功",
                "照片不合格" if failed else "",
            ]
        )
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as result_file:
        workbook.save(result_file.name)
        imported = timed(
            "import the result (1 in 5 failed)",
            lambda: batch_result_import(
                batch=batch,
                acting_user=clerk,
                path=Path(result_file.name),
                original_name="回盘.xlsx",
            ),
        )
    print(
        f"{'  made / failed / problems':<34} {imported.made} / {imported.failed} / {len(imported.problems)}"
    )


if __name__ == "__main__":
    main()
