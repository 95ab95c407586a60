"""BVH syntax: a strict, streaming reader of the HIERARCHY and the MOTION rows (no geometry).

The file is read line by line (lines longer than :data:`MAX_LINE_BYTES` are refused), tokens keep their
1-based line numbers, and every fault is a :class:`MocapError` naming the file and the line. Text is UTF-8;
a line that is not but reads as printable Latin-1 (joint names an exporter wrote in a Windows code page:
'Pescoço', 'Cabeça') is read so and counted in :attr:`LineReader.latin1_lines`; bytes that are neither
(control characters: binary data) are refused. The rows
of exactly the announced ``Frames:`` are converted in chunks of :data:`ROW_CHUNK_VALUES` values (the
first row at once, so garbage fails early); rows after them are counted, not kept. What the channels
mean (units, axes, rotations) is :mod:`sportsim.mocap.bvh`'s business.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from sportsim.errors import MocapError

MAX_LINE_BYTES = 4 << 20  # a longer line is not BVH text (the widest real rows are ~100 kB)
MIN_FRAME_TIME_S, MAX_FRAME_TIME_S = 1e-5, 10.0  # 100 kHz .. 0.1 Hz
MAX_EXTRA_ROWS_COUNTED = 100_000
CHANNELS = {f"{axis}{kind}": (kind, axis) for axis in "XYZ" for kind in ("position", "rotation")}
_CHANNELS_LOWER = {name.lower(): name for name in CHANNELS}
ROW_CHUNK_VALUES = 1 << 17  # values converted at a time (and the first row at once)
_CONTROL = set(map(chr, [*range(0x00, 0x09), *range(0x0E, 0x20), *range(0x7F, 0xA0)]))  # not text in any code page


@dataclass
class Joint:
    name: str
    parent: int
    line: int
    offset: np.ndarray  # (3,) file units
    channels: tuple[str, ...]  # canonical channel names, e.g. "Zrotation"
    first_column: int = 0


@dataclass
class Hierarchy:
    joints: list[Joint]
    end_sites: list[tuple[int, np.ndarray]]  # (joint index, offset)
    n_channels: int



# ---- text ---------------------------------------------------------------------------------
class LineReader:
    """The file's lines, decoded one at a time (bounded memory), with their 1-based numbers."""

    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self.handle, self.path = handle, path
        self.number = 0
        self.pending: list[str] = []  # further lines of a CR-only line ending
        self.latin1_lines: list[int] = []  # numbers of the lines read as Latin-1 (not UTF-8)

    def readline(self) -> str | None:
        if self.pending:
            self.number += 1
            return self.pending.pop(0)
        raw = self.handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return None
        self.number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise MocapError(f"{self.path}: line {self.number}: longer than {MAX_LINE_BYTES >> 20} MiB: not BVH text")
        if self.number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")  # UTF-8 byte-order mark
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("latin-1")
            if _CONTROL.intersection(text):
                raise MocapError(f"{self.path}: line {self.number}: not UTF-8 text (byte 0x{raw[exc.start]:02x})"
                                 " and not Latin-1 text either (control characters)") from exc
            self.latin1_lines.append(self.number)
        text = text.rstrip("\n").rstrip("\r")
        if "\r" in text:  # old Mac line ends: one physical line holds several
            first, *rest = text.split("\r")
            self.pending.extend(rest)
            return first
        return text


class Tokens:
    """Whitespace-separated tokens with their 1-based line numbers, read lazily line by line."""

    def __init__(self, lines: LineReader, path: Path) -> None:
        self.lines, self.path = lines, path
        self.tokens: list[str] = []
        self.k = 0
        self.seen = False

    @property
    def line(self) -> int:
        return self.lines.number

    def next(self, expected: str) -> str:
        while self.k >= len(self.tokens):
            text = self.lines.readline()
            if text is None:
                if not self.seen:
                    raise MocapError(f"{self.path}: line 1: empty file, expected a BVH 'HIERARCHY'")
                raise MocapError(f"{self.path}: line {self.line}: unexpected end of file, expected {expected}")
            self.tokens, self.k = text.split(), 0
        self.seen = True
        self.k += 1
        return self.tokens[self.k - 1]

    def expect(self, keyword: str, context: str) -> None:
        token = self.next(f"'{keyword}' {context}")
        if token.upper() != keyword.upper():
            raise self.error(f"expected '{keyword}' {context}, got {_show(token)}")

    def rest_of_line(self) -> list[str]:
        rest = self.tokens[self.k:]
        self.k = len(self.tokens)
        return rest

    def number(self, what: str) -> float:
        token = self.next(what)
        try:
            value = float(token)
        except ValueError:
            raise self.error(f"expected {what}, got {_show(token)}") from None
        if not math.isfinite(value):
            raise self.error(f"{what} is not finite ({token})")
        return value

    def end_of_header(self) -> None:
        """The rest of the current line (the Frame Time line) must be empty."""
        if self.k < len(self.tokens):
            raise self.error(f"unexpected {_show(self.tokens[self.k])} after the MOTION header")

    def error(self, message: str) -> MocapError:
        return MocapError(f"{self.path}: line {self.line}: {message}")


