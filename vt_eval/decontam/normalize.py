r"""Text normalisation shared by every detector: one definition of a "token".

Canonical definition (both tokenizers below implement exactly this):

1. HTML character references are unescaped once (`html.unescape`: ``&nbsp;``, ``&amp;``,
   ``&#8203;``, ``&#x41;``), as scraped web text often carries them.
2. Default-ignorable characters are removed: soft hyphen, zero-width space / joiners, word joiner,
   BOM, bidi controls, variation selectors (``inte\u00adger`` is ``integer``). Invisible fillers
   that stand in for a space (Hangul fillers U+115F, U+1160, U+3164, U+FFA0, braille blank
   U+2800, Mongolian vowel separator U+180E, musical null notehead U+1D159) become spaces.
3. Unicode NFKD, then every combining mark (categories Mn, Mc, Me) removed, then NFC: full-width
   forms, ligatures, super/subscripts and math alphanumerics fold as under NFKC, and a mark after
   a letter (``c\u0327a\u0301``, ``é``) disappears instead of splitting the word.
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
from functools import cache, lru_cache
from importlib import resources

from vt_eval.errors import ConfigError

DESCRIPTION = ("html.unescape once; default-ignorable characters removed (soft hyphen, zero-width, "
               "bidi controls, variation selectors); invisible space fillers (Hangul fillers, braille "
               "blank) as spaces; NFKD, combining marks removed, NFC; non-ASCII letters/digits "
               "confusable with one ASCII letter/digit folded to it (Unicode confusables, "
               "confusable-homoglyphs); lower-case; tokens are runs of ASCII digits or of letters; "
               "LaTeX control words dropped")

_NON_ASCII_NON_WORD = re.compile(r"[^\x00-\x7f\w]")
# group 1: a control word (dropped); group 2: letters; group 3: digits
_TOKEN_RE = re.compile(r"(\\(?:[a-z]|[^\x00-\x7f\W])+)|((?:[a-z]|[^\x00-\x7f\W])+)|([0-9]+)")
# the character references html.unescape replaces (same pattern as the stdlib's)
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)")
# Unicode Default_Ignorable_Code_Point (invisible: never part of what a reader sees)
_IGNORABLE = ("\u00ad\u034f\u061c\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
              "\u2060-\u206f\ufe00-\ufe0f\ufeff\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
              "\U000e0000-\U000e0fff")
_IGNORABLE_RE = re.compile(f"[{_IGNORABLE}]")
_VECTOR_MIN = 2000  # characters from which `tokenize_with_offsets` uses numpy for plain ASCII
# invisible characters that stand in for a space between words (a copy may use them as spaces)
_FILLERS = "\u115f\u1160\u180e\u2800\u3164\uffa0\U0001d159"
_FILLER_TABLE = dict.fromkeys(map(ord, _FILLERS), " ")
_FILLER_RE = re.compile(f"[{_FILLERS}]")
# Hangul vowel and final jamo: NFC joins them to the jamo before, so they belong to its cluster
_CONJOINING = re.compile("[\u1161-\u11ff\ud7b0-\ud7ff]")


@cache
def _marks() -> re.Pattern[str]:
    """Every combining mark (Unicode categories Mn, Mc, Me), as one character class."""
    ranges: list[tuple[int, int]] = []
    for code in (*range(0x300, 0x20000), *range(0xE0000, 0xE1000)):  # the planes that hold marks
        if unicodedata.category(chr(code))[0] == "M":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    body = "".join(f"\\U{a:08x}" if a == b else f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[{body}]")


def _fold_forms(text: str) -> str:
    """Step 3: compatibility forms folded, combining marks removed, the rest recomposed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFC", _marks().sub("", decomposed))


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
    text = _fold_forms(_IGNORABLE_RE.sub("", text.translate(_FILLER_TABLE)))
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
    if _FILLER_RE.search(text):
        text = text.translate(_FILLER_TABLE)
    if _IGNORABLE_RE.search(text):
        kept = [k for k, char in enumerate(text) if not _IGNORABLE_RE.match(char)]
        text, source = "".join(text[k] for k in kept), [source[k] for k in kept]
    marks = _marks()
    out: list[str] = []
    origin: list[int] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and (marks.match(text, j) or _CONJOINING.match(text, j)):
            j += 1
        cluster = text[i:j]
        piece = cluster.lower() if cluster.isascii() else _fold_cluster(cluster)
        out.append(piece)
        origin.extend([source[i]] * len(piece))
        i = j
    return "".join(out), origin


@lru_cache(maxsize=1 << 16)
def _fold_cluster(cluster: str) -> str:
    """Steps 3-5 on one character with its combining marks (clusters repeat: cached)."""
    folded = _fold_forms(cluster).translate(confusables_table()).lower()
    return _NON_ASCII_NON_WORD.sub(" ", folded)


def tokenize_with_offsets(text: str) -> Tokens:
    """Canonical tokens of `text`, each with its span in `text` itself."""
    if text.isascii() and "&" not in text:
        if len(text) > _VECTOR_MIN:  # long plain text: the numpy tokenizer (same tokens, faster)
            from vt_eval.decontam.hashing import token_arrays

            norm = text.lower()
            arrays = token_arrays(norm.encode("ascii"))
            starts, ends = arrays.starts.tolist(), arrays.ends.tolist()
            return Tokens(tuple(norm[s:e] for s, e in zip(starts, ends)), tuple(starts), tuple(ends))
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
