"""Form widgets written in Python where Django's templates cost too much."""

from django import forms
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> SafeString:
    """As ``django/forms/widgets/attrs.html`` writes them: in order, True bare, False left out."""
    return mark_safe(
        "".join(
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False and value is not None
        )
    )


class PlainSelect(forms.Select):
    """A ``<select>`` written by ``format_html``, the markup Django's templates give.

    Django renders each option through two templates: the person filters' 200 options
    (every village of the county) took about 20 ms of each search, on every request.
    """

    def render(self, name, value, attrs=None, renderer=None):
        if any(isinstance(label, (list, tuple)) for _, label in self.choices):
            return super().render(name, value, attrs, renderer)  # option groups
        # Django's Select, option by option, without its context: building one dict and
        # copying the attributes per option cost 5 ms of a search with 140 villages.
        chosen = self.format_value(value)
        options = []
        found = False
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            selected = not found and option_value in chosen
            found = found or selected
            options.append(
                f'<option value="{escape(option_value)}"{" selected" if selected else ""}>'
                f"{conditional_escape(label)}</option>"
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            _attrs(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(options)),
        )
