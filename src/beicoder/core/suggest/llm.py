"""The local-LLM suggester: a second opinion from a language model on the researcher's own
machine or network, with every quote checked against the passage.

It talks to any OpenAI-compatible chat endpoint (Ollama, llama.cpp's server, vLLM, LM Studio)
through the official ``openai`` client with ``base_url`` (the optional extra ``[llm]``), one
non-streaming chat completion per passage, and asks for a reply in the JSON schema of
:func:`response_format`::

    {"codes": [{"code": "ACH", "level": 3, "evidence": ["verbatim quote", ...], "reason": "..."}]}

**Private by default.** :func:`check_endpoint` accepts only hosts whose every address is
loopback or in a private network (10/8, 172.16/12, 192.168/16, 100.64/10, link-local, IPv6
ULA) unless ``allow_remote``; proxies from the environment are not used for such hosts. The
first time a study sends to a host, :func:`first_use_notice` says what is sent and where.

**The prompt** (:class:`Prompt`): a system message with the instructions (code only the
interviewee's own reported behaviour; negated or hypothetical statements, opinions and what
others did do not count; quote verbatim) and every code's definition and level indicators in
the transcript's language (:func:`detect_language`: zh-Hans, zh-Hant or English); a user
message with the coder's own decided passages most similar to this one and the dictionary's
example passages most similar to it (TF-IDF over character 2- and 3-grams of the folded texts,
cosine similarity; the passage itself is never its own example), the interviewer's question
and the passage.

**Verification** (:func:`verify_reply`): a code not in the dictionary, a level that is not an
integer within the code's range, and a quote not found in the passage after folding script
(OpenCC), width (NFKC) and case and ignoring punctuation and spaces are dropped and counted; a
code left without any verified quote is dropped too. Quotes become spans ``{"start", "end",
"matched", "quote", "keyword": "", "token": "", "source": "llm"}`` relative to the passage, like
the lexicon's evidence. A code's score is the share of its quotes that were verified.

**Never in the way.** Requests run in daemon threads, at most ``concurrency`` at a time, each
with a timeout; a timeout, a lost connection, HTTP 408/409/429 or 5xx is retried ``retries``
times with exponential backoff, a malformed reply once (with a reminder of the format); then
the passage is recorded as failed (a rerun asks again). A refused request (another HTTP 4xx:
an unknown model, say) or a server that cannot be reached at all stops the run with an
:class:`LlmError`. Well-formed replies are cached in the study per (model, prompt version and
language, dictionary hash, passage text), so a rerun sends nothing.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import queue
import re
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from .. import BeicoderError

PROMPT_VERSION = "1"
LANGUAGES = ("zh-Hans", "zh-Hant", "en")
MIN_QUOTE = 2  # letters or digits a quote needs, folded, to count as evidence
MAX_REASON = 500  # characters of the model's reason kept
CONFIG_ENV = "BEICODER_CONFIG"

# Networks whose hosts may receive passages without --allow-remote: loopback, RFC 1918,
# shared address space (RFC 6598: carrier-grade NAT, and the mesh VPNs that use it), link-local,
# IPv6 unique-local and link-local.
PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16",
    "::1/128", "fc00::/7", "fe80::/10"))


class LlmError(BeicoderError):
    """The LLM suggester cannot run: a bad URL or config, a remote host without
    ``allow_remote``, the ``openai`` package missing, a server that refuses the requests or
    cannot be reached. One line."""


class MalformedReply(ValueError):
    """A reply that is not the JSON object of :func:`response_format`; the message says how."""


def llm_source(model: str) -> str:
    """The ``source`` under which a model's suggestions are stored: ``llm:<model>``."""
    return f"llm:{model}"


# -- the endpoint ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """A checked endpoint: ``url`` the client's base URL (``.../v1``), ``host`` ``name:port`` as
    shown and stored, ``addresses`` what the name resolves to, ``private`` True when every one
    of them is loopback or in a private network."""

    url: str
    host: str
    addresses: tuple[str, ...]
    private: bool

    @property
    def chat_url(self) -> str:
        return f"{self.url}/chat/completions"


def is_private_address(address: str) -> bool:
    """True for a loopback or private-network IP address (see ``PRIVATE_NETWORKS``); an IPv4
    address mapped into IPv6 counts as itself."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == net.version and ip in net for net in PRIVATE_NETWORKS)


def _resolve(hostname: str, port: int) -> tuple[str, ...]:
    try:
        return (str(ipaddress.ip_address(hostname.split("%", 1)[0])),)
    except ValueError:
        pass
    if hostname.lower() == "localhost" or hostname.lower().endswith(".localhost"):
        return ("127.0.0.1", "::1")
    infos = socket.getaddrinfo(hostname, port, type=socket.SOCK_STREAM)
    return tuple(dict.fromkeys(info[4][0] for info in infos))


