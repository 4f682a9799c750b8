"""Workers hand values to the GUI thread through an Outbox: delivered while open, never after
close, and objects deleted right after their outbox closed while their threads still send.
(Emitting directly on such objects crashed PySide within seconds in a stress run.)"""

from __future__ import annotations

import threading

from paperdesk.gui.outbox import Outbox
from paperdesk.gui.qt import QObject, Signal


class Receiver(QObject):
    arrived = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.got: list[object] = []
        self.arrived.connect(self.got.append)
        self.outbox = Outbox(self.arrived)


def test_values_sent_from_a_thread_arrive_on_the_gui_thread_until_closed(qtbot):
    receiver = Receiver()
    sent = threading.Event()
    threading.Thread(target=lambda: receiver.outbox.send("first") and sent.set()).start()
    qtbot.waitUntil(lambda: receiver.got == ["first"])
    assert sent.is_set()
    receiver.outbox.close()
    refused = []
    worker = threading.Thread(target=lambda: refused.append(receiver.outbox.send("late")))
    worker.start()
    worker.join(10)
    assert refused == [False]  # the worker hears it should stop
    with qtbot.assertNotEmitted(receiver.arrived, wait=100):
        pass
    assert receiver.got == ["first"]


def test_objects_deleted_while_their_threads_send(qtbot):
    owner = QObject()  # C++ owns the receivers, as the window owns its workers' objects
    threads = []

    def keep_sending(outbox: Outbox) -> None:
        while outbox.send(1):
            pass

    for _ in range(60):
        receiver = Receiver(owner)
        thread = threading.Thread(target=keep_sending, args=(receiver.outbox,), daemon=True)
        thread.start()
        threads.append(thread)
        qtbot.waitUntil(lambda r=receiver: bool(r.got))  # its thread is sending
        receiver.outbox.close()
        receiver.deleteLater()
    qtbot.waitUntil(lambda: not owner.children(), timeout=10_000)
    for thread in threads:
        thread.join(10)
    assert not any(t.is_alive() for t in threads)
