"""One process of the race test: N threads call ensure for the same (tenant, pool) at once."""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tenantfusion.config import Settings
from tenantfusion.db import session_factory
from tenantfusion.errors import TenantFusionError
from tenantfusion.mapping.flows import mapping_ensure_flow
from tenantfusion.platform.principal import SYSTEM


def main() -> None:
    url, key, tenant_id, pool, threads, start_at = sys.argv[1:7]
    settings = Settings(database_url=url, secret_key=key, run_worker=False)  # type: ignore[arg-type]
    sessions = session_factory(settings)
    barrier = threading.Barrier(int(threads))

    def one(_: int) -> str:
        barrier.wait()
        time.sleep(max(0.0, float(start_at) - time.time()))
        try:
            mapping, _created = mapping_ensure_flow(
                sessions=sessions,
                actor=SYSTEM,
                tenant_id=tenant_id,
                pool_ref=pool,
                settings=settings,
            )
            return f"{mapping.state.value}:{mapping.project_remote_id}"
        except TenantFusionError as e:
            return f"error:{e.type}:{e.detail}"

    with ThreadPoolExecutor(int(threads)) as ex:
        results = list(ex.map(one, range(int(threads))))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