def check_endpoint(url: str, allow_remote: bool = False) -> Endpoint:
    """Check the endpoint ``url`` (``http(s)://host[:port][/path]``; no path means ``/v1``,
    where Ollama and llama.cpp's server answer) and say where it is.

    Raises:
        LlmError: not an http(s) URL with a host, a bad port, a name that does not resolve, or
            (unless ``allow_remote``) a host with an address that is neither loopback nor in a
            private network.
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LlmError(f"{text or '(empty)'}: not an http(s) URL; give the server's address, "
                       "e.g. http://127.0.0.1:11434/v1")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise LlmError(f"{text}: bad port") from None
    hostname = parts.hostname
    path = parts.path.rstrip("/") or "/v1"
    base = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    shown = f"[{hostname}]:{port}" if ":" in hostname else f"{hostname}:{port}"
    try:
        addresses = _resolve(hostname, port)
    except OSError as exc:
        if not allow_remote:
            raise LlmError(f"{text}: cannot resolve {hostname} ({exc.strerror or exc}); "
                           "passages go only to this machine or the local network") from None
        addresses = ()
    private = bool(addresses) and all(is_private_address(a) for a in addresses)
    if not private and not allow_remote:
        raise LlmError(f"{text}: {hostname} ({', '.join(addresses)}) is not this machine or a private network; "
                       "interview passages are sent only to loopback or private-network hosts unless you give "
                       "--allow-remote")
    return Endpoint(base, shown, addresses, private)


# -- the configuration ----------------------------------------------------------------------------
@dataclass(frozen=True)
class LlmConfig:
    """Where and how to ask: ``url`` and ``model`` (as the server names it); ``allow_remote``
    lets passages go to a host outside the private networks; ``timeout`` seconds per request;
    at most ``concurrency`` requests at once; ``retries`` after a timeout, lost connection or
    server error, the first after ``backoff`` seconds and each next one twice as long;
    ``api_key`` the bearer token (local servers ignore it; the environment's OPENAI_API_KEY is
    never sent); ``coder_examples`` and ``dictionary_examples``: how many similar passages of
    each kind the prompt shows."""

    url: str
    model: str
    allow_remote: bool = False
    timeout: float = 120.0
    concurrency: int = 2
    retries: int = 2
    backoff: float = 1.0
    api_key: str = ""
    coder_examples: int = 3
    dictionary_examples: int = 3

    def __post_init__(self):
        if not isinstance(self.model, str) or not self.model.strip():
            raise LlmError("the LLM's model name is empty (give --llm-model NAME)")
        if not isinstance(self.url, str) or not self.url.strip():
            raise LlmError("the LLM's URL is empty")
        for name in ("timeout", "backoff"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or \
                    (name == "timeout" and value == 0):
                raise LlmError(f"the LLM's {name} must be a positive number of seconds, not {value!r}")
        for name in ("concurrency", "retries", "coder_examples", "dictionary_examples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < (1 if name == "concurrency" else 0):
                raise LlmError(f"the LLM's {name} must be a whole number "
                               f"{'of at least 1' if name == 'concurrency' else '(0 or more)'}, not {value!r}")

    @property
    def source(self) -> str:
        return llm_source(self.model)


def config_path() -> Path:
    """The config file the TUI reads: ``$BEICODER_CONFIG`` when set, else
    ``$XDG_CONFIG_HOME/beicoder/config.toml`` (``~/.config/beicoder/config.toml``)."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "beicoder" / "config.toml"


