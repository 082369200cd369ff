"""No N+1: the number of queries a list page runs does not grow with the number of rows it shows."""
from __future__ import annotations

import pytest

from .helpers import statements_of

LISTS = [
    ("dispatcher", "/gridmodelview/list/", "GridModelView"),
    ("dispatcher", "/workermodelview/list/", "WorkerModelView"),
    ("dispatcher", "/volunteermodelview/list/", "VolunteerModelView"),
    ("dispatcher", "/servicerecordmodelview/list/", "ServiceRecordModelView"),
    ("dispatcher", "/departmentmodelview/list/", "DepartmentModelView"),
    ("dispatcher", "/incidentmodelview/list/", "IncidentModelView"),
    ("dispatcher", "/whistlemodelview/list/", "WhistleModelView"),
    ("dispatcher", "/emergencyresponsemodelview/list/", "EmergencyResponseModelView"),
    ("secretary", "/rewarditemmodelview/list/", "RewardItemModelView"),
    ("secretary", "/redemptionmodelview/list/", "RedemptionModelView"),
    ("secretary", "/pointsaccountmodelview/list/", "PointsAccountModelView"),
    ("secretary", "/ledgerentrymodelview/list/", "LedgerEntryModelView"),
    ("admin", "/users/list/", "GridgovUserDBModelView"),
]


def count_queries(app, browser, url):
    response, statements = statements_of(app, browser, url)
    assert response.status_code == 200, url
    return len(statements)


@pytest.mark.parametrize("username,url,view", LISTS)
def test_list_queries_do_not_grow_with_rows(app, login, username, url, view):
    browser = login(username)
    browser.get(url)  # the first page reads the signed-in user's account and permissions once
    few = count_queries(app, browser, f"{url}?psize_{view}=10")
    many = count_queries(app, browser, f"{url}?psize_{view}=50")
    assert many == few, f"{url}: {few} queries for 10 rows, {many} for 50"
    # permissions are read once per request, not once per menu entry and button (FAB: ~30 more)
    assert few <= 25, f"{url}: {few} queries"


def test_whistle_board_and_form_queries_do_not_grow_with_rows(app, login, session):
    """The open whistles' board and the whistle form's open incidents: the same number of queries
    with more whistles and incidents, each in another grid."""
    from ..services.test_incidents import new_incident
    from ..services.test_whistles import blow
    from .helpers import WORKER_BLOCK

    pages = ("/whistlemodelview/board/", "/whistlemodelview/blow")
    browser = login("dispatcher")
    browser.get(pages[0])
    before = [count_queries(app, browser, url) for url in pages]
    for n, code in enumerate((WORKER_BLOCK + "-01", WORKER_BLOCK + "-02", WORKER_BLOCK)):
        blow(session, new_incident(session, code=code, title=f"违建{n}"), by="dispatcher", level="district")
    session.commit()
    assert [count_queries(app, browser, url) for url in pages] == before