def _show(token: str) -> str:
    return repr(token if len(token) <= 40 else token[:40] + "...")


# ---- HIERARCHY -------------------------------------------------------------------------------
def parse_hierarchy(tokens: Tokens) -> Hierarchy:
    tokens.expect("HIERARCHY", "at the start of a BVH file")
    keyword = tokens.next("'ROOT'")
    if keyword.upper() != "ROOT":
        raise tokens.error(f"expected 'ROOT' after HIERARCHY, got {_show(keyword)}"
                           + (" (JOINT outside ROOT)" if keyword.upper() == "JOINT" else ""))
    joints: list[Joint] = []
    end_sites: list[tuple[int, np.ndarray]] = []
    seen: dict[str, int] = {}
    n_channels = 0
    stack: list[int] = []

    def open_joint(parent: int) -> None:
        nonlocal n_channels
        line = tokens.line
        words = tokens.rest_of_line()
        brace_on_line = bool(words) and words[-1] == "{"
        if brace_on_line:
            words = words[:-1]
        if not words:
            raise tokens.error("joint without a name")
        name = " ".join(words)
        if name in seen:
            raise tokens.error(f"duplicate joint name {name!r} (first defined on line {seen[name]})")
        seen[name] = line
        if not brace_on_line:
            tokens.expect("{", f"after joint {name!r}")
        tokens.expect("OFFSET", f"in joint {name!r}")
        offset = np.array([tokens.number(f"OFFSET value of joint {name!r}") for _ in range(3)])
        tokens.expect("CHANNELS", f"after the OFFSET of joint {name!r}")
        count_token = tokens.next("a channel count")
        if not (count_token.isascii() and count_token.isdigit()) or int(count_token) > 6:
            raise tokens.error(f"channel count of joint {name!r} must be 0-6, got {_show(count_token)}")
        channels = []
        for _ in range(int(count_token)):
            token = tokens.next(f"a channel name of joint {name!r}")
            channel = _CHANNELS_LOWER.get(token.lower())
            if channel is None:
                raise tokens.error(f"unknown channel {_show(token)} in joint {name!r} "
                                   f"(CHANNELS {count_token} lists fewer names, or a name is misspelt)")
            if channel in channels:
                raise tokens.error(f"channel {channel} listed twice in joint {name!r}")
            channels.append(channel)
        joints.append(Joint(name, parent, line, offset, tuple(channels), n_channels))
        n_channels += len(channels)
        stack.append(len(joints) - 1)

    open_joint(-1)
    while stack:
        current = joints[stack[-1]]
        token = tokens.next(f"JOINT, End Site or '}}' in joint {current.name!r}")
        upper = token.upper()
        if upper == "JOINT":
            open_joint(stack[-1])
        elif upper == "END":
            # "End Site", and what exporters write instead on that line ("End Site4", "End Site Head_end",
            # Blender rigs' "End l_toes_End_dup"): the words after End only name the end site
            words = tokens.rest_of_line()
            if not words:  # "End" alone on its line: "Site" on the next
                tokens.expect("Site", "after 'End'")
                words = ["Site"]
            if words == ["{"]:
                raise tokens.error("expected 'Site' after 'End', got '{'")
            if words[-1] != "{":
                tokens.expect("{", "after 'End Site'")
            tokens.expect("OFFSET", "in End Site")
            offset = np.array([tokens.number(f"End Site OFFSET value of joint {current.name!r}") for _ in range(3)])
            tokens.expect("}", "closing the End Site")
            end_sites.append((stack[-1], offset))
        elif token == "}":
            stack.pop()
        else:
            raise tokens.error(f"expected JOINT, End Site or '}}' in joint {current.name!r} (opened on line "
                               f"{current.line}), got {_show(token)}"
                               + (": unbalanced braces" if upper in ("MOTION", "ROOT") else ""))
    return Hierarchy(joints, end_sites, n_channels)


