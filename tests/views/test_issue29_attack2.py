"""考核 attacked over HTTP (issue 29, second look): an adjustment past 0–100 is said in the
user's language and written nowhere; the freeze command does not score months before anything
was recorded, and says so."""
from __future__ import annotations

import datetime
import re

from sqlalchemy import func, select

from app.models import AssessmentAdjustment, AssessmentScore
from app.services import assessment

LAST_MONTH = (assessment.current_month() - datetime.timedelta(days=1)).replace(day=1)
LAST = LAST_MONTH.strftime("%Y-%m")


def _scored(session) -> AssessmentScore:
    assessment.freeze(session, LAST_MONTH)
    return session.scalar(select(AssessmentScore).where(AssessmentScore.month == LAST_MONTH,
                                                        AssessmentScore.kind == "worker",
                                                        AssessmentScore.score.is_not(None))
                          .order_by(AssessmentScore.score.desc()))


def test_an_adjustment_past_100_is_said_and_not_written(login, session):
    score = _scored(session)
    page = f"/assessment/show/worker/{score.subject_id}?month={LAST}"
    room = 100 - score.score
    for lang, said in (("zh", "调整后的得分须在 0 至 100 之间"), ("en", "The adjusted score stays between 0 and 100")):
        dispatcher = login("dispatcher", lang=lang)
        response = dispatcher.post(f"/assessment/adjust/{score.id}", {"delta": f"{room + 1:.2f}", "reason": "过多"},
                                   token_from=page, follow_redirects=True)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and said in html, html[-3000:]
        assert f"{score.score:.2f}" in re.sub(r"\s+", " ", html)
    assert session.scalar(select(func.count()).select_from(AssessmentAdjustment)) == 0
    dispatcher = login("dispatcher")
    if room:
        dispatcher.post(f"/assessment/adjust/{score.id}", {"delta": f"{room:.2f}", "reason": "满分"}, token_from=page)
        assert session.scalar(select(func.count()).select_from(AssessmentAdjustment)) == 1


def test_an_adjustment_without_the_forms_token_is_refused(login, session):
    score = _scored(session)
    dispatcher = login("dispatcher")
    response = dispatcher.client.post(f"/assessment/adjust/{score.id}", data={"delta": "1", "reason": "无令牌"})
    assert response.status_code == 400
    assert session.scalar(select(func.count()).select_from(AssessmentAdjustment)) == 0


def test_the_freeze_command_leaves_a_month_before_any_record_unscored(app, session):
    from app.cli import assess_group

    result = app.test_cli_runner().invoke(assess_group, ["freeze", "--month", "2021-03"])
    assert result.exit_code == 0 and "2021-03 is not assessed: nothing is recorded before" in result.output, \
        result.output
    assert session.scalar(select(func.count()).select_from(AssessmentScore)
                          .where(AssessmentScore.month == datetime.date(2021, 3, 1))) == 0


def test_the_street_is_not_offered_to_adjust_its_own_score(login, session):
    from app.models import GridgovUser

    assessment.freeze(session, LAST_MONTH)
    street = login("street")
    own = session.scalar(select(GridgovUser.grid_id).where(GridgovUser.username == "street"))
    html = street.get(f"/assessment/show/street/{own}?month={LAST}").get_data(as_text=True)
    assert "assessment-adjust" not in html
    score = session.scalar(select(AssessmentScore).where(AssessmentScore.kind == "street",
                                                         AssessmentScore.subject_id == own,
                                                         AssessmentScore.month == LAST_MONTH))
    response = street.post(f"/assessment/adjust/{score.id}", {"delta": "1", "reason": "自评"},
                           token_from=f"/assessment/show/street/{own}?month={LAST}", follow_redirects=True)
    assert response.status_code == 200
    assert session.scalar(select(func.count()).select_from(AssessmentAdjustment)) == 0


def test_a_paid_workers_rule_keeps_what_it_rewards_and_the_admin_is_told_why(login, session):
    from app.models import WorkerPointsRule
    from app.services import worker_points
    from tests.services.test_worker_points import FEB, MARCH_TENTH, days_of, demo_worker, patrol_days

    patrol_days(session, demo_worker(session), days_of(FEB))
    assert worker_points.award_month(session, FEB, today=MARCH_TENTH).patrol_awards == 1
    paid = session.scalar(select(WorkerPointsRule).where(WorkerPointsRule.name == "巡查达标奖励"))
    form = {"community": "", "name": paid.name, "award": "visit_due", "points": "50", "monthly_cap": "10",
            "min_share": "", "active": "", "description": ""}
    for lang, said in (("zh", "此规则已发放过积分"), ("en", "This rule has paid points")):
        admin = login("admin", lang=lang)
        response = admin.post(f"/workerpointsrulemodelview/edit/{paid.id}", form)
        assert response.status_code == 200 and said in response.get_data(as_text=True)
    session.expire_all()
    kept = session.get(WorkerPointsRule, paid.id)
    assert (kept.award, kept.min_share, kept.active) == ("patrol_month", 90, True)
    # its points and activity still change
    admin = login("admin")
    response = admin.post(f"/workerpointsrulemodelview/edit/{paid.id}",
                          {**form, "award": "patrol_month", "min_share": "90", "monthly_cap": "", "points": "60"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    session.expire_all()
    assert (session.get(WorkerPointsRule, paid.id).points, session.get(WorkerPointsRule, paid.id).active) == (60, False)


def test_the_honour_rolls_other_years_read_as_years_not_as_the_workers_rolls_title(login):
    """"网格员光荣榜 2026 2025" read as one title: the year before and after are arrows, as on the
    assessment pages."""
    this_year = assessment.current_month().year
    html = login("dispatcher").get(f"/points/honour/?year={this_year - 1}").get_data(as_text=True)
    assert f"&larr; {this_year - 2}</a>" in html and f"{this_year} &rarr;</a>" in html


def test_a_bad_year_on_the_honour_roll_is_said(login):
    """?year=99999 showed this year's roll without a word."""
    dispatcher = login("dispatcher")
    for year in ("99999", "1999", "abc"):
        response = dispatcher.get(f"/points/honour/?year={year}")
        assert response.status_code == 200 and "请填写 2000 年至今年之间的年份。" in response.get_data(as_text=True)
    assert "请填写 2000 年至今年之间的年份" not in dispatcher.get("/points/honour/").get_data(as_text=True)
