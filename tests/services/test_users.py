import pytest

from app.services.errors import ValidationError
from app.services.users import generate_password, check_user_scope
from flask_appbuilder.validators import password_complexity_regex


class G:
    def __init__(self, level):
        self.level = level


def test_roles_need_their_scope():
    check_user_scope({"Community secretary"}, grid=G("community"))
    check_user_scope({"Admin"})
    check_user_scope({"Department officer"}, department=object())
    with pytest.raises(ValidationError):
        check_user_scope({"Community secretary"}, grid=G("street"))
    with pytest.raises(ValidationError):
        check_user_scope({"Community secretary"})
    with pytest.raises(ValidationError):
        check_user_scope({"Volunteer"}, grid=G("community"))
    with pytest.raises(ValidationError):
        check_user_scope({"Leader"}, grid=G("district"), department=object())
    with pytest.raises(ValidationError):
        check_user_scope(set())


def test_generated_passwords_pass_fab_complexity():
    for _ in range(50):
        assert password_complexity_regex.search(generate_password())
