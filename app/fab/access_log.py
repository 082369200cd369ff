"""个人信息查看记录 from the model views: each list, related list, record page and edit form that
shows people's phone, ID number or address in clear (``masked_columns``, for a user who manages
the rows) writes one row per person shown, in one statement. A user who sees the columns masked
writes nothing. ``record_links`` puts "History" and, for administrators, "Who saw this person's
data" on a record's page.

A page's looks are written once the page is made and is being sent (``write_shown``, after the
request): in the request's own transaction, which had only read, committed without waiting for
the disk — no second connection, and no rollback of the reads at the end of the request. A page
that fails writes nothing (nothing was shown). An export, whose rows are sent while they are
read, writes each chunk's looks at once in a session of its own."""
from __future__ import annotations

from flask import current_app, g, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from ..extensions import db
from ..services import audit
from .filters import current_user_id


class PersonalDataLog:
    """Mixed into ``ScopedModelView`` (before FAB's list, record and edit-form code), whose
    ``masked_columns`` and ``manages_rows`` say what is shown in clear to whom."""

    def shown_in_clear(self, columns) -> list[str]:
        """The masked columns among ``columns`` that this user is shown in clear."""
        if not self.masked_columns:
            return []
        return [column for column in columns if column in self.masked_columns and self.sees_in_clear(column)]

    def _look(self, ids, columns, place: str) -> audit.Look | None:
        """The look of the rows ``ids`` shown with ``columns``: None when none of them is a masked
        column this user sees in clear."""
        fields = self.shown_in_clear(columns or ())
        ids = list(ids or ())
        if not fields or not ids:
            return None
        return audit.Look(current_user_id(), self.datamodel.obj.__tablename__, ids, fields, place)

    def log_personal_data(self, ids, columns, place: str) -> None:
        """Record that the rows ``ids`` were shown with ``columns``, at once, in a session of its own."""
        look = self._look(ids, columns, place)
        if look is not None:
            write_at_once(look)

    def note_personal_data(self, ids, columns, place: str) -> None:
        """``log_personal_data`` for a page: written when the page is sent (``note_look``)."""
        look = self._look(ids, columns, place)
        if look is not None:
            note_look(look)

    def _get_list_widget(self, filters, *args, **kwargs):
        widgets = super()._get_list_widget(filters, *args, **kwargs)
        self.note_personal_data(widgets["list"].template_args.get("pks"), self.list_columns, request.path)
        return widgets

    def _get_show_widget(self, pk, item, *args, **kwargs):
        self.note_personal_data([pk], self.show_columns, request.path)
        return super()._get_show_widget(pk, item, *args, **kwargs)

    def prefill_form(self, form, pk):
        """The edit form as it is first drawn, with the stored values."""
        self.note_personal_data([pk], self.edit_columns, request.path)
        return super().prefill_form(form, pk)


def write_at_once(look: audit.Look) -> None:
    with Session(db.engine) as session:
        audit.log_looks(session, [look])


def note_look(look: audit.Look) -> None:
    """A look a page shows, written by ``write_shown`` when the page is sent; at once after
    anything but a GET, whose transaction may hold a change the log must not be mixed in with."""
    if request.method != "GET":
        write_at_once(look)
    else:
        g.setdefault("gridgov_shown", []).append(look)


def write_shown(response):
    """After a GET whose page showed personal data in clear: its looks, in the request's
    transaction (only reads so far), committed. Nothing for a page that failed."""
    looks = g.pop("gridgov_shown", None)
    if looks and response.status_code < 400:
        audit.log_looks(db.session, looks)
    return response


def _views_by_name() -> dict:
    return {view.__class__.__name__: view for view in current_app.appbuilder.baseviews}


def record_links(view_name: str, pk) -> Markup:
    """The record page's links to its history and, for administrators, to who saw the person."""
    view = _views_by_name().get(view_name)
    datamodel = getattr(view, "datamodel", None)
    if datamodel is None or pk is None:
        return Markup("")
    table = datamodel.obj.__tablename__
    sm = current_app.appbuilder.sm
    links = []
    if table in audit.RECORD_TABLES and sm.has_access("can_list", "AuditEntryModelView"):
        links.append((url_for("AuditEntryModelView.list", _flt_0_record_table=table, _flt_0_record_id=pk),
                      "fa-history", _("History")))
    if table in audit.SUBJECTS and sm.has_access("can_list", "PersonalDataAccessModelView"):
        links.append((url_for("PersonalDataAccessModelView.list", _flt_0_subject_table=table, _flt_0_subject_id=pk),
                      "fa-eye", _("Who saw this person's data")))
    return Markup(" ").join(
        Markup('<a class="btn btn-sm btn-default" href="{}"><i class="fa {}"></i> {}</a>').format(url, icon, label)
        for url, icon, label in links)
