"""Edit > Rules: saved queries with actions (core `rank/rules.py`) listed, added, previewed, run, removed.

A rule runs by itself on papers imported after it was saved (the window calls `apply_to_new` once
the indexer has taken them in). Run on the Inbox it first shows what it would do: the preview is
a search on the reader thread, and Run acts on exactly the papers previewed, through the window's
one write path (one undoable operation per action, named after the rule).
"""

from __future__ import annotations

from paperdesk.core import Library
from paperdesk.core.keymap import Keymap
from paperdesk.core.rank import rules
from paperdesk.core.texchars import tex_to_unicode
from paperdesk.gui.jobs import JobRunner
from paperdesk.gui.layout import button, column, row, wrapped
from paperdesk.gui.qt import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    Qt,
    QWidget,
)
from paperdesk.gui.reader_thread import ReaderThread

NAME_ROLE = Qt.ItemDataRole.UserRole + 1
PREVIEW_TITLES = 200  # titles listed in a preview (the count is always whole)


def preview(lib: Library, rule: rules.Rule) -> tuple[list[str], list[str]]:
    """(ids, first titles) the rule would act on in the Inbox; on the reader thread."""
    if not lib.search.current():
        raise rules.RuleError("the search index is being built: preview again in a moment")
    ids = rules.matches(lib, rule, drain=False)
    titles = [tex_to_unicode(r["title"] or "") for r in lib.rows(ids[:PREVIEW_TITLES])]
    return ids, titles


