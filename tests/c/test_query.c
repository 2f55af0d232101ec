/* Issue 11 through the C ABI, against the org emulator: SOQL query cursors with bind values,
 * child-relationship cursors completed, describe JSON, all-fields exports of a wide object, an
 * export filtered with `where`, a query resumed after its session expired, and Salesforce's
 * errors for bad SOQL.
 *
 * Included by test_sfcrm.c (one translation unit: it uses that file's runner, CHECK / EXPECT_*
 * macros, emulator helpers and connect_user); scripts/test-c.sh compiles test_sfcrm.c only. */

/* ---- a few JSON helpers (enough to walk records without a JSON library) --------------------- */

static const char *jws(const char *p) {
  while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') p++;
  return p;
}

/* The end of the JSON value at p (strings with escapes, nested objects and arrays, literals). */
static const char *jskip(const char *p) {
  int depth = 0;
  p = jws(p);
  do {
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && p[1]) p++;
      if (*p) p++;
    } else if (*p == '{' || *p == '[') {
      depth++;
      p++;
    } else if (*p == '}' || *p == ']') {
      depth--;
      p++;
    } else if (depth == 0) {
      while (*p && !strchr(",}] \n\r\t", *p)) p++;
    } else if (*p) {
      p++;
    } else {
      return p;
    }
  } while (depth > 0 && *p);
  return p;
}

/* The i-th member (0-based) of the JSON object at obj: key (without quotes) and value span.
 * Returns 0 when there is none. */
static int jmember(const char *obj, int i, const char **key, size_t *klen, const char **val, size_t *vlen) {
  const char *p = jws(obj);
  if (*p != '{') return 0;
  p = jws(p + 1);
  for (int n = 0; *p == '"'; n++) {
    const char *k = p + 1, *ke = jskip(p) - 1, *v = jws(jws(ke + 1) + 1), *ve = jskip(v);
    if (n == i) {
      *key = k;
      *klen = (size_t)(ke - k);
      *val = v;
      *vlen = (size_t)(ve - v);
      return 1;
    }
    p = jws(ve);
    if (*p == ',') p = jws(p + 1);
  }
  return 0;
}

/* The value of member `name` of the object at obj (NULL when absent). */
static const char *jget(const char *obj, const char *name, size_t *vlen) {
  const char *k, *v;
  size_t kl, vl;
  for (int i = 0; jmember(obj, i, &k, &kl, &v, &vl); i++)
    if (kl == strlen(name) && strncmp(k, name, kl) == 0) {
      if (vlen) *vlen = vl;
      return v;
    }
  return NULL;
}

static int jcount_members(const char *obj) {
  const char *k, *v;
  size_t kl, vl;
  int n = 0;
  while (jmember(obj, n, &k, &kl, &v, &vl)) n++;
  return n;
}

/* Every record of a cursor as one NDJSON text (free it); *n the record count; *rc the last result. */
static char *drain_ndjson(sfcrm_export_cursor *cur, size_t *n, sfcrm_result *rc, sfcrm_error **err_out) {
  size_t cap = 1 << 16, used = 0, len = 0, count = 0;
  char *all = malloc(cap), *batch = NULL;
  all[0] = '\0';
  *n = 0;
  for (;;) {
    sfcrm_error *err = NULL;
    *rc = sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err);
    if (*rc != SFCRM_RESULT_OK) {
      if (err_out) *err_out = err; else sfcrm_error_free(err);
      return all;
    }
    if (!batch) return all;
    if (used + len + 1 > cap) {
      while (used + len + 1 > cap) cap *= 2;
      all = realloc(all, cap);
    }
    memcpy(all + used, batch, len + 1);
    used += len;
    *n += count;
    sfcrm_string_free(batch);
  }
}

/* A query cursor for `soql` with `params_json` (NULL for none), drained. */
static char *query_all(sfcrm_client *c, const char *acc, const char *own, const char *soql, const char *params_json,
                       size_t *n, sfcrm_result *rc, sfcrm_error **err_out) {
  sfcrm_query_request *q = NULL;
  sfcrm_export_cursor *cur = NULL;
  char *out = NULL;
  EXPECT_OK(sfcrm_query_request_new(soql, &q, &err));
  if (params_json) EXPECT_OK(sfcrm_query_request_set_params_json(q, params_json, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, acc, own, q, &cur, &err));
  out = drain_ndjson(cur, n, rc, err_out);
  sfcrm_export_cursor_free(cur);
  sfcrm_query_request_free(q);
  return out;
}

