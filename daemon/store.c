/*
 * store.c: every SQL statement of paperwatch.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#define STORE_SCHEMA_VERSION	1

#define STORE_MATCH_ROWS	64	/* rows of one multi-row INSERT */
#define STORE_CKPT_PAGES	1000	/* SQLite's automatic checkpoint */

/* Statements run once per subscription or digest: prepared once. */
enum store_q {
	Q_PAPER_ADD,
	Q_SUB_FIRST, Q_SUB_ADD, Q_SUB_LAST, Q_SUB_SET_LAST, Q_PENDING,
	Q_ASSIGN, Q_DIGEST_ADD, Q_DROP_PENDING,
	Q_OUTBOX_ADD, Q_OUTBOX_DUE, Q_OUTBOX_GET, Q_OUTBOX_FAILED,
	Q_BEGIN, Q_BEGIN_READ, Q_COMMIT, Q_SAVEPOINT, Q_RELEASE, Q_MAX
};

struct store {
	sqlite3		*db;
	sqlite3_stmt	*put_paper;
	sqlite3_stmt	*get_paper;
	sqlite3_stmt	*add_match;
	sqlite3_stmt	*outbox_sent;	/* once per message: prepared once */
	bool		 outbox_compacted;	/* old sent bodies dropped */
	int		 wal_pages;	/* deferred checkpoints: WAL frames, */
	int		 wal_done;	/* of which copied back */
	sqlite3_stmt	*q[Q_MAX];	/* by enum store_q, prepared on use */
	sqlite3_stmt	*add_matches[STORE_MATCH_ROWS + 1]; /* by rows */
};

static const char schema[] =
"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);\n"
"CREATE TABLE IF NOT EXISTS feeds(\n"
"  source TEXT PRIMARY KEY, etag TEXT, last_modified INTEGER,\n"
"  last_poll INTEGER, last_ok INTEGER, last_new INTEGER,\n"
"  feed_date INTEGER, next_poll INTEGER, n_fetched INTEGER,\n"
"  n_total INTEGER, fails INTEGER, last_error TEXT);\n"
"CREATE TABLE IF NOT EXISTS papers(\n"
"  id TEXT PRIMARY KEY, version INTEGER, first_seen INTEGER NOT NULL,\n"
"  changed INTEGER NOT NULL, json TEXT NOT NULL);\n"
"CREATE INDEX IF NOT EXISTS papers_first ON papers(first_seen);\n"
"CREATE TABLE IF NOT EXISTS subs(\n"
"  name TEXT PRIMARY KEY, first INTEGER NOT NULL, last_digest INTEGER);\n"
"CREATE TABLE IF NOT EXISTS matches(\n"
"  sub TEXT NOT NULL, paper TEXT NOT NULL, version INTEGER NOT NULL,\n"
"  score REAL NOT NULL, hits TEXT NOT NULL, matched INTEGER NOT NULL,\n"
"  digest INTEGER,\n"	/* NULL: pending; 0: handled without a digest */
"  PRIMARY KEY(sub, paper, version)) WITHOUT ROWID;\n"
/* no index on digest: the primary key's sub prefix finds a subscription's
   rows, and an index would be rewritten for every match a digest takes */
"DROP INDEX IF EXISTS matches_pending;\n"
"CREATE TABLE IF NOT EXISTS digests(\n"
"  id INTEGER PRIMARY KEY, sub TEXT NOT NULL, date TEXT NOT NULL,\n"
"  created INTEGER NOT NULL, n_papers INTEGER NOT NULL);\n"
"CREATE TABLE IF NOT EXISTS outbox(\n"
"  id INTEGER PRIMARY KEY, digest INTEGER, sub TEXT NOT NULL,\n"
"  channel TEXT NOT NULL, dest TEXT NOT NULL, subject TEXT,\n"
"  body BLOB NOT NULL, state TEXT NOT NULL DEFAULT 'pending',\n"
"  attempts INTEGER NOT NULL DEFAULT 0, next_attempt INTEGER NOT NULL,\n"
"  created INTEGER NOT NULL, sent INTEGER, last_error TEXT);\n"
"CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_attempt);\n";

static int
db_err(struct store *st, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(st->db));
	return -1;
}

static int
exec(struct store *st, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static sqlite3_stmt *
prep(struct store *st, const char *sql, char *err, size_t errlen)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_err(st, err, errlen, "database");
		return NULL;
	}
	return s;
}

/* Statement which (sql), prepared on first use and kept, reset. */
static sqlite3_stmt *
cached(struct store *st, enum store_q which, const char *sql, char *err,
    size_t errlen)
{
	if (st->q[which] == NULL && sqlite3_prepare_v3(st->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, &st->q[which], NULL) != SQLITE_OK) {
		st->q[which] = NULL;
		db_err(st, err, errlen, "database");
		return NULL;
	}
	sqlite3_reset(st->q[which]);
	return st->q[which];
}

/* Step a cached statement that returns no rows, then reset it. */
static int
step_reset(struct store *st, sqlite3_stmt *s, char *err, size_t errlen)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);	/* no pointer to the caller's data */
	if (rc != SQLITE_DONE)
		return db_err(st, err, errlen, "database");
	return 0;
}

/* Create the missing directories of path, mode 0700. */
static void
make_parents(const char *path)
{
	char *d = xstrdup(path);

	for (char *p = d + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(d, 0700);
		*p = '/';
	}
	free(d);
}

/* Create the file 0600 before SQLite does, so it never exists wider. */
static int
create_private(const char *path, char *err, size_t errlen)
{
	int fd, saved;

	make_parents(path);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd == -1) {
		saved = errno;
		snprintf(err, errlen, "cannot open database '%s': %s%s", path,
		    strerror(saved), saved == EACCES || saved == EROFS ?
		    " (is StateDirectory= set in the unit?)" : "");
		return -1;
	}
	close(fd);
	return 0;
}

