/* Issue 12 through the C ABI, against the org emulator: Bulk API 2.0 query jobs as the read mode of
 * export and query cursors (sfcrm_*_request_set_mode, _set_bulk_options), the job's status and the
 * REST fallback's reason read from the cursor, and the Bulk call counters of sfcrm_api_calls.
 *
 * Included by test_sfcrm.c after test_query.c (its JSON helpers, drain_ndjson, query_client). */

/* Same members and values, in any order, `attributes` left out at every level (Bulk's nested
 * parents have none: CSV cannot name a parent's type). */
static int same_deep(const char *a, const char *b) {
  jspan x[64], y[64];
  size_t n = jspans(a, x, 64), m = jspans(b, y, 64);
  if (n != m || n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    if (jspan_cmp(&x[i], &y[i]) != 0) return 0;
    if (*x[i].v == '{' && *y[i].v == '{') {
      if (!same_deep(x[i].v, y[i].v)) return 0;
    } else if (x[i].vl != y[i].vl || memcmp(x[i].v, y[i].v, x[i].vl) != 0) {
      return 0;
    }
  }
  return 1;
}

/* The NDJSON line of `lines` whose record has Id `id` (18 chars at `id`), or NULL. */
static const char *line_with_id(const char *lines, const char *id) {
  char needle[40];
  const char *p;
  snprintf(needle, sizeof needle, "\"Id\":\"%.18s\"", id);
  p = strstr(lines, needle);
  if (!p) return NULL;
  while (p > lines && p[-1] != '\n') p--;
  return p;
}

/* Every record of `bulk` equals the record with its Id in `rest`, and both hold `n`. */
static size_t count_equal_by_id(const char *bulk, const char *rest) {
  size_t same = 0;
  int printed = 0;
  for (const char *p = bulk; *p; p = strchr(p, '\n') + 1) {
    const char *id = strstr(p, "\"Id\":\"");
    const char *other = id ? line_with_id(rest, id + 6) : NULL;
    if (other && same_deep(p, other)) same++;
    else if (!printed++) fprintf(stderr, "  first differing record: %.300s\n  REST: %.300s\n", p, other ? other : "(none)");
  }
  return same;
}

static void bulk_settings(const char *json) { CHECK(emulator_post("/__emulator/bulk/settings", json) == 200); }

static char *bulk_query(sfcrm_client *c, const char *acc, const char *own, const char *soql, uint32_t mode,
                        size_t *n, sfcrm_result *rc, sfcrm_bulk_status *status, char *reason, size_t reason_cap) {
  sfcrm_query_request *q = NULL;
  sfcrm_export_cursor *cur = NULL;
  size_t len = 0;
  char *out;
  EXPECT_OK(sfcrm_query_request_new(soql, &q, &err));
  EXPECT_OK(sfcrm_query_request_set_mode(q, mode, &err));
  EXPECT_OK(sfcrm_query_request_set_bulk_options(q, 70, 3, true, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, acc, own, q, &cur, &err));
  out = drain_ndjson(cur, n, rc, NULL);
  EXPECT_OK(sfcrm_export_cursor_bulk_status(cur, status, &err));
  EXPECT_OK(sfcrm_export_cursor_fallback_reason(cur, reason, reason_cap, &len, &err));
  CHECK(strlen(reason) == len);
  sfcrm_export_cursor_free(cur);
  sfcrm_query_request_free(q);
  return out;
}

/* ---- arguments ------------------------------------------------------------------------------- */

