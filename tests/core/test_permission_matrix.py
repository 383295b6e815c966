"""Every URL of the project × every persona × an object in scope and one outside it × GET
and POST: the status each gets. A URL without rows here fails, so does a row without URL.

Statuses: 200 the page, 301 a permanent redirect, 302 to the login page (anonymous) or onward after a POST, 400 a
refused form (the API: a malformed body), 401 not signed in (the JSON API), 403 the role may not, 404 the object is outside the persona's scope (the
selectors say nothing more), 405 the wrong method. POSTs carry no data: they show that a
persona who may not is refused before anything is read from the request.
"""

import pytest

from tests.permissions import (
    METHODS,
    build_world,
    mismatches,
    parse_matrix,
    project_routes,
    row_for,
)

MATRIX = parse_matrix(
    """
# url name                     object     method anon admin super town village bank | out of scope
home                           -          GET    302  200   200   200  200     200
home                           -          POST   302  200   200   200  200     200
healthz                        -          GET    200  200   200   200  200     200
healthz                        -          POST   200  200   200   200  200     200
favicon.ico                    path       GET    301  301   301   301  301     301
favicon.ico                    path       POST   301  301   301   301  301     301
login                          -          GET    200  200   200   200  200     200
login                          -          POST   200  200   200   200  200     200
# The second step of a county administrator's login: without a password just given, back
# to the login form.
login-verify                   -          GET    302  302   302   302  302     302
login-verify                   -          POST   302  302   302   302  302     302
login-enrol                    -          GET    302  302   302   302  302     302
login-enrol                    -          POST   302  302   302   302  302     302
# Password reset by e-mail: no pages while no mail server is configured (EMAIL_HOST).
password_reset                 -          GET    404  404   404   404  404     404
password_reset                 -          POST   404  404   404   404  404     404
password_reset_done            -          GET    404  404   404   404  404     404
password_reset_done            -          POST   404  404   404   404  404     404
password_reset_confirm         reset_link GET    404  404   404   404  404     404 | 404 404 404 404 404 404
password_reset_confirm         reset_link POST   404  404   404   404  404     404 | 404 404 404 404 404 404
password_reset_complete        -          GET    404  404   404   404  404     404
password_reset_complete        -          POST   404  404   404   404  404     404
logout                         -          GET    405  405   405   405  405     405
logout                         -          POST   302  302   302   302  302     302
password_change                -          GET    302  200   200   200  200     200
password_change                -          POST   302  200   200   200  200     200
password_change_done           -          GET    302  200   200   200  200     200
password_change_done           -          POST   302  405   405   405  405     405
job-list                       -          GET    302  200   200   200  200     200
job-list                       -          POST   302  200   200   200  200     200
job-detail                     job        GET    302  200   200   200  200     200 | 302 200 200 404 404 404
job-detail                     job        POST   302  200   200   200  200     200 | 302 200 200 404 404 404
job-status                     job        GET    302  200   200   200  200     200 | 302 200 200 404 404 404
job-status                     job        POST   302  405   405   405  405     405 | 302 405 405 405 405 405
job-result                     job        GET    302  200   200   200  200     200 | 302 200 403 404 404 404
job-result                     job        POST   302  200   200   200  200     200 | 302 200 403 404 404 404
# The old list of cards held by offices now opens the custody risks' cards.
cadre-held                     -          GET    302  302   302   302  302     403
cadre-held                     -          POST   302  302   302   302  302     403
# 进度督导: the county roles see the county, township staff and collectors their own
# township; another township's page is not found; bank staff have none.
supervision                    -          GET    302  200   200   200  200     403
supervision                    -          POST   302  200   200   200  200     403
supervision-township           township   GET    302  200   200   200  200     403 | 302 200 200 404 404 403
supervision-township           township   POST   302  200   200   200  200     403 | 302 200 200 404 404 403
audit-list                     -          GET    302  200   200   403  403     403
audit-list                     -          POST   302  200   200   403  403     403
roster:person-list             -          GET    302  200   200   200  200     200
roster:person-list             -          POST   302  200   200   200  200     200
roster:person-export           -          GET    302  405   405   405  405     405
roster:person-export           -          POST   302  302   302   302  302     302
roster:person-detail           person     GET    302  200   200   200  200     200 | 302 200 200 404 404 404
roster:person-detail           person     POST   302  200   200   200  200     200 | 302 200 200 404 404 404
roster:person-photo            photo      GET    302  200   200   200  200     200 | 302 200 200 404 404 404
roster:person-photo            photo      POST   302  200   200   200  200     200 | 302 200 200 404 404 404
roster:person-kept-photo       kept_photo GET    302  200   403   200  200     403 | 302 200 403 404 404 403
roster:person-kept-photo       kept_photo POST   302  200   403   200  200     403 | 302 200 403 404 404 403
roster:person-edit             person     GET    302  200   403   200  200     403 | 302 200 403 404 404 403
roster:person-edit             person     POST   302  200   403   200  200     403 | 302 200 403 404 404 403
roster:person-reveal-id        person     GET    302  405   403   405  405     405 | 302 405 403 405 405 405
roster:person-reveal-id        person     POST   302  200   403   200  200     200 | 302 200 403 404 404 404
roster:person-verify           person     GET    302  200   403   200  200     403 | 302 200 403 404 404 403
roster:person-verify           person     POST   302  200   403   200  200     403 | 302 200 403 404 404 403
roster:person-mark-deceased    person     GET    302  405   403   405  405     403 | 302 405 403 405 405 403
roster:person-mark-deceased    person     POST   302  302   403   302  302     403 | 302 302 403 404 404 403
roster:person-undo-deceased    person     GET    302  405   403   405  403     403 | 302 405 403 405 403 403
roster:person-undo-deceased    person     POST   302  302   403   302  403     403 | 302 302 403 404 403 403
roster:work-queue              -          GET    302  200   403   200  200     403
roster:work-queue              -          POST   302  200   403   200  200     403
roster:progress                -          GET    302  200   200   200  200     403
roster:progress                -          POST   302  200   200   200  200     403
roster:import-create           -          GET    302  200   403   200  403     403
roster:import-create           -          POST   302  200   403   200  403     403
roster:import-confirm          job        GET    302  405   403   403  403     403 | 302 405 403 403 403 403
roster:import-confirm          job        POST   302  302   403   403  403     403 | 302 302 403 403 403 403
roster:conflicts               -          GET    302  200   200   200  200     403
roster:conflicts               -          POST   302  200   200   200  200     403
roster:conflict-person         person     GET    302  200   200   200  200     403 | 302 200 200 404 404 403
roster:conflict-person         person     POST   302  400   403   400  400     403 | 302 400 403 404 404 403
roster:comparison              -          GET    302  200   200   200  403     403
roster:comparison              -          POST   302  200   200   200  403     403
roster:comparison-changes      -          GET    302  200   200   200  403     403
roster:comparison-changes      -          POST   302  200   200   200  403     403
roster:comparison-disagreements -         GET    302  200   200   200  403     403
roster:comparison-disagreements -         POST   302  200   200   200  403     403
roster:subsidy-comparison      -          GET    302  200   200   200  403     403
roster:subsidy-comparison      -          POST   302  200   200   200  403     403
issuance:stock-cards           -          GET    302  200   200   200  200     200
issuance:stock-cards           -          POST   302  200   200   200  200     200
issuance:stock-card            card_pk    GET    302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:stock-card            card_pk    POST   302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:stock-card-attempt    card_pk    GET    302  405   403   405  405     405 | 302 405 403 405 405 405
issuance:stock-card-attempt    card_pk    POST   302  400   403   400  400     400 | 302 400 403 404 404 404
issuance:stock-card-issue      card_pk    GET    302  405   403   405  405     403 | 302 405 403 405 405 403
issuance:stock-card-issue      card_pk    POST   302  400   403   400  400     403 | 302 400 403 404 404 403
issuance:stock-card-recover    card_pk    GET    302  405   403   405  403     405 | 302 405 403 405 403 405
issuance:stock-card-recover    card_pk    POST   302  400   403   400  403     400 | 302 400 403 404 403 404
issuance:stock-cards-mark-dormant -       GET    302  405   403   405  403     405
issuance:stock-cards-mark-dormant -       POST   302  302   403   302  403     302
issuance:cancellation-list     -          GET    302  200   200   200  403     200
issuance:cancellation-list     -          POST   302  200   200   200  403     200
issuance:cancellation-carry-out cancellation GET 302  405   403   405  403     405 | 302 405 403 405 403 405
issuance:cancellation-carry-out cancellation POST 302 302   403   302  403     302 | 302 302 403 404 403 404
issuance:recovery-list         -          GET    302  200   200   200  403     200
issuance:recovery-list         -          POST   302  200   200   200  403     200
issuance:recovery-export       -          GET    302  405   405   405  403     405
issuance:recovery-export       -          POST   302  200   200   200  403     200
issuance:recovery-mark-entered -          GET    302  405   403   405  403     403
issuance:recovery-mark-entered -          POST   302  302   403   302  403     403
issuance:batch-list            -          GET    302  200   200   200  403     403
issuance:batch-list            -          POST   302  200   200   200  403     403
issuance:batch-create          -          GET    302  200   403   200  403     403
issuance:batch-create          -          POST   302  200   403   200  403     403
issuance:batch-detail          batch      GET    302  200   200   200  403     403 | 302 200 200 404 403 403
issuance:batch-detail          batch      POST   302  200   200   200  403     403 | 302 200 200 404 403 403
issuance:batch-download        batch      GET    302  405   403   405  403     403 | 302 405 403 405 403 403
issuance:batch-download        batch      POST   302  200   403   200  403     403 | 302 200 403 404 403 403
issuance:batch-send            batch      GET    302  405   403   405  403     403 | 302 405 403 405 403 403
issuance:batch-send            batch      POST   302  302   403   302  403     403 | 302 302 403 404 403 403
issuance:batch-remove-member   batch      GET    302  405   403   405  403     403 | 302 405 403 405 403 403
issuance:batch-remove-member   batch      POST   302  302   403   302  403     403 | 302 302 403 404 403 403
issuance:batch-result          batch      GET    302  200   403   200  403     403 | 302 200 403 404 403 403
issuance:batch-result          batch      POST   302  400   403   400  403     403 | 302 400 403 404 403 403
issuance:proxy-list             -          GET    302  200   200   200  200     403
issuance:proxy-list             -          POST   302  200   200   200  200     403
issuance:proxy-register         -          GET    302  200   403   200  200     403
issuance:proxy-register         -          POST   302  200   403   200  200     403
issuance:cadre-list             -          GET    302  200   200   200  403     403
issuance:cadre-list             -          POST   302  200   200   200  403     403
issuance:proxy-detail           approval   GET    302  200   200   200  200     403 | 302 200 200 404 404 403
issuance:proxy-detail           approval   POST   302  200   200   200  200     403 | 302 200 200 404 404 403
issuance:proxy-document         approval   GET    302  200   200   200  200     403 | 302 200 200 404 404 403
issuance:proxy-document         approval   POST   302  405   405   405  405     403 | 302 405 405 405 405 403
issuance:proxy-approve          approval   GET    302  405   403   405  403     403 | 302 405 403 405 403 403
issuance:proxy-approve          approval   POST   302  302   403   302  403     403 | 302 302 403 404 403 403
issuance:proxy-revoke           approval   GET    302  405   403   405  403     403 | 302 405 403 405 403 403
issuance:proxy-revoke           approval   POST   302  302   403   302  403     403 | 302 302 403 404 403 403
issuance:proxy-issue            approval   GET    302  405   403   405  405     403 | 302 405 403 405 405 403
issuance:proxy-issue            approval   POST   302  400   403   400  400     403 | 302 400 403 404 404 403
issuance:risks                 -          GET    302  200   200   200  200     403
issuance:risks                 -          POST   302  200   200   200  200     403
issuance:risk-cards            -          GET    302  200   200   200  200     403
issuance:risk-cards            -          POST   302  200   200   200  200     403
issuance:risk-holders          -          GET    302  200   200   200  200     403
issuance:risk-holders          -          POST   302  200   200   200  200     403
issuance:risk-export           -          GET    302  200   200   200  200     403
issuance:risk-export           -          POST   302  405   405   405  405     403
issuance:reconciliation        -          GET    302  200   200   200  403     200
issuance:reconciliation        -          POST   302  200   200   200  403     200
issuance:reconciliation-export -          GET    302  200   200   200  403     200
issuance:reconciliation-export -          POST   302  405   405   405  403     405
issuance:card-detail           card       GET    302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:card-detail           card       POST   302  405   405   405  405     405 | 302 405 405 405 405 405
issuance:card-issue            card       GET    302  405   403   405  405     403 | 302 405 403 405 405 403
issuance:card-issue            card       POST   302  400   403   400  400     403 | 302 400 403 404 404 403
issuance:sign-off-list         -          GET    302  200   200   200  200     403
issuance:sign-off-list         -          POST   302  405   405   405  405     403
issuance:sign-off-create       -          GET    302  200   403   200  200     403
issuance:sign-off-create       -          POST   302  400   403   400  400     403
issuance:sign-off-detail       sheet      GET    302  200   200   200  200     403 | 302 200 200 404 404 403
issuance:sign-off-detail       sheet      POST   302  405   405   405  405     403 | 302 405 405 405 405 403
issuance:sign-off-pdf          sheet      GET    302  200   200   200  200     403 | 302 200 200 404 404 403
issuance:sign-off-pdf          sheet      POST   302  405   405   405  405     403 | 302 405 405 405 405 403
issuance:sign-off-record       sheet      GET    302  200   403   200  200     403 | 302 200 403 404 404 403
issuance:sign-off-record       sheet      POST   302  400   403   400  400     403 | 302 400 403 404 404 403
# 交接: handover_in goes from the bank persona's branch to township A (village A's card),
# handover_out from township B's branch to township B. Only the receiving unit confirms;
# either party attaches the signed sheet; an empty receipt lacks its reasons (400).
issuance:handover-list         -          GET    302  200   200   200  200     200
issuance:handover-list         -          POST   302  200   200   200  200     200
issuance:handover-create       -          GET    302  200   403   200  200     200
issuance:handover-create       -          POST   302  400   403   400  400     400
issuance:handover-detail       handover   GET    302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:handover-detail       handover   POST   302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:handover-pdf          handover   GET    302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:handover-pdf          handover   POST   302  405   405   405  405     405 | 302 405 405 405 405 405
issuance:handover-receive      handover   GET    302  403   403   200  403     403 | 302 403 403 404 404 404
issuance:handover-receive      handover   POST   302  403   403   400  403     403 | 302 403 403 404 404 404
issuance:handover-receive-late handover   GET    302  405   403   405  405     405 | 302 405 403 405 405 405
issuance:handover-receive-late handover   POST   302  403   403   404  403     403 | 302 403 403 404 404 404
issuance:handover-attach-sheet handover   GET    302  405   403   405  405     405 | 302 405 403 405 405 405
issuance:handover-attach-sheet handover   POST   302  403   403   302  403     302 | 302 403 403 404 404 404
issuance:handover-sheet-file   handover   GET    302  200   200   200  200     200 | 302 200 200 404 404 404
issuance:handover-sheet-file   handover   POST   302  405   405   405  405     405 | 302 405 405 405 405 405
# A POST without data asks for the persona's whole area (the first township, county roles).
issuance:ledger                -          GET    302  200   200   200  200     403
issuance:ledger                -          POST   302  302   302   302  302     403
# The JSON API answers in JSON: 401 to anonymous callers rather than the login page.
api:person-detail              id_number  GET    401  200   200   200  200     200 | 401 200 200 404 404 404
api:person-detail              id_number  POST   401  405   405   405  405     405 | 401 405 405 405 405 405
api:card-detail                card_number GET   401  200   200   200  200     200 | 401 200 200 404 404 404
api:card-detail                card_number POST  401  405   405   405  405     405 | 401 405 405 405 405 405
api:card-events                card_number GET   401  405   405   405  405     405 | 401 405 405 405 405 405
api:card-events                card_number POST  401  400   403   400  400     400 | 401 400 403 404 404 404
activation:counter             -          GET    302  200   200   403  403     200
activation:counter             -          POST   302  200   200   403  403     200
activation:counter-person      person     GET    302  200   200   403  403     200  | 302 200 200 403 403 404
activation:counter-person      person     POST   302  405   405   403  403     405  | 302 405 405 403 403 405
activation:counter-photo       person     GET    302  200   200   403  403     200  | 302 200 200 403 403 404
activation:counter-photo       person     POST   302  200   200   403  403     200  | 302 200 200 403 403 404
activation:counter-instant-card person    GET    302  403   403   403  403     405  | 302 403 403 403 403 405
activation:counter-instant-card person    POST   302  403   403   403  403     400  | 302 403 403 403 403 404
activation:counter-issue       person     GET    302  405   403   403  403     405  | 302 405 403 403 403 405
activation:counter-issue       person     POST   302  400   403   403  403     400  | 302 400 403 403 403 404
activation:counter-activate    person     GET    302  403   403   403  403     405  | 302 403 403 403 403 405
activation:counter-activate    person     POST   302  403   403   403  403     400  | 302 403 403 403 403 404
activation:counter-ecard       person     GET    302  405   403   403  403     405  | 302 405 403 403 403 405
activation:counter-ecard       person     POST   302  400   403   403  403     400  | 302 400 403 403 403 404
activation:branch-waiting      -          GET    302  200   200   403  403     200
activation:branch-waiting      -          POST   302  200   200   403  403     200
activation:branch-not-activated -         GET    302  200   200   403  403     200
activation:branch-not-activated -         POST   302  200   200   403  403     200
activation:branch-today        -          GET    302  200   200   403  403     200
activation:branch-today        -          POST   302  200   200   403  403     200
# 进度通报: county roles make it; its files are the starter's and the administrator's.
progress-report                -          GET    302  200   200   403  403     403
progress-report                -          POST   302  302   302   403  403     403
progress-report-job            report_job GET    302  200   200   403  403     403 | 302 200 200 403 403 403
progress-report-job            report_job POST   302  200   200   403  403     403 | 302 200 200 403 403 403
progress-report-file           report_file GET   302  200   200   403  403     403 | 302 200 403 403 403 403
progress-report-file           report_file POST  302  200   200   403  403     403 | 302 200 403 403 403 403
# The Django admin (reference data) is the county administrator's; signed-in staff
# without it get a plain 403, not the admin's own login page.
admin:*                        -          GET    302  200   403   403  403     403
admin:*                        -          POST   302  200   403   403  403     403
"""
)


def test_every_url_of_the_project_has_its_rows_and_every_row_its_url():
    routes = project_routes()
    missing = [
        f"{route.name} ({route.route}) {method}"
        for route in routes
        for method in METHODS
        if row_for(route, MATRIX, method) is None
    ]
    assert not missing, (
        "URLs without rows in the permission matrix (tests/core/test_permission_matrix.py); "
        "add the status each persona gets: " + ", ".join(missing)
    )
    names = {"admin:*" if r.namespace == "admin" else r.name for r in routes}
    stale = sorted({name for name, _ in MATRIX} - names)
    assert not stale, f"rows for URLs the project no longer has: {stale}"


@pytest.fixture
def world(db):
    return build_world()


@pytest.mark.parametrize("key", sorted(MATRIX), ids=lambda key: f"{key[0]} {key[1]}")
def test_the_status_of_every_persona(world, key):
    wrong = mismatches(world, MATRIX[key])
    assert not wrong, "\n".join(wrong)
