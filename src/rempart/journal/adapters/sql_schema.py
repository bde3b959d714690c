"""The journal database's own schema (not the portal's Alembic migrations: it lives apart).

Created idempotently by the store. The durable commit of an append writes only tables whose
keys grow with the sequence (entries, persons by entry, the time index, Merkle nodes): a few
pages per batch. The indexes keyed at random (by person, by agent, by session) are *derived*
tables, filled behind the appends in large batches by the store's maintenance thread up to a
watermark (``journal_index_state``); queries read them up to the watermark and the few newer
entries directly, so they are never stale. Keeping those random inserts out of the fsync'd
commit is what lets a commit cost a few pages instead of several per entry.

Every table but the watermark refuses UPDATE and DELETE through triggers; only retention
deletes, below a signed purge checkpoint:

- SQLite: the purge drops the two delete triggers and re-creates them inside its own
  transaction, so no other connection ever sees the table unprotected.
- PostgreSQL: the trigger lets a DELETE through only for rows at or below the transaction-local
  setting ``rempart.journal_purge_upto``. Setting it needs no privilege, so what stops the
  portal from deleting is that its role is granted only INSERT and SELECT (see
  ``docs/journal.md``); the purge runs as the journal's owner.
"""

from __future__ import annotations

SCHEMA_VERSION = "1"

TABLES = (
    "journal_meta",
    "journal_entries",
    "journal_persons",
    "journal_nodes",
    "journal_checkpoints",
    "journal_keys",
    "journal_cosignatures",
    "journal_by_person",
    "journal_by_agent",
    "journal_by_session",
)
PURGEABLE = (
    "journal_entries",
    "journal_persons",
    "journal_by_person",
    "journal_by_agent",
    "journal_by_session",
)
# (derived table, its key column) for each index kept behind the appends
DERIVED = (
    ("journal_by_person", "ft_id"),
    ("journal_by_agent", "agent_login"),
    ("journal_by_session", "session_id"),
)

SQLITE_TABLES = """
CREATE TABLE IF NOT EXISTS journal_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_entries (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    agent_login TEXT NOT NULL,
    org_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    body BLOB NOT NULL,
    chain BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_journal_at_org ON journal_entries (at, org_id);
CREATE TABLE IF NOT EXISTS journal_persons (
    seq INTEGER NOT NULL,
    ft_id TEXT NOT NULL,
    PRIMARY KEY (seq, ft_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_by_person (
    ft_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (ft_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_by_agent (
    agent_login TEXT NOT NULL,
    at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (agent_login, at, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_by_session (
    session_id TEXT NOT NULL,
    at TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (session_id, at, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_index_state (
    name TEXT PRIMARY KEY,
    upto INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_nodes (
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS journal_checkpoints (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root BLOB NOT NULL,
    chain_head BLOB NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature BLOB NOT NULL,
    origin TEXT NOT NULL DEFAULT '',
    note_signature BLOB
);
CREATE INDEX IF NOT EXISTS ix_journal_checkpoints_size ON journal_checkpoints (tree_size);
CREATE TABLE IF NOT EXISTS journal_keys (
    key_id TEXT PRIMARY KEY,
    public_key BLOB NOT NULL,
    private_key BLOB,
    created_at TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_cosignatures (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL,
    root BLOB NOT NULL,
    witness TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    timestamp INTEGER NOT NULL,
    signature BLOB NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_journal_cosignatures_size ON journal_cosignatures (tree_size);
"""


def sqlite_trigger(table: str, op: str) -> str:
    """The trigger refusing ``op`` (UPDATE or DELETE) on ``table``."""
    return (
        f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the access journal is append-only: {op} on {table}'); END"
    )


def sqlite_ddl() -> list[str]:
    """Every statement creating the SQLite journal schema."""
    stmts = [s.strip() for s in SQLITE_TABLES.split(";") if s.strip()]
    stmts += [sqlite_trigger(t, op) for t in TABLES for op in ("UPDATE", "DELETE")]
    return stmts


