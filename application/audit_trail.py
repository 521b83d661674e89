"""What an audit-trail row does not hold: the event itself.

The trail (``projections.audit``) keeps who, what, when and why; an auditor who also wants
the recorded facts gets them from the event store by position, with personal data masked
for roles that may not see it — the same rule as ``/history`` and the event feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from application.context import Role
from application.privacy import mask_event_payload, may_see_personal_data
from application.store import Kehu, RecordedEvent, describe, to_json

#: Positions closer than this are read with one range query rather than one each.
_GAP = 64
#: The longest range read at once.
_SPAN = 1000


def _runs(positions: list[int]) -> Iterator[tuple[int, int]]:
    """Sorted positions grouped into (first, last) ranges worth one query each."""
    first = last = positions[0]
    for position in positions[1:]:
        if position - last > _GAP or position - first >= _SPAN:
            yield first, last
            first = position
        last = position
    yield first, last


def events_at(store: Kehu, positions: Iterable[int]) -> dict[int, RecordedEvent]:
    """The stored events at these global positions (missing positions are left out)."""
    wanted = sorted({p for p in positions if p > 0})
    if not wanted:
        return {}
    keep = set(wanted)
    found: dict[int, RecordedEvent] = {}
    for first, last in _runs(wanted):
        for notification in store.recorder.select_notifications(
            start=first, limit=last - first + 1, stop=last
        ):
            if notification.id in keep:
                event = store.mapper.to_domain_event(notification)
                found[notification.id] = describe(event, notification.id)
    return found


def visible_payload(recorded: RecordedEvent, role: Role) -> dict[str, Any]:
    """The event's payload as plain JSON data, personal data masked unless ``role`` may
    see it (``application.privacy``)."""
    payload = recorded.payload
    if not may_see_personal_data(role):
        payload = mask_event_payload(type(recorded.event), payload)
    return dict(to_json(payload))
