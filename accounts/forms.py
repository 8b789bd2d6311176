"""Every text field of the portal's forms — the staff pages' and the Django admin's —
checked by the one text rule (accounts.sheets.text_check), so a value PostgreSQL
or a mail header would refuse gets a message next to its field instead of a 500."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.deconstruct import deconstructible

from accounts.sheets import SheetValueError, text_check


@deconstructible
class TextValidator:
    """Django validator form of text_check (strings only: a JSON field's value is not text)."""

    def __init__(self, max_length: int | None = None, lines: bool = False) -> None:
        self.max_length, self.lines = max_length, lines

    def __call__(self, value: Any) -> None:
        if isinstance(value, str):
            try:
                text_check(value, max_length=self.max_length, lines=self.lines)
            except SheetValueError as error:
                raise forms.ValidationError(error.message, code="text") from None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TextValidator) and (self.max_length, self.lines) == (
            other.max_length,
            other.lines,
        )


def text_field_check(field: forms.Field | None) -> forms.Field | None:
    """Give a text field the text rule: one line unless it is a text area; its own
    max_length. Passwords are left alone (never stored as typed)."""
    if isinstance(field, forms.CharField) and not isinstance(field.widget, forms.PasswordInput):
        lines = isinstance(field.widget, forms.Textarea)
        field.validators.append(TextValidator(field.max_length, lines=lines))
    return field


class TextChecked:
    """Form mixin: every text field follows the text rule."""

    fields: dict[str, forms.Field]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            text_field_check(field)


class TextCheckedAdmin:
    """ModelAdmin / inline mixin: every text field of its forms follows the text rule."""

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        return text_field_check(super().formfield_for_dbfield(db_field, request, **kwargs))