static int
check_schema(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int v = 0;

	if (exec(st, schema, err, errlen) == -1)
		return -1;
	s = prep(st, "SELECT value FROM meta WHERE key='schema'", err, errlen);
	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	if (v > STORE_SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema %d is newer than this "
		    "paperwatch (%d)", v, STORE_SCHEMA_VERSION);
		return -1;
	}
	/*
	 * Written only when it changes: the helper threads of a cycle open
	 * connections of their own, and a commit there (with SQLite's own
	 * checkpoints on) copied the whole WAL of the ingest back first.
	 */
	if (v == STORE_SCHEMA_VERSION)
		return 0;
	return exec(st, "INSERT OR REPLACE INTO meta VALUES('schema','1')",
	    err, errlen);
}

/*
 * Fault injection for tests: PAPERWATCH_DB_MAX_PAGES caps the database
 * (PRAGMA max_page_count), which makes SQLite fail as on a full disk.
 */
static int
fault_max_pages(struct store *st, char *err, size_t errlen)
{
	const char *v = getenv("PAPERWATCH_DB_MAX_PAGES");
	char sql[64];
	long n;

	if (v == NULL || (n = strtol(v, NULL, 10)) <= 0)
		return 0;
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count=%ld", n);
	return exec(st, sql, err, errlen);
}

/*
 * Before SQLite starts: no memory statistics (paperwatch reads none), which
 * SQLite otherwise keeps under one process-wide mutex taken for every
 * allocation, by every connection, whatever its thread.
 */
static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *st = xcalloc(1, sizeof(*st));

	pthread_once(&once, sqlite_setup);
	if (create_private(path, err, errlen) == -1)
		goto fail;
	/*
	 * One thread uses a connection: no mutex around every SQLite call
	 * (FULLMUTEX took and released one for each bind, step and column,
	 * about 3 % of the instructions of an ingest).
	 */
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database '%s': %s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, 5000);
	/*
	 * journal_size_limit: with checkpoints deferred to idle moments
	 * (store_defer_checkpoints), a large cycle can grow the WAL to tens
	 * of MB; once it starts again, it goes back to this size on disk.
	 */
	if (exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
	    "PRAGMA secure_delete=FAST; PRAGMA journal_size_limit=16777216;",
	    err, errlen) == -1 || check_schema(st, err, errlen) == -1 ||
	    fault_max_pages(st, err, errlen) == -1) {
		char tmp[256];

		snprintf(tmp, sizeof(tmp), "%s", err);
		snprintf(err, errlen, "database '%s': %s", path, tmp);
		goto fail;
	}
	st->put_paper = prep(st, "INSERT OR REPLACE INTO papers(id, version, "
	    "first_seen, changed, json) VALUES(?1, ?2, coalesce((SELECT "
	    "first_seen FROM papers WHERE id=?1), ?3), ?3, ?4)", err, errlen);
	st->get_paper = prep(st, "SELECT json FROM papers WHERE id=?1", err,
	    errlen);
	st->add_match = prep(st, "INSERT OR IGNORE INTO matches(sub, paper, "
	    "version, score, hits, matched) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	    err, errlen);
	st->outbox_sent = prep(st, "UPDATE outbox SET state='sent', sent=?2, "
	    "attempts=attempts+1, last_error=NULL, body=x'' WHERE id=?1", err,
	    errlen);
	if (!st->put_paper || !st->get_paper || !st->add_match ||
	    !st->outbox_sent)
		goto fail;
	return st;
fail:
	store_close(st);
	return NULL;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_finalize(st->put_paper);
	sqlite3_finalize(st->get_paper);
	sqlite3_finalize(st->add_match);
	sqlite3_finalize(st->outbox_sent);
	for (size_t i = 0; i < Q_MAX; i++)
		sqlite3_finalize(st->q[i]);
	for (size_t i = 0; i <= STORE_MATCH_ROWS; i++)
		sqlite3_finalize(st->add_matches[i]);
	if (st->db != NULL)
		sqlite3_close(st->db);
	free(st);
}

static int
wal_count(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *st = arg;

	(void)db;
	(void)name;
	if (pages < st->wal_done)
		st->wal_done = 0;	/* the WAL was started again */
	st->wal_pages = pages;
	return SQLITE_OK;
}

void
store_defer_checkpoints(struct store *st)
{
	sqlite3_wal_hook(st->db, wal_count, st);
}

bool
store_checkpoint(struct store *st, int factor)
{
	int log = 0, done = 0;

	if (st->wal_pages - st->wal_done < STORE_CKPT_PAGES * factor)
		return false;
	if (sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &log, &done) == SQLITE_OK && log >= 0 && done >= 0) {
		st->wal_pages = log;
		st->wal_done = done;
	}
	return true;
}

void
store_release_memory(struct store *st)
{
	sqlite3_db_release_memory(st->db);
}

/*
 * Transaction control, prepared once: a digest phase runs several
 * thousand of them, and sqlite3_exec parses each anew.
 */
static int
control(struct store *st, enum store_q which, const char *sql, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = cached(st, which, sql, err, errlen);

	return s == NULL ? -1 : step_reset(st, s, err, errlen);
}

int
store_begin(struct store *st, char *err, size_t errlen)
{
	return control(st, Q_BEGIN, "BEGIN IMMEDIATE", err, errlen);
}

int
store_begin_read(struct store *st, char *err, size_t errlen)
{
	return control(st, Q_BEGIN_READ, "BEGIN DEFERRED", err, errlen);
}

int
store_commit(struct store *st, char *err, size_t errlen)
{
	return control(st, Q_COMMIT, "COMMIT", err, errlen);
}

