"""The privacy notice: what careapp collects about families and children, why, for how long,
and who sees it (PIPL Art. 17, and Art. 31 for children under 14)."""

from flask import render_template

from careapp.models import CONSENT_POLICY_VERSION
from careapp.public import bp
from careapp.services.privacy import retention_months


@bp.get("/privacy")
def privacy():
    """The privacy notice, with the configured retention period."""
    return render_template(
        "public/privacy.html", months=retention_months(), version=CONSENT_POLICY_VERSION
    )
