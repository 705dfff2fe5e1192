"""Page through the results of a select() with one count and one page query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from reviewmech.extensions import db

PER_PAGE = 50


@dataclass
class Page:
    """One page of rows, and where it stands among the others."""

    items: list
    number: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        """Number of pages, at least one."""
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        """Whether a page comes before this one."""
        return self.number > 1

    @property
    def has_next(self) -> bool:
        """Whether a page comes after this one."""
        return self.number < self.pages


def paginate(query: Select, number: int, per_page: int = PER_PAGE) -> Page:
    """Return the page `number` (from 1) of a query's rows."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    number = min(max(1, number), max(1, -(-total // per_page)))
    items = db.session.scalars(query.limit(per_page).offset((number - 1) * per_page)).unique().all()
    return Page(items=list(items), number=number, per_page=per_page, total=total)
