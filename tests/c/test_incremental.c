/* Issue 16 through the C ABI, against the org emulator: incremental state. Each run returns a
 * watermark (sfcrm_export_cursor_watermark, or the `watermark` out-argument of a file/callback
 * export); the next run passes it back (sfcrm_export_request_set_watermark) and gets every change
 * exactly once, also one committed "late" (its SystemModstamp 120 s before the previous run's
 * end). A checkpoint is refused where a watermark is expected. The same steps as
 * core/tests/export_incremental.rs and bindings/python/tests/test_incremental.py.
 *
 * Included by test_sfcrm.c (one translation unit: its runner, CHECK / EXPECT_* macros, emulator
 * helpers, sinks and connect_user). It runs last: it changes Notes' SystemModstamp and moves the
 * emulator clock back and forth by the same amount. */

/* A list of record Ids (malloc'd strings). */
typedef struct {
  char **ids;
  size_t n, cap;
} id_list;

static void ids_push(id_list *l, const char *id, size_t len) {
  if (l->n == l->cap) {
    l->cap = l->cap ? l->cap * 2 : 64;
    l->ids = realloc(l->ids, l->cap * sizeof *l->ids);
  }
  l->ids[l->n] = malloc(len + 1);
  memcpy(l->ids[l->n], id, len);
  l->ids[l->n][len] = '\0';
  l->n++;
}

static int ids_has(const id_list *l, const char *id) {
  for (size_t i = 0; i < l->n; i++)
    if (strcmp(l->ids[i], id) == 0) return 1;
  return 0;
}

static void ids_free(id_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->ids[i]);
  free(l->ids);
  memset(l, 0, sizeof *l);
}

/* Appends every `"Id":"…"` value of `text` (NDJSON records, one Id each) to `l`. */
static void ids_scan(id_list *l, const char *text, const char *key) {
  const char *p = text;
  size_t klen = strlen(key);
  while (p && (p = strstr(p, key)) != NULL) {
    const char *start = p + klen, *end = strchr(start, '"');
    if (!end) break;
    ids_push(l, start, (size_t)(end - start));
    p = end;
  }
}

/* The Ids of an emulator `records/touch` answer: {"ids":["…",…]}. */
static void touch(const char *body, id_list *out) {
  char url[512];
  mini_http_response r;
  snprintf(url, sizeof url, "%s/__emulator/records/touch", g_login_url);
  if (mini_http_request("POST", url, body, &r) != 0) {
    CHECK(!"records/touch answered");
    return;
  }
  CHECK(r.status == 200);
  {
    const char *arr = strstr(r.body, "\"ids\":[");
    CHECK(arr != NULL);
    /* each element is a quoted Id: scan for `"` pairs inside the array */
    if (arr) {
      const char *p = arr + 7, *end = strchr(p, ']');
      while (end && p < end && (p = strchr(p, '"')) != NULL && p < end) {
        const char *q = strchr(p + 1, '"');
        if (!q) break;
        ids_push(out, p + 1, (size_t)(q - p - 1));
        p = q + 1;
      }
    }
  }
  mini_http_response_free(&r);
}

/* The same Ids, in any order, each once. */
static int same_ids(const id_list *a, const id_list *b) {
  if (a->n != b->n) return 0;
  for (size_t i = 0; i < a->n; i++)
    if (!ids_has(b, a->ids[i])) return 0;
  return 1;
}

static int unique_ids(const id_list *l) {
  for (size_t i = 0; i < l->n; i++)
    for (size_t j = i + 1; j < l->n; j++)
      if (strcmp(l->ids[i], l->ids[j]) == 0) return 0;
  return 1;
}

/* One run through the cursor: the Ids delivered into `out`; returns the watermark token (owned,
 * "" for a full export) or NULL on error. */
static char *cursor_run(sfcrm_client *c, const char *account, sfcrm_export_request *req, id_list *out) {
  sfcrm_export_cursor *cur = NULL;
  char *batch = NULL, *token = NULL;
  size_t len = 0, count = 0, wlen = 0;
  EXPECT_OK(sfcrm_export_cursor_open(c, account, "user-inc", req, &cur, &err));
  for (;;) {
    sfcrm_error *err = NULL;
    sfcrm_result r = sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err);
    if (r != SFCRM_RESULT_OK) {
      fprintf(stderr, "  cursor_next: %s\n", sfcrm_error_message(err));
      sfcrm_error_free(err);
      sfcrm_export_cursor_free(cur);
      return NULL;
    }
    if (!batch) break;
    ids_scan(out, batch, "\"Id\":\"");
    sfcrm_string_free(batch);
  }
  /* length query, then the token */
  EXPECT_ERR(SFCRM_RESULT_BUFFER_TOO_SMALL, sfcrm_export_cursor_watermark(cur, NULL, 0, &wlen, &err));
  token = malloc(wlen + 1);
  EXPECT_OK(sfcrm_export_cursor_watermark(cur, token, wlen + 1, &wlen, &err));
  CHECK(strlen(token) == wlen);
  sfcrm_export_cursor_free(cur);
  CHECK(unique_ids(out));
  return token;
}