void
store_rollback(struct store *st)
{
	if (store_in_transaction(st))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

bool
store_in_transaction(struct store *st)
{
	return !sqlite3_get_autocommit(st->db);
}

int
store_savepoint(struct store *st, char *err, size_t errlen)
{
	return control(st, Q_SAVEPOINT, "SAVEPOINT pw", err, errlen);
}

int
store_savepoint_release(struct store *st, char *err, size_t errlen)
{
	return control(st, Q_RELEASE, "RELEASE pw", err, errlen);
}

void
store_savepoint_rollback(struct store *st)
{
	if (store_in_transaction(st))
		sqlite3_exec(st->db, "ROLLBACK TO pw; RELEASE pw", NULL, NULL,
		    NULL);
}

/* helpers for columns */

static char *
col_str(sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	return v ? xstrdup((const char *)v) : NULL;
}

static long long
col_time(sqlite3_stmt *s, int i)
{
	return sqlite3_column_type(s, i) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(s, i);
}

static void
bind_time(sqlite3_stmt *s, int i, long long t)
{
	if (t == -1)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_int64(s, i, t);
}

static void
bind_str(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* Step a statement that returns no rows, then finalize it. */
static int
step_done(struct store *st, sqlite3_stmt *s, char *err, size_t errlen)
{
	int rc = sqlite3_step(s);

	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return db_err(st, err, errlen, "database");
	return 0;
}

/* feeds */

void
store_feed_init(struct store_feed *f)
{
	memset(f, 0, sizeof(*f));
	f->last_modified = f->last_poll = f->last_ok = f->last_new = -1;
	f->feed_date = f->next_poll = -1;
}

void
store_feed_release(struct store_feed *f)
{
	free(f->etag);
	free(f->last_error);
	store_feed_init(f);
}

int
store_feed_get(struct store *st, const char *source, struct store_feed *f,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "SELECT etag, last_modified, last_poll, "
	    "last_ok, last_new, feed_date, next_poll, n_fetched, n_total, "
	    "fails, last_error FROM feeds WHERE source=?1", err, errlen);
	int rc;

	store_feed_init(f);
	if (s == NULL)
		return -1;
	bind_str(s, 1, source);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		f->etag = col_str(s, 0);
		f->last_modified = col_time(s, 1);
		f->last_poll = col_time(s, 2);
		f->last_ok = col_time(s, 3);
		f->last_new = col_time(s, 4);
		f->feed_date = col_time(s, 5);
		f->next_poll = col_time(s, 6);
		f->n_fetched = sqlite3_column_int64(s, 7);
		f->n_total = sqlite3_column_int64(s, 8);
		f->fails = sqlite3_column_int(s, 9);
		f->last_error = col_str(s, 10);
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_err(st, err, errlen, "database");
	return 0;
}

int
store_feed_put(struct store *st, const char *source,
    const struct store_feed *f, char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "INSERT OR REPLACE INTO feeds VALUES(?1, "
	    "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", err, errlen);

	if (s == NULL)
		return -1;
	bind_str(s, 1, source);
	bind_str(s, 2, f->etag);
	bind_time(s, 3, f->last_modified);
	bind_time(s, 4, f->last_poll);
	bind_time(s, 5, f->last_ok);
	bind_time(s, 6, f->last_new);
	bind_time(s, 7, f->feed_date);
	bind_time(s, 8, f->next_poll);
	sqlite3_bind_int64(s, 9, f->n_fetched);
	sqlite3_bind_int64(s, 10, f->n_total);
	sqlite3_bind_int(s, 11, f->fails);
	bind_str(s, 12, f->last_error);
	return step_done(st, s, err, errlen);
}

int
store_feed_names(struct store *st, struct strvec *sv, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = prep(st, "SELECT source FROM feeds ORDER BY source",
	    err, errlen);

	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW)
		strvec_push(sv, (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return 0;
}

/* papers */

struct paper *
store_get_paper(struct store *st, const char *id)
{
	struct paper *p = NULL;

	sqlite3_reset(st->get_paper);
	bind_str(st->get_paper, 1, id);
	if (sqlite3_step(st->get_paper) == SQLITE_ROW)
		p = paper_from_json(
		    (const char *)sqlite3_column_text(st->get_paper, 0),
		    (size_t)sqlite3_column_bytes(st->get_paper, 0));
	sqlite3_reset(st->get_paper);
	return p;
}

/* Step a paper statement (its JSON bound without a copy), then reset it. */
static int
put_step(sqlite3_stmt *s, const struct paper *m, long long now,
    const struct buf *json)
{
	int rc;

	sqlite3_bind_text(s, 1, m->id, (int)strlen(m->id), SQLITE_STATIC);
	sqlite3_bind_int(s, 2, m->version);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_text(s, 4, json->data, (int)json->len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);	/* no pointer to the JSON left */
	return rc;
}

static int
put_paper(struct store *st, const struct paper *p, struct paper **take,
    const char *source, long long now, struct paper **merged, bool *fresh,
    bool *newer, char *err, size_t errlen)
{
	struct paper *old = store_get_paper(st, p->id), *m;
	sqlite3_stmt *add = NULL;
	struct buf json;
	bool changed = true;
	int rc = SQLITE_CONSTRAINT;	/* not added yet */

	*fresh = old == NULL || !strvec_contains(&old->sources, source);
	*newer = old != NULL && p->version > old->version;
	if (old != NULL) {
		m = old;
		changed = paper_merge(m, p);
	} else if (take != NULL) {
		m = *take;
		*take = NULL;
	} else {
		m = paper_dup(p);
	}
	if (!strvec_contains(&m->sources, source)) {
		strvec_push(&m->sources, source);
		changed = true;
	}
	if (!changed) {
		*merged = m;
		return 0;
	}
	buf_init(&json);
	/* the long texts and some room for the rest: one allocation */
	buf_reserve(&json, 1024 + (m->summary ? strlen(m->summary) : 0) +
	    (m->title ? strlen(m->title) : 0) + m->n_authors * 64);
	paper_to_json(m, &json);
	/*
	 * A new paper: a plain INSERT, without the first_seen lookup and the
	 * REPLACE.  It fails only on a row whose JSON could not be read,
	 * which the INSERT OR REPLACE below then replaces as it always did.
	 */
	if (old == NULL && (add = cached(st, Q_PAPER_ADD, "INSERT INTO "
	    "papers(id, version, first_seen, changed, json) VALUES(?1, ?2, "
	    "?3, ?3, ?4)", err, errlen)) != NULL)
		rc = put_step(add, m, now, &json);
	if (rc == SQLITE_CONSTRAINT) {
		sqlite3_reset(st->put_paper);
		rc = put_step(st->put_paper, m, now, &json);
	}
	buf_release(&json);
	if (rc != SQLITE_DONE) {
		paper_free(m);
		return db_err(st, err, errlen, "database: storing a paper");
	}
	*merged = m;
	return 0;
}

int
store_put_paper(struct store *st, const struct paper *p, const char *source,
    long long now, struct paper **merged, bool *fresh, bool *newer,
    char *err, size_t errlen)
{
	return put_paper(st, p, NULL, source, now, merged, fresh, newer, err,
	    errlen);
}

int
store_put_paper_take(struct store *st, struct paper **pp, const char *source,
    long long now, struct paper **merged, bool *fresh, bool *newer,
    char *err, size_t errlen)
{
	return put_paper(st, *pp, pp, source, now, merged, fresh, newer, err,
	    errlen);
}

int
store_papers_since(struct store *st, long long since, struct paper_list *out,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "SELECT json FROM papers WHERE "
	    "first_seen >= ?1 ORDER BY first_seen, id", err, errlen);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, since);
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct paper *p = paper_from_json(
		    (const char *)sqlite3_column_text(s, 0),
		    (size_t)sqlite3_column_bytes(s, 0));

		if (p != NULL)
			paper_list_push_take(out, p);
	}
	sqlite3_finalize(s);
	return 0;
}

