"""考核 over HTTP, per role: who ranks which area, who reads whose score, an out-of-scope subject
in the URL is a 404, bad months and years and a blank reason are said and change nothing, the
weights are the administrator's, and the grid workers' honour roll beside the volunteers'."""
from __future__ import annotations

import datetime

import pytest
from sqlalchemy import func, select

from app.models import (AssessmentAdjustment, AssessmentScore, AssessmentWeights, Department, Grid, GridgovUser,
                        Worker)
from app.services import assessment

from .helpers import JINSHAN, XIANGJIANG, grid_id, worker_in

LAST_MONTH = (assessment.current_month() - datetime.timedelta(days=1)).replace(day=1)
LAST = LAST_MONTH.strftime("%Y-%m")


def own_worker(session, username="worker") -> Worker:
    return session.scalar(select(Worker).join(GridgovUser, GridgovUser.worker_id == Worker.id)
                          .where(GridgovUser.username == username))


def denied(response) -> bool:
    return response.status_code in (302, 403, 404)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_the_district_ranks_every_kind_and_the_street_its_own(login, session):
    dispatcher = login("dispatcher")
    for kind in ("worker", "community", "street", "department"):
        response = dispatcher.get(f"/assessment/?kind={kind}")
        assert response.status_code == 200, kind
    html = text_of(dispatcher.get("/assessment/?kind=community"))
    assert "湘江社区" in html and "金山社区" in html and "未定" not in html
    assert "淇滨区城市管理局" in text_of(dispatcher.get("/assessment/?kind=department"))
    street = login("street")
    html = text_of(street.get("/assessment/?kind=community"))
    assert "湘江社区" in html and "金山社区" not in html
    assert street.get("/assessment/?kind=department").status_code == 404  # the district's, not a street's
    assert street.get(f"/assessment/?area={grid_id(session, JINSHAN)}").status_code == 404


def test_a_secretary_ranks_her_communitys_workers_only(login, session):
    secretary = login("secretary")
    html = text_of(secretary.get("/assessment/"))
    mine, other = worker_in(session, XIANGJIANG + "-01"), worker_in(session, JINSHAN + "-01")
    assert mine.name in html and other.name not in html
    assert secretary.get(f"/assessment/show/worker/{mine.id}").status_code == 200
    assert secretary.get(f"/assessment/show/worker/{other.id}").status_code == 404
    assert secretary.get(f"/assessment/show/community/{grid_id(session, JINSHAN)}").status_code == 404
    assert secretary.get("/assessment/?kind=street").status_code == 404


def test_a_worker_reads_their_own_score_only(login, session):
    worker = login("worker")
    me = own_worker(session)
    colleague = session.scalar(select(Worker).where(Worker.grid_id == me.grid_id, Worker.id != me.id))
    html = text_of(worker.get("/assessment/mine/"))
    assert me.name in text_of(worker.get(f"/assessment/show/worker/{me.id}"))
    assert "2026" in html
    assert worker.get(f"/assessment/show/worker/{colleague.id}").status_code == 404
    assert denied(worker.get("/assessment/"))
    assert denied(worker.get("/assessment/year/"))
    assert worker.get(f"/assessment/show/worker/{me.id}?month={LAST}").status_code == 200


def test_a_department_reads_its_own_score_and_a_volunteer_nothing(login, session):
    department = login("department")
    html = text_of(department.get("/assessment/"))
    assert "淇滨区城市管理局" in html and "淇滨区园林绿化中心" not in html
    other = session.scalar(select(Department.id).where(Department.name == "淇滨区园林绿化中心"))
    assert department.get(f"/assessment/show/department/{other}").status_code == 404
    assert department.get(f"/assessment/show/worker/{own_worker(session).id}").status_code == 404
    volunteer = login("volunteer")
    for url in ("/assessment/", "/assessment/mine/", "/assessment/year/",
                f"/assessment/show/worker/{own_worker(session).id}"):
        assert denied(volunteer.get(url)), url


def test_a_past_month_viewed_is_frozen_and_marked(login, session):
    leader = login("leader")
    html = text_of(leader.get(f"/assessment/?month={LAST}"))
    assert "冻结" in html
    assert session.scalar(select(func.count()).select_from(AssessmentScore)
                          .where(AssessmentScore.month == LAST_MONTH)) > 0
    assert "非最终" in text_of(leader.get("/assessment/"))


@pytest.mark.parametrize("url", ["/assessment/?month=2026-13", "/assessment/?month=abc",
                                 "/assessment/?month=2999-01", "/assessment/year/?year=abc",
                                 "/assessment/year/?year=1999"])
def test_bad_months_and_years_are_said(login, url):
    response = login("dispatcher").get(url)
    assert response.status_code == 200
    html = text_of(response)
    assert "YYYY-MM" in html or "2000" in html


@pytest.mark.parametrize("url", ["/assessment/?kind=xyz", "/assessment/show/worker/abc",
                                 "/assessment/show/planet/1", "/assessment/show/worker/99999999",
                                 "/assessment/?area=abc", "/assessment/?area=99999999"])
def test_unknown_subjects_and_areas_are_not_found(login, url):
    assert login("dispatcher").get(url).status_code == 404


