"""A parser for the practical subset of SOQL that integrations use.

    SELECT field, ... | COUNT()  FROM object
    [WHERE cond]  [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT n] [OFFSET n]

Conditions combine comparisons (``= != <> < <= > >= LIKE IN NOT IN``) with AND, OR,
NOT and parentheses. Literals: 'strings' (backslash escapes), numbers, true/false,
null, date-times (``2024-01-01T00:00:00Z``, unquoted), dates (``2024-01-01``) and the
date literals TODAY, YESTERDAY, TOMORROW, LAST_N_DAYS:n and NEXT_N_DAYS:n. Syntax
errors raise MALFORMED_QUERY with Salesforce's row/column pointer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from crmsync.sandbox.salesforce.dates import date_range
from crmsync.sandbox.salesforce.errors import ApiError, malformed_query
from crmsync.sandbox.salesforce.values import parse_datetime

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<>|<=|>=|=|<|>)
    | (?P<punct>[(),])
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*(?::\d+)?)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "ORDER",
    "BY",
    "LIMIT",
    "OFFSET",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
}
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    '"': '"',
    "'": "'",
    "\\": "\\",
    "_": "\\_",
    "%": "\\%",
}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


@dataclass(frozen=True)
class FieldRef:
    """A field name as written, with its position for error pointers."""

    name: str
    pos: int


@dataclass(frozen=True)
class Literal:
    """A typed value. Date literals (TODAY ...) are half-open [start, end) ranges."""

    kind: str  # string | number | boolean | null | datetime | date | range
    value: Any
    pos: int


@dataclass(frozen=True)
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >= LIKE IN NOT IN
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True)
class Junction:
    op: str  # AND | OR
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class Negation:
    part: Condition


Condition = Comparison | Junction | Negation


@dataclass(frozen=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(frozen=True)
class Query:
    """A parsed SELECT statement."""

    text: str
    fields: tuple[FieldRef, ...]
    count: bool
    sobject: FieldRef
    where: Condition | None
    order: tuple[OrderItem, ...]
    limit: int | None
    offset: int | None
    # child relationship sub-queries of the select list: (SELECT ... FROM Contacts)
    children: tuple[Query, ...] = ()


def tokenize(text: str) -> list[Token]:
    """Split SOQL into tokens; words that are keywords become kind ``kw``."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.lastgroup is None:
            if text[pos:].strip() == "":
                break
            raise _syntax(text, pos, text[pos:].split()[0])
        kind = match.lastgroup
        value = match.group(kind)
        start = match.start(kind)
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "kw", value.upper()
        tokens.append(Token(kind, value, start))
        pos = match.end()
    return tokens


def parse(text: str, today: date | None = None) -> Query:
    """Parse `text` into a `Query` (MALFORMED_QUERY on syntax errors)."""
    return _Parser(text, tokenize(text), today or datetime.now(UTC).date()).query()


