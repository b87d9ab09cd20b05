"""ASGI entry for uvicorn workers: ``tenantfusion.asgi:app``."""

from tenantfusion.api import create_app
from tenantfusion.config import get_settings
from tenantfusion.heap import freeze_startup_objects
from tenantfusion.logging import configure

configure(get_settings().log_level)
app = create_app()
freeze_startup_objects()  # full GC passes then skip the ~250,000 start-up objects
