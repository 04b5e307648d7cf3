"""Tokenizers of PartyCrasher (notes §2.1), each a stevedore plugin of ``crashgate.tokenizers``.

A tokenizer is a function ``text -> list of str``. Java-regex semantics are kept where the
originals were Elasticsearch pattern analyzers: ``\\d``/``\\W`` are ASCII-only, ``\\p{L}`` is Unicode.
"""
import regex
from stevedore import ExtensionManager

NAMESPACE = "crashgate.tokenizers"

# Splits on non-alphanumeric runs, digit boundaries, lower->Upper and the end of an acronym.
_CAMEL = regex.compile(
    r"[^\p{L}0-9]+|(?<=[^0-9])(?=[0-9])|(?<=[0-9])(?=[^0-9])"
    r"|(?<=[\p{L}&&[^\p{Lu}]])(?=\p{Lu})|(?<=\p{Lu})(?=\p{Lu}[\p{L}&&[^\p{Lu}]])",
    regex.VERSION1)
_NON_WORD = regex.compile(r"[^A-Za-z0-9_]+")  # Java's \W
LERCH_MIN, LERCH_MAX = 4, 2000


def camel(text):
    """CamelCase identifier tokens, case preserved: ``'FTPClass2_beta'`` -> FTP, Class, 2, beta."""
    tokens, start = [], 0
    for match in _CAMEL.finditer(text):
        if match.start() > start:
            tokens.append(text[start:match.start()])
        start = match.end()
    if start < len(text):
        tokens.append(text[start:])
    return tokens


def lerch(text):
    """Lerch & Mezini: split on ``\\W+``, lowercase, keep tokens of 4 to 2000 characters."""
    return [token for token in _NON_WORD.split(text.lower()) if LERCH_MIN <= len(token) <= LERCH_MAX]


def space(text):
    """Whitespace-separated tokens."""
    return text.split()


class UnknownTokenizer(LookupError):
    """No tokenizer plugin of that name is installed."""


def installed_tokenizers():
    """{name: function} of every installed ``crashgate.tokenizers`` plugin."""
    return {extension.name: extension.plugin for extension in ExtensionManager(NAMESPACE)}


def load_tokenizer(name):
    """The tokenizer function registered as ``name``; UnknownTokenizer lists the installed ones."""
    plugins = installed_tokenizers()
    try:
        return plugins[name]
    except KeyError:
        raise UnknownTokenizer(f"unknown tokenizer {name!r}; installed: "
                               f"{', '.join(sorted(plugins)) or 'none'}") from None