static void test_bulk_request_misuse(void) {
  sfcrm_export_request *req = NULL;
  sfcrm_query_request *q = NULL;
  sfcrm_error *e = NULL;
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  EXPECT_OK(sfcrm_query_request_new("SELECT Id FROM Contact", &q, &err));
  CHECK(sfcrm_export_request_set_mode(req, 2, &e) == SFCRM_RESULT_INVALID_ARGUMENT);
  CHECK(e && contains(sfcrm_error_message(e), "SFCRM_EXPORT_MODE_BULK"));
  sfcrm_error_free(e);
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_mode(q, 7, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_request_set_mode(NULL, SFCRM_EXPORT_MODE_BULK, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_query_request_set_bulk_options(NULL, 0, 0, true, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_cursor_bulk_status(NULL, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_cursor_fallback_reason(NULL, NULL, 0, NULL, &err));
  sfcrm_query_request_free(q);
  sfcrm_export_request_free(req);
}

/* ---- a Bulk export equals the REST export of the same fields; the calls are Bulk's ----------- */

static void test_bulk_export_equals_rest(void) {
  sfcrm_client *c = query_client("acc-b1", "user-b1");
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_api_calls before, after;
  sfcrm_bulk_status st;
  char reason[256] = "x";
  size_t n_rest = 0, n_bulk = 0, len = 99;
  sfcrm_result rc;
  char *rest, *bulk;
  bulk_settings("{\"queue_delay_ms\":0,\"overhead_ms\":0,\"rows_per_s\":10000.0}");
  EXPECT_OK(sfcrm_export_request_new_custom("Opportunity", "Name,Amount,CloseDate,IsClosed,Account.Name,CreatedDate", &req, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-b1", "user-b1", req, &cur, &err));
  rest = drain_ndjson(cur, &n_rest, &rc, NULL);
  CHECK(rc == SFCRM_RESULT_OK && n_rest > 100);
  /* a REST cursor has no job */
  EXPECT_OK(sfcrm_export_cursor_bulk_status(cur, &st, &err));
  CHECK(!st.is_bulk && st.job_state == SFCRM_BULK_JOB_STATE_NONE && st.records_processed == UINT64_MAX);
  sfcrm_export_cursor_free(cur);

  EXPECT_OK(sfcrm_export_request_set_mode(req, SFCRM_EXPORT_MODE_BULK, &err));
  EXPECT_OK(sfcrm_export_request_set_bulk_options(req, 50, 2, true, &err));
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-b1", "user-b1", req, &cur, &err));
  bulk = drain_ndjson(cur, &n_bulk, &rc, NULL);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(rc == SFCRM_RESULT_OK && n_bulk == n_rest);
  CHECK(count_equal_by_id(bulk, rest) == n_rest);
  EXPECT_OK(sfcrm_export_cursor_bulk_status(cur, &st, &err));
  CHECK(st.is_bulk && !st.fell_back && st.job_state == SFCRM_BULK_JOB_STATE_JOB_COMPLETE);
  CHECK(st.records_processed == n_rest && st.retries != UINT64_MAX);
  EXPECT_OK(sfcrm_export_cursor_fallback_reason(cur, reason, sizeof reason, &len, &err));
  CHECK(len == 0 && reason[0] == '\0');
  /* one job, its pages of at most 50 records (v48: by locator), deleted; no REST query */
  CHECK(after.bulk_create - before.bulk_create == 1 && after.bulk_delete - before.bulk_delete == 1);
  CHECK(after.bulk_poll - before.bulk_poll >= 1);
  CHECK(after.bulk_results - before.bulk_results >= (n_rest + 49) / 50);
  CHECK(after.query == before.query && after.query_more == before.query_more);
  sfcrm_export_cursor_free(cur);
  free(rest);
  free(bulk);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

/* ---- a Bulk query equals the REST query (nested parents, nulls, newlines, emoji) -------------- */

static void test_bulk_query_equals_rest(void) {
  const char *cases[] = {
      "SELECT Id, Name, Amount, CloseDate, StageName, Probability, IsClosed, Account.Name, Owner.Alias, CreatedDate FROM Opportunity",
      "SELECT Id, Title, Body, IsPrivate, Parent.Name FROM Note",
      "SELECT Id, FirstName, LastName, Title, Email, MailingStreet, AccountId, Account.Name, Account.Owner.Email FROM Contact",
  };
  sfcrm_client *c = query_client("acc-b2", "user-b2");
  bulk_settings("{\"queue_delay_ms\":0,\"overhead_ms\":0,\"rows_per_s\":10000.0}");
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sfcrm_bulk_status st;
    char reason[512];
    size_t n_rest = 0, n_bulk = 0;
    sfcrm_result rc;
    char *rest = bulk_query(c, "acc-b2", "user-b2", cases[i], SFCRM_EXPORT_MODE_REST, &n_rest, &rc, &st, reason, sizeof reason);
    char *bulk;
    CHECK(rc == SFCRM_RESULT_OK && n_rest > 0 && !st.is_bulk);
    bulk = bulk_query(c, "acc-b2", "user-b2", cases[i], SFCRM_EXPORT_MODE_BULK, &n_bulk, &rc, &st, reason, sizeof reason);
    CHECK(rc == SFCRM_RESULT_OK && n_bulk == n_rest);
    CHECK(st.is_bulk && !st.fell_back && reason[0] == '\0' && st.job_state == SFCRM_BULK_JOB_STATE_JOB_COMPLETE);
    CHECK(count_equal_by_id(bulk, rest) == n_rest);
    if (i == 1) CHECK(strstr(bulk, "\\r\\n") && strstr(bulk, "\\\""));
    free(rest);
    free(bulk);
  }
  sfcrm_client_free(c);
}

/* ---- a refusal and a failed job fall back to REST, with the reason ---------------------------- */

static void test_bulk_fallbacks(void) {
  sfcrm_client *c = query_client("acc-b3", "user-b3");
  const char *soql = "SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account";
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_bulk_status st;
  sfcrm_api_calls before, after;
  char reason[1024], tiny[4];
  size_t n_rest = 0, n_bulk = 0, len = 0;
  sfcrm_result rc;
  char *rest, *bulk;
  bulk_settings("{\"queue_delay_ms\":0,\"overhead_ms\":0,\"rows_per_s\":10000.0}");
  /* a child subquery: Bulk refuses it (Salesforce's words), REST reads it, records unchanged */
  rest = bulk_query(c, "acc-b3", "user-b3", soql, SFCRM_EXPORT_MODE_REST, &n_rest, &rc, &st, reason, sizeof reason);
  CHECK(rc == SFCRM_RESULT_OK && n_rest > 0);
  bulk = bulk_query(c, "acc-b3", "user-b3", soql, SFCRM_EXPORT_MODE_BULK, &n_bulk, &rc, &st, reason, sizeof reason);
  CHECK(rc == SFCRM_RESULT_OK && n_bulk == n_rest && strcmp(bulk, rest) == 0);
  CHECK(st.is_bulk && st.fell_back && st.job_state == SFCRM_BULK_JOB_STATE_NONE);
  CHECK(strstr(reason, "Aggregate Relationships not supported in Bulk V2 Query with CSV content type") != NULL);
  free(rest);
  free(bulk);

  /* a failed job, with and without errorMessage: the export is read with REST, the reason says why */
  EXPECT_OK(sfcrm_export_request_new_custom("Opportunity", "Name", &req, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-b3", "user-b3", req, &cur, &err));
  rest = drain_ndjson(cur, &n_rest, &rc, NULL);
  CHECK(rc == SFCRM_RESULT_OK && n_rest > 0);
  sfcrm_export_cursor_free(cur);
  EXPECT_OK(sfcrm_export_request_set_mode(req, SFCRM_EXPORT_MODE_BULK, &err));
  for (int with_message = 1; with_message >= 0; with_message--) {
    CHECK(emulator_post("/__emulator/bulk/job_faults",
                        with_message ? "{\"count\":1,\"kind\":\"failed\",\"error_message\":\"QUERY_TIMEOUT: Your query request was running for too long.\"}"
                                     : "{\"count\":1,\"kind\":\"failed\"}") == 200);
    EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
    EXPECT_OK(sfcrm_export_cursor_open(c, "acc-b3", "user-b3", req, &cur, &err));
    bulk = drain_ndjson(cur, &n_bulk, &rc, NULL);
    EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
    if (rc != SFCRM_RESULT_OK || n_bulk != n_rest) fprintf(stderr, "  %s, %zu of %zu records\n", sfcrm_result_name(rc), n_bulk, n_rest);
    CHECK(rc == SFCRM_RESULT_OK && n_bulk == n_rest && strcmp(bulk, rest) == 0);
    CHECK(after.bulk_create - before.bulk_create == 1 && after.query - before.query >= 1);
    EXPECT_OK(sfcrm_export_cursor_bulk_status(cur, &st, &err));
    CHECK(st.is_bulk && st.fell_back);
    EXPECT_OK(sfcrm_export_cursor_fallback_reason(cur, reason, sizeof reason, &len, &err));
    CHECK(strstr(reason, with_message ? "QUERY_TIMEOUT: Your query request was running for too long." : "no errorMessage") != NULL);
    /* too small a buffer: the length is told, nothing written */
    EXPECT_ERR(SFCRM_RESULT_BUFFER_TOO_SMALL, sfcrm_export_cursor_fallback_reason(cur, tiny, sizeof tiny, &len, &err));
    CHECK(len == strlen(reason));
    sfcrm_export_cursor_free(cur);
    free(bulk);
  }
  free(rest);
  sfcrm_export_request_free(req);
  bulk_settings("{\"queue_delay_ms\":500,\"overhead_ms\":320,\"rows_per_s\":35704.3}");
  sfcrm_client_free(c);
}
