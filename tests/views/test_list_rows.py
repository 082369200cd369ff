"""The list pages' table rows and a record's rows, made in Python (``list_rows``, ``show_rows``)
instead of FAB's Jinja loops: the same cells and buttons, every value escaped, a closed list's
label made once per page; and the page frame made once per language."""
from __future__ import annotations

from markupsafe import Markup

from app.fab.rendering import blank_if_none, label_of, list_rows, show_rows

TEXTS = {"show_title": "Show record", "show_text": "Show", "edit_title": "Edit record", "edit_text": "Edit",
         "delete_title": "Delete record", "delete_text": "Delete", "delete_question": "Sure?"}
PK = "__pk__"


def _rows(values, formatters=None, links=(None, None, None), checkbox=False):
    return list_rows(values, [row["id"] for row in values], ["id", "title", "status"], formatters or {},
                     checkbox, links, TEXTS, "n0nce", PK)


def test_values_are_escaped_and_markup_is_kept():
    html = _rows([{"id": 1, "title": '<script>alert("x")</script>', "status": Markup("<b>ok</b>")}])
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<td><b>ok</b></td>" in html


def test_an_empty_value_is_blank_with_its_formatter_and_none_without():
    rows = [{"id": 1, "title": None, "status": None}]
    assert "<td></td><td></td>" in _rows(rows, {"title": blank_if_none, "status": blank_if_none})
    assert "<td>None</td>" in _rows(rows)  # what FAB's Jinja loop printed


def test_a_label_is_made_once_per_page_and_the_same_in_every_row():
    made = []
    labels = {"open": "待处理", "closed": "已办结"}
    label = label_of(labels)

    def counting(value):
        made.append(value)
        return label(value)

    counting.gridgov_pure = True
    rows = [{"id": n, "title": f"t{n}", "status": "open" if n % 2 else "closed"} for n in range(1, 7)]
    html = _rows(rows, {"status": counting})
    assert sorted(made) == ["closed", "open"]
    assert html.count("<td>待处理</td>") == 3 and html.count("<td>已办结</td>") == 3


def test_buttons_and_checkboxes_carry_each_rows_key():
    links = (f"/v/show/{PK}?_flt_0_x=a&b", f"/v/edit/{PK}", f"/v/delete/{PK}")
    html = _rows([{"id": 7, "title": "a", "status": "b"}, {"id": 8, "title": "c", "status": "d"}],
                 links=links, checkbox=True)
    assert 'href="/v/show/7?_flt_0_x=a&amp;b"' in html and 'href="/v/edit/8"' in html
    assert 'id="btn-delete-/v/delete/8"' in html and "execute_single_delete('/v/delete/7', 'Sure?')" in html
    assert 'value="7" type="checkbox"' in html and '<script nonce="n0nce">' in html
    assert PK not in html
    plain = _rows([{"id": 7, "title": "a", "status": "b"}])
    assert "<a " not in plain and "checkbox" not in plain


def test_a_hostile_title_is_escaped_on_the_incident_list(login, session):
    from sqlalchemy import select

    from app.models import Incident

    incident = session.scalar(select(Incident).order_by(Incident.id.desc()))
    incident.title = "<img src=x onerror=alert(1)>漏水"
    session.commit()
    page = login("admin").get("/incidentmodelview/list/").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;漏水" in page and "<img src=x" not in page


def test_a_records_rows_are_escaped_formatted_and_in_the_fields_order():
    html = show_rows(["status", "title"], ["id", "title", "status"], [7, "<b>漏水</b>", "open"],
                     {"title": "标题", "status": "<状态>"}, {"status": label_of({"open": Markup("<i>待处理</i>")})})
    assert html == ('<tr><th class="col-lg-2 col-md-2 col-sm-2">&lt;状态&gt;</th><td><span style="white-space:'
                    ' pre-line"><i>待处理</i></span></td></tr><tr><th class="col-lg-2 col-md-2 col-sm-2">标题</th>'
                    '<td><span style="white-space: pre-line">&lt;b&gt;漏水&lt;/b&gt;</span></td></tr>')


def test_an_incidents_page_shows_its_fields_with_labels_and_escaped_values(login, session):
    from sqlalchemy import select

    from app.models import Incident

    incident = session.scalar(select(Incident).order_by(Incident.id.desc()))
    incident.title = "<img src=x onerror=alert(1)>漏水"
    session.commit()
    page = login("admin").get(f"/incidentmodelview/show/{incident.id}").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;漏水" in page and "<img src=x" not in page
    assert '<th class="col-lg-2 col-md-2 col-sm-2">标题</th>' in page


