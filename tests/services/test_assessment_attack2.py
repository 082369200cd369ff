"""考核 attacked (issue 29, second look): the adjustments of a score keep it within 0–100 (each
delta alone was bounded, their sum was not: a third +99 was recorded and a later −100 changed
nothing shown), also when two are recorded at once and whatever path writes them; a frozen score
is read and adjusted by who sees the area it was scored in, not the area its worker moved to."""
from __future__ import annotations

import datetime
import threading
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.models import AssessmentAdjustment, AssessmentScore, Grid
from app.services import assessment
from app.services.errors import DomainError, OutOfScope, ValidationError
from app.services.scope import grid_scope

from .test_assessment import JUNE, area, june  # noqa: F401 - the fixtures


def _score(session, june):  # noqa: F811
    assessment.freeze(session, JUNE)
    return session.scalar(select(AssessmentScore).where(AssessmentScore.kind == "worker",
                                                        AssessmentScore.subject_id == june["worker"].id))


def _adjustments(session, score):
    return session.scalar(select(func.coalesce(func.sum(AssessmentAdjustment.delta), 0))
                          .where(AssessmentAdjustment.score_id == score.id))


def test_the_adjustments_of_a_score_keep_it_within_0_to_100(session, june):  # noqa: F811
    score = _score(session, june)
    assert score.score == Decimal("47.46")
    street = assessment.Viewer(grid_scope(session, june["street"].id), ranks=True)
    assessment.adjust(session, street, None, "街道干部", score.id, "50", "防汛突击")
    with pytest.raises(ValidationError) as refused:
        assessment.adjust(session, street, None, "街道干部", score.id, "5", "再加")
    assert "97.46" in str(refused.value) and "2.54" in str(refused.value)
    assert _adjustments(session, score) == Decimal(50)
    assessment.adjust(session, street, None, "街道干部", score.id, "-97.46", "核减")
    with pytest.raises(ValidationError):
        assessment.adjust(session, street, None, "街道干部", score.id, "-0.01", "再减")
    detail = assessment.detail(session, street, "worker", june["worker"].id, JUNE)
    assert detail.row.adjusted == Decimal(0) and len(detail.adjustments) == 2


def test_the_database_keeps_an_adjusted_score_within_0_to_100(session, june):  # noqa: F811
    score = _score(session, june)
    insert = text("INSERT INTO assessment_adjustments (score_id, delta, reason, actor_name) "
                  "VALUES (:id, :delta, '直接写入', '测试')")
    session.execute(insert, {"id": score.id, "delta": 52.54})
    session.commit()
    with pytest.raises(DBAPIError) as refused:
        session.execute(insert, {"id": score.id, "delta": 0.01})
    assert refused.value.orig.diag.constraint_name == "assessment_adjustments_score_in_range"
    session.rollback()
    session.execute(insert, {"id": score.id, "delta": -100})  # to 0: in range
    session.commit()
    with pytest.raises(DBAPIError):
        session.execute(insert, {"id": score.id, "delta": -0.01})
    session.rollback()
    assert _adjustments(session, score) == Decimal("-47.46")