def test_an_adjustment_needs_a_reason_and_the_right_scope(login, session):
    street = login("street")
    street.get(f"/assessment/?month={LAST}")  # the first view freezes the month
    mine = worker_in(session, XIANGJIANG + "-01")
    score = session.scalar(select(AssessmentScore).where(AssessmentScore.month == LAST_MONTH,
                                                         AssessmentScore.kind == "worker",
                                                         AssessmentScore.subject_id == mine.id))
    url = f"/assessment/adjust/{score.id}"
    page = f"/assessment/show/worker/{mine.id}?month={LAST}"
    for form in ({"delta": "3", "reason": "   "}, {"delta": "x", "reason": "理由"}, {"delta": "0", "reason": "理由"},
                 {"delta": "150", "reason": "理由"}):
        response = street.post(url, form, token_from=page, follow_redirects=True)
        assert response.status_code == 200
        assert "调整" in text_of(response)
    assert session.scalar(select(func.count()).select_from(AssessmentAdjustment)) == 0
    response = street.post(url, {"delta": "-2.5", "reason": "巡查日志补录不实"}, token_from=page, follow_redirects=True)
    html = text_of(response)
    assert "巡查日志补录不实" in html and "-2.50" in html
    assert session.scalar(select(AssessmentAdjustment.delta)) == -2.5
    # a secretary reads it, and may not adjust; another street's score is not found
    secretary = login("secretary")
    assert "巡查日志补录不实" in text_of(secretary.get(page))
    assert denied(secretary.post(url, {"delta": "1", "reason": "理由"}, token_from=page))
    other = worker_in(session, JINSHAN + "-01")
    other_score = session.scalar(select(AssessmentScore.id).where(AssessmentScore.month == LAST_MONTH,
                                                                  AssessmentScore.kind == "worker",
                                                                  AssessmentScore.subject_id == other.id))
    assert street.post(f"/assessment/adjust/{other_score}", {"delta": "1", "reason": "理由"},
                       token_from=page).status_code == 404
    assert session.scalar(select(func.count()).select_from(AssessmentAdjustment)) == 1


def test_the_year_summary_ranks_the_year(login):
    html = text_of(login("dispatcher").get("/assessment/year/?kind=community"))
    assert "年度汇总" in html and "湘江社区" in html


def test_the_weights_are_the_administrators(login, session):
    assert denied(login("dispatcher").get("/assessmentweightsmodelview/list/"))
    admin = login("admin")
    assert admin.get("/assessmentweightsmodelview/list/").status_code == 200
    default = session.scalar(select(AssessmentWeights).where(AssessmentWeights.district_id.is_(None)))
    page = f"/assessmentweightsmodelview/edit/{default.id}"
    form = {name: getattr(default, name) for name in ("patrol", "reported", "on_time", "satisfaction", "visits",
                                                       "training", "clock_in", "area_completion", "area_on_time",
                                                       "area_satisfaction", "report_in", "result", "rating",
                                                       "reports_target")}
    response = admin.post(page, {**form, "patrol": "101"}, token_from=page)
    assert response.status_code == 200
    session.expire_all()
    assert session.get(AssessmentWeights, default.id).patrol == 25
    response = admin.post(page, {**form, "area_completion": "0", "area_on_time": "0", "area_satisfaction": "0"},
                          token_from=page)
    assert response.status_code == 200 and "0" in text_of(response)
    session.expire_all()
    assert session.get(AssessmentWeights, default.id).area_completion == 40
    admin.post(page, {**form, "patrol": "30"}, token_from=page)
    session.expire_all()
    assert session.get(AssessmentWeights, default.id).patrol == 30


def test_the_honour_page_holds_the_grid_workers_roll(login, session):
    html = text_of(login("secretary").get("/points/honour/"))
    assert "网格员光荣榜" in html
    if assessment.current_month().month > 1:  # an ended month of the year was frozen: its workers ranked
        assert worker_in(session, XIANGJIANG + "-01").name in html or "平均" in html


def test_the_pages_speak_english(login):
    html = text_of(login("dispatcher", lang="en").get("/assessment/"))
    assert "Assessment" in html and "Score" in html and "考核" not in html.split("<body", 1)[1]


def test_the_freeze_command_freezes_an_ended_month_once(app, session):
    runner = app.test_cli_runner()
    from app.cli import assess_group

    result = runner.invoke(assess_group, ["freeze", "--month", LAST])
    assert result.exit_code == 0 and "frozen" in result.output, result.output
    stored = session.scalar(select(func.count()).select_from(AssessmentScore).where(AssessmentScore.month == LAST_MONTH))
    assert stored > 0
    again = runner.invoke(assess_group, ["freeze", "--month", LAST])
    assert again.exit_code == 0 and "already" in again.output
    assert session.scalar(select(func.count()).select_from(AssessmentScore)
                          .where(AssessmentScore.month == LAST_MONTH)) == stored
    refused = runner.invoke(assess_group, ["freeze", "--month", assessment.current_month().strftime("%Y-%m")])
    assert refused.exit_code != 0
    assert runner.invoke(assess_group, ["freeze", "--month", "2026-13"]).exit_code != 0


def test_a_long_list_says_how_many_it_leaves_out(login, monkeypatch):
    from app.views import assessment as assessment_views

    monkeypatch.setattr(assessment_views, "MOST_ROWS", 2)
    dispatcher = login("dispatcher")
    for url in ("/assessment/?kind=community", "/assessment/year/?kind=community"):
        html = text_of(dispatcher.get(url))
        assert "共 6 个，只列出前 2 个" in html, url


def test_the_home_page_leads_to_the_ranking_of_who_ranks(login):
    assert 'href="/assessment/"' in text_of(login("street").get("/"))
    assert 'href="/assessment/"' not in text_of(login("volunteer").get("/"))
