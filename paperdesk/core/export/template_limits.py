"""A user's export template runs in a child process, with limits it cannot get round.

Jinja2's sandbox keeps a template away from Python's internals, but not from work without end:
nested loops, a string doubled forty times, `"x" * 10**10`. Checks inside the template language
would have to foresee every such way, so the template runs in a spawned process instead: at most
SECONDS_PER_FILE per rendered file, MEMORY_BYTES of address space (where the system can limit it)
and MAX_OUTPUT_CHARS per file. Past a limit the child is stopped and the export gets one line.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from multiprocessing.connection import Connection

from paperdesk.core.export.templates import TemplateProblem

SECONDS_PER_FILE = 5.0
MEMORY_BYTES = 1024**3
MAX_OUTPUT_CHARS = 16 * 1024 * 1024  # as big as an export file PaperDesk reads back (files.py)
START_SECONDS = 30.0  # starting the child (a spawned interpreter) on a busy machine


def render_limited(source: str, name: str, contexts: list[dict],
                   cancelled: Callable[[], bool] | None = None) -> list[str]:
    """Each context rendered by the template `source` in a child process (fewer when `cancelled`
    turns true); see the module doc."""
    mp = multiprocessing.get_context("spawn")  # never fork a process with other threads (the desk)
    receive, send = mp.Pipe(duplex=False)
    child = mp.Process(target=_child, args=(source, name, contexts, send, MEMORY_BYTES),
                       name="paperdesk-template", daemon=True)
    child.start()
    send.close()
    texts: list[str] = []
    try:
        waited_since, limit = time.monotonic(), START_SECONDS
        while len(texts) < len(contexts):
            if cancelled and cancelled():
                break  # the caller sees the cancel too, and plans only the files rendered
            if not receive.poll(0.1):
                if not child.is_alive() and not receive.poll(0):
                    raise TemplateProblem(f"template {name} stopped (it may have used more than "
                                          f"{MEMORY_BYTES // 1024**3} GB of memory)")
                if time.monotonic() - waited_since > limit:
                    raise TemplateProblem(f"template {name} took more than {SECONDS_PER_FILE:g} s for "
                                          f"one file (a loop without end?); nothing was written")
                continue
            try:
                kind, value = receive.recv()
            except EOFError:
                continue  # the child is gone: reported above on the next turn
            if kind == "error":
                raise TemplateProblem(f"template {name}: {value}")
            if kind == "text":
                texts.append(value)
            waited_since, limit = time.monotonic(), SECONDS_PER_FILE  # per file from "ready" on
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    return texts


def _child(source: str, name: str, contexts: list[dict], send: Connection, memory: int) -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ImportError, ValueError, OSError):  # Windows; or a hard limit already lower
        pass
    from paperdesk.core.export.templates import compile_template

    try:
        send.send(("ready", None))  # compiling counts as the first file's work (constant folding)
        template = compile_template(source, name)
        for context in contexts:
            text = template.render(**context)
            if len(text) > MAX_OUTPUT_CHARS:
                send.send(("error", f"writes more than {MAX_OUTPUT_CHARS // 1024**2} MB for one file; "
                                    f"nothing was written"))
                return
            send.send(("text", text if text.endswith("\n") else text + "\n"))
    except MemoryError:
        send.send(("error", f"used more than {memory // 1024**3} GB of memory; nothing was written"))
    except RecursionError:
        send.send(("error", "calls itself without end (too deep); nothing was written"))
    except TemplateProblem as exc:
        send.send(("error", str(exc)))
    except Exception as exc:  # a template error (jinja2.TemplateError and others): one line
        line = getattr(exc, "lineno", None)
        send.send(("error", f"{'line ' + str(line) + ': ' if line else ''}{exc}"))
    finally:
        send.close()
