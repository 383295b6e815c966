from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``{{ row|get_item:key }}`` for report rows whose keys come from the view."""
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
