/*
 * test_store.c: the state database: papers merged across sources, matches
 * recorded once, digests that take pending matches, the outbox lifecycle,
 * feed state, and persistence across a reopen.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "daemon/store.h"

static char dir[] = "/tmp/pw-test-store-XXXXXX";
static char path[256];

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/sub/state.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct store *
open_db(void)
{
	char err[256];
	struct store *st = store_open(path, err, sizeof(err));

	if (st == NULL)
		fail_msg("%s", err);
	return st;
}

static struct paper *
mk(const char *id, int version, const char *title)
{
	struct paper *p = paper_new();

	paper_set_arxiv_id(p, id, version);
	paper_set(&p->title, title);
	return p;
}

static void
test_open_private(void **state)
{
	struct store *st = open_db();
	struct stat sb;

	(void)state;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	store_close(st);
}

static void
test_papers_merge_and_fresh(void **state)
{
	struct store *st = open_db();
	struct paper *p = mk("2502.05173", 1, "VideoRoPE"), *m = NULL;
	bool fresh, newer;
	char err[256];

	(void)state;
	assert_int_equal(store_put_paper(st, p, "arxiv", 100, &m, &fresh,
	    &newer, err, sizeof(err)), 0);
	assert_true(fresh);
	assert_false(newer);
	assert_string_equal(m->sources.v[0], "arxiv");
	paper_free(m);
	/* the same sighting again: not fresh */
	assert_int_equal(store_put_paper(st, p, "arxiv", 200, &m, &fresh,
	    &newer, err, sizeof(err)), 0);
	assert_false(fresh);
	paper_free(m);
	/* Hugging Face sees it: fresh for hf, merged, one paper */
	p->upvotes = 17;
	assert_int_equal(store_put_paper(st, p, "hf", 300, &m, &fresh, &newer,
	    err, sizeof(err)), 0);
	assert_true(fresh);
	assert_int_equal(m->upvotes, 17);
	assert_int_equal(m->sources.n, 2);
	paper_free(m);
	assert_int_equal(store_count_papers(st), 1);
	/* a newer version */
	paper_free(p);
	p = mk("2502.05173", 2, "VideoRoPE (v2)");
	assert_int_equal(store_put_paper(st, p, "arxiv", 400, &m, &fresh,
	    &newer, err, sizeof(err)), 0);
	assert_false(fresh);
	assert_true(newer);
	paper_free(m);
	m = store_get_paper(st, "2502.05173");
	assert_non_null(m);
	assert_int_equal(m->version, 2);
	assert_string_equal(m->title, "VideoRoPE (v2)");
	assert_int_equal(m->upvotes, 17);
	paper_free(m);
	assert_null(store_get_paper(st, "9999.99999"));
	paper_free(p);
	store_close(st);
}

