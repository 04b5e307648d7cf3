"""The camel, lerch and space tokenizers (notes §2.1) and their stevedore plugins."""
import pytest

from crashgate.bucketing.tokenizers import UnknownTokenizer, camel, installed_tokenizers, lerch, load_tokenizer, space

# input, camel, lerch, space (None: unchanged) - the table of notes §2.1
EXAMPLES = [
    ("call MooseX::FTPClass2_beta", ["call", "Moose", "X", "FTP", "Class", "2", "beta"],
     ["call", "moosex", "ftpclass2_beta"], ["call", "MooseX::FTPClass2_beta"]),
    ("QCommonStyle::drawControl", ["Q", "Common", "Style", "draw", "Control"],
     ["qcommonstyle", "drawcontrol"], None),
    ("g_main_context_dispatch", ["g", "main", "context", "dispatch"], ["g_main_context_dispatch"], None),
    ("/usr/lib/libQtGui.so.4", ["usr", "lib", "lib", "Qt", "Gui", "so", "4"], ["libqtgui"], None),
    ("0x0804cbd3", ["0", "x", "0804", "cbd", "3"], ["0x0804cbd3"], None),
    ("nbd-server.c:1546", ["nbd", "server", "c", "1546"], ["server", "1546"], None),
]


@pytest.mark.parametrize("text, camel_tokens, lerch_tokens, space_tokens", EXAMPLES)
def test_notes_table(text, camel_tokens, lerch_tokens, space_tokens):
    assert camel(text) == camel_tokens
    assert lerch(text) == lerch_tokens
    assert space(text) == (space_tokens or [text])


def test_doctest_examples_and_edges():
    assert lerch("a little bit of tea") == ["little"]
    assert camel("") == [] and lerch("") == [] and space("   ") == []
    assert camel("::") == []
    assert camel("ÜberKlasse::método") == ["Über", "Klasse", "método"]  # \p{L} is Unicode
    assert lerch("x" * 2001) == [] and lerch("x" * 2000) == ["x" * 2000]


def test_camel_preserves_case_and_splits_acronym_end():
    assert camel("XMLHttpRequest") == ["XML", "Http", "Request"]
    assert camel("nsIFrame") == ["ns", "I", "Frame"]


def test_plugins_are_installed():
    plugins = installed_tokenizers()
    assert {"camel", "lerch", "space"} <= set(plugins)
    assert load_tokenizer("camel") is camel
    assert load_tokenizer("lerch") is lerch and load_tokenizer("space") is space


def test_unknown_tokenizer_lists_installed_names():
    with pytest.raises(UnknownTokenizer, match=r"'nope'.*camel, lerch, space"):
        load_tokenizer("nope")