def test_the_page_frame_made_once_follows_the_language(login):
    """The stylesheets and scripts of every page are kept per language: Select2's texts in the
    user's language, whichever language asked first."""
    import json

    zh_text, en_text = json.dumps("未找到结果"), json.dumps("No results found")  # as tojson writes them
    chinese, english = login("secretary"), login("secretary", lang="en")
    for _ in range(2):
        zh_page = chinese.get("/gridmodelview/list/").get_data(as_text=True)
        en_page = english.get("/gridmodelview/list/").get_data(as_text=True)
        assert zh_text in zh_page and en_text not in zh_page
        assert en_text in en_page and zh_text not in en_page
        assert "/css/bootstrap.min.css" in zh_page and "/gridgov/pick.js" in en_page  # under their hashes
        # the confirm dialog and the back link, kept per language too
        assert "请确认" in zh_page and "User confirmation needed" not in zh_page
        assert "User confirmation needed" in en_page and "请确认" not in en_page
        assert 'title="返回"' in zh_page and 'title="Back"' in en_page


def test_a_record_page_has_each_dialog_once_and_a_back_link(login, session):
    """The confirm and alert dialogs come with every page's frame; a record's page no longer
    draws them a second time (their ids were on it twice)."""
    from sqlalchemy import select

    from app.models import Grid, Incident

    browser = login("admin")
    for url in (f"/incidentmodelview/show/{session.scalar(select(Incident.id))}",
                f"/gridmodelview/show/{session.scalar(select(Grid.id))}", "/incidentmodelview/list/"):
        page = browser.get(url).get_data(as_text=True)
        assert page.count('id="modal-confirm"') == 1 and page.count('id="modal-alert"') == 1, url
        assert page.count('href="/back"') == 1, url


def test_an_incidents_timeline_and_fields_are_labelled_in_each_users_language(login, session):
    """Labels are translated once per language and kept (``texts``): a Chinese page after an
    English one, and the other way round, each in its own language."""
    from sqlalchemy import select

    from app.models import Incident

    incident_id = session.scalar(select(Incident.id).order_by(Incident.id))
    url = f"/incidentmodelview/show/{incident_id}"
    english, chinese = login("admin", lang="en"), login("admin")
    for _ in range(2):
        en_page, zh_page = english.get(url).get_data(as_text=True), chinese.get(url).get_data(as_text=True)
        assert "<strong>Reported</strong>" in en_page and "已上报" not in en_page
        assert "<strong>已上报</strong>" in zh_page and "<strong>Reported</strong>" not in zh_page
        assert '<th class="col-lg-2 col-md-2 col-sm-2">Title</th>' in en_page
        assert '<th class="col-lg-2 col-md-2 col-sm-2">标题</th>' in zh_page


def test_a_timeline_is_escaped_labelled_and_in_the_events_order(app):
    import datetime
    from types import SimpleNamespace

    from app.views.incidents import timeline_html

    at = datetime.datetime(2026, 3, 1, 1, 30, tzinfo=datetime.timezone.utc)
    events = [
        SimpleNamespace(action="report", created_at=at, actor_name="<b>张三</b>", actor_role="volunteer",
                        from_status=None, to_status="reported", to_level="community", handler=None, note=None),
        SimpleNamespace(action="overdue", created_at=at, actor_name="系统", actor_role="system",
                        from_status="reported", to_status="accepted", to_level="street", handler="李四",
                        note="<script>x</script>"),
    ]
    with app.test_request_context("/?_l_=zh"):
        html = str(timeline_html(events))
    first, second = html.split("</li>")[:2]
    assert "<strong>已上报</strong> · 2026-03-01 09:30 · &lt;b&gt;张三&lt;/b&gt;" in first
    assert "→" not in first and "gridgov-note" not in first
    assert '<small class="text-muted">系统</small>' in second and "李四" in second
    assert '<div class="gridgov-note">&lt;script&gt;x&lt;/script&gt;</div>' in second and "<script>" not in html
    with app.test_request_context("/?_l_=en"):
        html = str(timeline_html(events))
    assert '<small class="text-muted">System</small>' in html and "Reported" in html and " → " in html


def test_kept_texts_are_those_of_the_request_language(app):
    from flask_babel import lazy_gettext

    from app.fab.rendering import translated

    labels = {"report": lazy_gettext("Reported"), "plain": "<b>"}
    for language, expected in (("en", "Reported"), ("zh", "已上报"), ("en", "Reported")):
        with app.test_request_context(f"/?_l_={language}"):
            kept = translated(labels)
            assert kept["report"] == expected and kept["plain"] == "<b>"
