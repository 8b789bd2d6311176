"""`{{ code|label:"kind" }}`: a code in words (portal.labels.label)."""

from django import template

from portal.labels import label as code_label

register = template.Library()


@register.filter
def label(code: object, kind: str) -> str:
    return code_label(kind, code)