static void test_incremental_watermarks(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_summary sum = {0, 0, 0};
  id_list got = {0}, want = {0}, first = {0};
  char *w1, *w2, *w3 = NULL, *w4, *cp = NULL, *cp_buf, *full_w, body[256];
  size_t cplen = 0;
  struct sink nd = {0};
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-inc", "user-inc"));

  /* A full export has no watermark (the empty token); its checkpoint is refused as one. */
  EXPECT_OK(sfcrm_export_request_new("notes", &req, &err));
  {
    sfcrm_export_cursor *cur = NULL;
    sfcrm_result last;
    size_t n;
    EXPECT_OK(sfcrm_export_cursor_open(c, "acc-inc", "user-inc", req, &cur, &err));
    n = drain(cur, &last);
    CHECK(last == SFCRM_RESULT_OK && n == 320);
    full_w = malloc(8);
    EXPECT_OK(sfcrm_export_cursor_watermark(cur, full_w, 8, &cplen, &err));
    CHECK(cplen == 0 && full_w[0] == '\0');
    free(full_w);
    EXPECT_ERR(SFCRM_RESULT_BUFFER_TOO_SMALL, sfcrm_export_cursor_checkpoint(cur, NULL, 0, &cplen, &err));
    cp_buf = malloc(cplen + 1);
    EXPECT_OK(sfcrm_export_cursor_checkpoint(cur, cp_buf, cplen + 1, &cplen, &err));
    cp = cp_buf;
    sfcrm_export_cursor_free(cur);
  }
  {
    sfcrm_error *e = NULL;
    CHECK(sfcrm_export_request_set_watermark(req, cp, &e) == SFCRM_RESULT_INVALID_ARGUMENT);
    CHECK(contains(sfcrm_error_message(e), "resume checkpoint, not a watermark"));
    sfcrm_error_free(e);
  }
  free(cp);
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_watermark(req, "not a token", &err));
  EXPECT_OK(sfcrm_export_request_set_watermark(req, NULL, &err));

  /* Run 1: everything since 2000 (the first run of an incremental sync). */
  EXPECT_OK(sfcrm_export_request_set_batch_size(req, 200, &err));
  EXPECT_OK(sfcrm_export_request_set_since(req, "2000-01-01T00:00:00Z", &err));
  w1 = cursor_run(c, "acc-inc", req, &first);
  CHECK(w1 && strlen(w1) > 10 && first.n == 320);

  /* since and a watermark together: refused when the export starts. */
  EXPECT_OK(sfcrm_export_request_set_watermark(req, w1, &err));
  {
    sfcrm_export_cursor *cur = NULL;
    char *batch = NULL;
    size_t len = 0, count = 0;
    EXPECT_OK(sfcrm_export_cursor_open(c, "acc-inc", "user-inc", req, &cur, &err));
    EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
    sfcrm_export_cursor_free(cur);
  }
  EXPECT_OK(sfcrm_export_request_set_since(req, NULL, &err));

  /* Three notes change; run 2 gets exactly those three. */
  touch("{\"sobject\":\"Note\",\"count\":3}", &want);
  CHECK(want.n == 3);
  w2 = cursor_run(c, "acc-inc", req, &got);
  CHECK(w2 && same_ids(&got, &want));
  ids_free(&got);
  ids_free(&want);

  /* A late commit: a note whose SystemModstamp is 120 s before run 2's end (written then,
   * committed after run 2 read), and one ordinary change now. A plain `since` of run 2's newest
   * SystemModstamp would miss the late one. */
  CHECK(emulator_post("/__emulator/clock/advance", "{\"ms\":-120000}") == 200);
  snprintf(body, sizeof body, "{\"sobject\":\"Note\",\"ids\":[\"%s\"]}", first.n > 100 ? first.ids[100] : "");
  touch(body, &want);
  CHECK(emulator_post("/__emulator/clock/advance", "{\"ms\":120000}") == 200);
  touch("{\"sobject\":\"Note\",\"count\":1}", &want);
  CHECK(want.n == 2);

  /* Run 3 through a callback export: the late change and the new one, once each; its watermark
   * comes back through the out-argument. */
  EXPECT_OK(sfcrm_export_request_set_watermark(req, w2, &err));
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-inc", "user-inc", req, SFCRM_EXPORT_FORMAT_NDJSON, sink_write, &nd,
                                            &sum, NULL, &w3, &err));
  ids_scan(&got, nd.data ? nd.data : "", "\"Id\":\"");
  CHECK(sum.records == 2 && sum.missing == 0 && same_ids(&got, &want) && unique_ids(&got));
  CHECK(w3 && strlen(w3) > 10 && strcmp(w3, w2) != 0);
  free(nd.data);
  memset(&nd, 0, sizeof nd);
  ids_free(&got);
  ids_free(&want);

  /* Run 4: nothing changed, nothing delivered; the watermark stays usable, and a file export of
   * a full request gives no watermark (NULL). */
  EXPECT_OK(sfcrm_export_request_set_watermark(req, w3, &err));
  w4 = cursor_run(c, "acc-inc", req, &got);
  CHECK(w4 && strlen(w4) > 10 && got.n == 0);
  ids_free(&got);
  EXPECT_OK(sfcrm_export_request_set_watermark(req, w4, &err));
  free(w4);
  w4 = cursor_run(c, "acc-inc", req, &got);
  CHECK(w4 && got.n == 0);
  ids_free(&got);
  {
    char path[400], *w_full = (char *)0x1;
    snprintf(path, sizeof path, "%s/notes-full.ndjson", g_tmpdir);
    EXPECT_OK(sfcrm_export_request_set_watermark(req, NULL, &err));
    EXPECT_OK(sfcrm_client_export_to_path(c, "acc-inc", "user-inc", req, SFCRM_EXPORT_FORMAT_NDJSON, path, &sum, NULL, &w_full,
                                          &err));
    CHECK(sum.records == 320 && w_full == NULL);
  }

  free(w1);
  free(w2);
  sfcrm_string_free(w3);
  free(w4);
  ids_free(&first);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}
