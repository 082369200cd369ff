"""Form fields FAB does not make as gridgov needs them: a closed list's drop-down, a number
checked against its column, a checkbox that may be left unticked, and a labelled empty choice."""
from __future__ import annotations

from decimal import Decimal

from flask_appbuilder.fields import QuerySelectField
from flask_appbuilder.fieldwidgets import Select2Widget
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, SelectField
from wtforms.fields.core import UnboundField
from wtforms.validators import InputRequired, Optional


def choice_field(label, labels: dict, required: bool = True, description="") -> SelectField:
    """A closed list's drop-down. A required one starts on an empty "please choose", not on its
    first choice: a form saved without a look must not pick a level or a role by itself."""
    choices = [(key, text) for key, text in labels.items()]
    if required:
        choices = [("", _l("Please choose")), *choices]
    return SelectField(
        label,
        choices=choices,
        validators=[InputRequired(message=_l("Choose one of the list."))] if required else [Optional()],
        widget=Select2Widget(),
        description=description,
    )


class NumberField(DecimalField):
    """A number typed into a form for a column of ``precision`` digits, ``scale`` of them after
    the point, refused with a message unless the column holds it as typed: Python reads "NaN"
    and "Infinity" as numbers (a comparison with NaN raises: a 500), PostgreSQL would round
    0.05 to 0.1 in a column of one place, and refuses more digits before the point."""

    def __init__(self, label=None, validators=None, precision=None, scale=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.precision, self.scale = precision, scale

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        value = self.data
        if value is None:
            return
        if not value.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))
        if self.precision is not None and value and value.adjusted() >= self.precision - (self.scale or 0):
            self.data = None
            raise ValueError(_("Too large a number: at most %(digits)s digits before the decimal point.",
                               digits=self.precision - (self.scale or 0)))
        if self.scale is not None and value != value.quantize(Decimal(1).scaleb(-self.scale)):
            self.data = None
            raise ValueError(_("Too many decimal places: at most %(places)s.", places=self.scale))


def number_fields(form, datamodel) -> None:
    """Make each DecimalField FAB made for a Numeric column of ``form`` a ``NumberField``."""
    for name in dir(form):
        unbound = getattr(form, name, None)
        if not isinstance(unbound, UnboundField) or unbound.field_class is not DecimalField:
            continue
        column_type = getattr(datamodel.list_columns.get(name), "type", None)
        number = UnboundField(NumberField, *unbound.args, precision=getattr(column_type, "precision", None),
                              scale=getattr(column_type, "scale", None), **unbound.kwargs)
        number.creation_counter = unbound.creation_counter  # the form keeps its order
        setattr(form, name, number)


def flag_field(label, description="") -> BooleanField:
    """A checkbox: FAB would make a NOT NULL boolean 'required', so unticked could not be saved."""
    return BooleanField(label, description=description, default=False)


def label_empty_choices(form) -> None:
    """FAB leaves the empty choice of an optional relation unlabelled (Select2 shows "__None"), and
    gives a required one no empty choice, so its first row (a category, a community) is chosen
    unless someone changes it: it starts on "please choose", and its DataRequired refuses that."""
    for name in dir(form):
        unbound = getattr(form, name, None)
        if not isinstance(unbound, UnboundField):
            continue
        if unbound.kwargs.get("allow_blank"):
            unbound.kwargs["blank_text"] = _l("(none)")
        elif unbound.field_class is QuerySelectField and type(unbound.kwargs.get("widget")) is Select2Widget:
            unbound.kwargs["allow_blank"] = True
            unbound.kwargs["blank_text"] = _l("Please choose")