def test_two_adjustments_at_once_keep_the_bound(session, june, pg_server):  # noqa: F811
    from tests.conftest import TEST_DB, normalise_url

    score = _score(session, june)
    score_id, street_id = score.id, june["street"].id
    engine = create_engine(normalise_url(pg_server.get_uri(TEST_DB)))
    barrier = threading.Barrier(2)
    done, refused, errors = [], [], []

    def adjust():
        with Session(engine) as own:
            viewer = assessment.Viewer(grid_scope(own, street_id), ranks=True)
            barrier.wait()
            try:
                done.append(assessment.adjust(own, viewer, None, "街道干部", score_id, "40", "表彰"))
            except DomainError as error:
                refused.append(str(error))
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(repr(error))

    threads = [threading.Thread(target=adjust) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    engine.dispose()
    assert errors == [] and len(done) == 1 and len(refused) == 1
    session.expire_all()
    assert _adjustments(session, score) == Decimal(40)


def test_a_moved_workers_frozen_score_stays_with_the_area_it_was_scored_in(session, june):  # noqa: F811
    score = _score(session, june)
    other_street = session.scalar(select(Grid).where(Grid.code == "410611002"))
    new_grid = session.scalar(select(Grid).where(Grid.path.descendant_of(other_street.path),
                                                 Grid.level == "community"))
    june["worker"].grid_id = new_grid.id
    session.commit()
    worker_id = june["worker"].id
    newcomer = assessment.Viewer(grid_scope(session, other_street.id), ranks=True)
    with pytest.raises(OutOfScope):  # June was scored in 九州路街道: not the new street's to read
        assessment.detail(session, newcomer, "worker", worker_id, JUNE)
    with pytest.raises(OutOfScope):  # nor to adjust
        assessment.adjust(session, newcomer, None, "别的街道", score.id, "10", "想加分")
    assert _adjustments(session, score) == 0
    # the street it was scored in reads and adjusts it, as its June ranking lists it
    before = assessment.Viewer(grid_scope(session, june["street"].id), ranks=True)
    assert worker_id in [row.subject_id for row in assessment.ranking(session, before, "worker", JUNE).rows]
    assert assessment.detail(session, before, "worker", worker_id, JUNE).row.score == Decimal("47.46")
    assessment.adjust(session, before, None, "街道干部", score.id, "1", "六月表现")
    # the worker reads their own, wherever they are now
    own = assessment.Viewer(grid_scope(session, new_grid.id), worker_id=worker_id)
    assert assessment.detail(session, own, "worker", worker_id, JUNE).row.adjusted == Decimal("48.46")


MARCH_2021 = datetime.date(2021, 3, 1)


def test_a_month_before_anything_was_recorded_is_not_frozen(session, area):  # noqa: F811
    """Reading 2021's year (or its ranking, or its honour roll) froze every worker at 0 and every
    community without a score, for ever (append-only), for months gridgov was not yet in use."""
    first = assessment.first_month(session)
    assert first is not None and first > MARCH_2021  # the demo's records begin later
    assert assessment.freeze(session, MARCH_2021) == 0
    street = assessment.Viewer(grid_scope(session, area["street"].id), ranks=True)
    assert assessment.year_summary(session, street, "worker", 2021)["rows"] == []
    assert assessment.ranking(session, street, "community", MARCH_2021).rows == []
    assert assessment.worker_honour_roll(session, street.scope, 2021)["communities"] == {}
    assert session.scalar(select(func.count()).select_from(AssessmentScore)
                          .where(AssessmentScore.month < first)) == 0
    # from the first month on, a month is frozen as before
    assert assessment.freeze(session, first) > 0 or first >= assessment.current_month()


def test_an_area_does_not_adjust_its_own_score(session, june):  # noqa: F811
    """The street adjusted its own street's score (and would rank itself higher): an area's own
    score is corrected by the level above it."""
    assessment.freeze(session, JUNE)
    own = session.scalar(select(AssessmentScore).where(AssessmentScore.kind == "street",
                                                       AssessmentScore.subject_id == june["street"].id,
                                                       AssessmentScore.month == JUNE))
    assert own.score is not None
    street = assessment.Viewer(grid_scope(session, june["street"].id), ranks=True)
    assert not assessment.may_adjust(street, "street", june["street"].id)
    with pytest.raises(ValidationError) as refused:
        assessment.adjust(session, street, None, "街道干部", own.id, "5", "自评加分")
    assert "level above" in str(refused.value)
    assert _adjustments(session, own) == 0
    # its communities' and workers' scores it corrects; the district corrects the street's
    community = session.scalar(select(AssessmentScore).where(AssessmentScore.kind == "community",
                                                             AssessmentScore.subject_id == june["community"].id))
    assert assessment.may_adjust(street, "community", june["community"].id)
    assessment.adjust(session, street, None, "街道干部", community.id, "1", "社区表现")
    district = session.scalar(select(Grid).where(Grid.level == "district", Grid.path.ancestor_of(june["street"].path)))
    assessment.adjust(session, assessment.Viewer(grid_scope(session, district.id), ranks=True), None, "区调度",
                      own.id, "5", "防汛表彰")
    assert _adjustments(session, own) == 5
