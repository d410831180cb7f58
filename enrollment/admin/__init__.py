"""The back office: the Django admin in the portal's name, with the RA's records.

One module a concern: holders and organisations (``holders``), the pages of a PIN handover
(``handovers``), the CSV import (``imports``) and the other records (``records``).
"""

from django.conf import settings
from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from enrollment.admin import holders, records

# "Certificaatportaal — beheer", not Django's "Django-beheer / Websitebeheer": the admin
# is the portal's back office, in its language. Set here, where the back office is.
admin.site.site_header = format_lazy("{} — {}", settings.PORTAL_NAME, _("administration"))
admin.site.site_title = admin.site.site_header
admin.site.index_title = _("Back office")

__all__ = ["holders", "records"]