static long long
count(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long n = 0;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

long long
store_count_papers(struct store *st)
{
	return count(st, "SELECT count(*) FROM papers");
}

/* subscriptions */

int
store_sub_first(struct store *st, const char *sub, long long now,
    long long *first, bool *is_new, char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_SUB_FIRST, "SELECT first FROM subs "
	    "WHERE name=?1", err, errlen);

	if (s == NULL)
		return -1;
	bind_str(s, 1, sub);
	*is_new = sqlite3_step(s) != SQLITE_ROW;
	*first = *is_new ? now : sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	if (!*is_new)
		return 0;
	s = cached(st, Q_SUB_ADD, "INSERT INTO subs(name, first) VALUES(?1, "
	    "?2)", err, errlen);
	if (s == NULL)
		return -1;
	bind_str(s, 1, sub);
	sqlite3_bind_int64(s, 2, now);
	return step_reset(st, s, err, errlen);
}

long long
store_sub_last_digest(struct store *st, const char *sub)
{
	char err[8];
	sqlite3_stmt *s = cached(st, Q_SUB_LAST, "SELECT last_digest FROM "
	    "subs WHERE name=?1", err, sizeof(err));
	long long t = -1;

	if (s == NULL)
		return -1;
	bind_str(s, 1, sub);
	if (sqlite3_step(s) == SQLITE_ROW)
		t = col_time(s, 0);
	sqlite3_reset(s);
	return t;
}

int
store_sub_set_last_digest(struct store *st, const char *sub, long long when,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_SUB_SET_LAST, "UPDATE subs SET "
	    "last_digest=?1 WHERE name=?2", err, errlen);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, when);
	bind_str(s, 2, sub);
	return step_reset(st, s, err, errlen);
}

/*
 * The clock went back (a wrong clock corrected, a restored VM snapshot):
 * times set while it was ahead would hold things back for as long, a
 * digest slot computed from a last_digest in the future, a retry or a
 * poll set for 'now + delay' of the wrong now. The latest time a round
 * started is kept in meta; when now is more than STORE_CLOCK_SLACK before
 * it, every future time is moved back by the jump and last_digest capped
 * at now. Returns the jump in seconds (0: none), -1 on error.
 */
#define STORE_CLOCK_SLACK	300

long long
store_clock_check(struct store *st, long long now, char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "SELECT value FROM meta WHERE key='clock'",
	    err, errlen);
	long long seen = -1, jump = 0;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW &&
	    sqlite3_column_type(s, 0) != SQLITE_NULL)
		seen = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (seen > now + STORE_CLOCK_SLACK) {
		char sql[512];

		jump = seen - now;
		snprintf(sql, sizeof(sql), "BEGIN IMMEDIATE; "
		    "UPDATE subs SET last_digest=%lld WHERE last_digest > %lld; "
		    "UPDATE outbox SET next_attempt=max(%lld, next_attempt-%lld) "
		    "WHERE state='pending' AND next_attempt > %lld; "
		    "UPDATE feeds SET next_poll=max(%lld, next_poll-%lld) "
		    "WHERE next_poll > %lld; COMMIT;", now, now, now, jump, now,
		    now, jump, now);
		if (exec(st, sql, err, errlen) == -1) {
			exec(st, "ROLLBACK", err, 0);
			return -1;
		}
	}
	if (seen < now || jump > 0) {
		char sql[128];

		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta "
		    "VALUES('clock', %lld)", now);
		if (exec(st, sql, err, errlen) == -1)
			return -1;
	}
	return jump;
}

/* matches */

/* The hits as a JSON array of strings (they are valid UTF-8 terms). */
void
store_hits_json(const char *const *hits, size_t n, struct buf *out)
{
	buf_addc(out, '[');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_addc(out, ',');
		buf_addc(out, '"');
		for (const char *p = hits[i]; *p; p++) {
			unsigned char c;
			size_t k = 0;

			/* what needs no escape goes in one piece */
			while ((unsigned char)p[k] >= 0x20 && p[k] != '"' &&
			    p[k] != '\\')
				k++;
			buf_add(out, p, k);
			if ((c = (unsigned char)p[k]) == '\0')
				break;
			p += k;
			if (c == '"' || c == '\\')
				buf_addc(out, '\\');
			if (c < 0x20)
				buf_printf(out, "\\u%04x", c);
			else
				buf_addc(out, (char)c);
		}
		buf_addc(out, '"');
	}
	buf_addc(out, ']');
}

int
store_add_match(struct store *st, const char *sub, const char *paper,
    int version, double score, const char *const *hits, size_t n_hits,
    long long now, char *err, size_t errlen)
{
	struct buf h;
	int rc;

	buf_init(&h);
	store_hits_json(hits, n_hits, &h);
	sqlite3_reset(st->add_match);
	bind_str(st->add_match, 1, sub);
	bind_str(st->add_match, 2, paper);
	sqlite3_bind_int(st->add_match, 3, version);
	sqlite3_bind_double(st->add_match, 4, score);
	bind_str(st->add_match, 5, buf_str(&h));
	sqlite3_bind_int64(st->add_match, 6, now);
	rc = sqlite3_step(st->add_match);
	sqlite3_reset(st->add_match);
	buf_release(&h);
	if (rc != SQLITE_DONE)
		return db_err(st, err, errlen, "database: recording a match");
	return sqlite3_changes(st->db) > 0 ? 1 : 0;
}

