"""Strings Flask-AppBuilder shows but its own zh catalog does not translate (FAB 5.3.0).

Listing them here puts them in our catalog (pybabel extract), which Flask-Babel merges over
FAB's, so no English string is left on a Chinese page. Nothing imports this module."""
from flask_babel import lazy_gettext as _l

FAB_STRINGS = [
    _l("Database Error"),
    _l("Not a valid choice"),
    _l(
        "Must have at least two capital letters, one special character, two digits, three lower"
        " case letters and a minimal length of 10."
    ),
    _l("Contains (insensitive)"),
    _l("Start with"),
    _l("In"),
    _l("Not In"),
    _l("Either select a role or a group"),
    _l("List Groups"),
    _l("Edit User Information"),
    _l("User information changed"),
    _l("Groups"),
    _l("The user's password for authentication"),
    _l("It's not a good policy to remove a user, just make it inactive"),
    _l("User(s) exists in the role, cannot delete"),
    _l("Show Group"),
    _l("Add Group"),
    _l("Edit Group"),
    _l("User(s) exists in the group, cannot delete"),
    _l("Add"),
    _l("Edit"),
    _l("Show"),
    _l("Are you sure you want to delete this item?"),
    _l("Sign In with "),
    _l("OpenID"),
    _l("Enter your OpenID Username"),
    _l("Cancel"),
    _l("OK"),
]