POSTGRES_DDL = """
CREATE TABLE IF NOT EXISTS journal_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_entries (
    seq bigint PRIMARY KEY,
    at timestamptz NOT NULL,
    agent_login text NOT NULL,
    org_id text NOT NULL,
    session_id text NOT NULL,
    body bytea NOT NULL,
    chain bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_journal_at_org ON journal_entries (at, org_id);
CREATE TABLE IF NOT EXISTS journal_persons (
    seq bigint NOT NULL,
    ft_id text COLLATE "C" NOT NULL,
    PRIMARY KEY (seq, ft_id)
);
CREATE TABLE IF NOT EXISTS journal_by_person (
    ft_id text COLLATE "C" NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (ft_id, seq)
);
CREATE TABLE IF NOT EXISTS journal_by_agent (
    agent_login text NOT NULL,
    at timestamptz NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (agent_login, at, seq)
);
CREATE TABLE IF NOT EXISTS journal_by_session (
    session_id text NOT NULL,
    at timestamptz NOT NULL,
    seq bigint NOT NULL,
    PRIMARY KEY (session_id, at, seq)
);
CREATE TABLE IF NOT EXISTS journal_index_state (
    name text PRIMARY KEY,
    upto bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_nodes (
    level integer NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (level, idx)
);
CREATE TABLE IF NOT EXISTS journal_checkpoints (
    id bigserial PRIMARY KEY,
    tree_size bigint NOT NULL,
    root bytea NOT NULL,
    chain_head bytea NOT NULL,
    at timestamptz NOT NULL,
    kind text NOT NULL,
    key_id text NOT NULL,
    signature bytea NOT NULL,
    origin text NOT NULL DEFAULT '',
    note_signature bytea
);
CREATE INDEX IF NOT EXISTS ix_journal_checkpoints_size ON journal_checkpoints (tree_size);
CREATE TABLE IF NOT EXISTS journal_keys (
    key_id text PRIMARY KEY,
    public_key bytea NOT NULL,
    private_key bytea,
    created_at timestamptz NOT NULL,
    note text NOT NULL
);
CREATE TABLE IF NOT EXISTS journal_cosignatures (
    id bigserial PRIMARY KEY,
    tree_size bigint NOT NULL,
    root bytea NOT NULL,
    witness text NOT NULL,
    key_hash bytea NOT NULL,
    timestamp bigint NOT NULL,
    signature bytea NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_journal_cosignatures_size ON journal_cosignatures (tree_size);
CREATE OR REPLACE FUNCTION rempart_journal_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME IN ('journal_entries', 'journal_persons',
            'journal_by_person', 'journal_by_agent', 'journal_by_session') THEN
        IF OLD.seq <= coalesce(
               nullif(current_setting('rempart.journal_purge_upto', true), '')::bigint, 0) THEN
            RETURN OLD;  -- retention, below the purge checkpoint of the same transaction
        END IF;
    END IF;
    RAISE EXCEPTION 'the access journal is append-only: % on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""


def postgres_ddl() -> list[str]:
    """Every statement creating the PostgreSQL journal schema (run once, by its owner)."""
    body, func = POSTGRES_DDL.split("CREATE OR REPLACE FUNCTION", 1)
    stmts = [s.strip() for s in body.split(";") if s.strip()]
    stmts.append("CREATE OR REPLACE FUNCTION " + func.strip().rstrip(";"))
    for t in TABLES:
        stmts.append(
            f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION rempart_journal_append_only()"
        )
        stmts.append(
            f"CREATE OR REPLACE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION rempart_journal_append_only()"
        )
    return stmts


def postgres_grants(role: str) -> list[str]:
    """What the portal's database role may do with the journal: read it and append to it.

    Run by the journal's owner after the schema exists. No UPDATE, DELETE or TRUNCATE: even
    a portal compromised down to its database credentials cannot rewrite the past.
    """
    tables = ", ".join(TABLES)
    return [
        f"REVOKE ALL ON {tables}, journal_index_state FROM PUBLIC",
        f"REVOKE ALL ON {tables}, journal_index_state FROM {role}",
        f"GRANT SELECT, INSERT ON {tables} TO {role}",
        # The watermark of the derived indexes moves; it protects nothing (verify checks it).
        f"GRANT SELECT, INSERT, UPDATE ON journal_index_state TO {role}",
        f"GRANT USAGE ON SEQUENCE journal_checkpoints_id_seq TO {role}",
        f"GRANT USAGE ON SEQUENCE journal_cosignatures_id_seq TO {role}",
    ]


# Journals created before checkpoints were published (C2SP notes) gain their columns here;
# ``journal_cosignatures`` comes with the idempotent DDL above.
UPGRADE_COLUMNS = (
    ("journal_checkpoints", "origin", "TEXT NOT NULL DEFAULT ''", "text NOT NULL DEFAULT ''"),
    ("journal_checkpoints", "note_signature", "BLOB", "bytea"),
)


def sqlite_upgrade(existing: set[str]) -> list[str]:
    """ALTERs giving an older SQLite journal the columns it lacks (``existing`` columns)."""
    return [
        f"ALTER TABLE {table} ADD COLUMN {column} {lite}"
        for table, column, lite, _pg in UPGRADE_COLUMNS
        if column not in existing
    ]


def postgres_upgrade() -> list[str]:
    """ALTERs giving an older PostgreSQL journal the columns it lacks (run by its owner)."""
    return [
        f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {pg}"
        for table, column, _lite, pg in UPGRADE_COLUMNS
    ]
