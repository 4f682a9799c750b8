"""Key maps are data: every binding names a command, nothing collides, overrides are checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from paperdesk.core.keymap import COMMANDS, DEFAULT_KEYMAP, MODES, conflicts, load_keymap, normalize_keys


def test_every_default_binding_names_a_command():
    for mode, table in DEFAULT_KEYMAP.items():
        assert mode in MODES
        for keys, command in table.items():
            assert command in COMMANDS, (mode, keys)
            assert normalize_keys(keys) == keys, keys


@pytest.mark.parametrize("mode", MODES)
def test_no_two_default_bindings_collide(mode):
    assert conflicts(DEFAULT_KEYMAP[mode]) == []


def test_insert_mode_binds_no_printable_single_keys():
    assert all(not (len(k) == 1 and k.isprintable()) for k in DEFAULT_KEYMAP["insert"])


def test_issue_defaults_are_present():
    normal = DEFAULT_KEYMAP["normal"]
    expected = {"j": "next", "k": "previous", "g g": "first", "G": "last", "s": "star", "t": "tag",
                "n": "note", "h": "highlight", "e": "archive-next", "u": "undo", "Ctrl+R": "redo",
                "o": "open", "y": "copy-link", "/": "search", "g i": "go-inbox", "g s": "go-starred",
                "g a": "go-archive", "x": "mark", "Esc": "normal-mode", "?": "cheat-sheet",
                ":": "palette", "Ctrl+Shift+P": "palette", "1": "tag-1", "9": "tag-9"}
    assert {k: normal[k] for k in expected} == expected


def test_user_overrides_with_clear_problems(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text(
        '[normal]\n"d" = "archive-next"\n"e" = ""\n"ctrl+k" = "star"\n"q" = "explode"\n'
        '"g" = "go-all"\n[insert]\n"a" = "star"\n[visual]\n"v" = "star"\n', encoding="utf-8")
    keymap = load_keymap(path)
    normal = keymap.for_mode("normal")
    assert normal["d"] == "archive-next" and "e" not in normal and normal["Ctrl+K"] == "star"
    assert "q" not in normal and normal.get("g") is None  # rejected; defaults unharmed
    assert normal["g i"] == "go-inbox"
    text = "\n".join(keymap.problems)
    assert "unknown command 'explode'" in text
    assert "'g' (go-all) hides 'g a'" in text
    assert "single characters are text in insert mode" in text
    assert "unknown mode [visual]" in text
    assert conflicts(normal) == []


def test_unreadable_keys_file_keeps_defaults(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text("[normal\n", encoding="utf-8")
    keymap = load_keymap(path)
    assert keymap.for_mode("normal") == DEFAULT_KEYMAP["normal"]
    assert "cannot be read" in keymap.problems[0]


def test_keys_cli_json(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "paperdesk", "keys", "--json"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert {"mode": "normal", "keys": "s", "command": "star",
            "description": COMMANDS["star"].description} in rows
    assert len(rows) == sum(len(t) for t in DEFAULT_KEYMAP.values())


def test_readme_cheat_sheet_is_generated_from_the_keymap():
    from pathlib import Path

    from paperdesk.core.keymap import cheat_sheet_markdown

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- keys:begin -->\n", 1)[1].split("\n<!-- keys:end -->", 1)[0]
    assert block == cheat_sheet_markdown(load_keymap(None)), "run: paperdesk keys --markdown"