# ---- MOTION ----------------------------------------------------------------------------------
def parse_motion_header(tokens: Tokens) -> tuple[int, int, float]:
    token = tokens.next("'MOTION'")
    if token.upper() != "MOTION":
        hint = " (a second ROOT is not supported)" if token.upper() == "ROOT" else ""
        hint = hint or (" (JOINT outside ROOT, or unbalanced braces)" if token.upper() in ("JOINT", "}") else "")
        raise tokens.error(f"expected 'MOTION' after the hierarchy, got {_show(token)}{hint}")
    count_token = _header_value(tokens, "Frames:")
    frames_line = tokens.line
    if not (count_token.isdigit() and count_token.isascii()):
        raise tokens.error(f"'Frames:' must be a non-negative integer, got {_show(count_token)}")
    n_frames = int(count_token)
    if n_frames == 0:
        raise tokens.error("'Frames: 0': the file holds no motion")
    tokens.expect("Frame", "after the Frames: line")
    frame_time = _header_value(tokens, "Time:")
    try:
        frame_time_s = float(frame_time)
    except ValueError:
        raise tokens.error(f"'Frame Time:' must be a number, got {_show(frame_time)}") from None
    if not (math.isfinite(frame_time_s) and frame_time_s > 0):
        raise tokens.error(f"'Frame Time:' must be a positive number of seconds, got {frame_time}")
    if not MIN_FRAME_TIME_S <= frame_time_s <= MAX_FRAME_TIME_S:
        raise tokens.error(f"'Frame Time: {frame_time}' s is not a capture rate (allowed {MIN_FRAME_TIME_S:g} to "
                           f"{MAX_FRAME_TIME_S:g} s per frame)")
    return n_frames, frames_line, frame_time_s


def _header_value(tokens: Tokens, label: str) -> str:
    """The value after ``label`` (``Frames: 12``, also written ``Frames:12``)."""
    token = tokens.next(f"'{label}'")
    if not token.upper().startswith(label.upper()):
        raise tokens.error(f"expected '{label}', got {_show(token)}")
    return token[len(label):] or tokens.next(f"a value after '{label}'")


def parse_rows(lines: LineReader, n_frames: int, frames_line: int, n_channels: int,
                path: Path) -> tuple[np.ndarray, str]:
    """(T, C) channel values of the announced frames, streamed; checks every row's width and value and
    names the line of any fault. Also a note on rows after the announced ones ('' if none)."""
    blocks: list[np.ndarray] = []
    words: list[str] = []
    row_lines: list[int] = []
    rows, extra, first_extra, last = 0, 0, 0, frames_line
    while True:
        text = lines.readline()
        if text is None:
            break
        row = text.split()
        if not row:
            continue
        if rows == n_frames:
            extra += 1
            first_extra = first_extra or lines.number
            if extra >= MAX_EXTRA_ROWS_COUNTED:
                break
            continue
        if len(row) != n_channels:
            raise MocapError(f"{path}: line {lines.number}: expected {n_channels} values, got {len(row)}")
        words.extend(row)
        row_lines.append(lines.number)
        rows, last = rows + 1, lines.number
        if len(words) >= ROW_CHUNK_VALUES or rows == 1:  # the first row at once: garbage fails early
            blocks.append(_to_numbers(words, row_lines, n_channels, path))
            words, row_lines = [], []
    if rows < n_frames:
        raise MocapError(f"{path}: line {last}: file ends after {rows} motion rows but 'Frames: "
                         f"{n_frames}' (line {frames_line}) announces {n_frames}: truncated file?")
    if row_lines:
        blocks.append(_to_numbers(words, row_lines, n_channels, path))
    values = np.concatenate(blocks) if blocks else np.zeros((n_frames, 0))
    note = ""
    if extra:
        more = "at least " if extra >= MAX_EXTRA_ROWS_COUNTED else ""
        note = (f"{more}{extra} motion rows after the {n_frames} announced by 'Frames:' (line {frames_line}) were "
                f"ignored (from line {first_extra})")
    return values, note


def _to_numbers(words: list[str], row_lines: list[int], n_channels: int, path: Path) -> np.ndarray:
    try:
        values = np.array(words, dtype=np.float64)
    except ValueError:
        for row, line in enumerate(row_lines):
            for column, word in enumerate(words[row * n_channels:(row + 1) * n_channels]):
                try:
                    float(word)
                except ValueError:
                    raise MocapError(f"{path}: line {line}: value {column + 1} is not a number: "
                                     f"{_show(word)}") from None
        raise
    values = values.reshape(len(row_lines), n_channels)
    bad = ~np.isfinite(values)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise MocapError(f"{path}: line {row_lines[row]}: value {column + 1} is not finite "
                         f"({words[row * n_channels + column]})")
    return values


__all__ = ["CHANNELS", "Hierarchy", "Joint", "LineReader", "Tokens", "parse_hierarchy", "parse_motion_header",
           "parse_rows"]