/* The INSERT of k rows (1 <= k <= STORE_MATCH_ROWS), prepared once. */
static sqlite3_stmt *
add_matches_stmt(struct store *st, size_t k, char *err, size_t errlen)
{
	struct buf sql;

	if (st->add_matches[k] != NULL) {
		sqlite3_reset(st->add_matches[k]);
		return st->add_matches[k];
	}
	buf_init(&sql);
	buf_adds(&sql, "INSERT OR IGNORE INTO matches(sub, paper, version, "
	    "score, hits, matched) VALUES");
	for (size_t i = 0; i < k; i++) {	/* ?1: matched, of every row */
		size_t c = 2 + i * 5;

		buf_printf(&sql, "%s(?%zu,?%zu,?%zu,?%zu,?%zu,?1)", i ? "," :
		    "", c, c + 1, c + 2, c + 3, c + 4);
	}
	if (sqlite3_prepare_v3(st->db, buf_str(&sql), -1,
	    SQLITE_PREPARE_PERSISTENT, &st->add_matches[k], NULL) != SQLITE_OK) {
		st->add_matches[k] = NULL;
		db_err(st, err, errlen, "database");
	}
	buf_release(&sql);
	return st->add_matches[k];
}

long long
store_add_matches(struct store *st, const struct store_new_match *m,
    size_t n, long long now, char *err, size_t errlen)
{
	long long added = 0;

	while (n > 0) {
		size_t k = n < STORE_MATCH_ROWS ? n : STORE_MATCH_ROWS;
		sqlite3_stmt *s = add_matches_stmt(st, k, err, errlen);
		int rc;

		if (s == NULL)
			return -1;
		sqlite3_bind_int64(s, 1, now);
		for (size_t i = 0; i < k; i++) {
			int c = 1 + (int)i * 5;

			/* lengths given: SQLite would count them a byte at a
			   time */
			sqlite3_bind_text(s, c + 1, m[i].sub,
			    (int)strlen(m[i].sub), SQLITE_STATIC);
			sqlite3_bind_text(s, c + 2, m[i].paper,
			    (int)strlen(m[i].paper), SQLITE_STATIC);
			sqlite3_bind_int(s, c + 3, m[i].version);
			sqlite3_bind_double(s, c + 4, m[i].score);
			sqlite3_bind_text(s, c + 5, m[i].hits_json,
			    (int)strlen(m[i].hits_json), SQLITE_STATIC);
		}
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		if (rc != SQLITE_DONE)
			return db_err(st, err, errlen,
			    "database: recording a match");
		added += sqlite3_changes(st->db);
		m += k;
		n -= k;
	}
	return added;
}

/*
 * The hits JSON as store_hits_json writes it (an array of strings, no
 * white space, escapes \" \\ and \u00XX of control bytes) into out,
 * without building a jansson tree: false, out untouched, for anything
 * else, which the caller leaves to jansson.
 */
static bool
hits_read(const char *s, size_t len, struct strvec *out)
{
	const char *e = s + len;
	struct strvec v;
	struct buf b;

	if (len < 2 || s[0] != '[' || e[-1] != ']')
		return false;
	strvec_init(&v);
	buf_init(&b);
	for (s++; s < e - 1; ) {
		if (v.n > 0 && *s++ != ',')
			goto fail;
		if (s >= e - 1 || *s++ != '"')
			goto fail;
		buf_reset(&b);
		for (;;) {
			const char *q = s;
			unsigned c;

			while (q < e && *q != '"' && *q != '\\' &&
			    (unsigned char)*q >= 0x20)
				q++;
			buf_add(&b, s, (size_t)(q - s));
			s = q;
			if (s >= e || (unsigned char)*s < 0x20)
				goto fail;
			if (*s++ == '"')
				break;
			if (s >= e)
				goto fail;
			if (*s == '"' || *s == '\\') {
				buf_addc(&b, *s++);
				continue;
			}
			/* \u00XX, XX a control byte and not NUL */
			if (e - s < 5 || memcmp(s, "u00", 3) != 0)
				goto fail;
			c = 0;
			for (int k = 3; k < 5; k++) {
				char h = s[k];

				c <<= 4;
				if (h >= '0' && h <= '9')
					c |= (unsigned)(h - '0');
				else if (h >= 'a' && h <= 'f')
					c |= (unsigned)(h - 'a' + 10);
				else
					goto fail;
			}
			if (c == 0 || c >= 0x20)
				goto fail;
			buf_addc(&b, (char)c);
			s += 5;
		}
		if (!utf8_valid(buf_str(&b), b.len))
			goto fail;
		strvec_push_take(&v, b.data ? buf_detach(&b) : xstrdup(""));
	}
	buf_release(&b);
	for (size_t i = 0; i < v.n; i++)
		strvec_push_take(out, v.v[i]);
	free(v.v);
	return true;
fail:
	buf_release(&b);
	strvec_release(&v);
	return false;
}

/* The hits JSON h (len bytes) into out: our own form fast, else jansson. */
static void
hits_parse(const char *h, size_t len, struct strvec *out)
{
	json_t *a, *v;
	size_t i;

	if (h != NULL && hits_read(h, len, out))
		return;
	a = json_loads(h ? h : "", 0, NULL);
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			strvec_push(out, json_string_value(v));
	json_decref(a);
}

/* One paper's pending matches, grouped: what store_pending returns. */
struct pend {
	char		*paper;
	char		*hits;		/* JSON, of the row that was matched first */
	size_t		 hits_len;
	double		 score;		/* the best */
	long long	 matched;	/* the first */
};

/* (score a, id a) before b: better score first, then by id. */
static bool
ranks_before(double sa, const char *a, double sb, const char *b)
{
	if (sa != sb)
		return sa > sb;
	return strcmp(a, b) < 0;
}