def load_config(path: str | Path | None = None) -> LlmConfig | None:
    """The ``[llm]`` table of the TOML config file (default :func:`config_path`), e.g.::

        [llm]
        url = "http://127.0.0.1:11434/v1"
        model = "qwen2.5:7b-instruct"
        # allow_remote = false, timeout = 120, concurrency = 2, retries = 2, backoff = 1.0

    Returns None when the file does not exist or has no ``[llm]`` table (nothing configured).

    Raises:
        LlmError: the file cannot be read or is not TOML, ``[llm]`` is not a table, lacks url
            or model, has an unknown key or a value of the wrong kind; the file is named.
    """
    import tomllib

    path = Path(path) if path is not None else config_path()
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LlmError(f"{path}: cannot read ({exc.strerror})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LlmError(f"{path}: not a TOML file ({exc})") from None
    table = data.get("llm")
    if table is None:
        return None
    if not isinstance(table, dict):
        raise LlmError(f"{path}: [llm] must be a table")
    known = {f.name for f in fields(LlmConfig)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise LlmError(f"{path}: [llm] has unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    missing = [k for k in ("url", "model") if not table.get(k)]
    if missing:
        raise LlmError(f"{path}: [llm] needs {' and '.join(missing)}")
    if "allow_remote" in table and not isinstance(table["allow_remote"], bool):
        raise LlmError(f"{path}: [llm] allow_remote must be true or false")
    try:
        return LlmConfig(**table)
    except LlmError as exc:
        raise LlmError(f"{path}: {exc}") from None


# -- language -------------------------------------------------------------------------------------
@lru_cache(maxsize=2)
def _opencc(config: str):
    import opencc

    return opencc.OpenCC(config)


def detect_language(text: str) -> str:
    """"zh-Hans", "zh-Hant" or "en" for ``text``: English when it has fewer Han characters
    than words of other scripts; otherwise Traditional when more of its Han characters change
    under OpenCC's Traditional-to-Simplified conversion than under Simplified-to-Traditional."""
    from ..textutil import HAN_RE, WORD_RE

    han = Counter(HAN_RE.findall(text))
    if not han or sum(han.values()) < len(WORD_RE.findall(text)):
        return "en"
    t2s, s2t = _opencc("t2s"), _opencc("s2t")
    traditional = sum(n for ch, n in han.items() if t2s.convert(ch) != ch)
    simplified = sum(n for ch, n in han.items() if s2t.convert(ch) != ch)
    return "zh-Hant" if traditional > simplified else "zh-Hans"


def _in_language(language: str, zh: str, en: str) -> str:
    """A dictionary text in ``language``: the English one for "en" (the Chinese when there is
    none), else the Chinese one (converted to Traditional for "zh-Hant")."""
    if language == "en":
        return en or zh
    if not zh:
        return en
    return _opencc("s2t").convert(zh) if language == "zh-Hant" else zh


# -- quotes ---------------------------------------------------------------------------------------
def _skeleton(text: str) -> tuple[str, list[int]]:
    """The letters and digits of ``text`` folded (script, width, case) and the offset in
    ``text`` of each."""
    from .lexicon import fold

    folded = fold(text)
    kept = [(ch, i) for i, ch in enumerate(folded) if ch.isalnum()]
    return "".join(ch for ch, _ in kept), [i for _, i in kept]


def locate_quote(quote: str, passage: str) -> tuple[int, int] | None:
    """Where ``quote`` is in ``passage``: (start, end) offsets into the passage, from the first
    letter or digit of the first occurrence to the last, comparing both folded (Traditional to
    Simplified, full-width to ASCII, lower case) without punctuation or spaces. None when it is
    not there or has fewer than ``MIN_QUOTE`` letters and digits."""
    if not isinstance(quote, str):
        return None
    needle, _ = _skeleton(quote)
    if len(needle) < MIN_QUOTE:
        return None
    hay, where = _skeleton(passage)
    at = hay.find(needle)
    if at < 0:
        return None
    return where[at], where[at + len(needle) - 1] + 1


# -- the reply ------------------------------------------------------------------------------------
def response_format(dictionary) -> dict:
    """The ``response_format`` of every request: a JSON schema for ``{"codes": [{"code",
    "level", "evidence", "reason"}]}`` with the dictionary's codes as the only allowed codes."""
    item = {"type": "object",
            "properties": {"code": {"type": "string", "enum": list(dictionary.codes)},
                           "level": {"type": "integer"},
                           "evidence": {"type": "array", "items": {"type": "string"}},
                           "reason": {"type": "string"}},
            "required": ["code", "level", "evidence", "reason"], "additionalProperties": False}
    schema = {"type": "object", "properties": {"codes": {"type": "array", "items": item}},
              "required": ["codes"], "additionalProperties": False}
    return {"type": "json_schema", "json_schema": {"name": "bei_codes", "strict": True, "schema": schema}}


_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


def parse_reply(content) -> list[dict]:
    """The entries of a reply's ``codes`` list (a Markdown code fence around the JSON is
    tolerated).

    Raises:
        MalformedReply: empty, not JSON, not an object with a ``codes`` list, or an entry that
            is not an object.
    """
    if not isinstance(content, str) or not content.strip():
        raise MalformedReply("empty reply")
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise MalformedReply(f"not JSON ({getattr(exc, 'msg', exc)})") from None
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list):
        raise MalformedReply('not an object {"codes": [...]}')
    if not all(isinstance(entry, dict) for entry in data["codes"]):
        raise MalformedReply("an entry of codes is not an object")
    return data["codes"]


def _as_level(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


@dataclass
class Verified:
    """What survived verification: ``rows`` (dicts with code, score, level, evidence spans,
    reason; dictionary order of the reply) and ``dropped`` (counts by reason:
    ``unknown_code``, ``level_out_of_range``, ``quote_not_in_passage``, ``no_evidence``)."""

    rows: list[dict]
    dropped: Counter


def verify_reply(content, passage: str, dictionary) -> Verified:
    """Check a reply against the passage and the dictionary (see the module docstring): a
    code is kept with the quotes found in ``passage``, as spans relative to it.

    Raises:
        MalformedReply: the reply is not the JSON of :func:`response_format` (see
            :func:`parse_reply`).
    """
    entries = parse_reply(content)
    comps = {c.code: c for c in dictionary.competencies}
    upper = {c.upper(): c for c in comps}
    dropped: Counter = Counter()
    kept: dict[str, dict] = {}
    for entry in entries:
        raw = entry.get("code")
        code = upper.get(raw.strip().upper()) if isinstance(raw, str) else None
        if code is None:
            dropped["unknown_code"] += 1
            continue
        comp = comps[code]
        level = _as_level(entry.get("level"))
        if level is None or not comp.min_level <= level <= comp.max_level:
            dropped["level_out_of_range"] += 1
            continue
        quotes = entry.get("evidence")
        quotes = [quotes] if isinstance(quotes, str) else quotes if isinstance(quotes, list) else []
        row = kept.get(code) or {"code": code, "level": level, "evidence": [], "given": 0, "found": 0,
                                 "reason": str(entry.get("reason") or "").strip()[:MAX_REASON]}
        for quote in quotes:
            row["given"] += 1
            span = locate_quote(quote, passage)
            if span is None:
                dropped["quote_not_in_passage"] += 1
                continue
            row["found"] += 1
            if all((e["start"], e["end"]) != span for e in row["evidence"]):
                row["evidence"].append({"start": span[0], "end": span[1], "keyword": "",
                                        "matched": passage[span[0]:span[1]], "token": "", "quote": quote,
                                        "source": "llm"})
        if not row["evidence"]:
            if code not in kept:
                dropped["no_evidence"] += 1
            continue
        kept[code] = row
    rows = []
    for row in kept.values():
        found, given = row.pop("found"), row.pop("given")
        row["score"] = round(found / given, 4)
        row["evidence"].sort(key=lambda e: e["start"])
        rows.append(row)
    return Verified(rows, dropped)


# -- the prompt -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Example:
    """A coded passage the prompt may show: ``text``, ``codes`` (code -> level or None),
    ``kind`` "coder" (the coder's own decision) or "dictionary" (the coding manual), and
    ``passage_id`` for a study passage (so a passage is never its own example)."""

    text: str
    codes: tuple[tuple[str, int | None], ...]
    kind: str
    passage_id: int | None = None


@dataclass
class Item:
    """One passage to code: ``key`` (a passage id, or a gold id), ``text``, the interviewer's
    ``question`` ('' when none), its ``language`` and the study ``passage_id`` if any."""

    key: object
    text: str
    question: str = ""
    language: str = "zh-Hans"
    passage_id: int | None = None


def _fold_key(text: str) -> str:
    skeleton, _ = _skeleton(text)
    return skeleton


class ExamplePool:
    """The coded passages a prompt may show, searched by similarity (TF-IDF over character 2-
    and 3-grams of the folded texts, cosine). Built once per run."""

    def __init__(self, examples: Sequence[Example]):
        self.examples = list(examples)
        self._vectorizer = None
        self._matrix = None
        self._keys = [_fold_key(e.text) for e in self.examples]
        if self.examples:
            from sklearn.feature_extraction.text import TfidfVectorizer

            from .lexicon import fold

            self._vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True,
                                               preprocessor=fold, lowercase=False)
            try:
                self._matrix = self._vectorizer.fit_transform([e.text for e in self.examples])
            except ValueError:  # no text of two characters or more: nothing to compare
                self.examples, self._keys = [], []

    def nearest(self, items: Sequence[Item], counts: dict[str, int]) -> list[list[Example]]:
        """For each item, up to ``counts[kind]`` examples of each kind, most similar first
        (similarity above 0; never the item's own passage or a text equal to it, folded)."""
        if not self.examples or not items or not any(counts.values()):
            return [[] for _ in items]
        out = []
        for k in range(0, len(items), 256):  # a dense block of 256 x examples at a time
            out += self._nearest(items[k:k + 256], counts)
        return out

    def _nearest(self, items: Sequence[Item], counts: dict[str, int]) -> list[list[Example]]:
        sims = (self._vectorizer.transform([it.text for it in items]) @ self._matrix.T).toarray()
        out = []
        for it, row in zip(items, sims):
            own = _fold_key(it.text)
            taken: dict[str, int] = Counter()
            chosen = []
            for j in row.argsort()[::-1]:
                if row[j] <= 0:
                    break
                ex = self.examples[j]
                if taken[ex.kind] >= counts.get(ex.kind, 0):
                    continue
                if (it.passage_id is not None and ex.passage_id == it.passage_id) or self._keys[j] == own:
                    continue
                taken[ex.kind] += 1
                chosen.append(ex)
                if all(taken[k] >= n for k, n in counts.items()):
                    break
            out.append(chosen)
        return out


_SCRIPT_NOTE = {
    "zh-Hans": "The passages are in Simplified Chinese.",
    "zh-Hant": "The passages are in Traditional Chinese; the dictionary below is given in Traditional Chinese too.",
    "en": "The passages are in English.",
}

_INSTRUCTIONS = """You code passages of behavioural event interviews (BEI) against a competency dictionary, as a \
careful second coder would.
Code only behaviour the interviewee reports having shown themselves, in a situation they describe.
These do not count: what a colleague, the bank, a customer or anyone else did; opinions, beliefs, general \
descriptions of the job; negated statements (something not done); hypothetical statements (what they would, \
could or should have done, wishes, plans, "if only").
For each code you give, choose the level whose indicator fits best, and give as evidence one or more quotes \
copied from the passage character for character (in its own script, without adding, dropping or changing a word), \
and a one-sentence reason.
{script}
If the passage shows no competency, reply {{"codes": []}}.
Reply with JSON only, in exactly this form:
{{"codes": [{{"code": "ACH", "level": 3, "evidence": ["verbatim quote"], "reason": "..."}}]}}

The competency dictionary: {name}
"""


class Prompt:
    """The messages for each passage (see the module docstring): the system message, fixed
    per dictionary and language, and a user message with the examples, the question and the
    passage. ``examples``: an :class:`ExamplePool`; ``counts``: how many of each kind."""

    def __init__(self, dictionary, examples: ExamplePool | None = None, counts: dict[str, int] | None = None):
        self.dictionary = dictionary
        self.pool = examples or ExamplePool([])
        self.counts = counts if counts is not None else {"coder": 3, "dictionary": 3}
        self._systems: dict[str, str] = {}

    def system(self, language: str) -> str:
        """The system message for passages in ``language``."""
        if language not in self._systems:
            d = self.dictionary
            lines = [_INSTRUCTIONS.format(script=_SCRIPT_NOTE[language],
                                          name=_in_language(language, d.name, d.name_en))]
            for c in d.competencies:
                lines.append(f"{c.code} {_in_language(language, c.name_zh, c.name_en)}")
                lines.append(f"  definition: {_in_language(language, c.definition_zh, c.definition_en)}")
                lines.append(f"  levels {c.min_level}-{c.max_level}:")
                for lv in c.levels:
                    lines.append(f"    {lv.level}: {_in_language(language, lv.indicator_zh, lv.indicator_en)}")
            self._systems[language] = "\n".join(lines)
        return self._systems[language]

    @staticmethod
    def _codes(ex: Example) -> str:
        if not ex.codes:
            return "no code"
        return "; ".join(code if level is None else f"{code} level {level}" for code, level in ex.codes)

    def user(self, item: Item, examples: Sequence[Example]) -> str:
        """The user message for ``item`` with the chosen ``examples``."""
        parts = []
        for kind, title in (("coder", "Passages the researcher has coded, most like this one:"),
                            ("dictionary", "Passages from the dictionary's coding manual:")):
            chosen = [ex for ex in examples if ex.kind == kind]
            if chosen:
                parts.append(title)
                parts += [f"<example>{ex.text}</example>\ncodes: {self._codes(ex)}" for ex in chosen]
                parts.append("")
        question = item.question.strip()
        parts.append(f"The interviewer asked: <question>{question}</question>" if question
                     else "(No interviewer's question before this passage.)")
        parts.append("Code this passage (quote only from it):")
        parts.append(f"<passage>{item.text}</passage>")
        return "\n".join(parts)

    def messages(self, items: Sequence[Item]) -> list[list[dict]]:
        """The chat messages for each item."""
        chosen = self.pool.nearest(items, self.counts)
        return [[{"role": "system", "content": self.system(it.language)},
                 {"role": "user", "content": self.user(it, ex)}] for it, ex in zip(items, chosen)]


def prompt_hash(model: str, messages: list[dict], fmt: dict) -> str:
    """sha256 of what one request asks: the model, the messages and the response format."""
    blob = json.dumps({"model": model, "messages": messages, "response_format": fmt}, ensure_ascii=False,
                      sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def cache_key(model: str, language: str, dictionary_sha256: str, text: str) -> str:
    """The cache key of a reply: (model, prompt version and language, dictionary hash, passage
    text)."""
    blob = json.dumps([model, f"{PROMPT_VERSION}/{language}", dictionary_sha256, text], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def study_examples(store, coder: str | None, dictionary, with_dictionary: bool = True) -> list[Example]:
    """The examples a study's prompts draw on: ``coder``'s decided passages (their codes and
    levels; "no code" decisions too) and, ``with_dictionary``, the dictionary's example
    passages."""
    out: list[Example] = []
    if coder:
        from ..store import normalize_coder

        coder = normalize_coder(coder)
        decided = store.decided_passages(coder)
        codes: dict[int, list[tuple[str, int | None]]] = {}
        for r in store.coding_rows(coder):
            codes.setdefault(r["passage_id"], []).append((r["code"], r["level"]))
        for p in store.passages():
            if p.id in decided:
                out.append(Example(p.text, tuple(codes.get(p.id, [])), "coder", p.id))
    if with_dictionary:
        order = {c: i for i, c in enumerate(dictionary.codes)}
        out += [Example(text, tuple((c, None) for c in sorted(labels, key=lambda c: order.get(c, 99))), "dictionary")
                for text, labels in dictionary.examples]
    return out


def study_items(store, passages: Iterable) -> list[Item]:
    """An :class:`Item` per study passage: its text, the interviewer's question and the
    language of its transcript (detected on the transcript's first 20,000 characters)."""
    languages: dict[int, str] = {}
    items = []
    for p in passages:
        if p.transcript_id not in languages:
            languages[p.transcript_id] = detect_language(store.transcript_text(p.transcript_id)[:20000])
        items.append(Item(p.id, p.text, store.question_for(p), languages[p.transcript_id], p.id))
    return items


# -- asking ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What became of one item: ``status`` "ok" (``rows`` verified, ``dropped`` counted),
    "failed" (``error`` says why) or "fatal" (the run cannot go on); ``reply`` the model's
    text, ``prompt_sha256``, ``attempts`` (requests made), ``cached`` (no request: the cache
    answered)."""

    item: Item
    status: str
    rows: list[dict] = field(default_factory=list)
    dropped: Counter = field(default_factory=Counter)
    error: str = ""
    reply: str = ""
    prompt_sha256: str = ""
    attempts: int = 0
    cached: bool = False


@dataclass
class LlmRun:
    """What a run did: ``source`` and ``host``; ``items`` to code, of which ``cached`` answered
    by the cache and the rest ``asked``; ``requests`` sent (retries included); ``ok`` and
    ``failed`` passages (``errors``: failures by reason), ``with_codes`` passages with a kept
    code, ``suggestions`` kept; ``dropped`` by verification (see :class:`Verified`);
    ``notice`` the first-use notice when one was given; ``stopped`` when asked to stop;
    ``last`` the key of the item done last."""

    source: str
    host: str
    items: int = 0
    cached: int = 0
    asked: int = 0
    requests: int = 0
    ok: int = 0
    failed: int = 0
    with_codes: int = 0
    suggestions: int = 0
    dropped: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    notice: str = ""
    stopped: bool = False
    last: object = None  # the key of the item done last

    def add(self, out: Outcome) -> None:
        self.last = out.item.key
        self.requests += out.attempts
        if out.status == "ok":
            self.ok += 1
            self.with_codes += bool(out.rows)
            self.suggestions += len(out.rows)
            self.dropped.update(out.dropped)
        else:
            self.failed += 1
            self.errors[out.error.split(":")[0]] += 1

    def summary(self) -> str:
        """One line: what was asked, answered, kept, dropped and failed."""
        line = (f"{self.source} at {self.host}: {self.items} passages ({self.cached} from the cache, "
                f"{self.asked} asked, {self.requests} requests); {self.suggestions} suggestions on "
                f"{self.with_codes} passages")
        if self.dropped:
            line += "; dropped: " + ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in sorted(self.dropped.items()))
        if self.failed:
            line += f"; {self.failed} failed (" + ", ".join(f"{k} {n}" for k, n in sorted(self.errors.items())) + ")"
        if self.stopped:
            line += "; stopped before the end"
        return line


_CORRECTION = ("Your reply was not the JSON asked for. Reply again with JSON only, exactly in the form "
               '{"codes": [{"code": "...", "level": 0, "evidence": ["..."], "reason": "..."}]}.')


class LlmSuggester:
    """Asks one model at one endpoint about passages, verifies and caches the replies.

    ``LlmSuggester(config, dictionary, examples, store)``: ``examples`` the coded passages the
    prompts draw on (:func:`study_examples`); ``store`` (optional) keeps the cache and the
    hosts already told what is sent.

    Raises:
        LlmError: the endpoint is refused (see :func:`check_endpoint`).
    """

    def __init__(self, config: LlmConfig, dictionary, examples: Sequence[Example] = (), store=None):
        self.config = config
        self.dictionary = dictionary
        self.endpoint = check_endpoint(config.url, config.allow_remote)
        self.store = store
        self.prompt = Prompt(dictionary, ExamplePool(examples),
                             {"coder": config.coder_examples, "dictionary": config.dictionary_examples})
        self.format = response_format(dictionary)
        self._client = None

    @property
    def source(self) -> str:
        return self.config.source

    # the HTTP client, made on first use (the openai package loads only then)
    def _chat(self):
        if self._client is None:
            try:
                import openai
            except ImportError:
                raise LlmError("the LLM suggester needs the openai package: pip install 'beicoder[llm]'") from None
            http = openai.DefaultHttpxClient(trust_env=not self.endpoint.private, timeout=self.config.timeout)
            # the key is ours, never OPENAI_API_KEY; the organisation and project that the client
            # would take from OPENAI_ORG_ID and OPENAI_PROJECT_ID are not sent either
            self._client = openai.OpenAI(base_url=self.endpoint.url, api_key=self.config.api_key or "beicoder-local",
                                         timeout=self.config.timeout, max_retries=0, http_client=http,
                                         default_headers={"OpenAI-Organization": openai.omit,
                                                          "OpenAI-Project": openai.omit})
        return self._client

    def close(self) -> None:
        """Close the HTTP client (requests in flight fail)."""
        if self._client is not None:
            self._client.close()

    def notice(self, sample: Item | None = None) -> str:
        """The first-use notice: where the passages go and what each request holds."""
        return first_use_notice(self, sample)

    def _ask(self, item: Item, messages: list[dict], stop: threading.Event) -> Outcome:
        """One item: request, verify, retry (see the module docstring). Never raises."""
        import openai

        client = self._chat()
        out = Outcome(item, "failed", prompt_sha256=prompt_hash(self.config.model, messages, self.format))
        sent = list(messages)
        transient = malformed = 0
        while True:
            if stop.is_set():
                out.error = "stopped"
                return out
            out.attempts += 1
            try:
                reply = client.chat.completions.create(model=self.config.model, messages=sent,
                                                       response_format=self.format, temperature=0, stream=False)
                content, cut = _content(reply)
                if cut:
                    raise MalformedReply("cut off at the server's length limit")
                verified = verify_reply(content, item.text, self.dictionary)
                out.status, out.reply, out.rows, out.dropped = "ok", content, verified.rows, verified.dropped
                return out
            except (MalformedReply, openai.APIResponseValidationError) as exc:
                malformed += 1
                if malformed > 1:
                    out.error = f"malformed reply, twice: {exc}"
                    return out
                sent = list(messages) + [{"role": "user", "content": _CORRECTION}]
                continue
            except openai.APITimeoutError:
                kind = f"timeout: no reply within {self.config.timeout:g} s"
                fatal = False
            except openai.APIConnectionError as exc:
                kind = f"connection: cannot reach {self.endpoint.chat_url} ({exc.__cause__ or exc})"
                fatal = True
            except openai.APIStatusError as exc:
                code = exc.status_code
                kind = f"HTTP {code}: {_status_text(exc)}"
                fatal = not (code in (408, 409, 429) or code >= 500)
                if fatal:
                    stop.set()  # every other request would be refused the same way
                    out.status, out.error = "fatal", f"{self.endpoint.chat_url} refused the request ({kind})"
                    return out
            except Exception as exc:  # noqa: BLE001 - one passage's failure must not end the run
                out.error = f"error: {type(exc).__name__}: {exc}"
                return out
            if transient >= self.config.retries:
                out.error = kind
                if fatal:
                    stop.set()
                    out.status = "fatal"
                    out.error = f"{kind}; is the server running?"
                return out
            if stop.wait(self.config.backoff * 2 ** transient):
                out.error = "stopped"
                return out
            transient += 1

    def run(self, items: Sequence[Item], run: LlmRun | None = None, progress: Callable | None = None,
            should_stop: Callable[[], bool] | None = None, notice: Callable[[str], None] | None = None
            ) -> Iterator[Outcome]:
        """Code ``items``: yields an :class:`Outcome` per item as it is done, cached ones first;
        well-formed replies are cached in the store. Before the first request to a host this
        study has not used, ``notice`` gets :meth:`notice` and the host is recorded.
        ``progress(done, total, run)`` after each item; ``should_stop()`` is polled and, when
        True, the run ends early (``run.stopped``). ``run`` collects the figures.

        Raises:
            LlmError: the server refuses the requests or cannot be reached; what was done
                before is yielded first.
        """
        run = run if run is not None else LlmRun(self.source, self.endpoint.host)
        run.items += len(items)
        sha = self.dictionary.sha256
        misses: list[Item] = []
        done = 0
        for it in items:
            hit = self.store.llm_cached(cache_key(self.config.model, it.language, sha, it.text)) if self.store else None
            if hit is not None:
                try:
                    v = verify_reply(hit["reply"], it.text, self.dictionary)
                except MalformedReply:
                    misses.append(it)
                    continue
                out = Outcome(it, "ok", v.rows, v.dropped, reply=hit["reply"], prompt_sha256=hit["prompt_sha256"] or "",
                              cached=True)
                run.cached += 1
                run.add(out)
                done += 1
                yield out
                if progress:
                    progress(done, len(items), run)
            else:
                misses.append(it)
        if not misses:
            return
        if should_stop and should_stop():
            run.stopped = True
            return
        if self.store is None or not self.store.llm_host_known(self.endpoint.host):
            run.notice = self.notice(misses[0])
            if notice:
                notice(run.notice)
            if self.store is not None:
                self.store.record_llm_host(self.endpoint.host, self.endpoint.url)
        run.asked += len(misses)
        for out in self._parallel(misses, run, should_stop):
            if out.status == "ok" and self.store is not None:
                self.store.put_llm_cache(cache_key(self.config.model, out.item.language, sha, out.item.text),
                                         self.config.model, f"{PROMPT_VERSION}/{out.item.language}", sha,
                                         out.item.text, out.reply, out.prompt_sha256, self.endpoint.host)
            run.add(out)
            done += 1
            yield out
            if progress:
                progress(done, len(items), run)

    def _parallel(self, items: Sequence[Item], run: LlmRun, should_stop) -> Iterator[Outcome]:
        """Ask about ``items`` from at most ``concurrency`` daemon threads (so that a request
        in flight never keeps the program from exiting); yield outcomes as they come."""
        self._chat()  # the openai package is missing: say so before any thread starts
        todo: queue.SimpleQueue = queue.SimpleQueue()
        for it in items:
            todo.put(it)
        results: queue.SimpleQueue = queue.SimpleQueue()
        stop = threading.Event()

        def work() -> None:
            while not stop.is_set():
                try:
                    it = todo.get_nowait()
                except queue.Empty:
                    return
                try:  # each prompt when its turn comes: memory stays flat however many passages
                    results.put(self._ask(it, self.prompt.messages([it])[0], stop))
                except BaseException as exc:  # noqa: BLE001 - report, never lose an item
                    results.put(Outcome(it, "failed", error=f"error: {exc}"))

        threads = [threading.Thread(target=work, name=f"beicoder-llm-{k}", daemon=True)
                   for k in range(min(self.config.concurrency, len(items)))]
        for t in threads:
            t.start()
        received = 0
        try:
            while received < len(items):
                if should_stop and should_stop():
                    run.stopped = True
                    return
                try:
                    out = results.get(timeout=0.05)
                except queue.Empty:
                    if not any(t.is_alive() for t in threads) and results.empty():
                        return
                    continue
                received += 1
                if out.status == "fatal":
                    run.requests += out.attempts
                    raise LlmError(out.error)
                if out.error == "stopped":
                    run.stopped = True
                    continue
                yield out
        finally:
            stop.set()


def _content(reply) -> tuple[str | None, bool]:
    """The assistant's text of a chat completion (None when the reply has none) and whether the
    server cut it off at its length limit."""
    try:
        choice = reply.choices[0]
        return choice.message.content, getattr(choice, "finish_reason", None) == "length"
    except (AttributeError, IndexError, TypeError):
        return None, False


def _status_text(exc) -> str:
    """The server's own words for an HTTP error: the body's ``error.message`` or ``message``
    when it has one, else the client's message; at most 200 characters."""
    body = getattr(exc, "body", None)
    msg = None
    if isinstance(body, dict):
        inner = body.get("error")
        msg = inner.get("message") if isinstance(inner, dict) else inner or body.get("message")
    return str(msg or getattr(exc, "message", "") or exc)[:200]


def first_use_notice(suggester: LlmSuggester, sample: Item | None = None) -> str:
    """What is sent and where, for the first request a study makes to a host."""
    ep, cfg = suggester.endpoint, suggester.config
    loopback = bool(ep.addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback for a in ep.addresses)
    where = "this machine" if loopback else "the local network" if ep.private else "a host outside your private network"
    language = sample.language if sample else "zh-Hans"
    system = suggester.prompt.system(language)
    kinds = Counter(ex.kind for ex in suggester.prompt.pool.examples)
    coder = (f"up to {cfg.coder_examples} of the coder's {kinds['coder']} decided passages most like it, with "
             "their codes and levels" if kinds["coder"] and cfg.coder_examples else "no passage decided by a coder")
    manual = (f"up to {cfg.dictionary_examples} of the dictionary's {kinds['dictionary']} example passages most like "
              "it" if kinds["dictionary"] and cfg.dictionary_examples else "no example passage of the dictionary")
    return (f"First use of {ep.host} for this study: each passage to code goes to {ep.chat_url} "
            f"({where}: {', '.join(ep.addresses) or 'not resolved'}), model {cfg.model}. Each request holds the "
            f"instructions and the dictionary's definitions and level indicators ({len(system):,} characters, "
            f"{language}), the interviewer's question, the passage, {coder}, and {manual}. Nothing else: no "
            "interviewee ids, groups, memos or other coders' decisions. Replies are cached in the study.")


# -- a study's passages ---------------------------------------------------------------------------
def suggest_study_llm(store, config: LlmConfig, coder: str | None = None, passage_ids: Sequence[int] | None = None,
                      dictionary_examples: bool = True, progress: Callable | None = None,
                      should_stop: Callable[[], bool] | None = None, notice: Callable[[str], None] | None = None,
                      first: Iterable[int] = ()) -> LlmRun:
    """Ask the configured model about the study's passages that its source has not suggested
    with this dictionary version (failed ones included), or about ``passage_ids``; passages in
    ``first`` go first. The prompts show ``coder``'s decided passages (none without a
    coder) and, ``dictionary_examples``, the dictionary's examples. Each outcome is stored at
    once (:meth:`Store.store_llm_result`). ``progress``, ``should_stop`` and ``notice`` as in
    :meth:`LlmSuggester.run`.

    Raises:
        LlmError: the endpoint is refused, or the server refuses the requests or cannot be
            reached (what was done before is stored).
        BeicoderError: the study has no dictionary.
    """
    dictionary = store.dictionary()
    if dictionary is None:
        raise BeicoderError(f"{store.path}: the study has no dictionary; load one with "
                                "'beicoder dictionary FILE.yaml' (the bundled one: dictionary/micro_credit.yaml)")
    suggester = LlmSuggester(config, dictionary, study_examples(store, coder, dictionary, dictionary_examples),
                             store)
    run = LlmRun(suggester.source, suggester.endpoint.host)
    ids = list(passage_ids) if passage_ids is not None else \
        store.passages_needing_suggestions(suggester.source, dictionary.sha256)
    wanted = set(ids)
    front = set(first)
    passages = sorted((p for p in store.passages() if p.id in wanted), key=lambda p: p.id not in front)
    try:
        for out in suggester.run(study_items(store, passages), run, progress, should_stop, notice):
            store.store_llm_result(suggester.source, out.item.passage_id, dictionary.sha256, out.status, out.rows,
                                   suggester.endpoint.host, out.prompt_sha256, out.cached, out.attempts,
                                   dict(out.dropped), out.error)
    finally:
        suggester.close()
    return run


def score_texts_llm(store, config: LlmConfig, dictionary, texts: Sequence[str], coder: str | None = None,
                    dictionary_examples: bool = True, progress: Callable | None = None,
                    notice: Callable[[str], None] | None = None) -> tuple[list[dict[str, float]], LlmRun]:
    """The model's verified scores (code -> score) for texts outside the study (a gold file),
    with ``coder``'s decided passages and, ``dictionary_examples``, the dictionary's examples
    in the prompts; replies are cached in ``store``. A failed text scores nothing. Returns the
    scores in the order of ``texts`` and the run's figures.

    Raises:
        LlmError: as :func:`suggest_study_llm`.
    """
    suggester = LlmSuggester(config, dictionary, study_examples(store, coder, dictionary, dictionary_examples), store)
    run = LlmRun(suggester.source, suggester.endpoint.host)
    items = [Item(k, t, "", detect_language(t)) for k, t in enumerate(texts)]
    scores: list[dict[str, float]] = [{} for _ in texts]
    try:
        for out in suggester.run(items, run, progress, None, notice):
            scores[out.item.key] = {r["code"]: r["score"] for r in out.rows}
    finally:
        suggester.close()
    return scores, run


# -- what the coder sees --------------------------------------------------------------------------
BLEND_RULE = ("the LLM is a third source beside the lexicon and the model and never changes their score: a code it "
              "suggests with a verified quote is shown even when they do not (its score then is the share of its "
              "quotes found in the passage), its quotes are highlighted like keywords, and its level is proposed "
              "where the lexicon's cues propose none")


def with_llm(shown: list[dict], llm_rows: list[dict], source: str) -> list[dict]:
    """Add a passage's LLM suggestions (``llm_rows`` of :meth:`Store.llm_suggestions_for`) to
    what the lexicon and model show (dicts of ``blended_suggestions``), by ``BLEND_RULE``.

    Returns new dicts, best first: those of ``blended_suggestions`` with ``llm`` in sources,
    the LLM's spans added to ``evidence``, and ``llm_score``, ``llm_level`` and ``llm_reason``
    on the codes the LLM suggested."""
    out = [dict(s) for s in shown]
    if not llm_rows:
        return out
    by_code = {s["code"]: s for s in out}
    for r in llm_rows:
        s = by_code.get(r["code"])
        if s is None:
            s = {"code": r["code"], "score": r["score"], "sources": [], "lexicon_score": 0.0, "model_score": None,
                 "level": None, "level_cue": None, "evidence": [], "model_evidence": []}
            by_code[r["code"]] = s
            out.append(s)
        if s.get("level") is None and r.get("level") is not None:
            s["level"], s["level_cue"] = r["level"], source
        s["sources"] = [*s["sources"], "llm"]
        s["evidence"] = [*s["evidence"], *r["evidence"]]
        s["llm_score"], s["llm_level"], s["llm_reason"] = r["score"], r.get("level"), r.get("reason") or ""
    out.sort(key=lambda s: -s["score"])
    return out
