"""Parser for DevStack's local.conf meta-sections.

DevStack (inc/meta-config) splits local.conf at headers ``[[group|file]]``: the
``[[local|localrc]]`` section is copied to .localrc.auto and sourced by stackrc as
bash; ``[[post-config|$FILE]]`` sections are INI fragments merged into ``$FILE`` with
iniset after the services are configured. Lines before the first header belong to no
section: DevStack ignores them (``get_meta_section`` prints only inside a group).

The localrc section is parsed as the shell statements DevStack actually uses:
``NAME=value``, ``NAME+=value`` (appends text literally), and the service functions
``enable_service``, ``disable_service``, ``disable_all_services``. An assignment
followed by unquoted whitespace is, to bash, a temporary assignment prefixed to a
command (``ENABLED_SERVICES+= q-agt`` runs the command ``q-agt``): the variable keeps its
old value. Such lines are kept as ``Statement(kind="prefixed-command")``.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from tenantfusion.dvr.errors import LocalConfError

HEADER = re.compile(r"^\[\[([^|\]]+)\|([^\]]*)\]\]")
ASSIGN = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(\+?=)(.*)$")
INI_SECTION = re.compile(r"^\[([^\]]+)\]")
VAR_REF = re.compile(
    r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?=+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)

StatementKind = Literal["assign", "append", "prefixed-command", "command"]


@dataclass(frozen=True)
class Line:
    """One source line (1-based number, text without newline)."""

    number: int
    text: str


@dataclass(frozen=True)
class Statement:
    """One localrc shell statement."""

    kind: StatementKind
    line: Line
    name: str = ""  # variable (assign/append/prefixed-command) or function (command)
    value: str = ""  # raw value text after = or +=, unquoted
    args: tuple[str, ...] = ()  # command words (command, prefixed-command)
    quoted: bool = False


@dataclass(frozen=True)
class IniEntry:
    """One ``key = value`` of a post-config fragment."""

    target: str  # the file spec as written, e.g. /$Q_PLUGIN_CONF_FILE
    section: str
    key: str
    value: str
    line: Line


@dataclass(frozen=True)
class MetaSection:
    """A ``[[group|file]]`` section and its lines."""

    group: str
    target: str
    header: Line
    lines: tuple[Line, ...]


@dataclass
class LocalConf:
    """A parsed local.conf."""

    path: str
    sections: list[MetaSection] = field(default_factory=list)
    preamble: list[Line] = field(default_factory=list)  # lines outside any section: ignored

    def localrc(self) -> list[Statement]:
        """Statements of every ``[[local|localrc]]`` section, in order."""
        out: list[Statement] = []
        for section in self.sections:
            if section.group == "local" and section.target == "localrc":
                out.extend(parse_statements(section.lines))
        return out

    def post_config(self) -> list[IniEntry]:
        """INI entries of every ``[[post-config|file]]`` section, in order."""
        out: list[IniEntry] = []
        for section in self.sections:
            if section.group == "post-config":
                out.extend(parse_ini(section))
        return out


def parse_text(*, text: str, path: str = "local.conf") -> LocalConf:
    """Split local.conf text into meta-sections (inc/meta-config get_meta_section)."""
    conf = LocalConf(path=path)
    current: tuple[str, str, Line] | None = None
    body: list[Line] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = Line(number, raw)
        match = HEADER.match(raw)
        if match:
            if current is not None:
                conf.sections.append(MetaSection(current[0], current[1], current[2], tuple(body)))
            current, body = (match.group(1).strip(), match.group(2).strip(), line), []
        elif current is None:
            conf.preamble.append(line)
        else:
            body.append(line)
    if current is not None:
        conf.sections.append(MetaSection(current[0], current[1], current[2], tuple(body)))
    return conf


def parse_file(*, path: Path) -> LocalConf:
    """Read and parse a local.conf file; raises LocalConfError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LocalConfError(f"{path}: cannot read: {e}") from e
    return parse_text(text=text, path=str(path))