static bool
pend_before(const struct pend *a, const struct pend *b)
{
	return ranks_before(a->score, a->paper, b->score, b->paper);
}

static int
pend_cmp(const void *a, const void *b)
{
	const struct pend *x = a, *y = b;

	return pend_before(x, y) ? -1 : pend_before(y, x) ? 1 : 0;
}

/* Sift v[i] down the heap of n whose root (v[0]) ranks last. */
static void
pend_sift(struct pend *v, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, w = i;
		struct pend t;

		if (l < n && pend_before(&v[w], &v[l]))
			w = l;
		if (r < n && pend_before(&v[w], &v[r]))
			w = r;
		if (w == i)
			return;
		t = v[i];
		v[i] = v[w];
		v[w] = t;
		i = w;
	}
}

static void
pend_up(struct pend *v, size_t i)
{
	while (i > 0) {
		size_t up = (i - 1) / 2;
		struct pend t;

		if (!pend_before(&v[up], &v[i]))
			return;
		t = v[i];
		v[i] = v[up];
		v[up] = t;
		i = up;
	}
}

static void
pend_release(struct pend *p)
{
	free(p->paper);
	free(p->hits);
}

struct pend_set {
	struct pend	*v;
	size_t		 n, cap;
	size_t		 limit;		/* 0: all; else a heap of the best */
};

/* Offer one paper's group (its strings are copied if it is kept). */
static void
pend_offer(struct pend_set *ps, const char *paper, const struct buf *hits,
    double score, long long matched)
{
	struct pend k;

	if (ps->limit > 0 && ps->n == ps->limit &&
	    !ranks_before(score, paper, ps->v[0].score, ps->v[0].paper))
		return;			/* not among the best */
	k.paper = xstrdup(paper);
	k.hits = xstrndup(buf_str(hits), hits->len);
	k.hits_len = hits->len;		/* no NUL in it: strlen */
	k.score = score;
	k.matched = matched;
	if (ps->limit > 0 && ps->n == ps->limit) {
		pend_release(&ps->v[0]);
		ps->v[0] = k;
		pend_sift(ps->v, ps->n, 0);
		return;
	}
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 32;
		ps->v = xreallocarray(ps->v, ps->cap, sizeof(*ps->v));
	}
	ps->v[ps->n++] = k;
	if (ps->limit > 0)
		pend_up(ps->v, ps->n - 1);
}

/*
 * The rows come in key order (paper, version) and are grouped here, not by
 * SQL: GROUP BY, HAVING and ORDER BY .. LIMIT cost several times the scan.
 * Same result as "SELECT paper, max(score), hits, min(matched) .. GROUP BY
 * paper HAVING max(score) >= min_score ORDER BY max(score) DESC, paper
 * LIMIT limit": SQLite takes the bare column (hits) from the first row
 * that has the min(matched), the last min/max of that query.
 */
int
store_pending(struct store *st, const char *sub, double min_score,
    size_t limit, struct store_match **out, size_t *n, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_PENDING, "SELECT paper, score, hits, "
	    "matched FROM matches WHERE sub=?1 AND digest IS NULL "
	    "ORDER BY paper, version", err, errlen);
	struct pend_set ps = { NULL, 0, 0, limit };
	struct buf paper, hits;
	double best = 0;
	long long first = 0;
	bool have = false;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	bind_str(s, 1, sub);
	buf_init(&paper);
	buf_init(&hits);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *id = (const char *)sqlite3_column_text(s, 0);
		double score = sqlite3_column_double(s, 1);
		long long matched = sqlite3_column_int64(s, 3);
		const char *h;
		size_t idlen;

		/* up to a NUL, as the copies of the old query were (and
		   strlen is cheaper than one more sqlite3_column_ call) */
		if (id == NULL)
			id = "";
		idlen = strlen(id);
		if (have && idlen == paper.len &&
		    memcmp(id, buf_str(&paper), idlen) == 0) {
			if (score > best)
				best = score;
			if (matched >= first)
				continue;
		} else {
			if (have && best >= min_score)
				pend_offer(&ps, buf_str(&paper), &hits, best,
				    first);
			buf_reset(&paper);
			buf_add(&paper, id, idlen);
			best = score;
			have = true;
		}
		first = matched;
		buf_reset(&hits);
		if ((h = (const char *)sqlite3_column_text(s, 2)) != NULL)
			buf_add(&hits, h, strlen(h));
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE && have && best >= min_score)
		pend_offer(&ps, buf_str(&paper), &hits, best, first);
	buf_release(&paper);
	buf_release(&hits);
	if (rc != SQLITE_DONE) {
		for (size_t i = 0; i < ps.n; i++)
			pend_release(&ps.v[i]);
		free(ps.v);
		return db_err(st, err, errlen, "database: pending matches");
	}
	if (ps.n > 1)
		qsort(ps.v, ps.n, sizeof(*ps.v), pend_cmp);
	*out = xcalloc(ps.n + 1, sizeof(**out));
	for (size_t i = 0; i < ps.n; i++) {
		struct store_match *m = &(*out)[i];

		m->paper = ps.v[i].paper;
		m->score = ps.v[i].score;
		m->matched = ps.v[i].matched;
		strvec_init(&m->hits);
		hits_parse(ps.v[i].hits, ps.v[i].hits_len, &m->hits);
		free(ps.v[i].hits);
	}
	*n = ps.n;
	free(ps.v);
	return 0;
}

void
store_matches_free(struct store_match *m, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(m[i].paper);
		strvec_release(&m[i].hits);
	}
	free(m);
}

long long
store_count_pending(struct store *st)
{
	return count(st, "SELECT count(*) FROM matches WHERE digest IS NULL");
}

long long
store_count_matches(struct store *st)
{
	return count(st, "SELECT count(*) FROM matches");
}

long long
store_count_digests(struct store *st)
{
	return count(st, "SELECT count(*) FROM digests WHERE n_papers > 0");
}

/*
 * sub's pending matches of papers go to digest (a seek each), then the
 * others are handled without one (what store_drop_pending does).
 */
