"""PlainSelect writes what Django's Select writes from its templates."""

import re

import pytest
from django import forms

from dayao_sscard.widgets import PlainSelect

CHOICES = [("", "全部"), ("532326101", "金碧镇"), ("7", "石羊镇·<第2组> & 3组")]


def between_tags(html: str) -> str:
    return re.sub(r">\s+<", "><", html.strip())


@pytest.mark.parametrize("value", ["", "532326101", "7", None, "unknown"])
@pytest.mark.parametrize("attrs", [{}, {"id": "id_village", "required": True, "class": "x"}])
def test_the_markup_is_djangos(value, attrs):
    plain = PlainSelect(choices=CHOICES).render("village", value, attrs=attrs)
    django = forms.Select(choices=CHOICES).render("village", value, attrs=attrs)
    assert between_tags(plain) == between_tags(django)
    assert "&lt;第2组&gt; &amp; 3组" in plain


def test_the_person_filters_use_it():
    from roster.forms import PersonFilterForm

    form = PersonFilterForm(townships=[], villages=[])
    selects = [f for f in form.fields.values() if isinstance(f.widget, forms.Select)]
    assert selects and all(isinstance(f.widget, PlainSelect) for f in selects)
