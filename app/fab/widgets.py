"""FAB's search widget with each search field's HTML kept: a list page renders every search
field (hidden until chosen) on every request."""
from __future__ import annotations

from flask import request
from flask_appbuilder.widgets import RenderTemplateWidget
from flask_appbuilder.widgets import SearchWidget as FabSearchWidget
from flask_babel import get_locale

from ..extensions import cache
from ..models import Department, IncidentCategory, PointsRule
from .filters import current_scope

# A field of fixed choices or of text: the same for every user of a view in one language.
_FIXED_FIELDS = cache.region("search fields", 2000)
# A drop-down of rows that ``reference_version`` follows (migration 0012), per scope: kept
# until those rows or grid paths change.
_ROW_FIELDS = cache.region("search drop-downs", 5000, follows=("auth", "reference"))
KEPT_CHOICES = (IncidentCategory, Department, PointsRule)


class SearchWidget(FabSearchWidget):
    """FAB's search widget, each field's HTML made once per view and language; a drop-down of
    categories, departments or points rules once per scope until they change; a drop-down of
    other rows afresh."""

    def __call__(self, **kwargs):
        form = self.template_args["form"]
        route, locale = self.template_args.get("route_base"), str(get_locale())
        dict_filters = self.filters.get_search_filters()
        label_columns, form_fields, search_filters = {}, {}, {}
        for col in self.template_args["include_cols"]:
            field = form[col]
            label_columns[col] = str(field.label.text)
            if request.method != "GET":
                form_fields[col] = field()
            elif not field.type.startswith("QuerySelect"):
                # a field whose choices depend on a permission says which variant it is
                variant = getattr(field, "cache_variant", None)
                form_fields[col] = _FIXED_FIELDS.get((route, col, locale, variant), field)
            elif self.filters.datamodel.get_related_model(col) in KEPT_CHOICES:
                form_fields[col] = cache.get(_ROW_FIELDS, (route, col, locale, current_scope()), field)
            else:
                form_fields[col] = field()
            search_filters[col] = [str(flt.name) for flt in dict_filters[col]]
        kwargs.update(label_columns=label_columns, form_fields=form_fields, search_filters=search_filters,
                      active_filters=self.filters.get_filters_values_tojson())
        return RenderTemplateWidget.__call__(self, **kwargs)
