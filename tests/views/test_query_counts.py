"""No N+1: the number of queries a list page runs does not grow with the number of rows it shows."""
from __future__ import annotations

import re

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
    ("admin", "/roles/list/", "GridgovRoleModelView"),
    ("admin", "/groups/list/", "GridgovGroupModelView"),
    ("admin", "/incidentcategorymodelview/list/", "IncidentCategoryModelView"),
    ("admin", "/deadlinerulemodelview/list/", "DeadlineRuleModelView"),
    ("admin", "/pointsrulemodelview/list/", "PointsRuleModelView"),
    ("admin", "/redemptionlinemodelview/list/", "RedemptionLineModelView"),
    ("dispatcher", "/incidenteventmodelview/list/", "IncidentEventModelView"),
    # the other kinds of scope read their rows through other rules and indexes
    ("secretary", "/incidentmodelview/list/", "IncidentModelView"),
    ("secretary", "/incidenteventmodelview/list/", "IncidentEventModelView"),
    ("department", "/incidentmodelview/list/", "IncidentModelView"),
    ("department", "/incidenteventmodelview/list/", "IncidentEventModelView"),
    ("department", "/whistlemodelview/list/", "WhistleModelView"),
    ("volunteer", "/incidentmodelview/list/", "IncidentModelView"),
    ("volunteer", "/servicerecordmodelview/list/", "ServiceRecordModelView"),
]


@pytest.fixture
def rows_on_every_list(session):
    """At least two rows on each list above for its user: the demo has one whistle, one response,
    no group of users, and nothing a department or the volunteer sees."""
    from flask_appbuilder.security.sqla.models import Group, Role

    from ..services.test_emergencies import declare
    from ..services.test_incidents import new_incident
    from ..services.test_whistles import blow

    for n in range(2):
        blow(session, new_incident(session, title=f"占道经营{n}"), by="dispatcher", level="district")
        new_incident(session, username="volunteer", title=f"路灯不亮{n}")
    declare(session)
    roles = session.query(Role).order_by(Role.id).all()
    session.add_all([Group(name="street-staff", label="街道工作人员", roles=roles[:2]),
                     Group(name="community-staff", label="社区工作人员", roles=roles[2:3])])
    session.commit()


def rows_and_queries(app, browser, url) -> tuple[int, list[str]]:
    """(rows the list shows, the SQL statements the request ran)."""
    response, statements = statements_of(app, browser, url)
    assert response.status_code == 200, url
    (rows,) = re.findall(r"</thead>(.*?)</table>", response.get_data(as_text=True), re.S)
    return rows.count("<tr>"), statements


@pytest.mark.parametrize("username,url,view", LISTS)
def test_list_queries_do_not_grow_with_rows(app, login, rows_on_every_list, username, url, view):
    """One row or many, the same queries: a query per row runs the same statement once per row,
    so no statement may run twice. A relationship empty on every row of the one-row page is not
    loaded there (SQLAlchemy skips an IN over nothing), so the many-row page may run one query
    more per such relationship, never one per row."""
    browser = login(username)
    browser.get(url)  # the first page reads the signed-in user's account and permissions once
    one, few = rows_and_queries(app, browser, f"{url}?psize_{view}=1")
    rows, many = rows_and_queries(app, browser, f"{url}?psize_{view}=50")
    assert one == 1 and rows >= 2, f"{url}: {one} and {rows} rows shown; the check needs more than one"
    again = sorted({statement for statement in many if many.count(statement) > 1})
    assert not again, f"{url}: run {[many.count(s) for s in again]} times for {rows} rows: {again}"
    assert len(few) <= len(many) <= len(few) + 2, f"{url}: {len(few)} queries for one row, {len(many)} for {rows}"
    # permissions are read once per request, not once per menu entry and button (FAB: ~30 more)
    assert len(many) <= 25, f"{url}: {len(many)} queries"


def count_queries(app, browser, url):
    response, statements = statements_of(app, browser, url)
    assert response.status_code == 200, url
    return len(statements)


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


def test_record_pages_queries_do_not_grow_with_related_rows(app, login, session):
    """A whistle's page with two departments and one incident, and with four departments and
    two incidents; an incident's page with one event and with several: the same queries."""
    from app.models import Department, IncidentEvent
    from sqlalchemy import func, select

    from ..services.test_incidents import new_incident
    from ..services.test_whistles import blow

    names = session.scalars(select(Department.name).where(Department.kind == "functional")
                            .order_by(Department.id).limit(4)).all()
    small = blow(session, new_incident(session, title="占道经营"), names=names[:2], by="dispatcher", level="district")
    large = blow(session, new_incident(session, title="违章搭建"), names=names, by="dispatcher", level="district")
    extra = new_incident(session, title="违章搭建二")
    large.incidents.append(extra)
    session.commit()
    browser = login("dispatcher")

    def queries(url):
        browser.get(url)
        response, statements = statements_of(app, browser, url)
        assert response.status_code == 200, url
        return statements

    few, many = (queries(f"/whistlemodelview/show/{whistle.id}") for whistle in (small, large))
    assert len(many) == len(few), f"whistle page: {len(few)} queries, {len(many)} with more departments"
    events = session.execute(select(IncidentEvent.incident_id, func.count()).group_by(IncidentEvent.incident_id)
                             .order_by(func.count(), IncidentEvent.incident_id)).all()
    (quiet, one), (busy, several) = events[0], events[-1]
    assert one == 1 and several > 2
    few, many = (queries(f"/incidentmodelview/show/{incident}") for incident in (quiet, busy))
    assert len(many) == len(few), f"incident page: {len(few)} queries for one event, {len(many)} for {several}"


