r"""Text normalisation shared by every detector: one definition of a "token".

Canonical definition (both tokenizers below implement exactly this):

1. HTML character references are unescaped once (`html.unescape`: ``&nbsp;``, ``&amp;``,
   ``&#8203;``, ``&#x41;``), as scraped web text often carries them.
2. Default-ignorable characters are removed: soft hyphen, zero-width space / joiners, word joiner,
   BOM, bidi controls, variation selectors (``inte\u00adger`` is ``integer``).
3. Unicode NFKC (full-width forms, ligatures, super/subscripts, math alphanumerics).
4. Homoglyphs: a non-ASCII letter or digit that Unicode's confusables table (via the
   `confusable-homoglyphs` package) lists as confusable with one ASCII letter or digit of the same
   kind is replaced by it (Cyrillic ``а`` -> ``a``, Greek ``Ο`` -> ``o``).
5. Lower-case. Every non-ASCII character that is not a word character (``\w``) becomes a space;
   so do ASCII punctuation, symbols, ``_`` and whitespace.
6. A token is a maximal run of ASCII digits, or a maximal run of "letters" (``a-z`` and any
   non-ASCII word character). ``x2`` is two tokens, ``x`` and ``2``; ``17_b`` is ``17``, ``b``.
7. A letter run directly after a backslash is a LaTeX control word (``\\frac``, ``\\left``) and is
   dropped, so ``\\frac{1}{2}``, ``1/2`` and ``1 / 2`` all normalise to ``1 2``.

ASCII text without ``&`` skips steps 1-4 (they are the identity there).
`tokenize_with_offsets` keeps character offsets into the ORIGINAL text (used for evidence);
`vt_eval.decontam.hashing` implements the same rules on numpy byte arrays for the hot path.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from vt_eval.errors import ConfigError

DESCRIPTION = ("html.unescape once; default-ignorable characters removed (soft hyphen, zero-width, "
               "bidi controls, variation selectors); NFKC; non-ASCII letters/digits confusable with one "
               "ASCII letter/digit folded to it (Unicode confusables, confusable-homoglyphs); lower-case; "
               "tokens are runs of ASCII digits or of letters; LaTeX control words dropped")

_NON_ASCII_NON_WORD = re.compile(r"[^\x00-\x7f\w]")
# group 1: a control word (dropped); group 2: letters; group 3: digits
_TOKEN_RE = re.compile(r"(\\(?:[a-z]|[^\x00-\x7f\W])+)|((?:[a-z]|[^\x00-\x7f\W])+)|([0-9]+)")
# the character references html.unescape replaces (same pattern as the stdlib's)
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
# Unicode Default_Ignorable_Code_Point (invisible: never part of what a reader sees)
_IGNORABLE = ("\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
              "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
              "\U000e0000-\U000e0fff")
_IGNORABLE_RE = re.compile(f"[{_IGNORABLE}]")


def _kind(char: str) -> str | None:
    category = unicodedata.category(char)
    return "letter" if category[0] == "L" else "digit" if category == "Nd" else None


@cache
def confusables_table() -> dict[int, str]:
    """str.translate table: non-ASCII letter/digit -> the one lower-case ASCII letter/digit of the
    same kind it is confusable with. An upper-case look-alike of ``l`` is a capital ``I``."""
    try:
        table_file = resources.files("confusable_homoglyphs").joinpath("confusables.json")
        raw = table_file.read_text(encoding="utf-8")
    except (ModuleNotFoundError, OSError) as exc:
        raise ConfigError(f"the homoglyph table of the decontamination normaliser is missing ({exc}); "
                          f"install it: pip install confusable-homoglyphs==3.3.1") from exc
    table: dict[int, str] = {}
    for source, entries in json.loads(raw).items():
        if len(source) != 1 or source.isascii() or _kind(source) is None:
            continue
        targets = sorted({e["c"].lower() for e in entries if len(e["c"]) == 1 and e["c"].isascii()
                          and _kind(e["c"]) == _kind(source)})
        if len(targets) == 1:
            target = targets[0]
            table[ord(source)] = "i" if target == "l" and source.isupper() else target
    return table


def _fold_non_ascii(text: str) -> str:
    """Steps 2-5 on a whole string."""
    text = unicodedata.normalize("NFKC", _IGNORABLE_RE.sub("", text))
    return _NON_ASCII_NON_WORD.sub(" ", text.translate(confusables_table()).lower())


def prepare(text: str) -> str:
    """Steps 1-5 on a whole string: the form the numpy tokenizer reads (as UTF-8 bytes)."""
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():
        return text.lower()
    return _fold_non_ascii(text)


@dataclass(frozen=True)
class Tokens:
    """Tokens of one text with their [start, end) character offsets in the original text."""

    words: tuple[str, ...]
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.words)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original character offsets covering tokens first..last (inclusive)."""
        return self.starts[first], self.ends[last]


def _unescape_with_map(text: str) -> tuple[str, list[int]]:
    """Step 1, with the original offset of every output character."""
    pieces: list[str] = []
    origin: list[int] = []
    done = 0
    for match in _CHARREF.finditer(text):
        start = match.start()
        pieces.append(text[done:start])
        origin.extend(range(done, start))
        replacement = html.unescape(match.group())
        pieces.append(replacement)
        origin.extend([start] * len(replacement))
        done = match.end()
    pieces.append(text[done:])
    origin.extend(range(done, len(text)))
    return "".join(pieces), origin


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Steps 1-5 per character cluster, with the original offset of every output character."""
    text, source = _unescape_with_map(text) if "&" in text else (text, list(range(len(text))))
    if _IGNORABLE_RE.search(text):
        kept = [k for k, char in enumerate(text) if not _IGNORABLE_RE.match(char)]
        text, source = "".join(text[k] for k in kept), [source[k] for k in kept]
    table = confusables_table()
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        folded = unicodedata.normalize("NFKC", text[i:j]).translate(table).lower()
        piece = _NON_ASCII_NON_WORD.sub(" ", folded)
        out.append(piece)
        origin.extend([source[i]] * len(piece))
        i = j
    return "".join(out), origin


def tokenize_with_offsets(text: str) -> Tokens:
    """Canonical tokens of `text`, each with its span in `text` itself."""
    if text.isascii() and "&" not in text:
        norm, origin = text.lower(), None
    else:
        norm, mapping = _normalise_with_map(text)
        origin = mapping + [len(text)]
    words: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for match in _TOKEN_RE.finditer(norm):
        if match.group(1) is not None:
            continue
        start, end = match.span()
        words.append(match.group())
        if origin is None:
            starts.append(start)
            ends.append(end)
        else:
            starts.append(origin[start])
            ends.append(_original_end(origin, end, len(text)))
    return Tokens(tuple(words), tuple(starts), tuple(ends))


def _original_end(origin: list[int], end: int, text_len: int) -> int:
    """End offset in the original text of a normalised span ending before index `end`."""
    last_src = origin[end - 1]
    nxt = end
    while nxt < len(origin) - 1 and origin[nxt] == last_src:
        nxt += 1
    return origin[nxt] if origin[nxt] != last_src else text_len


def tokenize(text: str) -> list[str]:
    """Canonical tokens only (no offsets)."""
    return [m.group() for m in _TOKEN_RE.finditer(prepare(text)) if m.group(1) is None]
