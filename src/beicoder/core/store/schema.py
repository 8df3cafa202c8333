"""The study file's schema and its migrations.

A new study gets :data:`SCHEMA`; an older one is upgraded step by step by :data:`MIGRATIONS`,
each step leading to the schema version it is keyed by. Every step can run on a file that
already has part of it (``IF NOT EXISTS``), so a file half-upgraded by hand still opens.
"""

from __future__ import annotations

SCHEMA_VERSION = 10

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS dictionary (
    id INTEGER PRIMARY KEY CHECK (id = 1), name TEXT, source TEXT, sha256 TEXT, yaml TEXT, loaded_at TEXT);
CREATE TABLE IF NOT EXISTS codes (
    code TEXT PRIMARY KEY, position INTEGER, name_zh TEXT, name_en TEXT,
    definition_zh TEXT, definition_en TEXT, min_level INTEGER, max_level INTEGER);
CREATE TABLE IF NOT EXISTS interviewees (
    id TEXT PRIMARY KEY, grp TEXT, tenure_years REAL, branch TEXT, extra TEXT);
CREATE TABLE IF NOT EXISTS transcripts (
    id INTEGER PRIMARY KEY, interviewee TEXT NOT NULL REFERENCES interviewees(id), title TEXT,
    source_path TEXT, sha256 TEXT NOT NULL UNIQUE, encoding TEXT, speaker TEXT, text TEXT NOT NULL,
    speech_length INTEGER, imported_at TEXT, version INTEGER NOT NULL DEFAULT 1, language TEXT);
CREATE TABLE IF NOT EXISTS transcript_versions (
    transcript_id INTEGER NOT NULL REFERENCES transcripts(id), version INTEGER NOT NULL, sha256 TEXT,
    source_path TEXT, text TEXT NOT NULL, replaced_at TEXT, PRIMARY KEY (transcript_id, version));
CREATE TABLE IF NOT EXISTS review_codings (
    id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id), version INTEGER NOT NULL,
    passage_ordinal INTEGER, start INTEGER, "end" INTEGER, passage_text TEXT, coder TEXT NOT NULL, code TEXT,
    level INTEGER, no_code INTEGER NOT NULL DEFAULT 0, memo TEXT, decided_at TEXT, reason TEXT,
    resolved INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS turns (
    id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    ordinal INTEGER, speaker TEXT, role TEXT, start INTEGER, "end" INTEGER);
CREATE TABLE IF NOT EXISTS passages (
    id INTEGER PRIMARY KEY, transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
    turn_id INTEGER REFERENCES turns(id), ordinal INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, text TEXT NOT NULL, UNIQUE (transcript_id, ordinal));
CREATE TABLE IF NOT EXISTS suggestions (
    passage_id INTEGER NOT NULL REFERENCES passages(id), code TEXT NOT NULL REFERENCES codes(code),
    score REAL NOT NULL, evidence TEXT NOT NULL, source TEXT NOT NULL, created_at TEXT,
    level INTEGER, level_cue TEXT, endpoint TEXT, prompt_sha256 TEXT, reason TEXT,
    PRIMARY KEY (passage_id, code, source));
CREATE TABLE IF NOT EXISTS suggested (
    passage_id INTEGER NOT NULL REFERENCES passages(id), source TEXT NOT NULL, dictionary_sha256 TEXT,
    at TEXT, PRIMARY KEY (passage_id, source));
CREATE TABLE IF NOT EXISTS coders (name TEXT PRIMARY KEY, created_at TEXT);
CREATE TABLE IF NOT EXISTS codings (
    passage_id INTEGER NOT NULL REFERENCES passages(id), coder TEXT NOT NULL REFERENCES coders(name),
    code TEXT NOT NULL REFERENCES codes(code), level INTEGER, origin TEXT,
    created_at TEXT, updated_at TEXT, decided_by TEXT, PRIMARY KEY (passage_id, coder, code));
CREATE TABLE IF NOT EXISTS passage_marks (
    passage_id INTEGER NOT NULL REFERENCES passages(id), coder TEXT NOT NULL REFERENCES coders(name),
    no_code INTEGER NOT NULL DEFAULT 0, memo TEXT, updated_at TEXT, decided_by TEXT,
    PRIMARY KEY (passage_id, coder));
CREATE TABLE IF NOT EXISTS actions (
    id INTEGER PRIMARY KEY, coder TEXT NOT NULL, origin TEXT NOT NULL, description TEXT, at TEXT NOT NULL,
    decided_by TEXT, passage_id INTEGER, state INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY, action INTEGER NOT NULL, coder TEXT NOT NULL, at TEXT NOT NULL,
    description TEXT, tbl TEXT NOT NULL, key TEXT NOT NULL, before TEXT, after TEXT,
    undone INTEGER NOT NULL DEFAULT 0, passage_id INTEGER);
