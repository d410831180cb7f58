"""A small tokenizer of Windows .cmd lines and certreq INF lines, for structural tests.

Not a full cmd parser: enough to tell what a line of the generated installer *is*: a comment,
a label, or commands joined by operators (& && || |), with redirections and parenthesised
blocks, in words that keep their double-quoted parts. A value that escaped its quotes or its
echo would add a token, an operator or a line; the skeleton of a script (its lines with the
text that values may fill blanked) is then no longer the one of a plain render.

cmd's rules followed here (the parsing phases as documented by Microsoft and described in
"How does the Windows Command Interpreter (CMD.EXE) parse scripts?"): a double quote toggles
quoting, and inside quotes nothing is special; ^ escapes the next character, and a ^ at the
end of a line joins the next one (even in a rem); ( opens a block where a command starts, ) closes
one only inside a block; < > >> and n> redirect; % and ! (delayed expansion) expand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPERATORS = ("&&", "||", "&", "|")
# Characters that a value must never bring into a line: cmd reads CR, NUL and Ctrl-Z
# specially, and a text editor or another reader breaks lines at the Unicode separators.
CONTROL = re.compile("[\r\x00\x1a\x0b\x0c\x85\u2028\u2029]")
EXPANDING = "%!^"


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "op" (& && || |), "redirect" (< > >> 2> ...), "open", "close"
    text: str


@dataclass(frozen=True)
class Line:
    kind: str  # "blank", "rem", "label", "commands"
    text: str
    tokens: tuple[Token, ...] = ()
    continued: bool = False  # ends in an unescaped ^: cmd joins the next line to it


def tokenize(script: str) -> list[Line]:
    """The lines of a .cmd file (CRLF or LF) as cmd reads them."""
    lines = script.split("\r\n") if "\r\n" in script else script.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    depth = 0
    parsed = []
    for text in lines:
        line, depth = tokenize_line(text, depth)
        parsed.append(line)
    return parsed


def tokenize_line(text: str, depth: int = 0) -> tuple[Line, int]:
    stripped = text.lstrip(" \t@")
    continued = _ends_in_caret(text)
    if not stripped:
        return Line("blank", text, continued=continued), depth
    if stripped.startswith(":"):
        return Line("label", text, (Token("word", stripped.split()[0]),), continued), depth
    if re.match(r"(?i)rem(\s|$)", stripped):
        return Line("rem", text, continued=continued), depth
    tokens: list[Token] = []
    word = ""
    command_start = True  # where a ( opens a block
    position = 0

    def flush() -> None:
        nonlocal word
        if word:
            tokens.append(Token("word", word))
            word = ""

    while position < len(stripped):
        char = stripped[position]
        if char == '"':
            end = stripped.find('"', position + 1)
            end = len(stripped) if end < 0 else end + 1
            word += stripped[position:end]
            position = end
            command_start = False
            continue
        if char == "^":
            word += stripped[position : position + 2]
            position += 2
            command_start = False
            continue
        if char in " \t":
            flush()
            if tokens and tokens[-1].kind == "word" and _opens_block_after(tokens):
                command_start = True
            position += 1
            continue
        operator = next((op for op in OPERATORS if stripped.startswith(op, position)), None)
        if operator:
            flush()
            tokens.append(Token("op", operator))
            position += len(operator)
            command_start = True
            continue
        if char in "<>":
            handle = word if word.isdigit() and len(word) == 1 else ""
            if handle:
                word = ""
            flush()
            redirect = handle + (">>" if stripped.startswith(">>", position) else char)
            position += len(redirect) - len(handle)
            if (
                stripped.startswith("&", position)
                and stripped[position + 1 : position + 2].isdigit()
            ):
                redirect += stripped[position : position + 2]
                position += 2
            tokens.append(Token("redirect", redirect))
            continue
        if char == "(" and not word and command_start:
            tokens.append(Token("open", "("))
            depth += 1
            position += 1
            continue
        if char == ")" and depth > 0:
            flush()
            tokens.append(Token("close", ")"))
            depth -= 1
            position += 1
            continue
        word += char
        command_start = False
        position += 1
    flush()
    return Line("commands", text, tuple(tokens), continued), depth


def _opens_block_after(tokens: list[Token]) -> bool:
    """After `if <condition>`, `do` or `else` a ( opens a block (cmd's IF/FOR/ELSE syntax)."""
    words = []
    for token in reversed(tokens):
        if token.kind != "word":
            break
        words.append(token.text.lower())
    words.reverse()
    if not words:
        return True
    if words[-1] in {"do", "else"}:
        return True
    if words[0] != "if":
        return False
    condition = words[1:]
    if condition[:1] == ["/i"]:
        condition = condition[1:]
    if condition[:1] == ["not"]:
        condition = condition[1:]
    if condition[:1] in (["errorlevel"], ["exist"], ["defined"]):
        return len(condition) == 2
    if len(condition) == 3 and condition[1] in {"equ", "neq", "lss", "leq", "gtr", "geq"}:
        return True
    return len(condition) == 1 and "==" in condition[0]


def _ends_in_caret(text: str) -> bool:
    carets = len(text) - len(text.rstrip("^"))
    return carets % 2 == 1


def _shape(text: str) -> str:
    """A stand-in for text a value may fill: only what would still act in it is kept."""
    acting = sorted({char for char in text if char in EXPANDING})
    controls = sorted({repr(char) for char in CONTROL.findall(text)})
    quotes = f'"{text.count(chr(34))}' if '"' in text else ""  # they toggle cmd's quoting
    return "…" + "".join(acting) + "".join(controls) + quotes


def _set_shape(word: str) -> str:
    """``"NAME=VALUE"``: set takes VALUE up to the last quote and drops what follows it."""
    name, _, rest = word[1:].partition("=")
    last = rest.rfind('"')
    if last < 0:
        return f'"{name}={_shape(rest)}'  # no closing quote
    value, after = rest[:last], rest[last + 1 :]
    return f'"{name}={_shape(value)}"' + (f"+{_shape(after)}" if after else "")


def skeleton(script: str) -> list[tuple[str, ...]]:
    """Each line as its kind and tokens, with the text of echo, set "…=…" and rem blanked."""
    result = []
    for line in tokenize(script):
        marks: tuple[str, ...] = ("^…",) if line.continued else ()
        if CONTROL.search(line.text):
            marks += (_shape(line.text),)
        if line.kind in {"blank", "rem"}:
            result.append((line.kind, *marks))
            continue
        if line.kind == "label":
            result.append(("label", line.tokens[0].text, *marks))
            continue
        shaped: list[str] = []
        echo_text: list[str] | None = None  # the words of an echo, up to its end
        previous = ""
        for token in line.tokens:
            if token.kind == "word" and echo_text is not None:
                echo_text.append(token.text)
                continue
            if echo_text is not None:
                shaped.append(_shape(" ".join(echo_text)))
                echo_text = None
            if token.kind != "word":
                shaped.append(token.text)
                previous = ""
                continue
            if previous == "set" and token.text.startswith('"') and "=" in token.text:
                shaped.append(_set_shape(token.text))
            else:
                shaped.append(token.text)
                if token.text.lower() == "echo":
                    echo_text = []
            previous = token.text.lower()
        if echo_text is not None:
            shaped.append(_shape(" ".join(echo_text)))
        result.append(("commands", *shaped, *marks))
    return result


def echoed(script: str, target: str) -> list[str]:
    r"""The text that lines ``>> "TARGET" echo TEXT`` write, in order (TARGET e.g. %WORK%\x)."""
    prefix = f'>> "{target}" echo '
    return [line[len(prefix) :] for line in script.split("\r\n") if line.startswith(prefix)]


def assigned(script: str, name: str) -> str:
    """The value of the script's one ``set "NAME=value"``, as cmd sets it."""
    prefix = f'set "{name}='
    values = [line[len(prefix) : -1] for line in script.split("\r\n") if line.startswith(prefix)]
    assert len(values) == 1, values
    return values[0]


def inf_skeleton(lines: list[str]) -> list[tuple[str, ...]]:
    """certreq INF lines as sections and key = value, each quoted string blanked to "…"."""
    result: list[tuple[str, ...]] = []
    for line in lines:
        if re.fullmatch(r"\[[A-Za-z]+\]", line):
            result.append(("section", line))
            continue
        key, equals, value = line.partition("=")
        if not equals:
            result.append(("text", _shape(line)))
            continue
        # A quoted string ends at a quote not doubled ("" is a quote inside it).
        parts = re.findall(r'"(?:[^"]|"")*"|"|[^"\s]+|\s+', value.strip())
        shaped = tuple('"…"' if part.startswith('"') else part for part in parts)
        result.append(
            ("key", key.strip(), "=", *shaped, *(_shape(value),) * bool(CONTROL.search(value)))
        )
    return result