static void
test_matches_digest_outbox(void **state)
{
	struct store *st = open_db();
	const char *hits[] = { "video generation", "diffus*" };
	struct store_match *m;
	struct outbox_msg **msgs;
	struct store_outbox_row *rows;
	size_t n;
	long long did, pending, retrying, dead, sent;
	const char *take[] = { "2502.00002" };
	char err[256];

	(void)state;
	assert_int_equal(store_add_match(st, "video", "2502.00001", 0, 1.0,
	    hits, 1, 10, err, sizeof(err)), 1);
	assert_int_equal(store_add_match(st, "video", "2502.00002", 0, 5.0,
	    hits, 2, 10, err, sizeof(err)), 1);
	/* the same pair again is not a new match */
	assert_int_equal(store_add_match(st, "video", "2502.00002", 0, 9.0,
	    hits, 2, 20, err, sizeof(err)), 0);
	assert_int_equal(store_add_match(st, "other", "2502.00002", 0, 1.0,
	    hits, 1, 20, err, sizeof(err)), 1);
	assert_int_equal(store_pending(st, "video", 0, 0, &m, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(m[0].paper, "2502.00002");	/* best first */
	assert_int_equal(m[0].hits.n, 2);
	assert_string_equal(m[0].hits.v[1], "diffus*");
	store_matches_free(m, n);
	/* min_score and limit are applied by the query */
	assert_int_equal(store_pending(st, "video", 2.0, 0, &m, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	store_matches_free(m, n);
	assert_int_equal(store_pending(st, "video", 0, 1, &m, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].paper, "2502.00002");
	store_matches_free(m, n);

	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	did = store_digest_new(st, "video", "2026-11-27", 30, take, 1, err,
	    sizeof(err));
	assert_true(did > 0);
	assert_int_equal(store_outbox_add(st, did, "video", "smtp",
	    "alice@example.org", "Papers", "body-a", 6, 30, err, sizeof(err)), 0);
	assert_int_equal(store_outbox_add(st, did, "video", "webhook",
	    "video#0", "slack", "{}", 2, 30, err, sizeof(err)), 0);
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	/* 2502.00002 went into the digest; 2502.00001 was dropped with it */
	assert_int_equal(store_pending(st, "video", 0, 0, &m, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	store_matches_free(m, n);
	assert_int_equal(store_sub_last_digest(st, "video"), -1); /* no subs row */
	assert_int_equal(store_count_pending(st), 1);	/* "other" */

	assert_int_equal(store_outbox_due(st, 29, 10, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	store_outbox_free(msgs, n);
	assert_int_equal(store_outbox_due(st, 30, 10, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(msgs[0]->channel, "smtp");
	assert_string_equal(msgs[0]->body, "body-a");
	assert_int_equal(msgs[0]->body_len, 6);
	assert_string_equal(msgs[1]->dest, "video#0");
	/* smtp accepted; the webhook failed: retry at 100 */
	assert_int_equal(store_outbox_sent(st, msgs[0]->id, 31, err,
	    sizeof(err)), 0);
	assert_int_equal(store_outbox_failed(st, msgs[1]->id, false, 100,
	    "HTTP 503", err, sizeof(err)), 0);
	store_outbox_free(msgs, n);
	store_outbox_counts(st, &pending, &retrying, &dead, &sent);
	assert_int_equal(pending, 1);
	assert_int_equal(retrying, 1);
	assert_int_equal(dead, 0);
	assert_int_equal(sent, 1);
	assert_int_equal(store_outbox_due(st, 99, 10, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	store_outbox_free(msgs, n);
	assert_int_equal(store_outbox_due(st, 100, 10, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0]->attempts, 1);
	assert_int_equal(store_outbox_failed(st, msgs[0]->id, true, 200,
	    "HTTP 404", err, sizeof(err)), 0);
	store_outbox_free(msgs, n);
	assert_int_equal(store_outbox_list(st, &rows, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rows[0].state, "dead");
	assert_string_equal(rows[0].last_error, "HTTP 404");
	assert_int_equal(rows[0].attempts, 2);
	/* retry a dead letter, then drop it */
	assert_int_equal(store_outbox_retry(st, rows[0].id, 500, err,
	    sizeof(err)), 0);
	assert_int_equal(store_outbox_due(st, 500, 10, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	/* with every attempt again, not one from max_attempts */
	assert_int_equal(msgs[0]->attempts, 0);
	store_outbox_free(msgs, n);
	assert_int_equal(store_outbox_drop(st, rows[0].id, err, sizeof(err)), 0);
	assert_int_equal(store_outbox_drop(st, rows[0].id, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no unsent outbox message"));
	store_outbox_rows_free(rows, 1);
	store_close(st);
}

/*
 * The two-step read: store_outbox_due_ids gives the ids in delivery
 * order (channel, then id) and honours limit and next_attempt;
 * store_outbox_load returns those still pending, in the order given,
 * skipping one sent and one dropped since.
 */
static void
test_outbox_due_ids_load(void **state)
{
	static const char *const chans[] = { "webhook", "smtp", "mbox",
		"smtp", "webhook", "smtp" };
	struct store *st = open_db();
	struct outbox_msg **msgs;
	long long *ids, id[6], want[6];
	size_t n, n_ids;
	char err[256], body[16];

	(void)state;
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	for (int i = 0; i < 6; i++) {
		snprintf(body, sizeof(body), "b%d", i);
		assert_int_equal(store_outbox_add(st, 0, "ids", chans[i],
		    "d@example.org", "S", body, strlen(body), i == 5 ? 9000 :
		    5000, err, sizeof(err)), 0);
	}
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	/* the ids in insertion order, whatever the rowids are */
	assert_int_equal(store_outbox_due_ids(st, 9000, 100, &ids, &n_ids,
	    err, sizeof(err)), 0);
	assert_int_equal(n_ids, 6);
	assert_int_equal(store_outbox_load(st, ids, n_ids, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		id[msgs[i]->body[1] - '0'] = msgs[i]->id;
	store_outbox_free(msgs, n);
	free(ids);
	/* at 5000: mbox 2; smtp 1, 3 (5 is not due yet); webhook 0, 4 */
	want[0] = id[2]; want[1] = id[1]; want[2] = id[3];
	want[3] = id[0]; want[4] = id[4];
	assert_int_equal(store_outbox_due_ids(st, 5000, 100, &ids, &n_ids,
	    err, sizeof(err)), 0);
	assert_int_equal(n_ids, 5);
	for (size_t i = 0; i < n_ids; i++)
		assert_int_equal(ids[i], want[i]);
	free(ids);
	assert_int_equal(store_outbox_due_ids(st, 5000, 2, &ids, &n_ids,
	    err, sizeof(err)), 0);
	assert_int_equal(n_ids, 2);
	assert_int_equal(ids[1], id[1]);
	free(ids);
	/* sent and dropped between the two steps: skipped */
	assert_int_equal(store_outbox_sent(st, id[1], 5001, err, sizeof(err)),
	    0);
	assert_int_equal(store_outbox_drop(st, id[0], err, sizeof(err)), 0);
	assert_int_equal(store_outbox_load(st, want, 5, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 3);
	assert_int_equal(msgs[0]->id, id[2]);
	assert_string_equal(msgs[0]->channel, "mbox");
	assert_string_equal(msgs[0]->body, "b2");
	assert_int_equal(msgs[0]->body_len, 2);
	assert_int_equal(msgs[1]->id, id[3]);
	assert_int_equal(msgs[2]->id, id[4]);
	assert_string_equal(msgs[2]->channel, "webhook");
	store_outbox_free(msgs, n);
	assert_int_equal(store_outbox_load(st, NULL, 0, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(msgs);
	/* leave nothing pending for the tests after this one */
	assert_int_equal(store_outbox_drop(st, id[2], err, sizeof(err)), 0);
	assert_int_equal(store_outbox_drop(st, id[3], err, sizeof(err)), 0);
	assert_int_equal(store_outbox_drop(st, id[4], err, sizeof(err)), 0);
	assert_int_equal(store_outbox_drop(st, id[5], err, sizeof(err)), 0);
	store_close(st);
}

/* length(body) of outbox row id, read with a connection of our own */
static long long
body_length(long long id)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long len = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT length(body) FROM "
	    "outbox WHERE id=?1", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		len = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return len;
}

static void
exec_sql(const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/*
 * Bodies go in and come out byte for byte (any byte, 20 KB: overflow
 * pages), the caller's buffer is not kept, a sent mark drops the body
 * (kept only for a resend) while a failed message keeps it, and a body
 * left on a sent row (as an older paperwatch marked them) is dropped by
 * the first compaction of an open database.
 */
static void
test_outbox_bodies(void **state)
{
	enum { LEN = 20000 };
	struct store *st = open_db();
	struct outbox_msg **msgs;
	char *body = malloc(LEN), err[256], sql[128];
	long long id[3], pending, retrying, dead, sent, sent0;
	size_t n;

	(void)state;
	assert_non_null(body);
	store_outbox_counts(st, &pending, &retrying, &dead, &sent0);
	assert_int_equal(pending, 0);	/* the earlier tests left none */
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	for (int i = 0; i < 3; i++) {
		for (int k = 0; k < LEN; k++)
			body[k] = (char)((k * 7 + i) & 0xff);
		assert_int_equal(store_outbox_add(st, 0, "bodies", "smtp",
		    "b@example.org", "Big", body, LEN, 1000, err,
		    sizeof(err)), 0);
		memset(body, 'x', LEN);		/* not kept by the store */
	}
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	for (int round = 0; round < 2; round++) {	/* the statement again */
		assert_int_equal(store_outbox_due(st, 1000, 10, &msgs, &n, err,
		    sizeof(err)), 0);
		assert_int_equal(n, 3);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(msgs[i]->body_len, LEN);
			assert_int_equal(msgs[i]->body[LEN], '\0');
			for (int k = 0; k < LEN; k++)
				if ((unsigned char)msgs[i]->body[k] !=
				    ((k * 7 + i) & 0xff))
					fail_msg("message %d byte %d differs",
					    i, k);
			id[i] = msgs[i]->id;
		}
		store_outbox_free(msgs, n);
	}
	assert_int_equal(store_outbox_sent(st, id[0], 1001, err, sizeof(err)),
	    0);
	assert_int_equal(store_outbox_failed(st, id[1], false, 2000, "later",
	    err, sizeof(err)), 0);
	assert_int_equal(body_length(id[0]), 0);
	assert_int_equal(body_length(id[1]), LEN);
	assert_int_equal(body_length(id[2]), LEN);
	store_outbox_counts(st, &pending, &retrying, &dead, &sent);
	assert_int_equal(pending, 2);
	assert_int_equal(retrying, 1);
	assert_int_equal(sent, sent0 + 1);
	assert_int_equal(store_outbox_due(st, 1500, 10, &msgs, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(msgs[0]->id, id[2]);
	store_outbox_free(msgs, n);
	store_close(st);

	/* a sent row that kept its body: dropped by the first compaction */
	snprintf(sql, sizeof(sql), "UPDATE outbox SET state='sent' WHERE "
	    "id=%lld", id[2]);
	exec_sql(sql);
	st = open_db();
	assert_int_equal(body_length(id[2]), LEN);
	store_outbox_compact(st);
	assert_int_equal(body_length(id[2]), 0);
	assert_int_equal(body_length(id[1]), LEN);	/* pending: kept */
	store_close(st);
	free(body);
}

/* Several matches to a statement: as if added one by one. */
/*
 * The hits of a pending match read back the same whatever wrote the JSON:
 * store_hits_json's own form (read without jansson), and any other valid
 * JSON (white space, other escapes, non-strings skipped); what is not a
 * valid array of valid UTF-8 strings gives no hits.
 */
static void
test_pending_hits_forms(void **state)
{
	static const struct {
		const char	*json;
		size_t		 n;
		const char	*v[3];
	} c[] = {
		{ "[\"plain\",\"Ma\xc5\x82gorzata\"]", 2,
		    { "plain", "Ma\xc5\x82gorzata" } },
		{ "[\"q\\\"b\\\\s\",\"c\\u0001d\"]", 2, { "q\"b\\s", "c\x01" "d" } },
		{ "[]", 0, { NULL } },
		{ "[ \"sp\" , \"x\" ]", 2, { "sp", "x" } },
		{ "[\"a\\/b\\n\",\"caf\\u00e9\"]", 2, { "a/b\n", "caf\xc3\xa9" } },
		{ "[\"x\",1,\"y\"]", 2, { "x", "y" } },
		{ "[\"\\u0000\"]", 0, { NULL } },
		{ "[\"\xff\"]", 0, { NULL } },
		{ "[\"open]", 0, { NULL } },
		{ "[\"a\",]", 0, { NULL } },
		{ "not json", 0, { NULL } },
	};
	const char *tricky[] = { "tab\there", "quote\"back\\slash", "\x01" };
	const size_t nc = sizeof(c) / sizeof(c[0]);
	struct store *st = open_db();
	struct store_new_match m[16];
	struct store_match *pm;
	char ids[16][16], err[256];
	size_t n;

	(void)state;
	for (size_t i = 0; i < nc; i++) {
		snprintf(ids[i], sizeof(ids[i]), "2502.%05zu", 20000 + i);
		m[i].sub = "forms";
		m[i].paper = ids[i];
		m[i].version = 0;
		m[i].score = (double)(100 - i);	/* read back in this order */
		m[i].hits_json = c[i].json;
	}
	assert_int_equal(store_add_matches(st, m, nc, 10, err, sizeof(err)),
	    (long long)nc);
	assert_int_equal(store_pending(st, "forms", 0, 0, &pm, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, nc);
	for (size_t i = 0; i < nc; i++) {
		assert_string_equal(pm[i].paper, ids[i]);
		assert_int_equal(pm[i].hits.n, c[i].n);
		for (size_t k = 0; k < c[i].n; k++)
			assert_string_equal(pm[i].hits.v[k], c[i].v[k]);
	}
	store_matches_free(pm, n);
	/* and what store_add_match writes comes back as it went in */
	assert_int_equal(store_add_match(st, "own", "2502.00001", 0, 1.0,
	    tricky, 3, 10, err, sizeof(err)), 1);
	assert_int_equal(store_pending(st, "own", 0, 0, &pm, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_int_equal(pm[0].hits.n, 3);
	for (size_t k = 0; k < 3; k++)
		assert_string_equal(pm[0].hits.v[k], tricky[k]);
	store_matches_free(pm, n);
	store_close(st);
}

/*
 * A paper's versions are one pending match: its best score, the time and
 * hits of its version matched first (the first in version order when
 * several were matched at once), as the GROUP BY query that came before
 * returned them; min_score, then the best limit of them, best first.
 */
static void
test_pending_versions(void **state)
{
	static const struct {
		const char	*paper;
		int		 version;
		double		 score;
		const char	*hits;
		long long	 matched;
	} r[] = {
		{ "A", 1, 1.0, "[\"a1\"]", 20 },
		{ "A", 2, 5.0, "[\"a2\"]", 10 },
		{ "A", 3, 3.0, "[\"a3\"]", 10 },
		{ "B", 1, 4.0, "[\"b1\"]", 5 },
		{ "B", 2, 2.0, "[\"b2\"]", 30 },
		{ "C", 1, 0.5, "[\"c1\"]", 1 },
	};
	struct store *st = open_db();
	struct store_new_match m[40];
	struct store_match *pm, *all;
	char ids[40][16], err[256];
	size_t n, n_all;

	(void)state;
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		struct store_new_match one = { "ver", r[i].paper, r[i].version,
		    r[i].score, r[i].hits };

		assert_int_equal(store_add_matches(st, &one, 1, r[i].matched,
		    err, sizeof(err)), 1);
	}
	assert_int_equal(store_pending(st, "ver", 1.0, 0, &pm, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_string_equal(pm[0].paper, "A");
	assert_true(pm[0].score == 5.0);
	assert_int_equal(pm[0].matched, 10);
	assert_int_equal(pm[0].hits.n, 1);
	assert_string_equal(pm[0].hits.v[0], "a2");
	assert_string_equal(pm[1].paper, "B");
	assert_true(pm[1].score == 4.0);
	assert_int_equal(pm[1].matched, 5);
	assert_string_equal(pm[1].hits.v[0], "b1");
	store_matches_free(pm, n);

	/* the best 10 of 40, ties by id: the first 10 of them all */
	for (size_t i = 0; i < 40; i++) {
		snprintf(ids[i], sizeof(ids[i]), "2502.%05zu", 30000 + i * 7 % 40);
		m[i] = (struct store_new_match){ "many", ids[i], 0,
		    (double)(i % 7), "[]" };
	}
	assert_int_equal(store_add_matches(st, m, 40, 10, err, sizeof(err)),
	    40);
	assert_int_equal(store_pending(st, "many", 0, 0, &all, &n_all, err,
	    sizeof(err)), 0);
	assert_int_equal(n_all, 40);
	for (size_t i = 1; i < n_all; i++)
		assert_true(all[i - 1].score > all[i].score ||
		    (all[i - 1].score == all[i].score &&
		    strcmp(all[i - 1].paper, all[i].paper) < 0));
	assert_int_equal(store_pending(st, "many", 2.0, 10, &pm, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(pm[i].paper, all[i].paper);
		assert_true(pm[i].score == all[i].score);
	}
	store_matches_free(pm, n);
	store_matches_free(all, n_all);
	store_close(st);
}

static void
test_add_matches(void **state)
{
	struct store *st = open_db();
	struct store_new_match m[40];
	struct store_match *pm;
	char ids[40][16], err[256];
	size_t n;

	(void)state;
	assert_int_equal(store_add_match(st, "bulk", "2502.10003", 0, 9.0,
	    NULL, 0, 5, err, sizeof(err)), 1);
	for (size_t i = 0; i < 40; i++) {
		snprintf(ids[i], sizeof(ids[i]), "2502.%05zu", 10000 + i % 37);
		m[i].sub = "bulk";
		m[i].paper = ids[i];
		m[i].version = 0;
		m[i].score = (double)i;
		m[i].hits_json = i == 1 ? "[\"a\\\"b\"]" : "[]";
	}
	/* 40 rows, 16 to a statement: 37 ids, one of them known already */
	assert_int_equal(store_add_matches(st, m, 40, 10, err, sizeof(err)),
	    36);
	assert_int_equal(store_add_matches(st, m, 3, 10, err, sizeof(err)), 0);
	assert_int_equal(store_pending(st, "bulk", 0, 0, &pm, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 37);
	assert_string_equal(pm[0].paper, "2502.10036");	/* score 36 */
	assert_true(pm[0].score == 36.0);	/* not 39: the first one won */
	for (size_t i = 0; i < n; i++) {
		if (strcmp(pm[i].paper, "2502.10003") == 0)
			assert_true(pm[i].score == 9.0);	/* kept */
		if (strcmp(pm[i].paper, "2502.10001") == 0) {
			assert_int_equal(pm[i].hits.n, 1);
			assert_string_equal(pm[i].hits.v[0], "a\"b");
		}
	}
	store_matches_free(pm, n);
	store_close(st);
}

/* The one integer sql (with sub as ?1) reads from db_path; -1 if none. */
static long long
scalar_of(const char *db_path, const char *sql, const char *sub)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		sqlite3_bind_text(s, 1, sub, -1, SQLITE_STATIC);
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

/* Rows of sub's matches in a digest (in) or handled without one. */
static int
digest_rows(const char *db_path, const char *sub, bool in)
{
	return (int)scalar_of(db_path, in ? "SELECT count(*) FROM matches "
	    "WHERE sub=?1 AND digest > 0" : "SELECT count(*) FROM matches "
	    "WHERE sub=?1 AND digest = 0", sub);
}

/*
 * Digests share a transaction, each in a savepoint: one undone leaves
 * the others, and nothing is kept without the commit.
 */
static void
test_savepoints(void **state)
{
	struct store *st = open_db();
	const char *hits[] = { "graph" };
	const char *a[] = { "2502.00011" }, *b[] = { "2502.00012" };
	struct store_match *m;
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(store_add_match(st, "sa", "2502.00011", 0, 1.0, hits,
	    1, 10, err, sizeof(err)), 1);
	assert_int_equal(store_add_match(st, "sb", "2502.00012", 0, 1.0, hits,
	    1, 10, err, sizeof(err)), 1);
	assert_false(store_in_transaction(st));
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	assert_true(store_in_transaction(st));
	assert_int_equal(store_savepoint(st, err, sizeof(err)), 0);
	assert_true(store_digest_new(st, "sa", "2026-11-27", 30, a, 1, err,
	    sizeof(err)) > 0);
	assert_int_equal(store_savepoint_release(st, err, sizeof(err)), 0);
	assert_int_equal(store_savepoint(st, err, sizeof(err)), 0);
	assert_true(store_digest_new(st, "sb", "2026-11-27", 30, b, 1, err,
	    sizeof(err)) > 0);
	store_savepoint_rollback(st);		/* sb's digest undone */
	assert_true(store_in_transaction(st));
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	assert_int_equal(store_pending(st, "sa", 0, 0, &m, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 0);
	store_matches_free(m, n);
	assert_int_equal(store_pending(st, "sb", 0, 0, &m, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	assert_string_equal(m[0].paper, "2502.00012");
	store_matches_free(m, n);
	/* ids that need JSON escaping are assigned like any other */
	{
		const char *odd[] = { "http://ex.org/a\"b\\c\u00e9", "tag:\x01x" };

		assert_int_equal(store_add_match(st, "sc", odd[0], 0, 2.0, hits,
		    1, 10, err, sizeof(err)), 1);
		assert_int_equal(store_add_match(st, "sc", odd[1], 0, 1.0, hits,
		    1, 10, err, sizeof(err)), 1);
		assert_int_equal(store_add_match(st, "sc", "plain", 0, 3.0, hits,
		    1, 10, err, sizeof(err)), 1);
		assert_int_equal(store_begin(st, err, sizeof(err)), 0);
		assert_true(store_digest_new(st, "sc", "2026-11-27", 30, odd, 2,
		    err, sizeof(err)) > 0);
		assert_int_equal(store_commit(st, err, sizeof(err)), 0);
		assert_int_equal(store_pending(st, "sc", 0, 0, &m, &n, err,
		    sizeof(err)), 0);
		assert_int_equal(n, 0);		/* "plain" handled too */
		store_matches_free(m, n);
		/* the two odd ids went into the digest, "plain" did not */
		assert_int_equal(digest_rows(path, "sc", true), 2);
		assert_int_equal(digest_rows(path, "sc", false), 1);
	}
	/* a rolled-back transaction keeps nothing */
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	assert_int_equal(store_savepoint(st, err, sizeof(err)), 0);
	assert_true(store_digest_new(st, "sb", "2026-11-27", 40, b, 1, err,
	    sizeof(err)) > 0);
	assert_int_equal(store_savepoint_release(st, err, sizeof(err)), 0);
	store_rollback(st);
	assert_false(store_in_transaction(st));
	assert_int_equal(store_pending(st, "sb", 0, 0, &m, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	store_matches_free(m, n);
	store_close(st);
}

/*
 * A digest made with the id it was rendered with (the digest thread
 * renders ahead of the writer): ids may skip one whose digest failed, and
 * an id taken already is an error, not a second digest.
 */
static void
test_digest_ids(void **state)
{
	struct store *st = open_db();
	const char *hits[] = { "graph" };
	const char *a[] = { "2502.00021" }, *b[] = { "2502.00022" };
	struct store_match *m;
	long long next;
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(store_add_match(st, "ia", a[0], 0, 1.0, hits, 1, 10,
	    err, sizeof(err)), 1);
	assert_int_equal(store_add_match(st, "ib", b[0], 0, 1.0, hits, 1, 10,
	    err, sizeof(err)), 1);
	next = store_digest_next_id(st, err, sizeof(err));
	assert_true(next >= 1);
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	assert_int_equal(store_digest_new_id(st, next + 1, "ia", "2026-11-27",
	    30, a, 1, err, sizeof(err)), next + 1);
	assert_int_equal(store_savepoint(st, err, sizeof(err)), 0);
	assert_int_equal(store_digest_new_id(st, next + 1, "ib", "2026-11-27",
	    30, b, 1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "UNIQUE"));
	store_savepoint_rollback(st);
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	assert_int_equal(store_digest_next_id(st, err, sizeof(err)), next + 2);
	/* ib's match is still pending; 0 takes the next id */
	assert_int_equal(store_pending(st, "ib", 0, 0, &m, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 1);
	store_matches_free(m, n);
	assert_int_equal(store_digest_new_id(st, 0, "ib", "2026-11-27", 30, b,
	    1, err, sizeof(err)), next + 2);
	store_close(st);
}

/*
 * Deferred checkpoints: commits leave the WAL alone; store_checkpoint
 * copies it once it holds SQLite's 1,000 pages (k times that), and says
 * whether it was due.
 */
static void
test_deferred_checkpoints(void **state)
{
	struct store *st = open_db();
	static char body[4096];
	char err[256];

	(void)state;
	memset(body, 'x', sizeof(body));
	store_defer_checkpoints(st);
	assert_false(store_checkpoint(st, 1));
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	for (int i = 0; i < 1200; i++)
		assert_int_equal(store_outbox_add(st, 0, "ck", "smtp",
		    "a@example.org", "s", body, sizeof(body), 10, err,
		    sizeof(err)), 0);
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	assert_false(store_checkpoint(st, 8));
	assert_true(store_checkpoint(st, 1));
	assert_false(store_checkpoint(st, 1));
	/* a small commit after it is not due either */
	assert_int_equal(store_begin(st, err, sizeof(err)), 0);
	assert_int_equal(store_outbox_add(st, 0, "ck", "smtp",
	    "b@example.org", "s", "b", 1, 10, err, sizeof(err)), 0);
	assert_int_equal(store_commit(st, err, sizeof(err)), 0);
	assert_false(store_checkpoint(st, 1));
	store_close(st);
}

static void
test_feed_state_and_reopen(void **state)
{
	struct store *st = open_db();
	struct store_feed f;
	struct strvec names;
	long long first;
	bool is_new;
	char err[256];

	(void)state;
	assert_int_equal(store_feed_get(st, "hf", &f, err, sizeof(err)), 0);
	assert_null(f.etag);
	assert_int_equal(f.last_ok, -1);
	f.etag = xstrdup("\"v1-3\"");
	f.last_modified = 1700000000;
	f.last_ok = 123;
	f.fails = 2;
	f.n_total = 30;
	assert_int_equal(store_feed_put(st, "hf", &f, err, sizeof(err)), 0);
	store_feed_release(&f);
	assert_int_equal(store_sub_first(st, "video", 1000, &first, &is_new,
	    err, sizeof(err)), 0);
	assert_true(is_new);
	assert_int_equal(first, 1000);
	store_close(st);

	st = open_db();
	assert_int_equal(store_feed_get(st, "hf", &f, err, sizeof(err)), 0);
	assert_string_equal(f.etag, "\"v1-3\"");
	assert_int_equal(f.last_modified, 1700000000);
	assert_int_equal(f.fails, 2);
	assert_int_equal(f.n_total, 30);
	store_feed_release(&f);
	strvec_init(&names);
	assert_int_equal(store_feed_names(st, &names, err, sizeof(err)), 0);
	assert_int_equal(names.n, 1);
	strvec_release(&names);
	assert_int_equal(store_sub_first(st, "video", 2000, &first, &is_new,
	    err, sizeof(err)), 0);
	assert_false(is_new);
	assert_int_equal(first, 1000);
	/* the papers of the earlier test are still there */
	assert_int_equal(store_count_papers(st), 1);
	store_close(st);
}

/* next_attempt of sub's outbox row, -1 if none. */
static long long
next_attempt_of(const char *db_path, const char *sub)
{
	return scalar_of(db_path, "SELECT next_attempt FROM outbox WHERE "
	    "sub=?1", sub);
}

/* The clock went back: the times set while it was ahead move back too. */
static void
test_clock_back(void **state)
{
	struct store *st = open_db();
	struct store_feed f;
	long long first, id;
	bool is_new;
	char err[256];
	const long long ahead = 4000000000LL, jump = 30 * 86400;

	(void)state;
	assert_int_equal(store_clock_check(st, ahead, err, sizeof(err)), 0);
	assert_int_equal(store_sub_first(st, "clock", ahead, &first, &is_new,
	    err, sizeof(err)), 0);
	assert_int_equal(store_sub_set_last_digest(st, "clock", ahead, err,
	    sizeof(err)), 0);
	assert_int_equal(store_feed_get(st, "clocked", &f, err, sizeof(err)),
	    0);
	f.next_poll = ahead + 3600;
	assert_int_equal(store_feed_put(st, "clocked", &f, err, sizeof(err)),
	    0);
	store_feed_release(&f);
	id = store_digest_new(st, "clock", "2096-10-02", ahead, NULL, 0, err,
	    sizeof(err));
	assert_true(id > 0);
	assert_int_equal(store_outbox_add(st, id, "clock", "smtp", "a@b.org",
	    "s", "body", 4, ahead, err, sizeof(err)), 0);
	assert_int_equal(next_attempt_of(path, "clock"), ahead);
	/* a few seconds back, or forward: nothing moves */
	assert_int_equal(store_clock_check(st, ahead - 10, err, sizeof(err)),
	    0);
	assert_int_equal(store_clock_check(st, ahead + 10, err, sizeof(err)),
	    0);
	/* thirty days back */
	assert_int_equal(store_clock_check(st, ahead + 10 - jump, err,
	    sizeof(err)), jump);
	assert_int_equal(store_sub_last_digest(st, "clock"), ahead + 10 - jump);
	assert_int_equal(store_feed_get(st, "clocked", &f, err, sizeof(err)),
	    0);
	assert_int_equal(f.next_poll, ahead + 3600 - jump);
	store_feed_release(&f);
	/* a message due then is due now, not in thirty days */
	assert_int_equal(next_attempt_of(path, "clock"), ahead + 10 - jump);
	/* and it is the new reference */
	assert_int_equal(store_clock_check(st, ahead + 20 - jump, err,
	    sizeof(err)), 0);
	store_close(st);
}

static void
test_open_errors(void **state)
{
	char err[256];
	struct store *st;

	(void)state;
	st = store_open("/proc/nonexistent/state.db", err, sizeof(err));
	assert_null(st);
	assert_non_null(strstr(err, "cannot open database"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_private),
		cmocka_unit_test(test_papers_merge_and_fresh),
		cmocka_unit_test(test_matches_digest_outbox),
		cmocka_unit_test(test_outbox_due_ids_load),
		cmocka_unit_test(test_outbox_bodies),
		cmocka_unit_test(test_savepoints),
		cmocka_unit_test(test_add_matches),
		cmocka_unit_test(test_pending_hits_forms),
		cmocka_unit_test(test_pending_versions),
		cmocka_unit_test(test_digest_ids),
		cmocka_unit_test(test_deferred_checkpoints),
		cmocka_unit_test(test_feed_state_and_reopen),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_open_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
