"""The list's order as the header shows it, and the header's menu of orders (a digest view adds the
digest's own order, which has no column).

The header's arrow always names the order the list is in: the header's choice, or a search's own
(`sort:upvotes` moves the arrow to ▲; relevance has no column, so no arrow).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from paperdesk.gui.paper_model import SORT_COLUMN
from paperdesk.gui.qt import QAction, QHeaderView, QMenu, Qt, QWidget

if TYPE_CHECKING:
    from paperdesk.gui.paper_list import PaperList

# (order, menu text, ascending when chosen from the menu)
CHOICES = (("digest", "Digest order", True), ("date", "Date", False), ("upvotes", "Upvotes", False),
           ("title", "Title", True), ("added", "Date added", False),
           ("interest", "For you (by interest)", False))
NAMES = {order: text for order, text, _ in CHOICES}


def show_order(papers: PaperList, header: QHeaderView) -> None:
    """Put the header's arrow on the order the list is shown in (none for relevance or a digest's
    own order), without sorting again."""
    order, ascending = papers.shown_order
    header.blockSignals(True)
    header.setSortIndicatorShown(order in SORT_COLUMN)
    if order in SORT_COLUMN:
        header.setSortIndicator(SORT_COLUMN[order], Qt.SortOrder.AscendingOrder if ascending
                                else Qt.SortOrder.DescendingOrder)
    header.blockSignals(False)
    header.setToolTip(f"Sorted by: {order_name(order)} (right-click for other orders)")


def order_name(order: str) -> str:
    return {"relevance": "relevance (the search's best matches first)",
            "interest": "interest (For you: ranked when asked, not as you decide)",
            }.get(order, NAMES.get(order, order))


def install_sort_menu(papers: PaperList, header: QHeaderView) -> None:
    header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    header.customContextMenuRequested.connect(
        lambda pos: sort_menu(papers, header).popup(header.mapToGlobal(pos)))


def sort_menu(papers: PaperList, parent: QWidget) -> QMenu:
    """Sort by…: the orders this view offers, the one shown checked."""
    menu = QMenu(parent)
    shown, _ascending = papers.shown_order
    for order, text, ascending in CHOICES:
        if order == "digest" and papers.view.source_id is None:
            continue
        action = QAction(text, menu, checkable=True, checked=order == shown)
        if order == "interest":  # ranked on the reader thread, again each time it is chosen
            action.triggered.connect(lambda _c=False: papers.rank_again())
        else:
            action.triggered.connect(lambda _c=False, o=order, a=ascending: papers.set_sort(o, a))
        menu.addAction(action)
    return menu

