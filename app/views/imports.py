"""台账导入 — the import page of a list (grids, workers, departments, volunteers, service records,
houses, households, residents):
download the template, upload a filled one, read the preview, confirm or cancel.

``Importable`` is mixed into the list's ModelView: its pages sit under the list's URL and need the
view's own ``can_import`` permission (granted in the role editor like any other). The rules, the
preview and the writing are the service's (``services/imports.py``); the file waits for the
confirmation on the server (``pending_imports``), never in the browser."""
from __future__ import annotations

import io

from flask import flash, redirect, request, send_file, url_for
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _l

from .. import pending_imports
from ..extensions import appbuilder, db
from ..fab.filters import current_scope, current_user_id
from ..services import imports
from ..services.errors import DomainError
from ..services.spreadsheet_reader import MAX_BYTES, MAX_ROWS

SHOWN_ROWS = 20  # new and changed rows listed in the preview (the counts say how many in all)
SHOWN_BAD_ROWS = 500


class Importable:
    """The import pages of a ModelView's records: ``import_kind`` names them in the service."""

    import_kind: str = ""
    list_template = "gridgov/import_list.html"

    def list_extra(self) -> dict:
        extra = super().list_extra()
        if appbuilder.sm.has_access("can_import", self.class_permission_name):
            extra["import_url"] = url_for(f"{self.endpoint}.import_rows")
        return extra

    def _may_see_sensitive(self) -> bool:
        """Whether the uploader may see and set the sensitive tags (the residents' view says)."""
        return False

    def _import_page(self, *, result=None, token=None, error=None, notice=None, status=200):
        kind = imports.KINDS[self.import_kind]
        return self.render_template(
            "gridgov/import.html", title=_l("Import %(records)s", records=kind.title), kind=kind, result=result,
            token=token, error=error, notice=notice, shown=SHOWN_ROWS, shown_bad=SHOWN_BAD_ROWS,
            max_rows=f"{MAX_ROWS:,}", max_mb=MAX_BYTES // (1024 * 1024),
            list_url=url_for(f"{self.endpoint}.list"), page_url=url_for(f"{self.endpoint}.import_rows"),
            template_url=url_for(f"{self.endpoint}.import_template")), status

    @expose("/import/", methods=["GET", "POST"])
    @has_access
    @permission_name("import")
    def import_rows(self):
        if request.method == "GET":
            pending_imports.sweep()  # expired files go even when nobody uploads again
            return self._import_page()
        step = request.form.get("step")
        if step == "upload":
            return self._upload()
        pending = pending_imports.find(request.form.get("token"), current_user_id(), self.import_kind)
        if step == "cancel":
            if pending is not None:
                pending_imports.discard(pending.token)
            flash(str(_l("The import was cancelled: nothing was written.")), "info")
            return redirect(url_for(f"{self.endpoint}.import_rows"))
        if step != "confirm":
            return self._import_page(status=400)
        if pending is None or not pending_imports.claim(pending):  # another confirmation took it first
            return self._import_page(error=_l("This upload has expired or is not yours: upload the file again."),
                                     status=404)
        return self._confirm(pending)

    def _upload(self):
        upload = request.files.get("file")
        data = upload.read(MAX_BYTES + 1) if upload is not None else b""
        filename = (upload.filename or "") if upload is not None else ""
        try:
            result = imports.preview(db.session, current_scope(), self.import_kind, data, filename,
                                     may_see_sensitive=self._may_see_sensitive())
        except DomainError as error:  # the file as a whole is refused
            return self._import_page(error=error.message, status=400)
        finally:
            db.session.rollback()  # a preview writes nothing
        token = None
        if result.can_apply:
            token = pending_imports.keep(current_user_id(), self.import_kind, filename, data, result.digest)
        return self._import_page(result=result, token=token)

    def _confirm(self, pending):
        """Apply the file this request has claimed: it is deleted once applied or refused, given
        back for a new preview when the records changed meanwhile."""
        try:
            result = imports.apply(db.session, current_scope(), self.import_kind, pending.data, pending.filename,
                                   pending.digest, may_see_sensitive=self._may_see_sensitive())
        except DomainError as error:  # the database refused a row: the unit of work rolled all back
            pending_imports.discard(pending.token)
            return self._import_page(error=_l("Nothing was imported: %(reason)s", reason=error.message), status=400)
        if result.applied:
            pending_imports.discard(pending.token)
            counts = result.counts
            flash(str(_l("Imported: %(new)s new and %(changed)s changed records (%(unchanged)s unchanged).",
                         new=counts["new"], changed=counts["changed"], unchanged=counts["unchanged"])), "success")
            return redirect(url_for(f"{self.endpoint}.list"))
        db.session.rollback()
        if result.can_apply:
            pending_imports.confirmed_again(pending, result.digest)
            pending_imports.release(pending)
            token = pending.token
        else:
            pending_imports.discard(pending.token)
            token = None
        return self._import_page(result=result, token=token, notice=_l(
            "The records changed since the preview: nothing was written. Check the new preview."), status=409)

    @expose("/import/template")
    @has_access
    @permission_name("import")
    def import_template(self):
        kind = imports.KINDS[self.import_kind]
        name = str(_l("%(records)s import template", records=kind.title)) + ".xlsx"
        return send_file(io.BytesIO(imports.template(self.import_kind, may_see_sensitive=self._may_see_sensitive())), as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