CREATE TABLE IF NOT EXISTS sessions (
    id INTEGER PRIMARY KEY, coder TEXT NOT NULL, started_at TEXT NOT NULL, blind INTEGER NOT NULL DEFAULT 0,
    kind TEXT NOT NULL DEFAULT 'coding', pid INTEGER, host TEXT, last_seen TEXT, ended_at TEXT);
CREATE TABLE IF NOT EXISTS llm_cache (
    key TEXT PRIMARY KEY, model TEXT NOT NULL, prompt_version TEXT NOT NULL, dictionary_sha256 TEXT NOT NULL,
    passage_sha256 TEXT NOT NULL, reply TEXT NOT NULL, prompt_sha256 TEXT, endpoint TEXT, created_at TEXT);
CREATE TABLE IF NOT EXISTS llm_runs (
    passage_id INTEGER NOT NULL, source TEXT NOT NULL, status TEXT NOT NULL,
    endpoint TEXT, prompt_sha256 TEXT, cached INTEGER NOT NULL DEFAULT 0, attempts INTEGER, dropped TEXT,
    error TEXT, at TEXT, PRIMARY KEY (passage_id, source));
CREATE TABLE IF NOT EXISTS llm_hosts (host TEXT PRIMARY KEY, url TEXT, first_used_at TEXT);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER PRIMARY KEY, action INTEGER, coder TEXT, kind TEXT NOT NULL, at TEXT NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS passage_search USING fts5(folded, tokenize = 'trigram');
CREATE INDEX IF NOT EXISTS idx_passages_transcript ON passages(transcript_id, ordinal);
CREATE INDEX IF NOT EXISTS idx_turns_transcript ON turns(transcript_id, ordinal);
CREATE INDEX IF NOT EXISTS idx_codings_coder ON codings(coder, passage_id);
CREATE INDEX IF NOT EXISTS idx_audit_coder ON audit(coder, action);
CREATE INDEX IF NOT EXISTS idx_audit_action ON audit(action);
CREATE INDEX IF NOT EXISTS idx_audit_passage ON audit(passage_id);
CREATE INDEX IF NOT EXISTS idx_actions_coder ON actions(coder, state, id);
CREATE INDEX IF NOT EXISTS idx_codings_code ON codings(code, coder);
CREATE INDEX IF NOT EXISTS idx_marks_coder ON passage_marks(coder, no_code);
"""

# Upgrades of an existing study, by the schema version they lead to. A new study gets SCHEMA.
MIGRATIONS: dict[int, list[str]] = {
    2: ["ALTER TABLE suggestions ADD COLUMN level INTEGER", "ALTER TABLE suggestions ADD COLUMN level_cue TEXT"],
    # who made a decision recorded under another coder's name (a consensus coding)
    3: ["ALTER TABLE codings ADD COLUMN decided_by TEXT", "ALTER TABLE passage_marks ADD COLUMN decided_by TEXT"],
    # versions of re-imported transcripts, and decisions set aside for review when their passage changed
    4: ["ALTER TABLE transcripts ADD COLUMN version INTEGER NOT NULL DEFAULT 1",
        """CREATE TABLE IF NOT EXISTS transcript_versions (transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
           version INTEGER NOT NULL, sha256 TEXT, source_path TEXT, text TEXT NOT NULL, replaced_at TEXT,
           PRIMARY KEY (transcript_id, version))""",
        """CREATE TABLE IF NOT EXISTS review_codings (id INTEGER PRIMARY KEY,
           transcript_id INTEGER NOT NULL REFERENCES transcripts(id),
           version INTEGER NOT NULL, passage_ordinal INTEGER, start INTEGER, "end" INTEGER, passage_text TEXT,
           coder TEXT NOT NULL, code TEXT, level INTEGER, no_code INTEGER NOT NULL DEFAULT 0, memo TEXT,
           decided_at TEXT, reason TEXT, resolved INTEGER NOT NULL DEFAULT 0)"""],
    # actions: one row per audited action (its origin, and undone/redo state); the passage of
    # every audit row as a column, so closing a re-imported passage's history needs no JSON scan
    5: ["""CREATE TABLE IF NOT EXISTS actions (id INTEGER PRIMARY KEY, coder TEXT NOT NULL, origin TEXT NOT NULL,
           description TEXT, at TEXT NOT NULL, decided_by TEXT, passage_id INTEGER,
           state INTEGER NOT NULL DEFAULT 0)""",
        "ALTER TABLE audit ADD COLUMN passage_id INTEGER",
        "UPDATE audit SET passage_id = json_extract(key, '$.passage_id')",
        """INSERT OR IGNORE INTO actions(id, coder, origin, description, at, passage_id, state)
           SELECT action, min(coder), 'keyboard', min(description), min(at),
                  CASE WHEN count(DISTINCT passage_id) = 1 THEN min(passage_id) END, max(undone)
           FROM audit GROUP BY action""",
        "CREATE INDEX IF NOT EXISTS idx_audit_action ON audit(action)",
        "CREATE INDEX IF NOT EXISTS idx_audit_passage ON audit(passage_id)",
        "CREATE INDEX IF NOT EXISTS idx_actions_coder ON actions(coder, state, id)"],
    # coding sessions, so a report can say whether coding was blind to the groups
    6: ["""CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY, coder TEXT NOT NULL, started_at TEXT NOT NULL,
           blind INTEGER NOT NULL DEFAULT 0, kind TEXT NOT NULL DEFAULT 'coding')"""],
    # (7 was the coding screen's branch step, now 9.) The local-LLM suggester: each suggestion's endpoint host,
    # prompt hash and the model's reason; the reply cache; each passage's last request (ok or
    # failed, what verification dropped); the hosts already told what is sent. Every statement
    # stands alone (ADD COLUMN is skipped when the column exists, tables are IF NOT EXISTS), so
    # the step runs the same on a study at 6 or at 7, and again on one upgraded by hand.
    # llm_runs has no foreign key: a re-import deletes a changed passage's row itself.
    8: ["ALTER TABLE suggestions ADD COLUMN endpoint TEXT",
        "ALTER TABLE suggestions ADD COLUMN prompt_sha256 TEXT",
        "ALTER TABLE suggestions ADD COLUMN reason TEXT",
        """CREATE TABLE IF NOT EXISTS llm_cache (key TEXT PRIMARY KEY, model TEXT NOT NULL,
           prompt_version TEXT NOT NULL, dictionary_sha256 TEXT NOT NULL, passage_sha256 TEXT NOT NULL,
           reply TEXT NOT NULL, prompt_sha256 TEXT, endpoint TEXT, created_at TEXT)""",
        """CREATE TABLE IF NOT EXISTS llm_runs (passage_id INTEGER NOT NULL, source TEXT NOT NULL,
           status TEXT NOT NULL, endpoint TEXT, prompt_sha256 TEXT, cached INTEGER NOT NULL DEFAULT 0,
           attempts INTEGER, dropped TEXT, error TEXT, at TEXT, PRIMARY KEY (passage_id, source))""",
        "CREATE TABLE IF NOT EXISTS llm_hosts (host TEXT PRIMARY KEY, url TEXT, first_used_at TEXT)"],
    # changes: one row per action done, undone or redone, and per study-wide change (a re-import,
    # a new dictionary), so an open screen updates its counts from what changed since it last
    # looked; passage_search: every passage's text folded for search (Simplified, NFKC, lower
    # case), indexed by trigrams, filled from Python (the store fills what is missing); indexes
    # for coded segments by code and for a coder's "no code" marks; sessions that say whether
    # they are still open (process, host, last heartbeat, end). Written as step 7 on a branch
    # while 8 landed; numbered 9 so a study at 8 gets it. Every statement stands alone (ADD
    # COLUMN skipped when the column exists), so a study the branch had already taken to 7 runs
    # 8 and then 9 unharmed.
    9: ["""CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY, action INTEGER, coder TEXT,
           kind TEXT NOT NULL, at TEXT NOT NULL)""",
        "CREATE VIRTUAL TABLE IF NOT EXISTS passage_search USING fts5(folded, tokenize = 'trigram')",
        "CREATE INDEX IF NOT EXISTS idx_codings_code ON codings(code, coder)",
        "CREATE INDEX IF NOT EXISTS idx_marks_coder ON passage_marks(coder, no_code)",
        "ALTER TABLE sessions ADD COLUMN pid INTEGER",
        "ALTER TABLE sessions ADD COLUMN host TEXT",
        "ALTER TABLE sessions ADD COLUMN last_seen TEXT",
        "ALTER TABLE sessions ADD COLUMN ended_at TEXT"],
    # the language of each transcript (zh-Hans, zh-Hant or en), detected at import; an older
    # study's transcripts get theirs when first asked for (Store.transcript_languages)
    10: ["ALTER TABLE transcripts ADD COLUMN language TEXT"],
}


def statements(script: str) -> list[str]:
    """The SQL statements of ``script`` (split at semicolons; none of ours holds one inside)."""
    return [s.strip() for s in script.split(";") if s.strip()]
