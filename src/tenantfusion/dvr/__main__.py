"""``python -m tenantfusion.dvr``: the DVR sub-app on its own (used inside the sandbox)."""

from tenantfusion.dvr.cli import app

app(prog_name="tenantfusion dvr")
