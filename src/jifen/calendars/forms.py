"""Forms of the center's calendar pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_NOTICE_BYTES = 256 * 1024


class DayForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_workday = forms.TypedChoiceField(
        label=_("The day is"),
        choices=[("0", _("a day off")), ("1", _("a working day"))],
        coerce=lambda value: value == "1",
    )
    name = forms.CharField(label=_("Name (holiday)"), max_length=100, required=False)
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class NoticeForm(forms.Form):
    file = forms.FileField(label=_("Notice file (YAML)"))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_NOTICE_BYTES:
            raise forms.ValidationError(_("The file is too large (256 KB at most)."))
        return upload
