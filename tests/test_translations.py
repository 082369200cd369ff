"""No untranslated string ships: the zh catalog is complete, compiled, covers every string of
ours, and the pages really come out in Chinese by default and in English on request."""
from __future__ import annotations

import io
import os
import re

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PO = os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.po")
MO = os.path.join(ROOT, "translations", "zh", "LC_MESSAGES", "messages.mo")
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None}


def catalog():
    with open(PO, "rb") as fh:
        return read_po(fh)


def test_zh_catalog_has_no_untranslated_or_fuzzy_entry():
    bad = [m.id for m in catalog() if m.id and (m.fuzzy or not m.string or (isinstance(m.string, tuple) and not all(m.string)))]
    assert bad == []


def test_compiled_catalog_is_up_to_date():
    buffer = io.BytesIO()
    write_mo(buffer, catalog())
    buffer.seek(0)
    def entries(messages):  # a plural entry's id and strings come as lists
        return {tuple(m.id) if isinstance(m.id, list) else m.id: tuple(m.string) if isinstance(m.string, list) else m.string
                for m in messages if m.id}

    fresh = entries(read_mo(buffer))
    with open(MO, "rb") as fh:
        shipped = entries(read_mo(fh))
    assert shipped == fresh, "run: pybabel compile -d translations"


def test_every_string_of_ours_is_in_the_catalog():
    known = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog() if m.id}
    method_map = [("app/**.py", "python"), ("seed/**.py", "python"), ("app/templates/**.html", "jinja2")]
    missing, seen = set(), 0
    for folder in ("app", "seed"):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            os.path.join(ROOT, folder), method_map=[(p.split("/", 1)[1], m) for p, m in method_map if p.startswith(folder)],
            keywords=KEYWORDS,
        ):
            key = message if isinstance(message, str) else message[0]
            seen += 1
            if key not in known:
                missing.add(key)
    assert seen > 150, "the extraction found too little to be trusted"
    assert missing == set(), "run pybabel extract/update and translate"


def test_pages_are_chinese_by_default(login):
    html = login("secretary").get("/workermodelview/list/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for word in ("工作人员", "手机号", "网格", "记录数目", "取消"):
        assert word in html
    assert "Record Count" not in html and "Mobile phone" not in html


def test_english_is_complete(login):
    html = login("secretary", lang="en").get("/workermodelview/list/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Mobile phone" in html and "Record Count" in html
    visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", html, flags=re.S)
    han = re.findall(r"[\u4e00-\u9fff]+", visible)
    # Only data (names of people and grids) and the language menu may be Chinese.
    assert "手机号" not in han and "工作人员" not in han


def test_language_switch_is_in_the_navbar(login):
    html = login("secretary").get("/").get_data(as_text=True)
    assert "/lang/en" in html