static sfcrm_client *query_client(const char *acc, const char *own) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, acc, own));
  return c;
}

/* ---- the query request: arguments, handles, bind-value errors before any request ------------- */

static void test_query_request_misuse(void) {
  sfcrm_client *c = query_client("acc-q0", "user-q0");
  sfcrm_query_request *q = NULL, *bad = (sfcrm_query_request *)0x1;
  sfcrm_export_cursor *cur = (sfcrm_export_cursor *)0x1;
  sfcrm_api_calls before, after;
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_query_request_new(NULL, &q, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_query_request_new("SELECT Id FROM Contact", NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_new("  ", &bad, &err));
  CHECK(bad == (sfcrm_query_request *)0x1);
  EXPECT_OK(sfcrm_query_request_new("SELECT Id FROM Contact WHERE LastName = :name", &q, &err));
  /* malformed JSON, a bad placeholder name, an unknown type tag: refused now */
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_params_json(q, "{\"name\":", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_params_json(q, "[1,2]", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_params_json(q, "{\"bad name\":\"x\"}", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_params_json(q, "{\"d\":{\"date\":\"2024-02-30\"}}", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_batch_size(q, 199, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_batch_size(q, 2001, &err));
  EXPECT_OK(sfcrm_query_request_set_batch_size(q, 0, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_checkpoint(q, "not-a-token", &err));
  EXPECT_OK(sfcrm_query_request_set_checkpoint(q, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_query_request_set_all_rows((sfcrm_query_request *)c, true, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_query_request_set_children(NULL, true, &err));
  /* a missing and an unused name: refused when the cursor opens, nothing sent */
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_cursor_open(c, "acc-q0", "user-q0", q, &cur, &err));
  EXPECT_OK(sfcrm_query_request_set_params_json(q, "{\"name\":\"x\",\"other\":1}", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_cursor_open(c, "acc-q0", "user-q0", q, &cur, &err));
  /* an empty list (IN needs a value) is refused with the values */
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_request_set_params_json(q, "{\"name\":[]}", &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_query_cursor_open(c, "acc-q0", "user-q0", NULL, &cur, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_query_cursor_open(c, "acc-q0", "user-q0", (sfcrm_query_request *)c, &cur, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_query_cursor_open(c, " ", "user-q0", q, &cur, &err));
  CHECK(cur == (sfcrm_export_cursor *)0x1);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(after.api_requests == before.api_requests);
  sfcrm_query_request_free(q);
  sfcrm_query_request_free(q);
  sfcrm_query_request_free(NULL);
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_query_request_set_all_rows(q, true, &err));
  sfcrm_client_free(c);
}

/* ---- a filtered query with a hostile bind value --------------------------------------------- */

static void test_query_bind_values(void) {
  /* quotes, backslashes, %, _, a newline and a '; DELETE attempt: one literal, matching nothing */
  sfcrm_client *c = query_client("acc-q1", "user-q1");
  char *oracle = NULL, *all;
  size_t n = 0, expected = 0;
  sfcrm_result rc;
  /* the oracle: the same filter typed by hand (SOQL escapes a quote with a backslash) */
  EXPECT_OK(sfcrm_client_api_get(c, "acc-q1", "user-q1",
                                 "/services/data/v59.0/query?q=SELECT+COUNT()+FROM+Contact+WHERE+LastName+%3D+%27O%5C%27Connor%27",
                                 &oracle, NULL, &err));
  {
    const char *t = oracle ? jget(oracle, "totalSize", NULL) : NULL;
    expected = t ? (size_t)strtoul(t, NULL, 10) : 0;
  }
  CHECK(expected > 0);
  sfcrm_string_free(oracle);
  all = query_all(c, "acc-q1", "user-q1",
                  "SELECT Id, LastName FROM Contact WHERE (LastName = :real OR LastName = :hostile) AND CreatedDate > :since",
                  "{\"real\":\"O'Connor\",\"hostile\":\"x' OR LastName != '' ; DELETE FROM Contact; --\\\\ 100% _\\n\\\"q\\\"\","
                  "\"since\":{\"datetime\":\"2000-01-01T00:00:00Z\"}}",
                  &n, &rc, NULL);
  CHECK(rc == SFCRM_RESULT_OK);
  CHECK(n == expected && count_substr(all, "\"LastName\":\"O'Connor\"") == expected);
  free(all);
  /* the hostile value alone matches nothing, and the org still has every Contact */
  all = query_all(c, "acc-q1", "user-q1", "SELECT Id FROM Contact WHERE LastName = :hostile",
                  "{\"hostile\":\"x' OR LastName != '' ; DELETE FROM Contact; --\\\\ 100% _\\n\\\"q\\\"\"}", &n, &rc, NULL);
  CHECK(rc == SFCRM_RESULT_OK && n == 0);
  free(all);
  /* lists for IN, integers, null */
  all = query_all(c, "acc-q1", "user-q1", "SELECT Id FROM Contact WHERE LastName IN :names AND Id != :none",
                  "{\"names\":[\"O'Connor\",\"Nobody \\\\ Else\"],\"none\":null}", &n, &rc, NULL);
  CHECK(rc == SFCRM_RESULT_OK && n == expected);
  free(all);
  all = query_all(c, "acc-q1", "user-q1", "SELECT Id FROM Contact", NULL, &n, &rc, NULL);
  CHECK(rc == SFCRM_RESULT_OK && n == 1500);
  free(all);
  sfcrm_client_free(c);
}

/* ---- a parent whose child cursor needs a second call --------------------------------------- */

static void test_query_children(void) {
  sfcrm_client *c = query_client("acc-q2", "user-q2");
  sfcrm_query_request *q = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_api_calls before, after;
  char *page = NULL, *all = NULL, params[128], id[19] = "";
  size_t n = 0;
  sfcrm_result rc;
  regex_t rx;
  regmatch_t m[2];
  CHECK(emulator_post("/__emulator/child_batch_size", "{\"size\":2}") == 200);
  /* an Account with exactly 3 Contacts (its child result is not done after 2) */
  EXPECT_OK(sfcrm_client_api_get(c, "acc-q2", "user-q2",
                                 "/services/data/v59.0/query?q=SELECT+Id%2C+(SELECT+Id+FROM+Contacts)+FROM+Account",
                                 &page, NULL, &err));
  CHECK(regcomp(&rx, "\"Id\":\"(001[A-Za-z0-9]{15})\",\"Contacts\":\\{\"totalSize\":3,\"done\":false", REG_EXTENDED) == 0);
  if (page && regexec(&rx, page, 2, m, 0) == 0) memcpy(id, page + m[1].rm_so, 18);
  regfree(&rx);
  sfcrm_string_free(page);
  CHECK(strlen(id) == 18);
  snprintf(params, sizeof params, "{\"account\":{\"id\":\"%s\"}}", id);
  EXPECT_OK(sfcrm_query_request_new("SELECT Id, Name, (SELECT Id, LastName FROM Contacts) FROM Account WHERE Id = :account", &q, &err));
  EXPECT_OK(sfcrm_query_request_set_params_json(q, params, &err));
  /* complete (the default): one parent, its 3 children, done, in 2 calls */
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q2", "user-q2", q, &cur, &err));
  all = drain_ndjson(cur, &n, &rc, NULL);
  sfcrm_export_cursor_free(cur);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(rc == SFCRM_RESULT_OK && n == 1);
  CHECK(after.query + after.query_more - before.query - before.query_more == 2 && after.api_requests - before.api_requests == 2);
  {
    const char *kids = jget(all, "Contacts", NULL);
    const char *recs = kids ? jget(kids, "records", NULL) : NULL;
    CHECK(kids && strncmp(jget(kids, "totalSize", NULL), "3", 1) == 0 && strncmp(jget(kids, "done", NULL), "true", 4) == 0);
    CHECK(kids && jget(kids, "nextRecordsUrl", NULL) == NULL);
    CHECK(recs && count_substr(recs, "\"attributes\":{\"type\":\"Contact\"") == 3);
  }
  free(all);
  /* as sent: the child result keeps its cursor, one call */
  EXPECT_OK(sfcrm_query_request_set_children(q, false, &err));
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q2", "user-q2", q, &cur, &err));
  all = drain_ndjson(cur, &n, &rc, NULL);
  sfcrm_export_cursor_free(cur);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(rc == SFCRM_RESULT_OK && n == 1 && after.api_requests - before.api_requests == 1);
  {
    const char *kids = jget(all, "Contacts", NULL);
    CHECK(kids && strncmp(jget(kids, "done", NULL), "false", 5) == 0 && jget(kids, "nextRecordsUrl", NULL) != NULL);
    CHECK(kids && count_substr(kids, "\"attributes\":{\"type\":\"Contact\"") == 2);
  }
  free(all);
  sfcrm_query_request_free(q);
  CHECK(emulator_post("/__emulator/child_batch_size", "{\"size\":200}") == 200);
  sfcrm_client_free(c);
}

/* ---- describe --------------------------------------------------------------------------------- */

static void test_describe(void) {
  sfcrm_client *c = query_client("acc-q3", "user-q3");
  sfcrm_api_calls before, after;
  char *json = NULL, *bad = (char *)0x1;
  size_t len = 0;
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_client_describe(c, "acc-q3", "user-q3", "Contact", &json, &len, &err));
  CHECK(json && strlen(json) == len);
  CHECK(json && strncmp(jget(json, "name", NULL), "\"Contact\"", 9) == 0);
  {
    const char *fields = json ? jget(json, "fields", NULL) : NULL;
    CHECK(fields && *fields == '[' && contains(fields, "\"name\":\"LastName\"") && contains(fields, "\"nillable\":"));
    CHECK(fields && contains(fields, "\"referenceTo\":[\"Account\"]") && contains(fields, "\"relationshipName\":\"Account\""));
    CHECK(fields && contains(fields, "\"compoundFieldName\":\"MailingAddress\""));
    CHECK(json && jget(json, "childRelationships", NULL) != NULL);
  }
  sfcrm_string_free(json);
  json = NULL;
  /* cached: the second describe makes no request; len is optional */
  EXPECT_OK(sfcrm_client_describe(c, "acc-q3", "user-q3", "Contact", &json, NULL, &err));
  CHECK(contains(json, "\"fields\":["));
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(after.api_requests == before.api_requests + 1);
  EXPECT_OK(sfcrm_client_describe_global(c, "acc-q3", "user-q3", &json, &len, &err));
  CHECK(json && strlen(json) == len && contains(jget(json, "sobjects", NULL), "\"name\":\"Wide_Object__c\""));
  sfcrm_string_free(json);
  json = NULL;
  /* an unknown sObject: Salesforce's 404 NOT_FOUND; out-parameters untouched */
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_client_describe(c, "acc-q3", "user-q3", "No_Such_Object__c", &bad, &len, &err) == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(err) == 404 && sfcrm_error_salesforce_code(err) &&
          strcmp(sfcrm_error_salesforce_code(err), "NOT_FOUND") == 0);
    sfcrm_error_free(err);
  }
  EXPECT_ERR(SFCRM_RESULT_INVALID_IDENTIFIER, sfcrm_client_describe(c, "acc-q3", "user-q3", "Contact/../x", &bad, &len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_describe(c, "acc-q3", "user-q3", NULL, &bad, &len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_describe(c, "acc-q3", "user-q3", "Contact", NULL, &len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_describe_global(c, "acc-q3", "user-q3", NULL, &len, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_client_describe_global((sfcrm_client *)&before, "acc-q3", "user-q3", &bad, &len, &err));
  EXPECT_ERR(SFCRM_RESULT_NOT_CONNECTED, sfcrm_client_describe_global(c, "acc-q3", "nobody", &bad, &len, &err));
  CHECK(bad == (char *)0x1);
  sfcrm_client_free(c);
}

/* ---- an all-fields export of the wide object, record by record against the org -------------- */

/* Every record of `SELECT <fields> FROM Wide_Object__c ORDER BY Id` straight from the org (one
 * query URI, allowed by raising the emulator's URI limit), as NDJSON-ish text: records separated
 * by '\n'. */
static char *wide_oracle(sfcrm_client *c, const char *acc, const char *own, const char *first_record, size_t *n) {
  size_t cap = 1 << 20, used = 0, qcap = 1 << 16, ql;
  char *out = malloc(cap), *path = malloc(qcap), *page = NULL;
  const char *k, *v;
  size_t kl, vl;
  out[0] = '\0';
  *n = 0;
  ql = (size_t)snprintf(path, qcap, "/services/data/v59.0/query?q=SELECT+");
  for (int i = 0, first = 1; jmember(first_record, i, &k, &kl, &v, &vl); i++) {
    if (kl == 10 && strncmp(k, "attributes", 10) == 0) continue;
    ql += (size_t)snprintf(path + ql, qcap - ql, "%s%.*s", first ? "" : "%2C", (int)kl, k);
    first = 0;
  }
  snprintf(path + ql, qcap - ql, "+FROM+Wide_Object__c+ORDER+BY+Id");
  CHECK(emulator_post("/__emulator/max_uri_bytes", "{\"bytes\":200000}") == 200);
  for (;;) {
    const char *recs, *p, *next;
    size_t nl = 0;
    EXPECT_OK(sfcrm_client_api_get(c, acc, own, path, &page, NULL, &err));
    if (!page) break;
    recs = jget(page, "records", NULL);
    for (p = recs ? jws(recs + 1) : ""; *p == '{'; ) {
      const char *e = jskip(p);
      if (used + (size_t)(e - p) + 2 > cap) {
        while (used + (size_t)(e - p) + 2 > cap) cap *= 2;
        out = realloc(out, cap);
      }
      memcpy(out + used, p, (size_t)(e - p));
      used += (size_t)(e - p);
      out[used++] = '\n';
      out[used] = '\0';
      (*n)++;
      p = jws(e);
      if (*p == ',') p = jws(p + 1);
    }
    next = jget(page, "nextRecordsUrl", &nl);
    if (!next) break;
    snprintf(path, qcap, "%.*s", (int)nl - 2, next + 1);
    sfcrm_string_free(page);
    page = NULL;
  }
  sfcrm_string_free(page);
  CHECK(emulator_post("/__emulator/max_uri_bytes", "{\"bytes\":16384}") == 200);
  free(path);
  return out;
}

/* The members of a JSON object as spans, sorted by key (`attributes` left out); returns the count. */
typedef struct {
  const char *k, *v;
  size_t kl, vl;
} jspan;

static int jspan_cmp(const void *x, const void *y) {
  const jspan *a = x, *b = y;
  int c = strncmp(a->k, b->k, a->kl < b->kl ? a->kl : b->kl);
  return c ? c : (a->kl > b->kl) - (a->kl < b->kl);
}

static size_t jspans(const char *obj, jspan *out, size_t cap) {
  const char *p = jws(obj);
  size_t n = 0;
  if (*p != '{') return 0;
  p = jws(p + 1);
  while (*p == '"' && n < cap) {
    const char *k = p + 1, *ke = jskip(p) - 1, *v = jws(jws(ke + 1) + 1), *ve = jskip(v);
    if (!((size_t)(ke - k) == 10 && strncmp(k, "attributes", 10) == 0))
      out[n++] = (jspan){k, v, (size_t)(ke - k), (size_t)(ve - v)};
    p = jws(ve);
    if (*p == ',') p = jws(p + 1);
  }
  qsort(out, n, sizeof *out, jspan_cmp);
  return n;
}

/* Same members, same values (byte for byte), in any order, `attributes` aside. */
static int same_record(const char *a, const char *b) {
  static jspan x[1024], y[1024];
  size_t n = jspans(a, x, 1024), m = jspans(b, y, 1024);
  if (n != m || n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (jspan_cmp(&x[i], &y[i]) != 0 || x[i].vl != y[i].vl || memcmp(x[i].v, y[i].v, x[i].vl) != 0) return 0;
  return 1;
}

static void test_wide_all_fields_export(void) {
  sfcrm_client *c = query_client("acc-q4", "user-q4");
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_api_calls before, after;
  char *sdk, *oracle, *p, *q;
  size_t n = 0, n_oracle = 0, same = 0;
  int printed = 0;
  sfcrm_result rc;
  EXPECT_OK(sfcrm_export_request_new_custom("Wide_Object__c", "*", &req, &err));
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-q4", "user-q4", req, &cur, &err));
  sdk = drain_ndjson(cur, &n, &rc, NULL);
  sfcrm_export_cursor_free(cur);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(rc == SFCRM_RESULT_OK && n == 250);
  /* more than the 400 custom fields in each record: the field list did not fit one URI */
  CHECK(jcount_members(sdk) > 400);
  CHECK(after.query - before.query >= 2);
  oracle = wide_oracle(c, "acc-q4", "user-q4", sdk, &n_oracle);
  CHECK(n_oracle == 250);
  for (p = sdk, q = oracle; *p && *q; p = strchr(p, '\n') + 1, q = strchr(q, '\n') + 1) {
    if (same_record(p, q)) same++;
    else if (!printed++) fprintf(stderr, "  first differing record: %.300s\n  org: %.300s\n", p, q);
  }
  CHECK(same == 250);
  free(sdk);
  free(oracle);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

/* ---- an export filtered with `where` and bind values ----------------------------------------- */

static void test_export_where(void) {
  sfcrm_client *c = query_client("acc-q5", "user-q5");
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  char *all, *oracle = NULL;
  size_t n = 0, expected = 0;
  sfcrm_result rc;
  EXPECT_OK(sfcrm_client_api_get(c, "acc-q5", "user-q5",
                                 "/services/data/v59.0/query?q=SELECT+COUNT()+FROM+Contact+WHERE+LastName+%3D+%27O%5C%27Connor%27",
                                 &oracle, NULL, &err));
  expected = oracle && jget(oracle, "totalSize", NULL) ? (size_t)strtoul(jget(oracle, "totalSize", NULL), NULL, 10) : 0;
  sfcrm_string_free(oracle);
  EXPECT_OK(sfcrm_export_request_new_custom("Contact", "Id,LastName", &req, &err));
  /* refused now: a clause keyword at the top level, unbalanced text, a missing value */
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_where(req, "LastName = 'x' LIMIT 5", NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_where(req, "(LastName = 'x'", NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_where(req, "LastName = :n", NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_where(req, NULL, "{\"n\":1}", &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_request_set_where(NULL, "Id != null", NULL, &err));
  EXPECT_OK(sfcrm_export_request_set_where(req, "LastName = :n", "{\"n\":\"O'Connor\"}", &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-q5", "user-q5", req, &cur, &err));
  all = drain_ndjson(cur, &n, &rc, NULL);
  sfcrm_export_cursor_free(cur);
  CHECK(rc == SFCRM_RESULT_OK && expected > 0 && n == expected && count_substr(all, "\"LastName\":\"O'Connor\"") == expected);
  free(all);
  /* NULL removes the filter */
  EXPECT_OK(sfcrm_export_request_set_where(req, NULL, NULL, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-q5", "user-q5", req, &cur, &err));
  all = drain_ndjson(cur, &n, &rc, NULL);
  sfcrm_export_cursor_free(cur);
  CHECK(rc == SFCRM_RESULT_OK && n == 1500);
  free(all);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

/* ---- a query resumed from a checkpoint after its session expired ------------------------------ */

static int ids_ascending(const char *ndjson, char *last_id, size_t *n) {
  for (const char *p = ndjson; *p; p = strchr(p, '\n') + 1) {
    size_t l = 0;
    const char *id = jget(p, "Id", &l);
    char cur[32];
    if (!id || l != 20) return 0;
    memcpy(cur, id + 1, 18);
    cur[18] = '\0';
    if (strcmp(cur, last_id) <= 0) return 0;
    strcpy(last_id, cur);
    (*n)++;
  }
  return 1;
}

static void test_query_resume_after_session_expiry(void) {
  sfcrm_client *c = query_client("acc-q6", "user-q6");
  sfcrm_query_request *q = NULL, *other = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_api_calls before, after;
  char *batch = NULL, *rest, token[4096], last[32] = "";
  size_t len = 0, count = 0, seen = 0, n = 0;
  sfcrm_result rc;
  EXPECT_OK(sfcrm_query_request_new("SELECT Id, LastName FROM Contact WHERE LastName != :x", &q, &err));
  EXPECT_OK(sfcrm_query_request_set_params_json(q, "{\"x\":\"\"}", &err));
  EXPECT_OK(sfcrm_query_request_set_batch_size(q, 200, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q6", "user-q6", q, &cur, &err));
  for (int i = 0; i < 2; i++) {
    EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
    CHECK(batch && ids_ascending(batch, last, &seen));
    sfcrm_string_free(batch);
  }
  CHECK(seen == 400);
  EXPECT_OK(sfcrm_export_cursor_checkpoint(cur, token, sizeof token, &len, &err));
  sfcrm_export_cursor_free(cur);
  /* every access token dies (and with it the query locator's session) */
  CHECK(emulator_post("/__emulator/sessions/expire", NULL) == 200);
  EXPECT_OK(sfcrm_query_request_set_checkpoint(q, token, &err));
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q6", "user-q6", q, &cur, &err));
  rest = drain_ndjson(cur, &n, &rc, NULL);
  sfcrm_export_cursor_free(cur);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(rc == SFCRM_RESULT_OK && n == 1100 && ids_ascending(rest, last, &seen) && seen == 1500);
  CHECK(after.refreshes == before.refreshes + 1);
  free(rest);
  /* the checkpoint binds its query: another query refuses it */
  EXPECT_OK(sfcrm_query_request_new("SELECT Id FROM Contact", &other, &err));
  EXPECT_OK(sfcrm_query_request_set_checkpoint(other, token, &err));
  EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q6", "user-q6", other, &cur, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  sfcrm_export_cursor_free(cur);
  sfcrm_query_request_free(other);
  sfcrm_query_request_free(q);
  sfcrm_client_free(c);
}

/* ---- bad SOQL: Salesforce's errorCode and message -------------------------------------------- */

static void test_query_bad_soql(void) {
  sfcrm_client *c = query_client("acc-q7", "user-q7");
  sfcrm_error *e = NULL;
  size_t n = 0;
  sfcrm_result rc;
  char *all = query_all(c, "acc-q7", "user-q7", "SELECT Id FORM Contact", NULL, &n, &rc, &e);
  CHECK(rc == SFCRM_RESULT_API && n == 0);
  CHECK(sfcrm_error_http_status(e) == 400 && sfcrm_error_salesforce_code(e) &&
        strcmp(sfcrm_error_salesforce_code(e), "MALFORMED_QUERY") == 0);
  CHECK(contains(sfcrm_error_message(e), "ERROR at Row:1:Column:") && contains(sfcrm_error_raw_body(e), "MALFORMED_QUERY"));
  sfcrm_error_free(e);
  free(all);
  e = NULL;
  all = query_all(c, "acc-q7", "user-q7", "SELECT Id, Nope__c FROM Contact", NULL, &n, &rc, &e);
  CHECK(rc == SFCRM_RESULT_API && sfcrm_error_salesforce_code(e) && strcmp(sfcrm_error_salesforce_code(e), "INVALID_FIELD") == 0);
  CHECK(contains(sfcrm_error_message(e), "Nope__c"));
  sfcrm_error_free(e);
  free(all);
  e = NULL;
  all = query_all(c, "acc-q7", "user-q7", "SELECT Id FROM NoSuchThing__c", NULL, &n, &rc, &e);
  CHECK(rc == SFCRM_RESULT_API && sfcrm_error_salesforce_code(e) && strcmp(sfcrm_error_salesforce_code(e), "INVALID_TYPE") == 0);
  sfcrm_error_free(e);
  free(all);
  /* queryAll sees deleted rows (counted relative to what earlier runs against this emulator deleted) */
  {
    sfcrm_query_request *q = NULL;
    sfcrm_export_cursor *cur = NULL;
    size_t live = 0, every = 0, every_before = 0, deleted_before;
    EXPECT_OK(sfcrm_query_request_new("SELECT Id, IsDeleted FROM Lead", &q, &err));
    EXPECT_OK(sfcrm_query_request_set_all_rows(q, true, &err));
    EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q7", "user-q7", q, &cur, &err));
    all = drain_ndjson(cur, &every_before, &rc, NULL);
    deleted_before = count_substr(all, "\"IsDeleted\":true");
    free(all);
    sfcrm_export_cursor_free(cur);
    CHECK(emulator_post("/__emulator/records/delete", "{\"sobject\":\"Lead\",\"count\":3}") == 200);
    all = query_all(c, "acc-q7", "user-q7", "SELECT Id FROM Lead", NULL, &live, &rc, NULL);
    free(all);
    EXPECT_OK(sfcrm_query_cursor_open(c, "acc-q7", "user-q7", q, &cur, &err));
    all = drain_ndjson(cur, &every, &rc, NULL);
    CHECK(rc == SFCRM_RESULT_OK && every == every_before && count_substr(all, "\"IsDeleted\":true") == deleted_before + 3);
    CHECK(live == every - deleted_before - 3);
    free(all);
    sfcrm_export_cursor_free(cur);
    sfcrm_query_request_free(q);
  }
  sfcrm_client_free(c);
}
