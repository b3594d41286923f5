"""The texts of the cited sources, split into the sections a citation can name.

`pumpdx kb lint --sources DIR` reads each source of sources.yaml from DIR (the domain
notes from their own file) and cuts it into sections by the source's `layout`:

    numbered   a heading line, then a line holding only the section number ("5.1"), then
               the section's paragraphs, up to the next section's heading or `ends_at`.
               A section's text is its own paragraphs: 7.3 is not part of 7. A figure's
               caption is the text between its two marks "Fig. N" inside a paragraph
               ("...[5].Fig. 1. Intrathecal drug delivery system in situ...space.Fig. 1";
               a reference "(Fig. 1)" is no mark); captions are cut out of the section.
    anchored   each section starts at the line that begins with its `starts` words and
               runs to the next section's start (in file order) or `ends_at`.
    notes      the domain notes: `## heading` sections of `- ` entries (an entry goes
               on over indented lines); a quote must lie inside one entry, and an entry
               marked UNCONFIRMED can never be cited.

Text is compared after `normalise`: Unicode compatibility forms, typographic quotes and
dashes made plain, whitespace collapsed, case folded. Every input is hostile: a missing,
unreadable, oversized or non-UTF-8 file raises SourceTextError with one clear line.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .schema import SourceInfo

MAX_SOURCE_BYTES = 5_000_000

_PLAIN = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u00ad": "",
})
_SPACE = re.compile(r"\s+")
_NUMBER = re.compile(r"^\d+(?:\.\d+)*$")
_FIGURE_MARK = re.compile(r"(?<![(\w])Fig\.\s?(\d+)(?!\d)")
UNCONFIRMED = "UNCONFIRMED"


def normalise(text: str) -> str:
    """The form in which quotes and source texts are compared."""
    text = unicodedata.normalize("NFKC", text).translate(_PLAIN)
    return _SPACE.sub(" ", text).strip().casefold()


class SourceTextError(Exception):
    """A source text that cannot be read (one line naming the file and the problem)."""


@dataclass(frozen=True)
class Entry:
    """A piece of a section a quote must lie within (a whole review section, or one
    domain-notes entry), already normalised."""

    text: str
    unconfirmed: bool = False


@dataclass
class SourceText:
    """One source cut into its sections; `problems` are sections sources.yaml lists that
    the text does not have."""

    source: str
    path: str
    sections: dict[str, list[Entry]] = field(default_factory=dict)
    captions: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def find(self, quote: str, section: str | None, figure: str | None) -> Entry | None:
        """The entry of the cited place containing the quote, or None."""
        wanted = normalise(quote)
        if section is not None:
            for entry in self.sections.get(section, []):
                if wanted in entry.text:
                    return entry
        if figure is not None and wanted in self.captions.get(figure, "\0"):
            return Entry(self.captions[figure])
        return None


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError:
        raise SourceTextError(f"{path}: source text not found") from None
    if not path.is_file():
        raise SourceTextError(f"{path}: not a file")
    if size > MAX_SOURCE_BYTES:
        raise SourceTextError(f"{path}: larger than {MAX_SOURCE_BYTES} bytes; not a source text")
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise SourceTextError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise SourceTextError(f"{path}: cannot be read ({exc.strerror})") from None


def _starts_with(line: str, words: str) -> bool:
    """Whether a line (after any list bullet) begins with these words."""
    return normalise(line).lstrip("\u2022*- ").startswith(normalise(words))


def _end(lines: list[str], start: int, ends_at: str | None) -> int:
    if ends_at:
        for i in range(start, len(lines)):
            if _starts_with(lines[i], ends_at):
                return i
    return len(lines)


def split_numbered(lines: list[str], info: SourceInfo, out: SourceText) -> None:
    numbers = [i for i, line in enumerate(lines)
               if i > 0 and _NUMBER.match(line.strip()) and lines[i - 1].strip()]
    last = _end(lines, numbers[-1] if numbers else 0, info.ends_at)
    for k, i in enumerate(numbers):
        stop = numbers[k + 1] - 1 if k + 1 < len(numbers) else last
        section = lines[i].strip()
        if section in out.sections:
            out.problems.append(f"section {section} occurs twice in the text")
            continue
        text = cut_captions("\n".join(lines[i + 1:stop]), out.captions)
        out.sections[section] = [Entry(normalise(text))]


def cut_captions(text: str, captions: dict[str, str]) -> str:
    """The text without its figure captions, which go (normalised) into `captions`.

    A caption runs from a figure's first mark "Fig. N" to its second one; a mark
    without a partner is left in the text."""
    opened: dict[str, tuple[int, int]] = {}
    spans: list[tuple[int, int]] = []
    for m in _FIGURE_MARK.finditer(text):
        figure = m.group(1)
        if figure not in opened:
            opened[figure] = (m.start(), m.end())
            continue
        start, body = opened.pop(figure)
        caption = text[body:m.start()].strip(" .:*\n")
        captions.setdefault(figure, normalise(caption))
        spans.append((start, m.end()))
    kept, at = [], 0
    for start, end in sorted(spans):
        if start >= at:
            kept.append(text[at:start])
            at = end
    kept.append(text[at:])
    return " ".join(kept)


def split_anchored(lines: list[str], info: SourceInfo, out: SourceText) -> None:
    found: list[tuple[int, str]] = []
    for section, words in info.starts.items():
        at = next((i for i, line in enumerate(lines) if _starts_with(line.strip(), words)), None)
        if at is None:
            out.problems.append(f"section '{section}': no line starts with '{words}'")
        else:
            found.append((at, section))
    found.sort()
    for k, (at, section) in enumerate(found):
        stop = found[k + 1][0] if k + 1 < len(found) else _end(lines, at, info.ends_at)
        out.sections[section] = [Entry(normalise(" ".join(lines[at:stop])))]


def split_notes(lines: list[str], out: SourceText) -> None:
    section: str | None = None
    entry: list[str] = []

    def close() -> None:
        if section is not None and entry:
            text = " ".join(entry)
            out.sections.setdefault(section, []).append(
                Entry(normalise(text), text.lstrip("- ").startswith(UNCONFIRMED)))
        entry.clear()

    for line in lines:
        if line.startswith("## "):
            close()
            section = line[3:].strip()
        elif line.startswith("- "):
            close()
            entry.append(line)
        elif line.startswith((" ", "\t")) and line.strip() and entry:
            entry.append(line.strip())
        else:
            close()
    close()


def load_source(source: str, info: SourceInfo, path: Path) -> SourceText:
    """Read one source and cut it into sections; SourceTextError when it cannot be read."""
    lines = read_text(path).splitlines()
    out = SourceText(source, str(path))
    if info.layout == "numbered":
        split_numbered(lines, info, out)
    elif info.layout == "anchored":
        split_anchored(lines, info, out)
    else:
        split_notes(lines, out)
    for section in info.sections:
        if section not in out.sections and not any(f"'{section}'" in p for p in out.problems):
            out.problems.append(f"section '{section}' is not in the text")
    return out


def load_sources(sources: dict[str, SourceInfo], seeds: Path,
                 notes: Path | None) -> dict[str, SourceText]:
    """Every source of sources.yaml that has a text: files from the `seeds` folder, the
    domain notes (layout notes) from `notes` (default: seeds/../domain-notes.md)."""
    if not seeds.is_dir():
        raise SourceTextError(f"{seeds}: sources folder not found")
    texts: dict[str, SourceText] = {}
    for source, info in sorted(sources.items()):
        if info.layout == "notes":
            path = notes if notes is not None else seeds.parent / "domain-notes.md"
        elif info.file is not None:
            path = seeds / info.file
        else:
            texts[source] = SourceText(source, "?", problems=[
                "sources.yaml names no `file` for it; its quotes cannot be checked"])
            continue
        texts[source] = load_source(source, info, path)
    return texts