def _logical_lines(lines: tuple[Line, ...] | list[Line]) -> list[Line]:
    """Join backslash continuations; drop blank and comment lines."""
    out: list[Line] = []
    pending: Line | None = None
    for line in lines:
        text = line.text
        if pending is not None:
            text = pending.text + text
            line = Line(pending.number, text)
            pending = None
        if text.endswith("\\") and not text.endswith("\\\\"):
            pending = Line(line.number, text[:-1])
            continue
        stripped = text.strip()
        if not stripped or stripped.startswith("#"):
            continue
        out.append(line)
    if pending is not None and pending.text.strip():
        out.append(pending)
    return out


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text, comments=True, posix=True)
    except ValueError:
        return text.split()


def parse_statements(lines: tuple[Line, ...] | list[Line]) -> list[Statement]:
    """Parse localrc lines into statements (see module docstring)."""
    out: list[Statement] = []
    for line in _logical_lines(lines):
        text = line.text.strip()
        match = ASSIGN.match(text)
        if match:
            name, op, rest = match.groups()
            kind: StatementKind = "append" if op == "+=" else "assign"
            if rest[:1].isspace():
                words = _split(rest)
                out.append(Statement("prefixed-command", line, name, "", tuple(words)))
                continue
            words = _split(rest)
            if len(words) > 1:
                out.append(Statement("prefixed-command", line, name, words[0], tuple(words[1:])))
                continue
            value = words[0] if words else ""
            out.append(Statement(kind, line, name, value, (), quoted=rest[:1] in "'\""))
            continue
        words = _split(text)
        if words:
            out.append(Statement("command", line, words[0], "", tuple(words[1:])))
    return out


def parse_ini(section: MetaSection) -> list[IniEntry]:
    """Parse a post-config fragment the way merge_config_file's awk does."""
    out: list[IniEntry] = []
    current = ""
    for line in section.lines:
        text = line.text
        match = INI_SECTION.match(text)
        if match:
            current = match.group(1)
            continue
        if re.match(r"^ *#", text) or not re.match(r"^[^ \t]+", text):
            continue
        if "=" not in text:
            continue
        key, value = text.split("=", 1)
        out.append(IniEntry(section.target, current, key.rstrip(), value.strip(), line))
    return out


def expand(value: str, variables: dict[str, str]) -> str:
    """Expand ``$NAME``, ``${NAME}`` and ``${NAME:-default}`` from known variables.

    Unknown references (e.g. ``${DEVSTACK_ADMIN_PASSWORD:?...}``) are left as written.
    """

    def repl(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(4)
        op, arg = match.group(2), match.group(3)
        if name in variables and variables[name] != "":
            return variables[name]
        if op in (":-", "-"):
            return arg or ""
        return match.group(0)

    return VAR_REF.sub(repl, value)


@dataclass(frozen=True)
class ShellCommand:
    """One command of a post-install script (a simple command, split into words)."""

    line: Line
    words: tuple[str, ...]
    guarded: bool  # preceded by a test (``cmd || ...``, ``if ...``, ``&&`` chain)


def parse_script(*, text: str) -> list[ShellCommand]:
    """Split a shell script into simple commands (``;``, ``&&``, ``||`` separate them).

    A leading ``$ `` prompt (as in copied documentation) and ``sudo`` are removed.
    """
    out: list[ShellCommand] = []
    numbered = [Line(i, t) for i, t in enumerate(text.splitlines(), start=1)]
    for line in _logical_lines(numbered):
        text_line = re.sub(r"^\s*\$\s+", "", line.text)
        parts = re.split(r"(\|\||&&|;)", text_line)
        guarded = bool(re.match(r"^\s*(if|while|until)\b", text_line))
        for i in range(0, len(parts), 2):
            words = _split(parts[i])
            if words and words[0] in ("if", "then", "while", "until", "!"):
                words = words[1:]
            if words and words[0] in ("fi", "done", "else"):
                continue
            while words and words[0] == "sudo":
                words = words[1:]
            if not words:
                continue
            after = parts[i + 1] if i + 1 < len(parts) else ""
            before = parts[i - 1] if i > 0 else ""
            chained = after in ("||", "&&") or before in ("||", "&&")
            out.append(ShellCommand(line, tuple(words), guarded or chained))
    return out