static int
assign(struct store *st, const char *sub, const char *const *papers,
    size_t n, long long digest, char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_ASSIGN, "UPDATE matches SET digest=?1 "
	    "WHERE sub=?2 AND paper=?3 AND digest IS NULL", err, errlen);

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(s, 1, digest);
		bind_str(s, 2, sub);
		bind_str(s, 3, papers[i]);
		if (step_reset(st, s, err, errlen) == -1)
			return -1;
	}
	return store_drop_pending(st, sub, err, errlen);
}

long long
store_digest_next_id(struct store *st, char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "SELECT coalesce(max(id), 0) + 1 FROM "
	    "digests", err, errlen);
	long long id = -1;

	if (s == NULL)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		id = sqlite3_column_int64(s, 0);
	else
		db_err(st, err, errlen, "reading the digests");
	sqlite3_finalize(s);
	return id;
}

long long
store_digest_new_id(struct store *st, long long id, const char *sub,
    const char *date, long long now, const char *const *papers, size_t n,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_DIGEST_ADD, "INSERT INTO digests(id, "
	    "sub, date, created, n_papers) VALUES(?5, ?1, ?2, ?3, ?4)", err,
	    errlen);

	if (s == NULL)
		return -1;
	bind_str(s, 1, sub);
	bind_str(s, 2, date);
	sqlite3_bind_int64(s, 3, now);
	sqlite3_bind_int64(s, 4, (long long)n);
	if (id > 0)
		sqlite3_bind_int64(s, 5, id);
	else
		sqlite3_bind_null(s, 5);	/* the next rowid */
	if (step_reset(st, s, err, errlen) == -1)
		return -1;
	id = sqlite3_last_insert_rowid(st->db);
	if (assign(st, sub, papers, n, id, err, errlen) == -1 ||
	    store_sub_set_last_digest(st, sub, now, err, errlen) == -1)
		return -1;
	return id;
}

long long
store_digest_new(struct store *st, const char *sub, const char *date,
    long long now, const char *const *papers, size_t n, char *err,
    size_t errlen)
{
	return store_digest_new_id(st, 0, sub, date, now, papers, n, err,
	    errlen);
}

int
store_drop_pending(struct store *st, const char *sub, char *err,
    size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_DROP_PENDING, "UPDATE matches SET "
	    "digest=0 WHERE sub=?1 AND digest IS NULL", err, errlen);

	if (s == NULL)
		return -1;
	bind_str(s, 1, sub);
	return step_reset(st, s, err, errlen);
}

/* outbox */

int
store_outbox_add(struct store *st, long long digest, const char *sub,
    const char *channel, const char *dest, const char *subject,
    const char *body, size_t len, long long now, char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_OUTBOX_ADD, "INSERT INTO "
	    "outbox(digest, sub, channel, dest, subject, body, next_attempt, "
	    "created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)", err, errlen);

	if (s == NULL)
		return -1;
	if (len > INT_MAX) {
		snprintf(err, errlen, "database: message too large");
		return -1;
	}
	sqlite3_bind_int64(s, 1, digest);
	bind_str(s, 2, sub);
	bind_str(s, 3, channel);
	bind_str(s, 4, dest);
	bind_str(s, 5, subject);
	sqlite3_bind_blob(s, 6, body, (int)len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, now);
	return step_reset(st, s, err, errlen);
}

/*
 * The ids first, then the messages: the ORDER BY sorts every due row,
 * and a sorted row carries all its result columns, so selecting the
 * bodies there read the body of every pending message, not only of the
 * batch, on every call.
 */
int
store_outbox_due_ids(struct store *st, long long now, size_t limit,
    long long **ids, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_OUTBOX_DUE, "SELECT id FROM "
	    "outbox WHERE state='pending' AND next_attempt <= ?1 ORDER BY "
	    "channel, id LIMIT ?2", err, errlen);
	size_t cap = 0;
	int rc;

	*ids = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, (long long)limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*ids = xreallocarray(*ids, cap, sizeof(**ids));
		}
		(*ids)[(*n)++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		free(*ids);
		*ids = NULL;
		*n = 0;
		return db_err(st, err, errlen, "database: reading the outbox");
	}
	return 0;
}

int
store_outbox_load(struct store *st, const long long *ids, size_t n_ids,
    struct outbox_msg ***out, size_t *n, char *err, size_t errlen)
{
	sqlite3_stmt *s;
	int rc = SQLITE_DONE;

	*out = NULL;
	*n = 0;
	if (n_ids == 0)
		return 0;
	s = cached(st, Q_OUTBOX_GET, "SELECT digest, sub, channel, dest, "
	    "subject, body, attempts FROM outbox WHERE id=?1 AND "
	    "state='pending'", err, errlen);
	if (s == NULL)
		return -1;
	*out = xcalloc(n_ids, sizeof(**out));
	for (size_t i = 0; i < n_ids; i++) {
		struct outbox_msg *m;
		const void *blob;
		size_t len;

		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, ids[i]);
		if ((rc = sqlite3_step(s)) == SQLITE_DONE)
			continue;	/* sent or dropped since */
		if (rc != SQLITE_ROW)
			break;
		m = xcalloc(1, sizeof(*m));
		blob = sqlite3_column_blob(s, 5);
		len = (size_t)sqlite3_column_bytes(s, 5);
		m->id = ids[i];
		m->digest_id = xasprintf("%lld", sqlite3_column_int64(s, 0));
		m->subscription = col_str(s, 1);
		m->channel = col_str(s, 2);
		m->dest = col_str(s, 3);
		m->subject = col_str(s, 4);
		m->body = xmalloc(len + 1);
		if (len)
			memcpy(m->body, blob, len);
		m->body[len] = '\0';
		m->body_len = len;
		m->attempts = sqlite3_column_int(s, 6);
		(*out)[(*n)++] = m;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		db_err(st, err, errlen, "database: reading the outbox");
		store_outbox_free(*out, *n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}

int
store_outbox_due(struct store *st, long long now, size_t limit,
    struct outbox_msg ***out, size_t *n, char *err, size_t errlen)
{
	long long *ids;
	size_t n_ids;
	int rc;

