"""Paging over ActiveCampaign collections, each loop with a bound.

- offset paging (every collection): `limit` (max 100) and `offset`, total in `meta.total`
  (a string, or an int for custom objects); https://developers.activecampaign.com/reference/pagination
- keyset paging (contacts): `orders[id]=ASC&id_greater=<last id>`, which the docs recommend over
  deep offsets for large accounts, and which cannot skip or repeat a contact when others change
  while we read (https://developers.activecampaign.com/reference/list-all-contacts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from connectors.errors import FatalError

from .errors import VENDOR
from .values import as_int

PAGE_LIMIT = 100  # AC's maximum page size
# 100,000 pages of 100 = ten million records: beyond any AC account; reaching it means the
# server does not move on, and the loop stops with an error instead of spinning.
MAX_PAGES = 100_000


def _total(page: Mapping) -> int | None:
    meta = page.get("meta")
    if not isinstance(meta, Mapping) or meta.get("total") in (None, ""):
        return None
    return as_int(meta.get("total"), default=-1)


def offset_pages(
    fetch: Callable[[int, int], Mapping],
    collection: str,
    *,
    limit: int = PAGE_LIMIT,
    max_pages: int = MAX_PAGES,
    truncate: bool = False,
) -> Iterator[Mapping]:
    """Yield each page (the whole answer, side-loads included) until `meta.total` is reached.

    Without a total, a short page ends the collection. The offset moves by the number of items
    received, so a server that caps `limit` lower than asked still pages correctly.
    Reaching max_pages is an error, unless `truncate` (a feed read to a bound, not to its end).
    """
    offset = 0
    for _ in range(max_pages):
        page = fetch(offset, limit)
        items = page.get(collection) or []
        if not isinstance(items, list):
            raise FatalError(f"the {collection} page is not a list", vendor=VENDOR)
        if items:
            yield page
        offset += len(items)
        total = _total(page)
        if not items or (total is not None and total >= 0 and offset >= total):
            return
        if total is None and len(items) < limit:
            return
    if truncate:
        return
    raise FatalError(f"{collection}: paging did not end after {max_pages} pages", vendor=VENDOR)


def keyset_pages(
    fetch: Callable[[int | None], Mapping],
    collection: str,
    *,
    limit: int = PAGE_LIMIT,
    max_pages: int = MAX_PAGES,
) -> Iterator[Mapping]:
    """Yield pages ordered by id, each starting after the largest id of the one before."""
    last_id: int | None = None
    for _ in range(max_pages):
        page = fetch(last_id)
        items = page.get(collection) or []
        if not isinstance(items, list):
            raise FatalError(f"the {collection} page is not a list", vendor=VENDOR)
        if not items:
            return
        ids = [as_int(_id_of(item), default=-1) for item in items]
        page_last = max(ids)
        if page_last < 0 or (last_id is not None and page_last <= last_id):
            # The server ignored id_greater: following it would loop forever.
            raise FatalError(
                f"{collection}: id_greater={last_id} answered ids that do not move on",
                vendor=VENDOR,
            )
        yield page
        last_id = page_last
        total = _total(page)
        # With a total the end is known; without one a short page ends (AC caps at 100).
        if total is not None and total >= 0:
            if len(items) >= total:
                return
        elif len(items) < limit:
            return
    raise FatalError(f"{collection}: paging did not end after {max_pages} pages", vendor=VENDOR)


def _id_of(item: Any) -> Any:
    return item.get("id") if isinstance(item, Mapping) else None
