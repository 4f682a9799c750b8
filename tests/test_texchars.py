"""TeX accent escapes in titles and abstracts become the letters they mean (core, Qt-free)."""

from __future__ import annotations

import pytest

from paperdesk.core.texchars import tex_to_unicode


@pytest.mark.parametrize(("tex", "text"), [
    ('Schr\\"odinger', "Schrödinger"),
    ("caf\\'e", "café"),
    ("Espa\\~na", "España"),
    ("{\\\"u}ber", "über"),
    ("\\'{n}", "ń"),
    ("na\\\"{\\i}ve", "naïve"),
    ("Erd\\H{o}s", "Erdős"),
    ("\\c{c}a va", "ça va"),
    ("\\v{S}koda", "Škoda"),
    ("Stra{\\ss}e", "Straße"),
    ("\\o{}re", "øre"),
    ("re\\`ele", "reèle"),
])
def test_accents(tex, text):
    assert tex_to_unicode(tex) == text


@pytest.mark.parametrize("kept", ["\\cite{x}", "100\\%", "$\\Re z$", "\\alpha", "a \\ b", "plain"])
def test_other_commands_are_kept(kept):
    assert tex_to_unicode(kept) == kept


def test_search_snippets_get_letters_and_stay_escaped():
    from paperdesk.core.reader_html import snippet_text

    assert snippet_text("<b>Schr</b>\\&quot;odinger &lt;x&gt;") == "<b>Schr</b>ödinger &lt;x&gt;"
