"""待制卡 persons and batches for the batch card-making tests (批量制卡)."""

import datetime
from pathlib import Path

from django.core.files.base import ContentFile

from issuance.batches import batch_create, batch_send
from issuance.models import ApplicationBatch
from roster.models import Person, VerificationStatus
from tests.factories import BankFactory, PersonFactory
from tests.roster.photos import photo_bytes

RESULTS = Path(__file__).resolve().parents[2] / "fixtures" / "batch_results"
RESULT_XLSX = RESULTS / "result_with_failures.xlsx"
RESULT_GBK_CSV = RESULTS / "result_gbk.csv"

# The persons the sample result files name (see fixtures/batch_results/README.md).
FIXTURE_PERSONS = (
    ("陈建国", "53232619800517001X", "1组"),
    ("杜秀英", "532326198503020022", "1组"),
    ("罗志华", "532326197208110039", "2组"),
    ("王秀兰", "532326199006250040", "2组"),
    ("李文军", "532326198811010053", "3组"),
)
NOT_IN_THE_BATCH = "53232619950214006X"


def ready_person(village, *, photo: bool = False, **fields) -> Person:
    """A verified person with the nine elements complete: 待制卡 (no card record)."""
    fields.setdefault("id_valid_from", datetime.date(2016, 4, 1))
    fields.setdefault("id_valid_long_term", True)
    fields.setdefault("photo_on_12333", not photo)
    fields.setdefault("verification_status", VerificationStatus.READY)
    fields.setdefault("card_class", "no_card_info")
    person = PersonFactory(township=village.township, village=village, **fields)
    if photo:
        person.photo.save(f"{person.pk}.jpg", ContentFile(photo_bytes()), save=True)
    return person


def fixture_persons(village, *, photo: bool = False) -> list[Person]:
    return [
        ready_person(village, name=name, id_number=id_number, group_name=group, photo=photo)
        for name, id_number, group in FIXTURE_PERSONS
    ]


def bank():
    return BankFactory()


def make_batch(user, persons, *, township=None, send: bool = False) -> ApplicationBatch:
    created = batch_create(
        acting_user=user,
        bank=bank(),
        township=township or persons[0].township,
        person_ids=[p.pk for p in persons],
    )
    assert created.batch is not None, created.refusals
    if send:
        return batch_send(batch=created.batch, acting_user=user)
    return created.batch
