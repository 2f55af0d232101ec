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

static sfcrm_client *query_client(const char *acc, const char *own) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, acc, own));
  return c;
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

