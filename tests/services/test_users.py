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


def test_names_are_written_as_their_language_writes_them():
    from app.models.users import person_name

    assert person_name("伟", "张") == "张伟"  # 名 伟, 姓 张
    assert person_name("书记", "湘江") == "湘江书记"
    assert person_name("Wei", "Zhang") == "Wei Zhang"
    assert person_name("Zoë", "Müller") == "Zoë Müller"
    assert person_name(" 伟 ", "张") == "张伟"
    assert person_name("", "Zhang") == "Zhang"


def test_an_actor_is_named_family_name_first(session):
    from sqlalchemy import select

    from app.models import GridgovUser
    from app.services.incidents import actor_from_user

    user = session.scalar(select(GridgovUser).where(GridgovUser.username == "secretary"))
    assert (user.last_name, user.first_name) == ("湘江", "书记")
    assert actor_from_user(session, user).name == "湘江书记" == user.get_full_name() == str(user)
