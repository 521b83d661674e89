"""The disclosure aggregate (who looked at whom) and the log safety net, no database."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from uuid import UUID

import pytest

from application.disclosures import Disclosed, shown
from application.log_privacy import PersonalDataFilter, redact
from domain.base import InvalidValueError
from domain.disclosure import Disclosure, InvalidDisclosure

ID = UUID("6f1c1f52-5a3e-4a8c-9d55-1a2b3c4d5e6f")
NOW = datetime(2025, 9, 1, 1, 0, tzinfo=UTC)


def test_a_disclosure_names_each_subject_and_field_once_in_order() -> None:
    disclosure = Disclosure.record(
        new_id=ID,
        subjects=["c2", "c1", "c2"],
        via="graphql customers",
        fields=["Customer.phone", "Customer.name", "Customer.phone"],
        at=NOW,
    )
    [recorded] = disclosure.collect_events()
    assert isinstance(recorded, Disclosure.Recorded)
    assert recorded.subjects == ["c1", "c2"]
    assert recorded.fields == ["Customer.name", "Customer.phone"]
    assert (recorded.via, recorded.at, disclosure.id) == ("graphql customers", NOW, ID)


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"subjects": []}, InvalidDisclosure),
        ({"subjects": ["  "]}, InvalidDisclosure),
        ({"fields": []}, InvalidDisclosure),
        ({"via": ""}, InvalidDisclosure),
        ({"at": datetime(2025, 9, 1, 9, 0)}, InvalidValueError),
    ],
)
def test_a_disclosure_of_nothing_or_without_a_time_offset_is_refused(
    changes: dict[str, object], error: type[Exception]
) -> None:
    good: dict[str, object] = {
        "new_id": ID,
        "subjects": ["c1"],
        "via": "GET /api/v1/customers/{customer_id}",
        "fields": ["Customer.name"],
        "at": NOW,
    }
    with pytest.raises(error):
        Disclosure.record(**(good | changes))  # type: ignore[arg-type]


def test_what_counts_as_shown() -> None:
    assert not any(shown(v) for v in (None, "", [], {}))
    assert all(shown(v) for v in ("张", ["x"], {"a": "b"}, 0, False))
    nothing = Disclosed()
    nothing.add(["c1"], [])
    nothing.add([], ["Customer.name"])
    assert not nothing
    something = Disclosed()
    something.add(["c1", ""], ["Customer.name"])
    assert something.subjects == {"c1"}


def test_phones_emails_and_id_numbers_are_masked_and_ids_and_positions_are_not() -> None:
    text = (
        "customer 6f1c1f52-5a3e-4a8c-9d55-1a2b3c4d5e6f at position 123456789012:"
        " phone 13812345678, mail li.na@example.com.cn, ID 11010519491231002x,"
        " order 2025013812345678901"
    )
    assert redact(text) == (
        "customer 6f1c1f52-5a3e-4a8c-9d55-1a2b3c4d5e6f at position 123456789012:"
        " phone 138****5678, mail l***@example.com.cn, ID 110105********002x,"
        " order 2025013812345678901"
    )


def test_the_filter_masks_the_message_its_arguments_and_the_traceback() -> None:
    try:
        raise ValueError("duplicate phone 13912345678")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "kehu.test", logging.ERROR, __file__, 1, "refused %s", ("a@b.cn",), exc_info
    )

    assert PersonalDataFilter().filter(record) is True
    formatted = logging.Formatter().format(record)

    assert record.getMessage() == "refused a***@b.cn"
    assert "139****5678" in formatted
    assert "13912345678" not in formatted