def test_an_incidents_page_reads_its_timeline_with_the_incident(app, login, session):
    """The timeline comes in the incident's own statement (one query and round trip less), and
    the page prints each of its events."""
    from app.models import IncidentEvent
    from sqlalchemy import func, select

    busy, several = session.execute(select(IncidentEvent.incident_id, func.count()).group_by(IncidentEvent.incident_id)
                                    .order_by(func.count().desc(), IncidentEvent.incident_id)).first()
    assert several > 2
    browser = login("admin")
    url = f"/incidentmodelview/show/{busy}"
    browser.get(url)
    response, statements = statements_of(app, browser, url)
    assert response.status_code == 200
    reading_events = [statement for statement in statements if "incident_events" in statement]
    assert len(reading_events) == 1 and "FROM incidents" in reading_events[0], reading_events
    assert response.get_data(as_text=True).count('<li class="panel panel-default">') == several


def test_a_record_read_by_key_brings_its_related_rows_in_one_query(app, session):
    """Many-to-one relations read beside a record (LATERAL subqueries): one statement, and each
    relation is the row its foreign key names, or none where it names none. The incident's page
    reads its five that way; the others are read so here to cover more shapes: a grid's parent
    (the same table, none at the top), a worker's grid and department, a ledger entry's redemption
    and author (not its service record, whose points are a total over the ledger)."""
    from app.extensions import db
    from app.models import Grid, Incident, LedgerEntry, Worker
    from app.fab.interface import EagerInterface, plain_many_to_one, related_rows
    from app.views.incidents import IncidentModelView
    from sqlalchemy import event, select
    from sqlalchemy import inspect as sa_inspect

    view = next(view for view in app.appbuilder.baseviews if isinstance(view, IncidentModelView))
    assert set(view.datamodel.related.names) == {"category", "holder_grid", "handler_worker", "department", "grid"}
    seen_none = seen_set = 0
    with app.app_context():
        for model, columns in ((Incident, view.show_columns), (Grid, ["parent", "leader", "name"]),
                               (Worker, ["grid", "department"]),
                               (LedgerEntry, ["service_record", "redemption", "created_by"])):
            interface = EagerInterface(model)
            names = plain_many_to_one(model, columns)
            assert names, model
            assert model is not LedgerEntry or names == ("redemption", "created_by")
            interface.related = related_rows(model, names)
            (key,) = sa_inspect(model).primary_key
            for pk in session.scalars(select(key).order_by(key).limit(30)):
                db.session.expunge_all()
                statements = []

                def count(conn, cursor, statement, *args):
                    statements.append(statement)

                event.listen(db.engine, "before_cursor_execute", count)
                try:
                    item = interface.get(pk)
                    loaded = sa_inspect(item).dict
                    related = {name: loaded[name] for name in names}  # KeyError: left to a lazy load
                finally:
                    event.remove(db.engine, "before_cursor_execute", count)
                assert len(statements) == 1 and "LATERAL" in statements[0], (model, statements)
                expected = session.get(model, pk)
                for name, value in related.items():
                    ((local, remote),) = sa_inspect(model).relationships[name].local_remote_pairs
                    foreign = getattr(expected, sa_inspect(model).get_property_by_column(local).key)
                    if foreign is None:
                        assert value is None, (model, pk, name)
                        seen_none += 1
                    else:
                        assert getattr(value, remote.key) == foreign, (model, pk, name)
                        seen_set += 1
            db.session.rollback()
    assert seen_none and seen_set


def test_a_kept_record_statement_is_one_per_scope_and_keeps_each_scope_to_its_rows(app, login, session):
    """A record's statement is made once per scope and kept: the secretaries of two communities
    each read their own incident through their own statement, never the other's incident, in
    either order and again; the kept statements stay within ``RECORDS_KEPT``."""
    from app.fab import interface
    from app.services import scope as scope_service
    from app.views.incidents import IncidentModelView
    from sqlalchemy import select

    from app.models import Incident
    from ..services.test_incidents import new_incident
    from .helpers import JINSHAN

    ours = new_incident(session, username="secretary", title="漏水")
    theirs = new_incident(session, username="secretary2", code=JINSHAN, title="占道经营")
    session.commit()
    view = next(view for view in app.appbuilder.baseviews if isinstance(view, IncidentModelView))
    view.datamodel.records.clear()
    secretary, secretary2 = login("secretary"), login("secretary2")
    for _ in range(2):
        for browser, own, other in ((secretary, ours, theirs), (secretary2, theirs, ours)):
            page = browser.get(f"/incidentmodelview/show/{own.id}")
            assert page.status_code == 200 and own.title in page.get_data(as_text=True)
            assert browser.get(f"/incidentmodelview/show/{other.id}").status_code == 404
    kept = view.datamodel.records.items()
    assert len(kept) == 2 and kept[0][0] != kept[1][0] and kept[0][1] is not kept[1][1]
    assert {scope.kind for scope, _ in kept} == {"grid"}
    with app.test_request_context():  # the oldest go first once more scopes than kept read records
        for grid in session.scalars(select(Incident.grid_id).distinct().limit(3)):
            view.datamodel.record_statement(scope_service.Scope("grid", grid_id=grid),
                                            view._base_filters.filters)
    assert len(view.datamodel.records) <= interface.RECORDS_KEPT
    saved = view.datamodel.records.most
    try:
        view.datamodel.records.most = 2
        view.datamodel.record_statement(scope_service.Scope("grid", grid_id=-1), view._base_filters.filters)
        assert len(view.datamodel.records) == 2
        assert scope_service.Scope("grid", grid_id=-1) in view.datamodel.records
    finally:
        view.datamodel.records.most = saved
