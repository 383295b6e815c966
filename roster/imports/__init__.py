"""Import the lists the county receives, in one transaction per file.

Layers, each importing only those below it:

- ``tables``: reading xlsx/xls/csv files into rows under a recognised header;
- ``base``: the import's result and row problems, reading a table's rows;
- ``known_persons``: finding (and locking) people already in the system by ID number;
- one module per kind of list: ``person_lists`` (未发卡名单, 补贴名单), ``card_export``
  (卡务系统导出) with ``matching`` (数据比对), ``deaths`` (死亡人员名单) and
  ``collection`` (12333采集结果);
- here, ``list_import``: one file of any kind, start to end.

Re-importing the same file changes nothing; a file that fails half-way leaves nothing.
"""

from pathlib import Path

from django.db import connection, transaction

from dayao_sscard.audit import audit_record
from dayao_sscard.jobs import file_facts
from dayao_sscard.permissions import require
from dayao_sscard.row_audit import audit_actor
from issuance.opening import cards_open_from_export

from ..card_records import made_cards_from_ranks
from ..models import ListKind, SourceList
from ..progress import figures_rebuild
from .base import (
    CLASSIFIED_KINDS,
    REQUIRED_COLUMNS,
    ImportResult,
    ListImportError,
    Progress,
    RowProblem,
    default_source,
    file_sha256,
    mark_if_already_imported,
    serialise_imports,
    write_problems,
)
from .card_export import ExportCoverage, ExportShrinks, card_export_write, export_coverage_check
from .collection import collection_write
from .deaths import deaths_write
from .matching import classify_all, classify_unclassified, effective_snapshot_ids
from .person_lists import person_list_write
from .tables import TableError, open_tables

__all__ = [
    "ExportCoverage",
    "ExportShrinks",
    "ImportResult",
    "ListImportError",
    "RowProblem",
    "list_import",
]


def list_import(
    *,
    kind: str,
    path: Path,
    original_name: str,
    source: str = "",
    acting_user=None,
    job=None,
    progress: Progress | None = None,
    coverage: str = ExportCoverage.UNSAID,
) -> ImportResult:
    """Import one file of the given kind; raises ListImportError when it cannot be imported.

    ``coverage`` applies to card-system exports: unsaid, an export that covers clearly fewer
    cards than the county knows is refused (ExportShrinks, with a preview); ``partial``
    re-compares only the persons it names; ``complete`` takes it as the whole county.

    ``acting_user`` None is the operator at the command line; a user must be allowed the
    kind (``roster.import_<kind>``), and lists about known people touch only their scope.
    """
    if acting_user is not None:
        require(acting_user, f"roster.import_{kind}")
    progress = progress or (lambda *a, **k: None)
    result = ImportResult(kind=kind, file_name=original_name, source=source)
    sha = file_sha256(path)
    if mark_if_already_imported(result, kind, sha):
        return result
    try:
        tables = open_tables(
            Path(path), original_name=original_name, required=REQUIRED_COLUMNS[kind]
        )
    except TableError as exc:
        raise ListImportError(str(exc)) from exc
    total = sum(t.total_rows for t in tables) or 1
    try:
        with audit_actor(acting_user, f"导入名单：{original_name}"), transaction.atomic():
            serialise_imports()
            if mark_if_already_imported(result, kind, sha):
                return result
            source_list = SourceList.objects.create(
                kind=kind,
                source=source or default_source(kind, tables),
                file_name=original_name[:255],
                file_sha256=sha,
                imported_by=acting_user,
                job=job,
                is_partial=kind == ListKind.CARD_EXPORT and coverage == ExportCoverage.PARTIAL,
            )
            result.source = source_list.source
            result.partial_export = source_list.is_partial
            result.source_list_id = source_list.pk
            if kind == ListKind.CARD_EXPORT:
                card_export_write(tables, source_list, result, progress, total)
                if coverage == ExportCoverage.UNSAID:
                    export_coverage_check(source_list, result, acting_user=acting_user)
            elif kind == ListKind.DEATHS:
                deaths_write(tables, source_list, result, progress, total, acting_user=acting_user)
            elif kind == ListKind.COLLECTION_12333:
                collection_write(
                    tables, source_list, result, progress, total, acting_user=acting_user
                )
            else:
                person_list_write(tables, source_list, result, progress, total)
            write_problems(source_list, result.problems)
            if kind == ListKind.CARD_EXPORT:
                progress(total, total, "正在比对制卡信息", force=True)
                result.classification = classify_all(
                    acting_user=acting_user,
                    only_snapshot=source_list if source_list.is_partial else None,
                    keep_ranks=True,
                    recount=False,
                )
                progress(total, total, "正在建立社保卡台账", force=True)
                result.cards = _open_cards(
                    source_list,
                    acting_user,
                    only_snapshot_id=source_list.pk if source_list.is_partial else None,
                ).summary()
            elif kind in CLASSIFIED_KINDS:
                progress(total, total, "正在比对制卡信息", force=True)
                new_from = result.first_new_person_id if result.persons_new else 0
                result.classification = classify_unclassified(
                    acting_user=acting_user,
                    person_ids_from=result.first_new_person_id,
                    keep_ranks=bool(new_from),
                    recount=False,
                )
                if new_from and result.classification:
                    # Persons a list adds get the cards the exports already show made.
                    counts = _open_cards(
                        SourceList.objects.get(pk=effective_snapshot_ids()[-1]),
                        acting_user,
                        persons_from=new_from,
                    )
                    if counts.opened or counts.produced or counts.replaced:
                        result.cards = counts.summary()
            progress(total, total, "正在更新进度统计", force=True)
            figures_rebuild()
            source_list.counts = result.summary()
            source_list.save(update_fields=["counts"])
            audit_record(
                actor=acting_user,
                action="roster.sourcelist.imported",
                obj=source_list,
                after={
                    **result.summary(),
                    **file_facts(original_name, Path(path).stat().st_size, sha),
                },
            )
    except TableError as exc:
        raise ListImportError(f"{exc}（已撤回本次导入的全部数据）") from exc
    return result


def _open_cards(snapshot, acting_user, *, only_snapshot_id=None, persons_from=0):
    """Open in the ledger the cards the match just ranked as the persons' current ones."""
    with connection.cursor() as cursor:
        made_cards_from_ranks(cursor, only_snapshot_id=only_snapshot_id, persons_from=persons_from)
    return cards_open_from_export(snapshot=snapshot, acting_user=acting_user, made_cards_ready=True)
