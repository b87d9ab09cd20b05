"""ASGI entry for uvicorn workers: ``tenantfusion.asgi:app``."""

from tenantfusion.api import create_app
from tenantfusion.config import get_settings
from tenantfusion.logging import configure

configure(get_settings().log_level)
app = create_app()