class RulesDialog(QDialog):
    def __init__(self, lib: Library, jobs: JobRunner, reader: ReaderThread, keymap: Keymap, parent: QWidget):
        super().__init__(parent)
        self.lib, self.jobs, self.reader, self.keymap = lib, jobs, reader, keymap
        self.setWindowTitle("Rules")
        self.rules = QListWidget()
        self.rules.currentItemChanged.connect(self._chosen)
        self.name = QLineEdit()
        self.query = QLineEdit(placeholderText="a search, e.g. abstract:diffusion org:Tencent")
        self.tags = QLineEdit(placeholderText="tags to add, space separated")
        self.star, self.archive, self.read = QCheckBox("star"), QCheckBox("archive"), QCheckBox("mark read")
        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Query", self.query)
        form.addRow("Tag with", self.tags)
        form.addRow("And", row(self.star, self.archive, self.read, 1))
        self.problem = wrapped()
        self.problem.setStyleSheet("color: #b00020;")
        self.save_button = button("Save rule", self.save)
        self.preview_button = button("Preview on the Inbox", self.preview)
        self.run_button = button("Run on the Inbox", self.run)
        self.remove_button = button("Remove rule", self.remove)
        self.summary = wrapped("Saved rules act on papers imported from then on; preview one to run it "
                               "on the Inbox.")
        self.matched = QListWidget()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        column(QLabel("Rules (a saved query and what to do with its papers):"), (self.rules, 1), form,
               self.problem, row(self.save_button, self.preview_button, self.run_button, self.remove_button),
               self.summary, (self.matched, 2), close, on=self)
        for field in (self.name, self.query, self.tags):
            field.textChanged.connect(self._edited)
        for box in (self.star, self.archive, self.read):
            box.toggled.connect(self._edited)
        self._previewed: tuple[rules.Rule, list[str]] | None = None
        self.refresh()
        self._edited()
        self.problem.clear()  # an untouched form is not wrong yet (Save stays greyed)
        self.resize(640, 620)
        self.name.setFocus()

    # -- the form -------------------------------------------------------------------------------
    def rule(self) -> rules.Rule:
        """The rule the form describes; RuleError with the query language's message if it is bad."""
        name = rules.check_name(self.name.text())
        query = rules.check_query(self.query.text())
        actions = rules.make_actions(self.tags.text().replace(",", " ").split(), self.star.isChecked(),
                                     self.archive.isChecked(), self.read.isChecked())
        return rules.Rule(name, query, actions)

    def _checked_rule(self) -> rules.Rule | None:
        """The rule as typed, or None with its problem said."""
        try:
            rule = self.rule()
        except rules.RuleError as exc:
            self.problem.setText(str(exc))
            return None
        self.problem.clear()
        return rule

    def _edited(self) -> None:
        self._previewed = None
        self.run_button.setEnabled(False)
        ok = self._checked_rule() is not None
        self.save_button.setEnabled(ok)
        self.preview_button.setEnabled(ok)
        self.remove_button.setEnabled(self._saved(self.name.text()) is not None)

    def _saved(self, name: str) -> rules.Rule | None:
        try:
            name = rules.check_name(name)
        except rules.RuleError:
            return None
        return next((r for r in rules.list_rules(self.lib) if r.name == name), None)

    def _chosen(self, item: QListWidgetItem | None, _previous=None) -> None:
        rule = self._saved(item.data(NAME_ROLE)) if item is not None else None
        if rule is None:
            return
        self.name.setText(rule.name)
        self.query.setText(rule.query)
        self.tags.setText(" ".join(a["tag"] for a in rule.actions if a["do"] == "tag"))
        kinds = {a["do"] for a in rule.actions}
        self.star.setChecked("star" in kinds)
        self.archive.setChecked("archive" in kinds)
        self.read.setChecked("read" in kinds)

    def refresh(self) -> None:
        self.rules.blockSignals(True)
        self.rules.clear()
        for rule in rules.list_rules(self.lib):
            item = QListWidgetItem(f"{rule.name}: {rule.query}  →  {rule.describe_actions()}")
            item.setData(NAME_ROLE, rule.name)
            self.rules.addItem(item)
        self.rules.blockSignals(False)

    # -- commands -------------------------------------------------------------------------------
    def save(self) -> None:
        rule = self._checked_rule()
        if rule is None:
            return
        self.jobs.write(f"Save rule {rule.name}",
                        lambda lib: rules.add_rule(lib, rule.name, rule.query, rule.actions),
                        lambda _r: (self.refresh(), self._edited()))
        self.summary.setText(f"Saved {rule.name!r}: it acts on papers imported from now on.")

    def preview(self) -> None:
        rule = self._checked_rule()
        if rule is None:
            return
        self.summary.setText("Looking for the papers it would act on…")
        self.matched.clear()

        def done(value: object, error: str) -> None:
            if error:
                self.summary.setText(f"Cannot preview: {error}")
                return
            ids, titles = value  # type: ignore[misc]
            self._previewed = (rule, ids)
            self.run_button.setEnabled(bool(ids))
            n = len(ids)
            self.summary.setText(f"Would {rule.describe_actions()} {n} paper{'s' if n != 1 else ''} in the "
                                 f"Inbox{':' if n else '.'}")
            self.matched.addItems(titles + ([f"… and {n - len(titles)} more"] if n > len(titles) else []))

        self.reader.submit("rule-preview", lambda rlib: preview(rlib, rule), done)

    def run(self) -> None:
        """Act on the papers previewed (one undoable operation per action)."""
        if self._previewed is None:
            return
        rule, ids = self._previewed
        self._previewed = None
        if self.run_button.hasFocus():  # greyed, it would hand the focus on to Remove rule
            self.rules.setFocus()
        self.run_button.setEnabled(False)
        n = len(ids)
        self.jobs.write(f"Rule {rule.name}", lambda lib: rules.apply(lib, rule, ids))
        undo = (self.keymap.keys_for("undo") or ["Undo"])[0]
        self.summary.setText(f"Done: {rule.describe_actions()} {n} paper{'s' if n != 1 else ''} "
                             f"({undo} undoes, one step per action).")
        self.matched.clear()

    def remove(self) -> None:
        rule = self._saved(self.name.text())
        if rule is None:
            return
        self.jobs.write(f"Remove rule {rule.name}", lambda lib: rules.remove_rule(lib, rule.name),
                        lambda _r: (self.refresh(), self._edited()))
        self.summary.setText(f"Removed {rule.name!r}.")