class _Parser:
    def __init__(self, text: str, tokens: list[Token], today: date) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.today = today

    def query(self) -> Query:
        statement = self.statement(nested=False)
        if self.peek() is not None:
            self.fail()
        return statement

    def statement(self, nested: bool) -> Query:
        self.expect_kw("SELECT")
        count, fields, children = self.select_list(nested)
        self.expect_kw("FROM")
        sobject = self.field_ref()
        where = self.condition() if self.accept_kw("WHERE") else None
        order: tuple[OrderItem, ...] = ()
        if self.accept_kw("ORDER"):
            self.expect_kw("BY")
            order = self.order_list()
        limit = self.integer() if self.accept_kw("LIMIT") else None
        offset = None if nested or not self.accept_kw("OFFSET") else self.integer()
        return Query(self.text, fields, count, sobject, where, order, limit, offset, children)

    # ---- clauses -------------------------------------------------------------------

    def select_list(self, nested: bool) -> tuple[bool, tuple[FieldRef, ...], tuple[Query, ...]]:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text.upper() == "COUNT":
            self.index += 1
            self.expect_punct("(")
            self.expect_punct(")")
            return True, (), ()
        fields: list[FieldRef] = []
        children: list[Query] = []
        while True:
            start = self.peek()
            if not nested and self.accept_punct("("):
                children.append(self.statement(nested=True))
                self.expect_punct(")")
            elif start is not None and start.kind == "punct" and start.text == "(":
                self.fail()  # sub-queries nest one level only
            else:
                fields.append(self.field_ref())
            if not self.accept_punct(","):
                return False, tuple(fields), tuple(children)

    def order_list(self) -> tuple[OrderItem, ...]:
        items = []
        while True:
            ref = self.field_ref()
            descending = self.accept_kw("DESC")
            if not descending:
                self.accept_kw("ASC")
            nulls_last = descending
            if self.accept_kw("NULLS"):
                nulls_last = self.accept_kw("LAST")
                if not nulls_last:
                    self.expect_kw("FIRST")
            items.append(OrderItem(ref, descending, nulls_last))
            if not self.accept_punct(","):
                return tuple(items)

    def condition(self) -> Condition:
        parts = [self.conjunction()]
        while self.accept_kw("OR"):
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else Junction("OR", tuple(parts))

    def conjunction(self) -> Condition:
        parts = [self.unary()]
        while self.accept_kw("AND"):
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else Junction("AND", tuple(parts))

    def unary(self) -> Condition:
        if self.accept_kw("NOT"):
            return Negation(self.unary())
        if self.accept_punct("("):
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        ref = self.field_ref()
        token = self.next()
        if token.kind == "op":
            op = "!=" if token.text == "<>" else token.text
            return Comparison(ref, op, self.literal())
        if token.kind == "kw" and token.text == "LIKE":
            return Comparison(ref, "LIKE", self.literal())
        if token.kind == "kw" and token.text == "NOT":
            self.expect_kw("IN")
            return Comparison(ref, "NOT IN", self.literal_list())
        if token.kind == "kw" and token.text == "IN":
            return Comparison(ref, "IN", self.literal_list())
        raise self.error_at(token)

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        items = [self.literal()]
        while self.accept_punct(","):
            items.append(self.literal())
        self.expect_punct(")")
        return tuple(items)

    def literal(self) -> Literal:
        token = self.next()
        try:
            return self._literal(token)
        except (ValueError, OverflowError):
            # Impossible dates and out-of-range numbers are malformed, not crashes.
            raise self.error_at(token) from None

    def _literal(self, token: Token) -> Literal:
        kind, text, pos = token.kind, token.text, token.pos
        if kind == "string":
            return Literal("string", _unescape(text[1:-1]), pos)
        if kind == "number":
            return Literal("number", float(text) if "." in text else int(text), pos)
        if kind == "datetime":
            return Literal("datetime", parse_datetime(text), pos)
        if kind == "date":
            return Literal("date", date.fromisoformat(text), pos)
        if kind == "word":
            word = text.upper()
            if word in ("TRUE", "FALSE"):
                return Literal("boolean", word == "TRUE", pos)
            if word == "NULL":
                return Literal("null", None, pos)
            span = date_range(word, self.today)
            if span is not None:
                return Literal("range", span, pos)
        raise self.error_at(token)

    def field_ref(self) -> FieldRef:
        token = self.next()
        if token.kind != "word":
            raise self.error_at(token)
        return FieldRef(token.text, token.pos)

    def integer(self) -> int:
        token = self.next()
        if token.kind != "number" or not token.text.isdigit():
            raise self.error_at(token)
        return int(token.text)

    # ---- token helpers -------------------------------------------------------------

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def next(self) -> Token:
        token = self.peek()
        if token is None:
            raise malformed_query(
                f"\n{self.text}\n{' ' * len(self.text)}^\n"
                f"ERROR at Row:1:Column:{len(self.text) + 1}\n"
                "unexpected token: <EOF>"
            )
        self.index += 1
        return token

    def accept_kw(self, word: str) -> bool:
        return self.accept("kw", word)

    def expect_kw(self, word: str) -> None:
        if not self.accept("kw", word):
            self.fail()

    def accept_punct(self, char: str) -> bool:
        return self.accept("punct", char)

    def expect_punct(self, char: str) -> None:
        if not self.accept("punct", char):
            self.fail()

    def accept(self, kind: str, text: str) -> bool:
        """Consume the next token if it is `kind` with `text`."""
        token = self.peek()
        if token is not None and token.kind == kind and token.text == text:
            self.index += 1
            return True
        return False

    def fail(self) -> None:
        raise self.error_at(self.next())

    def error_at(self, token: Token) -> ApiError:
        return _syntax(self.text, token.pos, token.text)


def pointer(text: str, pos: int, message: str) -> str:
    """Salesforce's error text: the query, a caret under `pos`, row/column, message."""
    return f"\n{text}\n{' ' * pos}^\nERROR at Row:1:Column:{pos + 1}\n{message}"


def _syntax(text: str, pos: int, token: str) -> ApiError:
    return malformed_query(pointer(text, pos, f"unexpected token: '{token}'"))


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)
