"""Two clerks uploading at once: imports are serialised, the same file counts once."""

import threading

import pytest
from django.db import connection

from roster.imports import list_import
from roster.models import ListEntry, Person, SourceList
from tests.factories import make_id_number
from tests.roster.listfiles import UNISSUED_HEADER, write_xlsx


def run_in_threads(*calls):
    results, errors = [None] * len(calls), []
    barrier = threading.Barrier(len(calls))

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # surfaced below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
def test_the_same_file_uploaded_twice_at_once_is_imported_once(tmp_path):
    ids = [make_id_number() for _ in range(300)]
    rows = [UNISSUED_HEADER] + [[n, f"人{n}", "", "", i, "", "金碧", ""] for n, i in enumerate(ids)]
    path = write_xlsx(tmp_path / "l.xlsx", rows)

    def call():
        return list_import(kind="unissued", path=path, original_name="l.xlsx", source="省第一批")

    first, second = run_in_threads(call, call)
    assert sorted(bool(r.already_imported_at) for r in (first, second)) == [False, True]
    assert SourceList.objects.count() == 1
    assert Person.objects.count() == 300 and ListEntry.objects.count() == 300


@pytest.mark.django_db(transaction=True)
def test_two_different_lists_at_once_both_land_whole(tmp_path):
    shared = make_id_number()

    def rows(prefix):
        people = [shared] + [make_id_number() for _ in range(200)]
        return [UNISSUED_HEADER] + [
            [n, f"{prefix}{n}", "", "", i, "", "石羊", ""] for n, i in enumerate(people)
        ]

    a = write_xlsx(tmp_path / "a.xlsx", rows("甲"))
    b = write_xlsx(tmp_path / "b.xlsx", rows("乙"))
    run_in_threads(
        lambda: list_import(kind="unissued", path=a, original_name="a.xlsx", source="省第一批"),
        lambda: list_import(kind="unissued", path=b, original_name="b.xlsx", source="州第二批"),
    )
    assert Person.objects.count() == 401
    assert Person.objects.get(id_number=shared).list_entries.count() == 2
