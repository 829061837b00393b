from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from aftersales.core.errors import ValidationFailed


class SlaConfigurationError(ValidationFailed):
    code = "sla_configuration_error"
    default_message = _("This SLA configuration is not valid.")
