"""The desk's side of the ranker: why the current paper is "for you", the tags it is
likely to deserve (core/rank/suggest.py), and retraining in the background after decisions.

Every ranker call runs on `PaperList.ranker`, a reader thread whose Library keeps `lib.ranker`
warm (features loaded, models trained); the GUI thread only sets a label's text. Nothing here
featurises a library never ranked (`PaperList.ranker_warm`): that first ranking (seconds at 100k
papers) is the user's choice (`r`, or `paperdesk rank`). Explanations use the model as last
trained; decisions retrain it once they pause (RETRAIN_DELAY_MS), so a fast triage trains once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.core.rank.model import format_reasons
from paperdesk.core.rank.suggest import Suggester
from paperdesk.gui.qt import QObject, QTimer

if TYPE_CHECKING:
    from paperdesk.gui.main_window import MainWindow

RETRAIN_DELAY_MS = 2000  # after the last star/tag/archive
SUGGEST_TAGS = 30  # the most used tags are offered as "likely" (each has its own model)
EXPLAINED = 2000  # explanations kept, per (paper, model fingerprint)


def explanation(lib: Library, paper_id: str, cache: OrderedDict[tuple, str]) -> str:
    """"For you: diffusion, video distillation, +org Tencent; −survey" (on the ranker thread)."""
    model = lib.ranker.model(retrain=False)
    key = (paper_id, model.kind, model.fingerprint)
    text = cache.get(key)
    if text is None:
        record = lib.get(paper_id)
        reasons = lib.ranker.explain(record, retrain=False) if record else []
        if model.kind == "upvotes":
            text = "For you: no kept papers yet (ranked by upvotes)"
        elif model.kind == "similar":
            shared = format_reasons([r for r in reasons if r.weight > 0])
            text = f"Like your kept papers: {shared}" if shared else "Unlike your kept papers"
        else:
            text = f"For you: {format_reasons(reasons)}" if reasons else "For you: no telling words"
        cache[key] = text
        while len(cache) > EXPLAINED:
            cache.popitem(last=False)
    return text


class ForYou(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        self.papers = window.papers
        self.label = window.reader.for_you
        self._explained: OrderedDict[tuple, str] = OrderedDict()  # touched on the ranker thread only
        self._suggester = Suggester()  # likewise
        self.retrains = 0  # retrainings finished (for tests)
        self._shown_for: str | None = None
        self.retrain_timer = QTimer(self, singleShot=True, interval=RETRAIN_DELAY_MS)
        self.retrain_timer.timeout.connect(self.retrain)

    def show(self, paper_id: str | None) -> None:
        """Explain the paper in the reader's bar, once the ranker thread has answered."""
        if paper_id != self._shown_for:
            self.label.clear()  # not another paper's reasons meanwhile
            self._shown_for = paper_id
        self.label.setVisible(self.papers.ranker_warm)  # one steady line: no jump per paper
        if paper_id is None or not self.papers.ranker_warm:
            return
        cache = self._explained

        def done(text: object, error: str) -> None:
            if self.window.reader.paper_id == paper_id:
                self.label.setText("" if error else str(text))
                self.label.setToolTip("" if error else f"{text}\n(words that raised or lowered this "
                                      f"paper's place in the For you order)")

        self.papers.ranker.submit("explain", lambda rlib: explanation(rlib, paper_id, cache), done)

    def decided(self, changes: Changes) -> None:
        """A star, tag, archive… : retrain once the decisions pause."""
        if self.papers.ranker_warm and (changes.papers or changes.tags or changes.notes):
            self.retrain_timer.start()

    def retrain(self) -> None:
        def work(rlib: Library) -> str:
            rlib.ranker.refresh()  # new papers featurised, every model it keeps retrained
            return rlib.ranker.model().describe()

        def done(_sentence: object, error: str) -> None:
            if error:
                self.window.status(f"Retraining the interest model failed: {error}")
                return
            self.retrains += 1
            self.show(self.window.reader.paper_id)  # explained by the new model

        self.papers.ranker.submit("retrain", work, done)

    def suggest(self, paper_id: str, tags: Sequence[str], answer: Callable[[list[str]], None]) -> None:
        """`answer(tags)` with the tags (the paper has none of them) whose papers it is clearly like
        (core/rank/suggest.py: from 3 tagged papers; never for a tag whose papers share nothing)."""
        if not self.papers.ranker_warm or not tags:
            return
        tags = list(tags)[:SUGGEST_TAGS]

        def done(value: object, error: str) -> None:
            if not error and value:
                answer(list(value))  # type: ignore[call-overload]

        suggester = self._suggester
        self.papers.ranker.submit("suggest", lambda rlib: suggester.likely(rlib, paper_id, tags), done)
