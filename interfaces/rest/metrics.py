"""A few Prometheus metrics, kept in-process and rendered as text."""

from __future__ import annotations

import threading
from collections import defaultdict

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self._buckets: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * len(_BUCKETS))
        self._sum: dict[tuple[str, str], float] = defaultdict(float)
        self._count: dict[tuple[str, str], int] = defaultdict(int)

    def observe(self, method: str, path: str, status: int, seconds: float) -> None:
        with self._lock:
            self._requests[(method, path, status)] += 1
            key = (method, path)
            for i, bound in enumerate(_BUCKETS):
                if seconds <= bound:
                    self._buckets[key][i] += 1
            self._sum[key] += seconds
            self._count[key] += 1

    def render(self, position: int, lag: dict[str, int]) -> str:
        lines = [
            "# HELP kehu_http_requests_total HTTP requests by route and status.",
            "# TYPE kehu_http_requests_total counter",
        ]
        with self._lock:
            for (method, path, status), n in sorted(self._requests.items()):
                lines.append(
                    f'kehu_http_requests_total{{method="{method}",route="{path}",status="{status}"}} {n}'
                )
            lines += [
                "# HELP kehu_http_request_seconds HTTP request duration.",
                "# TYPE kehu_http_request_seconds histogram",
            ]
            for (method, path), counts in sorted(self._buckets.items()):
                labels = f'method="{method}",route="{path}"'
                for bound, n in zip(_BUCKETS, counts, strict=True):
                    lines.append(f'kehu_http_request_seconds_bucket{{{labels},le="{bound}"}} {n}')
                total = self._count[(method, path)]
                lines.append(f'kehu_http_request_seconds_bucket{{{labels},le="+Inf"}} {total}')
                lines.append(
                    f"kehu_http_request_seconds_sum{{{labels}}} {self._sum[(method, path)]:.6f}"
                )
                lines.append(f"kehu_http_request_seconds_count{{{labels}}} {total}")
        lines += [
            "# HELP kehu_event_store_position Global position of the newest stored event.",
            "# TYPE kehu_event_store_position gauge",
            f"kehu_event_store_position {position}",
            "# HELP kehu_projection_lag_events Events a read model has yet to process.",
            "# TYPE kehu_projection_lag_events gauge",
        ]
        lines += [
            f'kehu_projection_lag_events{{projection="{name}"}} {n}'
            for name, n in sorted(lag.items())
        ]
        return "\n".join(lines) + "\n"
