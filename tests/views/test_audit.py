"""The audit trail and the personal-data access log over HTTP, per role: a form's change is recorded
with its user, a refused one is not; each role reads only its scope's entries; every page that shows
people's phone, ID number or address in clear logs who saw whom, and the administrator finds them."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text

from app.models import AuditEntry, PersonalDataAccess, Worker

from .helpers import FULL_MOBILE_RE, JINSHAN, XIANGJIANG, grid_id, record_count, statements_of, worker_in

AUDIT = "/auditentrymodelview/list/"
ACCESS = "/personaldataaccessmodelview/list/"
NEW_WORKER = {
    "name": "赵审计", "role": "grid_worker", "phone": "13912345678", "id_number": "11010519491231002X",
    "employment": "full_time", "start_date": "2024-03-01", "training_hours": "72",
}


def user_id(session, username: str) -> int:
    return session.scalar(text("SELECT id FROM ab_user WHERE username = :u"), {"u": username})


def count(session, model, *where) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model).where(*where))


def seen(session, table: str, subject_id: int) -> list[PersonalDataAccess]:
    session.expire_all()
    return list(session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.subject_table == table,
                                                                 PersonalDataAccess.subject_id == subject_id)))


def test_a_form_save_is_recorded_with_its_user_and_a_refused_one_is_not(login, session):
    browser = login("secretary")
    response = browser.post("/workermodelview/add", {**NEW_WORKER, "grid": grid_id(session, XIANGJIANG + "-01")})
    assert response.status_code == 302
    worker = session.scalar(select(Worker).where(Worker.name == "赵审计"))
    (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.record_table == "workers",
                                                        AuditEntry.record_id == worker.id))
    assert entry.actor_id == user_id(session, "secretary") and entry.action == "insert"
    assert entry.changes["phone"] == [None, "139****5678"]

    before = count(session, AuditEntry)
    for bad in ({"phone": "12345"}, {"id_number": "11010519491231002Y"}, {"grid": grid_id(session, JINSHAN + "-01")}):
        response = browser.post(f"/workermodelview/edit/{worker.id}", {**NEW_WORKER, "grid": grid_id(session, XIANGJIANG + "-01"),
                                                                        **bad})
        assert response.status_code == 200, bad  # the form again, with its message
    assert count(session, AuditEntry) == before

    response = browser.post(f"/workermodelview/edit/{worker.id}", {**NEW_WORKER, "name": "赵审计改",
                                                                    "grid": grid_id(session, XIANGJIANG + "-01")})
    assert response.status_code == 302
    page = browser.get(f"{AUDIT}?_flt_0_record_table=workers&_flt_0_record_id={worker.id}").get_data(as_text=True)
    assert record_count(page) == 2 and "赵审计改" not in page  # the list names the fields; the record shows values
    changed = session.scalar(select(AuditEntry.id).where(AuditEntry.record_id == worker.id, AuditEntry.action == "update",
                                                         AuditEntry.record_table == "workers"))
    shown = browser.get(f"/auditentrymodelview/show/{changed}").get_data(as_text=True)
    assert "赵审计" in shown and "赵审计改" in shown and "→" in shown


def test_a_read_only_page_tells_the_database_no_actor(app, login):
    _, statements = statements_of(app, login("secretary"), "/gridmodelview/list/")
    assert not [s for s in statements if "gridgov.actor_id" in s]


def test_the_administrator_reads_every_entry_and_a_secretary_her_communitys(login, session):
    total = count(session, AuditEntry)
    assert total > 0
    assert record_count(login("admin").get(AUDIT).get_data(as_text=True)) == total
    community = grid_id(session, XIANGJIANG)
    own = count(session, AuditEntry, AuditEntry.grid_ids.overlap(
        select(func.array_agg(text("id"))).select_from(text("grids"))
        .where(text("path <@ (SELECT path FROM grids WHERE id = :c)")).params(c=community).scalar_subquery()))
    secretary = login("secretary")
    assert 0 < record_count(secretary.get(AUDIT).get_data(as_text=True)) == own < total
    other = worker_in(session, JINSHAN)
    theirs = session.scalar(select(AuditEntry.id).where(AuditEntry.record_table == "workers",
                                                        AuditEntry.record_id == other.id))
    mine = session.scalar(select(AuditEntry.id).where(AuditEntry.record_table == "workers",
                                                      AuditEntry.record_id == worker_in(session, XIANGJIANG).id))
    assert secretary.get(f"/auditentrymodelview/show/{theirs}").status_code == 404
    assert secretary.get(f"/auditentrymodelview/show/{mine}").status_code == 200
    assert secretary.get(ACCESS).status_code == 403  # the access log is the administrator's


@pytest.mark.parametrize("username", ["worker", "volunteer", "department", "leader"])
def test_other_roles_cannot_reach_the_logs(login, username):
    browser = login(username)
    for url in (AUDIT, ACCESS):
        assert browser.get(url).status_code == 403, url


def test_each_page_showing_personal_data_in_clear_logs_who_saw_whom(login, session):
    secretary, viewer = login("secretary"), user_id(session, "secretary")
    worker = worker_in(session, XIANGJIANG)
    assert secretary.get(f"/workermodelview/show/{worker.id}").status_code == 200
    assert secretary.get(f"/workermodelview/edit/{worker.id}").status_code == 200
    rows = seen(session, "workers", worker.id)
    assert [(r.viewer_id, sorted(r.fields), r.place) for r in rows] == [
        (viewer, ["id_number", "phone"], f"/workermodelview/show/{worker.id}"),
        (viewer, ["id_number", "phone"], f"/workermodelview/edit/{worker.id}")]

    before = count(session, PersonalDataAccess)
    html = secretary.get("/workermodelview/list/?psize_WorkerModelView=20").get_data(as_text=True)
    shown = record_count(html)
    listed = list(session.scalars(select(PersonalDataAccess).where(PersonalDataAccess.place == "/workermodelview/list/")))
    assert count(session, PersonalDataAccess) - before == len(listed) == min(shown, 20)
    assert {tuple(r.fields) for r in listed} == {("phone",)}  # the list shows no ID numbers
    assert len({r.at for r in listed}) == 1  # one statement

    volunteer_page = secretary.get("/volunteermodelview/list/").get_data(as_text=True)
    assert FULL_MOBILE_RE.search(volunteer_page)
    assert count(session, PersonalDataAccess, PersonalDataAccess.subject_table == "volunteers") == \
        record_count(volunteer_page)


def test_a_role_that_sees_the_data_masked_logs_nothing(login, session):
    before = count(session, PersonalDataAccess)
    leader = login("leader")
    worker = worker_in(session, XIANGJIANG)
    for url in ("/workermodelview/list/", f"/workermodelview/show/{worker.id}", "/volunteermodelview/list/",
                "/gridmodelview/list/"):
        html = leader.get(url).get_data(as_text=True)
        assert not FULL_MOBILE_RE.search(html), url
    assert count(session, PersonalDataAccess) == before


def test_the_administrator_finds_everyone_who_saw_a_person(login, session):
    worker = worker_in(session, XIANGJIANG)
    login("secretary").get(f"/workermodelview/show/{worker.id}")
    login("street").get(f"/workermodelview/show/{worker.id}")
    admin = login("admin")
    page = admin.get(f"/workermodelview/show/{worker.id}").get_data(as_text=True)
    link = re.search(r'href="([^"]*personaldataaccessmodelview/list/[^"]*)"', page)
    assert link and re.search(r'href="[^"]*auditentrymodelview/list/[^"]*record_id=%d' % worker.id, page)
    log = admin.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert record_count(log) == 3  # the secretary, the street officer and the administrator
    for username in ("secretary", "street", "admin"):
        full = session.execute(text("SELECT last_name || first_name FROM ab_user WHERE username = :u"),
                               {"u": username}).scalar()
        assert full in log, username
    # the log names the person with the phone masked: reading it shows nothing in clear
    assert worker.name in log and not FULL_MOBILE_RE.search(log)
    assert not FULL_MOBILE_RE.search(admin.get(AUDIT).get_data(as_text=True))


def test_a_secretary_has_the_history_link_but_not_the_access_logs(login, session):
    worker = worker_in(session, XIANGJIANG)
    page = login("secretary").get(f"/workermodelview/show/{worker.id}").get_data(as_text=True)
    assert "auditentrymodelview/list/" in page and "personaldataaccessmodelview" not in page
    assert "修改记录" in page


def test_the_logs_speak_english_too(login):
    html = login("admin", lang="en").get(AUDIT).get_data(as_text=True)
    assert "Audit trail" in html and "Changed fields" in html
    html = login("admin").get(AUDIT).get_data(as_text=True)
    assert "审计日志" in html


def test_the_trail_filters_by_user_table_record_and_time(login, session):
    secretary = login("secretary")
    secretary.post("/workermodelview/add", {**NEW_WORKER, "grid": grid_id(session, XIANGJIANG + "-01")})
    admin = login("admin")
    # the user is typed, by login or by name, not picked from a drop-down of every login
    by_her = admin.get(f"{AUDIT}?_flt_0_actor=secretary").get_data(as_text=True)
    assert record_count(by_her) == 1 and "赵" not in by_her
    assert record_count(admin.get(f"{AUDIT}?_flt_0_actor=湘江书记").get_data(as_text=True)) == 1
    workers = count(session, AuditEntry, AuditEntry.table_name == "workers")
    assert record_count(admin.get(f"{AUDIT}?_flt_0_table_name=workers").get_data(as_text=True)) == workers
    assert record_count(admin.get(f"{AUDIT}?_flt_0_at=2000-01-01 00:00:00").get_data(as_text=True)) == \
        count(session, AuditEntry)
    assert record_count(admin.get(f"{AUDIT}?_flt_1_at=2000-01-01 00:00:00").get_data(as_text=True)) == 0
    # a time is typed as the list prints it, in Beijing time: her change is after the minute
    # before it (in Beijing), though that minute in UTC is eight hours later
    import datetime

    from app.services.local_time import TIMEZONE

    newest = session.scalar(select(func.max(AuditEntry.at)))
    minute_before = (newest.astimezone(TIMEZONE) - datetime.timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M")
    assert record_count(admin.get(f"{AUDIT}?_flt_0_at={minute_before}").get_data(as_text=True)) >= 1
    assert record_count(admin.get(f"{AUDIT}?_flt_1_at={minute_before}").get_data(as_text=True)) < \
        count(session, AuditEntry)
    refused = admin.get(f"{AUDIT}?_flt_0_at=garbage").get_data(as_text=True)
    assert record_count(refused) == 0 and "不符" in refused  # said, not ignored
    # a read-only list: no delete, no edit, no add
    page = admin.get(AUDIT).get_data(as_text=True)
    assert "fa-trash" not in page and admin.get("/auditentrymodelview/delete/1").status_code == 404


def test_an_incidents_reporter_phone_shown_in_clear_is_logged(login, session):
    from app.models import Incident

    incident = session.scalar(select(Incident).where(Incident.status != "closed").order_by(Incident.id))
    incident.reporter_name, incident.reporter_phone = "报事人", "13812345678"
    session.commit()
    login("leader").get(f"/incidentmodelview/show/{incident.id}")  # masked for a leader
    assert seen(session, "incidents", incident.id) == []
    admin = login("admin")
    page = admin.get(f"/incidentmodelview/show/{incident.id}").get_data(as_text=True)
    assert incident.reporter_phone in page and "personaldataaccessmodelview/list/" in page
    (row,) = seen(session, "incidents", incident.id)
    assert row.fields == ["reporter_phone"] and row.viewer_id == user_id(session, "admin")


def test_the_logs_offer_no_permission_to_change_them(app):
    with app.app_context():
        views = {view.__class__.__name__: view for view in app.appbuilder.baseviews}
        for name in ("AuditEntryModelView", "PersonalDataAccessModelView"):
            assert not {"can_add", "can_edit", "can_delete"} & set(views[name].base_permissions), name


def test_both_logs_export_and_the_access_log_names_its_people_masked(login, session):
    import io

    import openpyxl

    worker = worker_in(session, XIANGJIANG)
    login("secretary").get(f"/workermodelview/show/{worker.id}")
    admin = login("admin")
    exported = admin.get(ACCESS.replace("list/", "export/xlsx"))
    assert exported.status_code == 200
    rows = [[cell for cell in row] for row in openpyxl.load_workbook(io.BytesIO(exported.data)).worksheets[0]
            .iter_rows(values_only=True)]
    text_of_file = "\n".join(" ".join(str(cell) for cell in row if cell is not None) for row in rows)
    assert worker.name in text_of_file and not FULL_MOBILE_RE.search(text_of_file)
    trail = admin.get(AUDIT.replace("list/", "export/csv"))
    assert trail.status_code == 200 and trail.data.decode("utf-8-sig").count("\n") > 1
    assert not FULL_MOBILE_RE.search(trail.data.decode("utf-8-sig"))
    # the secretary exports her area's trail; the access log is the administrator's alone
    assert login("secretary").get(AUDIT.replace("list/", "export/csv")).status_code == 200
    assert login("secretary").get(ACCESS.replace("list/", "export/csv")).status_code in (302, 403, 404)


def test_an_import_is_audited_row_by_row_with_the_importer(login, session):
    import io

    from .test_imports import token_of, upload

    secretary = login("secretary")
    exported = secretary.get("/workermodelview/export/csv").data.decode("utf-8-sig").splitlines()
    header, first = exported[0], exported[1].split(",")
    first[0] = first[0] + "改"  # a changed name: the import updates that worker
    response = upload(secretary, (header + "\n" + ",".join(first) + "\n").encode("utf-8"), "workers.csv")
    token = token_of(response)
    assert token, response.get_data(as_text=True)[:2000]
    before = count(session, AuditEntry)
    assert secretary.post("/workermodelview/import/", {"step": "confirm", "token": token}).status_code == 302
    session.expire_all()
    entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert count(session, AuditEntry) == before + 1
    assert entry.table_name == "workers" and entry.action == "update" and entry.actor_id == user_id(session, "secretary")
    assert entry.changes["name"][1] == first[0]


def test_an_entry_shows_labels_and_names_not_codes_and_keys(login, session):
    secretary = login("secretary")
    secretary.post("/workermodelview/add", {**NEW_WORKER, "grid": grid_id(session, XIANGJIANG + "-01")})
    entry = session.scalars(select(AuditEntry).where(AuditEntry.table_name == "workers")
                            .order_by(AuditEntry.id.desc())).first()
    page = secretary.get(f"/auditentrymodelview/show/{entry.id}").get_data(as_text=True)
    grid_name = session.scalar(text("SELECT name FROM grids WHERE code = :c"), {"c": XIANGJIANG + "-01"})
    assert "网格员" in page and "grid_worker" not in page  # the role's label
    assert grid_name in page  # the grid by its name, not its key
    exported = secretary.get(AUDIT.replace("list/", "export/csv")).data.decode("utf-8-sig")
    assert "→" in exported and "网格员" in exported  # the file holds each change before → after


def test_the_access_log_says_what_page_showed_the_data(login, session):
    worker = worker_in(session, XIANGJIANG)
    login("secretary").get(f"/workermodelview/edit/{worker.id}")
    log = login("admin").get(f"{ACCESS}?_flt_0_subject_table=workers&_flt_0_subject_id={worker.id}")
    page = log.get_data(as_text=True)
    assert f"编辑表单 · 工作人员 · {worker.id}" in page and f"/workermodelview/edit/{worker.id}" not in page


def test_a_change_of_only_sensitive_tags_is_shown_only_to_who_sees_them(login, session):
    """The dispatch centre reads the trail but is not shown the sensitive tags: an entry holding
    only their change is neither listed, shown nor exported to it, and a change of both names only
    the care tags; a secretary (``can_sensitive``) reads both (migration 0032)."""
    from tests.services.test_residents import new_resident

    person = new_resident(session, "蒋武", 12, tags=["elderly_alone"])
    person.tags = ["elderly_alone", "drug_user"]
    session.commit()
    hidden = session.scalar(select(func.max(AuditEntry.id)))
    person.tags, person.workplace = ["disabled"], "淇滨区实验小学"
    session.commit()
    both = session.scalar(select(func.max(AuditEntry.id)))
    history = f"{AUDIT}?_flt_0_record_table=residents&_flt_0_record_id={person.id}"

    dispatcher = login("dispatcher")
    listed = dispatcher.get(history).get_data(as_text=True)
    assert record_count(listed) == 2  # its creation and the change of both, not the hidden one
    assert f"/auditentrymodelview/show/{hidden}" not in listed and "敏感标签" not in listed
    assert dispatcher.get(f"/auditentrymodelview/show/{hidden}").status_code == 404
    shown = dispatcher.get(f"/auditentrymodelview/show/{both}").get_data(as_text=True)
    assert "关爱与关注" in shown and "工作单位或学校" in shown and "敏感标签" not in shown
    exported = dispatcher.get(history.replace("list/", "export/csv")).data.decode("utf-8-sig")
    assert exported.strip().count("\n") == 2 and "敏感标签" not in exported

    secretary = login("secretary")
    listed = secretary.get(history).get_data(as_text=True)
    assert record_count(listed) == 3 and "敏感标签" in listed
    assert "敏感标签" in secretary.get(f"/auditentrymodelview/show/{hidden}").get_data(as_text=True)


def test_a_page_that_fails_after_its_looks_were_noted_writes_none(app, login, session, monkeypatch):
    """The record's looks are noted while the page is made; the page then fails (a 500, as a
    server without TESTING answers): nothing was shown, nothing is written."""
    from app.views.people import WorkerModelView

    secretary = login("secretary")
    worker = worker_in(session, XIANGJIANG)
    before = count(session, PersonalDataAccess)

    def broken(*args, **kwargs):
        raise RuntimeError("the template failed")

    monkeypatch.setattr(WorkerModelView, "render_template", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    assert secretary.get(f"/workermodelview/show/{worker.id}").status_code == 500
    assert count(session, PersonalDataAccess) == before
    monkeypatch.undo()
    assert secretary.get(f"/workermodelview/show/{worker.id}").status_code == 200
    assert count(session, PersonalDataAccess) == before + 1
