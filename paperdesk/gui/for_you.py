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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paperdesk.core import Library
from paperdesk.core.changes import Changes
from paperdesk.core.rank.model import format_reasons
from paperdesk.core.rank.suggest import Suggester
from paperdesk.gui.qt import QLabel, QObject, QPoint, QRect, QStatusBar, QTimer, QToolTip

if TYPE_CHECKING:
    from paperdesk.gui.paper_list import PaperList
    from paperdesk.gui.paper_table import PaperTable
    from paperdesk.gui.reader import Reader

RETRAIN_DELAY_MS = 2000  # after the last star/tag/archive
SUGGEST_TAGS = 30  # the most used tags are offered as "likely" (each has its own model)
EXPLAINED = 2000  # explanations kept, per (paper, model fingerprint)
FEW_KEPT = 10  # a model learnt from fewer kept papers says it has little to go on
STRONGEST = 6  # the model's strongest words shown (and half as many against)


@dataclass
class Figures:
    """The interest model's view of the whole library, for the list (gui/paper_delegate.py)."""
    by_id: Mapping[str, int] = field(default_factory=dict)  # 0-100: above this % of the library
    sentence: str = ""  # how the model was made
    words: str = ""  # its strongest words: "reward, policy; −image"
    few: str = ""  # said when it has little to go on


def figures(lib: Library, words: bool = True) -> Figures:
    """Each featurised paper's place in the library by the interest model (on the ranker thread;
    none for a library ranked by upvotes), and with `words` the model's strongest words (reading
    the texts of its training papers: only after a ranking, not after each retraining)."""
    # (words may retrain first: then the figures use that model)
    ups, downs = lib.ranker.words(n=STRONGEST) if words else ([], [])
    model = lib.ranker.model(retrain=False)
    if model.kind == "upvotes":
        return Figures(sentence=model.describe())
    few = ""
    if model.kind == "model" and model.positives < FEW_KEPT:
        few = f"few decisions yet ({model.positives} kept)"
    strongest = format_reasons(ups + downs[: max(STRONGEST // 2, 1)])
    return Figures(lib.ranker.places(model), model.describe(), strongest, few)


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
    def __init__(self, papers: PaperList, reader: Reader, table: PaperTable, count_label: QLabel,
                 bar: QStatusBar, parent: QObject):
        super().__init__(parent)
        self.papers, self.reader, self.table = papers, reader, table
        self.count_label, self.bar = count_label, bar
        self.label = reader.for_you
        self._explained: OrderedDict[tuple, str] = OrderedDict()  # touched on the ranker thread only
        self._suggester = Suggester()  # likewise
        self._shown_for: str | None = None
        self.retrain_timer = QTimer(self, singleShot=True, interval=RETRAIN_DELAY_MS)
        self.retrain_timer.timeout.connect(self.retrain)
        self.figures = Figures()  # as last made on the ranker thread
        self.painter = table.rows_painter
        table.explain_figure = self.explain_figure
        self.papers.ranked.connect(self._ranked)
        if self.papers.ranker_warm:  # ranked before: the figures come back without asking
            QTimer.singleShot(0, self.refresh_figures)

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
            if self.reader.paper_id == paper_id:
                figure = self.figures.by_id.get(paper_id)
                if figure is not None and not error and str(text).startswith("For you: "):
                    text = f"For you ({figure}): {str(text).removeprefix('For you: ')}"
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
                self.bar.showMessage(f"Retraining the interest model failed: {error}", 8000)
                return
            self.refresh_figures()  # (then the reader's line, explained by the new model)

        self.papers.ranker.submit("retrain", work, done)

    # -- figures: each paper's place by the model, in the list ----------------------------------
    def _ranked(self, sentence: str) -> None:
        if sentence and self.papers.ranker_warm:
            self.refresh_figures(announce=sentence)

    def refresh_figures(self, announce: str = "") -> None:
        """New figures for the list (the order stays as it is), and the model's strongest words in
        the status bar (`announce`: the ranking sentence shown there) and the count's tooltip."""
        if not self.papers.ranker_warm:
            return

        def done(value: object, error: str) -> None:
            if error:
                return
            made: Figures = value  # type: ignore[assignment]
            if not announce:
                made.words = self.figures.words  # as said after the last ranking
            self.figures = made
            self.painter.set_figures(made.by_id)
            tip = made.sentence
            if made.few:
                tip += f"\n{made.few.capitalize()}: the order sharpens as you star, tag and archive."
            if made.words:
                tip += f"\nIts strongest words: {made.words}"
            if made.by_id:
                tip += ("\nThe figure ending each title: the paper's place in your library by this model "
                        "(83: above 83% of it). Hover it for why.")
            self.count_label.setToolTip(tip)
            if announce and self.papers.by_interest and self.bar.currentMessage() == announce:
                extra = "".join(f" · {part}" for part in (made.few, made.words and
                                                          f"strongest words: {made.words}") if part)
                self.bar.showMessage(announce + extra)
            self.show(self.reader.paper_id)

        self.papers.ranker.submit("figures", lambda rlib: figures(rlib, words=bool(announce)), done)

    def explain_figure(self, paper_id: str, figure: int, where: QPoint, area: QRect) -> None:
        """The tooltip of a row's figure: "For you: 83 — diffusion, video; −survey"."""
        cache = self._explained
        viewport = self.table.viewport()

        def done(text: object, error: str) -> None:
            if error or self.painter.figures.get(paper_id) != figure:
                return
            body = str(text).removeprefix("For you: ")
            body = body[0].lower() + body[1:] if body.startswith(("Like", "Unlike")) else body
            QToolTip.showText(where, f"For you: {figure} — {body}\n(above {figure}% of your library by "
                              f"the interest model)", viewport, area)

        self.papers.ranker.submit("explain-figure", lambda rlib: explanation(rlib, paper_id, cache), done)

    def suggest(self, paper_id: str, tags: Sequence[str],
                answer: Callable[[dict[str, list[str]]], None]) -> None:
        """`answer({tag: words})` with the tags (the paper has none of them) whose papers it is clearly
        like, and the words it shares with them (core/rank/suggest.py: from 3 tagged papers; never
        for a tag whose papers share nothing)."""
        if not self.papers.ranker_warm or not tags:
            return
        tags = list(tags)[:SUGGEST_TAGS]

        def done(value: object, error: str) -> None:
            if not error and value:
                answer(dict(value))  # type: ignore[call-overload]

        suggester = self._suggester
        self.papers.ranker.submit("suggest", lambda rlib: suggester.likely_why(rlib, paper_id, tags), done)
