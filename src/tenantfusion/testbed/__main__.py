"""``python -m tenantfusion.testbed up|down|status``: the test bed from the shell."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from tenantfusion.testbed import DEFAULT_ROOT, ensure_pools, status, stop_pools


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tenantfusion.testbed")
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--pools", type=int, default=2)
    parser.add_argument("--kind", default="keystone", choices=["keystone"])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    args = parser.parse_args()
    if args.command == "up":
        pools = ensure_pools(count=args.pools, kind=args.kind, root=args.root)
        print(
            json.dumps(
                [{k: v for k, v in asdict(p).items() if k != "password"} for p in pools], indent=2
            )
        )
    elif args.command == "down":
        print(json.dumps({"stopped": stop_pools(root=args.root)}))
    else:
        print(json.dumps(status(root=args.root), indent=2))


if __name__ == "__main__":
    main()