	*out = NULL;
	*n = 0;
	if (store_outbox_due_ids(st, now, limit, &ids, &n_ids, err,
	    errlen) == -1)
		return -1;
	rc = store_outbox_load(st, ids, n_ids, out, n, err, errlen);
	free(ids);
	return rc;
}

void
store_outbox_free(struct outbox_msg **m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		outbox_msg_free(m[i]);
	free(m);
}

/*
 * One autocommit UPDATE per message, so a crash resends at most the
 * message in flight.  The body is dropped in the same UPDATE: it is only
 * kept for a resend, and a row without its overflow pages is a few
 * hundred bytes, so the mark writes a handful of pages to the WAL, not
 * the whole message again.
 */
int
store_outbox_sent(struct store *st, long long id, long long now, char *err,
    size_t errlen)
{
	int rc;

	sqlite3_reset(st->outbox_sent);
	sqlite3_bind_int64(st->outbox_sent, 1, id);
	sqlite3_bind_int64(st->outbox_sent, 2, now);
	rc = sqlite3_step(st->outbox_sent);
	sqlite3_reset(st->outbox_sent);
	if (rc != SQLITE_DONE)
		return db_err(st, err, errlen, "database: marking a message sent");
	return 0;
}

int
store_outbox_failed(struct store *st, long long id, bool dead, long long next,
    const char *why, char *err, size_t errlen)
{
	sqlite3_stmt *s = cached(st, Q_OUTBOX_FAILED, "UPDATE outbox SET "
	    "state=?2, attempts=attempts+1, next_attempt=?3, last_error=?4 "
	    "WHERE id=?1", err, errlen);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	bind_str(s, 2, dead ? "dead" : "pending");
	sqlite3_bind_int64(s, 3, next);
	bind_str(s, 4, why);
	return step_reset(st, s, err, errlen);
}

int
store_outbox_list(struct store *st, struct store_outbox_row **out, size_t *n,
    char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "SELECT id, sub, channel, dest, state, "
	    "attempts, next_attempt, created, last_error FROM outbox WHERE "
	    "state != 'sent' ORDER BY id", err, errlen);
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return -1;
	while (sqlite3_step(s) == SQLITE_ROW) {
		struct store_outbox_row *r;

		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		r = &(*out)[(*n)++];
		r->id = sqlite3_column_int64(s, 0);
		r->sub = col_str(s, 1);
		r->channel = col_str(s, 2);
		r->dest = col_str(s, 3);
		r->state = col_str(s, 4);
		r->attempts = sqlite3_column_int(s, 5);
		r->next_attempt = sqlite3_column_int64(s, 6);
		r->created = sqlite3_column_int64(s, 7);
		r->last_error = col_str(s, 8);
	}
	sqlite3_finalize(s);
	return 0;
}

void
store_outbox_rows_free(struct store_outbox_row *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].sub);
		free(r[i].channel);
		free(r[i].dest);
		free(r[i].state);
		free(r[i].last_error);
	}
	free(r);
}

int
store_outbox_retry(struct store *st, long long id, long long now, char *err,
    size_t errlen)
{
	/* a dead letter starts again with every attempt max_attempts gives */
	sqlite3_stmt *s = prep(st, id < 0 ?
	    "UPDATE outbox SET state='pending', next_attempt=?2, attempts="
	    "CASE WHEN state='dead' THEN 0 ELSE attempts END WHERE "
	    "state != 'sent' AND ?1 < 0" :
	    "UPDATE outbox SET state='pending', next_attempt=?2, attempts="
	    "CASE WHEN state='dead' THEN 0 ELSE attempts END WHERE "
	    "state != 'sent' AND id=?1", err, errlen);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, now);
	if (step_done(st, s, err, errlen) == -1)
		return -1;
	if (id >= 0 && sqlite3_changes(st->db) == 0) {
		snprintf(err, errlen, "no unsent outbox message %lld", id);
		return -1;
	}
	return 0;
}

int
store_outbox_drop(struct store *st, long long id, char *err, size_t errlen)
{
	sqlite3_stmt *s = prep(st, "DELETE FROM outbox WHERE id=?1 AND "
	    "state != 'sent'", err, errlen);

	if (s == NULL)
		return -1;
	sqlite3_bind_int64(s, 1, id);
	if (step_done(st, s, err, errlen) == -1)
		return -1;
	if (sqlite3_changes(st->db) == 0) {
		snprintf(err, errlen, "no unsent outbox message %lld", id);
		return -1;
	}
	return 0;
}

/*
 * store_outbox_sent drops the body with the mark, so only rows marked by
 * an older paperwatch can still hold one: they are looked for once per
 * open database, not after every delivery (the scan reads every sent
 * row).
 */
void
store_outbox_compact(struct store *st)
{
	if (st->outbox_compacted)
		return;
	if (sqlite3_exec(st->db, "UPDATE outbox SET body=x'' WHERE "
	    "state='sent' AND length(body) > 0", NULL, NULL, NULL) == SQLITE_OK)
		st->outbox_compacted = true;
}

long long
store_outbox_next_attempt(struct store *st)
{
	sqlite3_stmt *s = NULL;
	long long t = -1;

	if (sqlite3_prepare_v2(st->db, "SELECT min(next_attempt) FROM outbox "
	    "WHERE state='pending'", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		t = col_time(s, 0);
	sqlite3_finalize(s);
	return t;
}

void
store_outbox_counts(struct store *st, long long *pending, long long *retrying,
    long long *dead, long long *sent)
{
	/* one snapshot, not four moments of a table being written */
	bool tx = !store_in_transaction(st) &&
	    sqlite3_exec(st->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;

	*pending = count(st, "SELECT count(*) FROM outbox WHERE "
	    "state='pending'");
	*retrying = count(st, "SELECT count(*) FROM outbox WHERE "
	    "state='pending' AND attempts > 0");
	*dead = count(st, "SELECT count(*) FROM outbox WHERE state='dead'");
	*sent = count(st, "SELECT count(*) FROM outbox WHERE state='sent'");
	if (tx)
		sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
}
