/*
 * C tests of libsfcrm: every exported function, including misuse (NULL, invalid UTF-8, stale
 * handles, use after cancel, token store callbacks failing or returning garbage, re-entrant calls).
 *
 * Run by scripts/test-c.sh (plain, under Valgrind and under AddressSanitizer), which starts the
 * org emulator and exports SF_ORG_EMULATOR_LOGIN_URL / SF_ORG_EMULATOR_INSTANCE_URL. The last line
 * printed is "N passed, N failed"; the exit status is 0 only when nothing failed.
 *
 * `test_sfcrm --asan-selftest` performs a deliberate heap overflow: under a working ASan build it
 * must abort with an AddressSanitizer report (scripts/test-c.sh checks that).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <regex.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sfcrm.h"
#include "mini_http.h"

#ifndef SFCRM_EXPECTED_VERSION
#error "compile with -DSFCRM_EXPECTED_VERSION=\"x.y.z\" (the version in Cargo.toml)"
#endif

/* ---- a tiny test runner ------------------------------------------------------------------- */

static int g_passed, g_failed;
static const char *g_test = "";

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (cond) {                                                                        \
      g_passed++;                                                                      \
    } else {                                                                           \
      g_failed++;                                                                      \
      fprintf(stderr, "FAIL [%s] %s:%d: %s\n", g_test, __FILE__, __LINE__, #cond);    \
    }                                                                                  \
  } while (0)

static const char *g_only; /* argv[1]: run only the test groups whose name contains it */

static void run(const char *name, void (*fn)(void)) {
  int before = g_failed;
  if (g_only && !strstr(name, g_only)) return;
  g_test = name;
  fn();
  printf("%s %s\n", g_failed == before ? "ok  " : "FAIL", name);
  fflush(stdout);
}

/* Runs `call` (which must take `&err` as its error argument), expects `expected`, checks that an
 * error object with the same code came back, and frees it. */
#define EXPECT_ERR(expected, call_with_err)                                                         \
  do {                                                                                              \
    sfcrm_error *err = NULL;                                                                        \
    sfcrm_result rc_ = (call_with_err);                                                             \
    if (rc_ == (sfcrm_result)(expected) && err != NULL && sfcrm_error_code(err) == (uint32_t)(expected)) { \
      g_passed++;                                                                                   \
    } else {                                                                                        \
      g_failed++;                                                                                   \
      fprintf(stderr, "FAIL [%s] %s:%d: %s -> %s (expected %s) %s\n", g_test, __FILE__, __LINE__,  \
              #call_with_err, sfcrm_result_name(rc_), sfcrm_result_name(expected),                  \
              err ? sfcrm_error_message(err) : "(no error object)");                               \
    }                                                                                               \
    sfcrm_error_free(err);                                                                          \
  } while (0)

/* Like EXPECT_ERR for success: prints the error on failure. */
#define EXPECT_OK(call_with_err)                                                               \
  do {                                                                                         \
    sfcrm_error *err = NULL;                                                                   \
    sfcrm_result rc_ = (call_with_err);                                                        \
    if (rc_ == SFCRM_RESULT_OK && err == NULL) {                                               \
      g_passed++;                                                                              \
    } else {                                                                                   \
      g_failed++;                                                                              \
      fprintf(stderr, "FAIL [%s] %s:%d: %s -> %s: %s\n", g_test, __FILE__, __LINE__,         \
              #call_with_err, sfcrm_result_name(rc_), err ? sfcrm_error_message(err) : "");   \
    }                                                                                          \
    sfcrm_error_free(err);                                                                     \
  } while (0)

static int contains(const char *hay, const char *needle) { return hay && needle && strstr(hay, needle) != NULL; }

static size_t count_substr(const char *hay, const char *needle) {
  size_t n = 0, l = strlen(needle);
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += l) n++;
  return n;
}

static int on_sdk_thread(void) {
  char name[32] = "";
  pthread_getname_np(pthread_self(), name, sizeof name);
  return strcmp(name, "sfcrm-worker") == 0;
}

/* ---- a token store in C (in memory), with misbehaviour modes ------------------------------ */

enum store_mode {
  MODE_NORMAL,
  MODE_FAIL,          /* every callback returns ERROR with a reason */
  MODE_BAD_STATUS,    /* every callback returns 77 */
  MODE_OK_NO_DOC,     /* load returns OK without a document */
  MODE_BAD_JSON,      /* load returns "{not json" */
  MODE_BAD_UTF8,      /* load returns bytes that are not UTF-8 */
  MODE_WRONG_KEY,     /* load returns the document of another connection */
  MODE_FUTURE_SCHEMA, /* load returns a document with schema 99 */
  MODE_REENTER,       /* load calls blocking sfcrm functions (must be refused) */
  MODE_STASH_REPLY,   /* load keeps the reply pointer for later misuse */
  MODE_REMOVE_CONFLICT /* remove returns CONFLICT (not allowed for remove) */
};

#define MAX_ENTRIES 16
typedef struct test_store {
  pthread_mutex_t mu;
  struct {
    char *account, *owner, *doc;
    uint64_t version;
  } e[MAX_ENTRIES];
  int n;
  enum store_mode mode;
  int loads, saves, removes, frees, off_thread;
  sfcrm_store *self;          /* MODE_REENTER */
  sfcrm_client *client;       /* MODE_REENTER */
  uint32_t reenter_store_rc, reenter_client_rc;
  sfcrm_store_reply *stash;   /* MODE_STASH_REPLY */
} test_store;

static int find(test_store *s, const char *a, const char *o) {
  for (int i = 0; i < s->n; i++)
    if (strcmp(s->e[i].account, a) == 0 && strcmp(s->e[i].owner, o) == 0) return i;
  return -1;
}

static const char *DOC_TEMPLATE =
    "{\"schema\":%d,\"account_id\":\"%s\",\"owner\":\"%s\",\"token\":{\"access_token\":\"00DTEST!access\","
    "\"refresh_token\":\"5AepTEST\",\"issued_at\":\"1704844800000\"},\"token_invalidated\":false,"
    "\"instance_url\":\"http://127.0.0.1:9\",\"version\":%d}";

static uint32_t ts_load(void *ud, const char *account, const char *owner, sfcrm_store_reply *reply) {
  test_store *s = ud;
  char buf[1024];
  uint32_t st = SFCRM_STORE_STATUS_NOT_FOUND;
  if (!on_sdk_thread()) s->off_thread++;
  pthread_mutex_lock(&s->mu);
  s->loads++;
  switch (s->mode) {
    case MODE_FAIL:
      sfcrm_store_reply_set_error(reply, "database is down (test)");
      st = SFCRM_STORE_STATUS_ERROR;
      break;
    case MODE_BAD_STATUS: st = 77; break;
    case MODE_OK_NO_DOC: st = SFCRM_STORE_STATUS_OK; break;
    case MODE_BAD_JSON:
      sfcrm_store_reply_set_document(reply, "{not json", 9);
      st = SFCRM_STORE_STATUS_OK;
      break;
    case MODE_BAD_UTF8: {
      static const char bad[] = "{\"schema\":1,\"account_id\":\"\xff\xfe\"}";
      sfcrm_store_reply_set_document(reply, bad, sizeof bad - 1);
      st = SFCRM_STORE_STATUS_OK;
      break;
    }
    case MODE_WRONG_KEY:
      snprintf(buf, sizeof buf, DOC_TEMPLATE, 1, "someone-else", owner, 1);
      sfcrm_store_reply_set_document(reply, buf, strlen(buf));
      st = SFCRM_STORE_STATUS_OK;
      break;
    case MODE_FUTURE_SCHEMA:
      snprintf(buf, sizeof buf, DOC_TEMPLATE, 99, account, owner, 1);
      sfcrm_store_reply_set_document(reply, buf, strlen(buf));
      st = SFCRM_STORE_STATUS_OK;
      break;
    case MODE_REENTER: {
      bool found = false;
      char *doc = NULL;
      sfcrm_connection_info info;
      s->reenter_store_rc = sfcrm_store_load(s->self, account, owner, &found, &doc, NULL);
      s->reenter_client_rc = s->client ? sfcrm_client_connection_info(s->client, account, owner, &found, &info, NULL)
                                       : SFCRM_RESULT_REENTRANT;
      st = SFCRM_STORE_STATUS_NOT_FOUND;
      break;
    }
    case MODE_STASH_REPLY:
      s->stash = reply;
      st = SFCRM_STORE_STATUS_NOT_FOUND;
      break;
    default: {
      int i = find(s, account, owner);
      if (i >= 0) {
        sfcrm_store_reply_set_document(reply, s->e[i].doc, strlen(s->e[i].doc));
        st = SFCRM_STORE_STATUS_OK;
      }
    }
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

static uint32_t ts_save(void *ud, const char *account, const char *owner, const char *doc, size_t len,
                        uint64_t new_version, bool has_expected, uint64_t expected, sfcrm_store_reply *reply) {
  test_store *s = ud;
  uint32_t st;
  int i;
  if (!on_sdk_thread()) s->off_thread++;
  if (strlen(doc) != len) s->off_thread += 1000; /* the document must be NUL-terminated at len */
  pthread_mutex_lock(&s->mu);
  s->saves++;
  if (s->mode == MODE_FAIL) {
    sfcrm_store_reply_set_error(reply, "disk full (test)");
    pthread_mutex_unlock(&s->mu);
    return SFCRM_STORE_STATUS_ERROR;
  }
  if (s->mode == MODE_BAD_STATUS) {
    pthread_mutex_unlock(&s->mu);
    return 77;
  }
  i = find(s, account, owner);
  if (!has_expected) {
    if (i >= 0 || s->n == MAX_ENTRIES) {
      st = SFCRM_STORE_STATUS_CONFLICT;
    } else {
      i = s->n++;
      s->e[i].account = strdup(account);
      s->e[i].owner = strdup(owner);
      s->e[i].doc = strdup(doc);
      s->e[i].version = new_version;
      st = SFCRM_STORE_STATUS_OK;
    }
  } else if (i < 0 || s->e[i].version != expected) {
    st = SFCRM_STORE_STATUS_CONFLICT;
  } else {
    free(s->e[i].doc);
    s->e[i].doc = strdup(doc);
    s->e[i].version = new_version;
    st = SFCRM_STORE_STATUS_OK;
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

static uint32_t ts_remove(void *ud, const char *account, const char *owner, sfcrm_store_reply *reply) {
  test_store *s = ud;
  int i;
  (void)reply;
  if (!on_sdk_thread()) s->off_thread++;
  pthread_mutex_lock(&s->mu);
  s->removes++;
  if (s->mode == MODE_REMOVE_CONFLICT) {
    pthread_mutex_unlock(&s->mu);
    return SFCRM_STORE_STATUS_CONFLICT;
  }
  i = find(s, account, owner);
  if (i < 0) {
    pthread_mutex_unlock(&s->mu);
    return SFCRM_STORE_STATUS_NOT_FOUND;
  }
  free(s->e[i].account);
  free(s->e[i].owner);
  free(s->e[i].doc);
  s->e[i] = s->e[--s->n];
  pthread_mutex_unlock(&s->mu);
  return SFCRM_STORE_STATUS_OK;
}

static void ts_free(void *ud) {
  test_store *s = ud;
  for (int i = 0; i < s->n; i++) {
    free(s->e[i].account);
    free(s->e[i].owner);
    free(s->e[i].doc);
  }
  s->n = 0;
  s->frees++;
}

static void ts_init(test_store *s) {
  memset(s, 0, sizeof *s);
  pthread_mutex_init(&s->mu, NULL);
}

static sfcrm_store *ts_new_store(test_store *s) {
  sfcrm_store_callbacks cb = {s, ts_load, ts_save, ts_remove, ts_free};
  sfcrm_store *store = NULL;
  sfcrm_error *err = NULL;
  if (sfcrm_store_new_callbacks(&cb, &store, &err) != SFCRM_RESULT_OK) {
    fprintf(stderr, "sfcrm_store_new_callbacks: %s\n", sfcrm_error_message(err));
    sfcrm_error_free(err);
    return NULL;
  }
  return store;
}

static char *make_doc(const char *account, const char *owner, int version) {
  char *buf = malloc(1024);
  snprintf(buf, 1024, DOC_TEMPLATE, 1, account, owner, version);
  return buf;
}

/* ---- tests without the emulator ----------------------------------------------------------- */

static void test_version(void) {
  CHECK(strcmp(sfcrm_version(), SFCRM_EXPECTED_VERSION) == 0);
  CHECK(strcmp(SFCRM_VERSION_STRING, SFCRM_EXPECTED_VERSION) == 0);
  CHECK(strcmp(sfcrm_version(), SFCRM_VERSION_STRING) == 0);
  {
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", SFCRM_VERSION_MAJOR, SFCRM_VERSION_MINOR, SFCRM_VERSION_PATCH);
    CHECK(strcmp(buf, SFCRM_EXPECTED_VERSION) == 0);
  }
  CHECK(SFCRM_VERSION_NUMBER == SFCRM_VERSION_MAJOR * 10000 + SFCRM_VERSION_MINOR * 100 + SFCRM_VERSION_PATCH);
}

static void test_result_names(void) {
  static const struct {
    uint32_t code;
    const char *name;
  } expected[] = {
      {SFCRM_RESULT_OK, "ok"},
      {SFCRM_RESULT_INVALID_ARGUMENT, "invalid_argument"},
      {SFCRM_RESULT_CONFIG, "config"},
      {SFCRM_RESULT_MISSING_FORWARD_URL, "missing_forward_url"},
      {SFCRM_RESULT_FORWARD_URL_NOT_ALLOWED, "forward_url_not_allowed"},
      {SFCRM_RESULT_UNKNOWN_EXPORT_TYPE, "unknown_export_type"},
      {SFCRM_RESULT_INVALID_IDENTIFIER, "invalid_identifier"},
      {SFCRM_RESULT_NULL_POINTER, "null_pointer"},
      {SFCRM_RESULT_INVALID_UTF8, "invalid_utf8"},
      {SFCRM_RESULT_BUFFER_TOO_SMALL, "buffer_too_small"},
      {SFCRM_RESULT_USE_AFTER_CANCEL, "use_after_cancel"},
      {SFCRM_RESULT_INVALID_HANDLE, "invalid_handle"},
      {SFCRM_RESULT_REENTRANT, "reentrant"},
      {SFCRM_RESULT_INVALID_STATE, "invalid_state"},
      {SFCRM_RESULT_NOT_CONNECTED, "not_connected"},
      {SFCRM_RESULT_OAUTH, "oauth"},
      {SFCRM_RESULT_RECONNECT_REQUIRED, "reconnect_required"},
      {SFCRM_RESULT_SESSION_EXPIRED, "session_expired"},
      {SFCRM_RESULT_RATE_LIMITED, "rate_limited"},
      {SFCRM_RESULT_API, "api"},
      {SFCRM_RESULT_PROTOCOL, "protocol"},
      {SFCRM_RESULT_NETWORK, "network"},
      {SFCRM_RESULT_TIMEOUT, "timeout"},
      {SFCRM_RESULT_STORE, "store"},
      {SFCRM_RESULT_STORE_CONFLICT, "store_conflict"},
      {SFCRM_RESULT_IO, "io"},
      {SFCRM_RESULT_CANCELLED, "cancelled"},
      {SFCRM_RESULT_INTERNAL, "internal"},
      {SFCRM_RESULT_PANIC, "panic"},
  };
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    const char *n = sfcrm_result_name(expected[i].code);
    if (strcmp(n, expected[i].name) != 0) fprintf(stderr, "  code %u: %s != %s\n", expected[i].code, n, expected[i].name);
    CHECK(strcmp(n, expected[i].name) == 0);
  }
  /* values are the documented, stable numbers */
  CHECK(SFCRM_RESULT_OK == 0 && SFCRM_RESULT_INVALID_ARGUMENT == 100 && SFCRM_RESULT_NULL_POINTER == 150);
  CHECK(SFCRM_RESULT_INVALID_STATE == 200 && SFCRM_RESULT_RATE_LIMITED == 300 && SFCRM_RESULT_NETWORK == 400);
  CHECK(SFCRM_RESULT_STORE == 500 && SFCRM_RESULT_INTERNAL == 900 && SFCRM_RESULT_PANIC == 901);
  CHECK(strcmp(sfcrm_result_name(12345), "unknown") == 0);
  CHECK(strcmp(sfcrm_result_name(1), "unknown") == 0);
}

static void test_error_accessors_on_bad_handles(void) {
  int not_an_error = 42;
  uint64_t v = 7, u = 7;
  CHECK(sfcrm_error_code(NULL) == SFCRM_RESULT_INVALID_HANDLE);
  CHECK(strcmp(sfcrm_error_kind_name(NULL), "invalid_handle") == 0);
  CHECK(strcmp(sfcrm_error_message(NULL), "") == 0);
  CHECK(sfcrm_error_http_status(NULL) == 0);
  CHECK(sfcrm_error_salesforce_code(NULL) == NULL);
  CHECK(sfcrm_error_oauth_error(NULL) == NULL);
  CHECK(sfcrm_error_oauth_error_description(NULL) == NULL);
  CHECK(sfcrm_error_fields_json(NULL) == NULL);
  CHECK(sfcrm_error_raw_body(NULL) == NULL);
  CHECK(sfcrm_error_raw_body((const sfcrm_error *)&not_an_error) == NULL);
  CHECK(!sfcrm_error_retry_after_ms(NULL, &v) && v == 7);
  CHECK(!sfcrm_error_api_usage(NULL, &v, &u) && v == 7 && u == 7);
  /* a pointer that is not an error object: detected without reading it */
  CHECK(sfcrm_error_code((const sfcrm_error *)&not_an_error) == SFCRM_RESULT_INVALID_HANDLE);
  sfcrm_error_free((sfcrm_error *)&not_an_error);
  sfcrm_error_free(NULL);
}

static void test_error_object_details(void) {
  sfcrm_config *cfg = NULL;
  sfcrm_error *err = NULL;
  uint64_t v = 7, u = 7;
  EXPECT_OK(sfcrm_config_new(&cfg, &err));
  CHECK(sfcrm_config_validate(cfg, &err) == SFCRM_RESULT_CONFIG);
  CHECK(err != NULL);
  CHECK(sfcrm_error_code(err) == SFCRM_RESULT_CONFIG);
  CHECK(strcmp(sfcrm_error_kind_name(err), "config") == 0);
  CHECK(contains(sfcrm_error_message(err), "SALESFORCE_CLIENT_ID"));
  CHECK(sfcrm_error_http_status(err) == 0);
  CHECK(sfcrm_error_salesforce_code(err) == NULL);
  CHECK(sfcrm_error_oauth_error(err) == NULL);
  CHECK(strcmp(sfcrm_error_fields_json(err), "[]") == 0);
  CHECK(sfcrm_error_raw_body(err) == NULL); /* no response involved */
  CHECK(!sfcrm_error_retry_after_ms(err, &v) && v == 7);
  CHECK(!sfcrm_error_api_usage(err, &v, &u));
  /* the error is not affected by freeing what produced it */
  sfcrm_config_free(cfg);
  CHECK(contains(sfcrm_error_message(err), "SALESFORCE_CLIENT_ID"));
  sfcrm_error_free(err);
  /* freed: accessors see a dead handle */
  CHECK(sfcrm_error_code(err) == SFCRM_RESULT_INVALID_HANDLE);
  sfcrm_error_free(err); /* double free is a no-op */
  /* a NULL error out-parameter is allowed */
  CHECK(sfcrm_config_validate(NULL, NULL) == SFCRM_RESULT_NULL_POINTER);
}

static void test_strings(void) {
  char local[8] = "abc";
  sfcrm_string_free(NULL);
  sfcrm_string_free(local); /* not ours: ignored, not freed */
  CHECK(strcmp(local, "abc") == 0);
}

static void test_config(void) {
  sfcrm_config *cfg = NULL, *env_cfg = (sfcrm_config *)0x1;
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_config_new(NULL, &err));
  EXPECT_OK(sfcrm_config_new(&cfg, &err));
  CHECK(cfg != NULL);
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_config_set_client_id(cfg, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_config_set_client_id(NULL, "x", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_config_set_client_id(cfg, "bad\xc3\x28", &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_config_set(cfg, "HOME", "/tmp", &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_config_set(cfg, "sfcrm_lower", "x", &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_config_set(cfg, "SFCRM_REQEUST_TIMEOUT_MS", "5", &err)); /* typo */
  EXPECT_OK(sfcrm_config_set(cfg, "SFCRM_REQUEST_TIMEOUT_MS", "30000", &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_config_set(cfg, NULL, "x", &err));
  EXPECT_OK(sfcrm_config_set_client_id(cfg, "id", &err));
  EXPECT_OK(sfcrm_config_set_client_secret(cfg, "secret", &err));
  EXPECT_OK(sfcrm_config_set_redirect_uri(cfg, "http://127.0.0.1:8765/callback", &err));
  EXPECT_OK(sfcrm_config_set_login_url(cfg, "http://127.0.0.1:1", &err));
  EXPECT_OK(sfcrm_config_set_scopes(cfg, "api refresh_token", &err));
  EXPECT_OK(sfcrm_config_set_api_version(cfg, "v48.0", &err));
  EXPECT_OK(sfcrm_config_set_forward_origins(cfg, "http://localhost:3000", &err));
  /* state secret too short: named in the message */
  EXPECT_OK(sfcrm_config_set_state_secret(cfg, "short", &err));
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_config_validate(cfg, &err) == SFCRM_RESULT_CONFIG);
    CHECK(contains(sfcrm_error_message(err), "SFCRM_STATE_SECRET") || contains(sfcrm_error_message(err), "state"));
    sfcrm_error_free(err);
  }
  EXPECT_OK(sfcrm_config_set_state_secret(cfg, "0123456789abcdef0123456789abcdef-test", &err));
  EXPECT_OK(sfcrm_config_validate(cfg, &err));
  /* generic setter: a malformed number is reported by validate, naming the variable */
  EXPECT_OK(sfcrm_config_set(cfg, "SFCRM_MAX_RETRIES", "many", &err));
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_config_validate(cfg, &err) == SFCRM_RESULT_CONFIG);
    CHECK(contains(sfcrm_error_message(err), "SFCRM_MAX_RETRIES"));
    sfcrm_error_free(err);
  }
  EXPECT_OK(sfcrm_config_set(cfg, "SFCRM_MAX_RETRIES", NULL, &err)); /* NULL unsets */
  EXPECT_OK(sfcrm_config_validate(cfg, &err));
  sfcrm_config_free(cfg);
  /* use after free */
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_config_set_client_id(cfg, "x", &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_config_validate(cfg, &err));
  sfcrm_config_free(cfg);
  sfcrm_config_free(NULL);

  /* from the environment */
  unsetenv("SALESFORCE_CLIENT_ID");
  setenv("SALESFORCE_SECRET_ID", "env-secret", 1);
  setenv("SALESFORCE_REDIRECT_URL", "http://127.0.0.1:8765/callback", 1);
  setenv("SFCRM_STATE_SECRET", "0123456789abcdef0123456789abcdef-env", 1);
  setenv("SFCRM_FORWARD_ORIGINS", "http://localhost:3000", 1);
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_config_from_env(&env_cfg, &err) == SFCRM_RESULT_CONFIG);
    CHECK(env_cfg == (sfcrm_config *)0x1); /* out-parameter untouched on failure */
    CHECK(contains(sfcrm_error_message(err), "SALESFORCE_CLIENT_ID"));
    sfcrm_error_free(err);
  }
  setenv("SALESFORCE_CLIENT_ID", "env-\xff-client", 1);
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_config_from_env(&env_cfg, &err));
  setenv("SALESFORCE_CLIENT_ID", "env-client", 1);
  EXPECT_OK(sfcrm_config_from_env(&env_cfg, &err));
  CHECK(env_cfg != NULL && env_cfg != (sfcrm_config *)0x1);
  /* setters override the environment */
  EXPECT_OK(sfcrm_config_set(env_cfg, "SFCRM_FORWARD_ORIGINS", "", &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_config_validate(env_cfg, &err));
  sfcrm_config_free(env_cfg);
  unsetenv("SALESFORCE_CLIENT_ID");
  unsetenv("SALESFORCE_SECRET_ID");
  unsetenv("SALESFORCE_REDIRECT_URL");
  unsetenv("SFCRM_STATE_SECRET");
  unsetenv("SFCRM_FORWARD_ORIGINS");
}

static void test_store_callbacks_lifecycle(void) {
  test_store s;
  sfcrm_store *store = (sfcrm_store *)0x1;
  sfcrm_store_callbacks cb = {&s, ts_load, ts_save, ts_remove, ts_free};
  ts_init(&s);
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_new_callbacks(NULL, &store, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_new_callbacks(&cb, NULL, &err));
  cb.load = NULL;
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_new_callbacks(&cb, &store, &err));
  cb.load = ts_load;
  cb.remove = NULL;
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_new_callbacks(&cb, &store, &err));
  cb.remove = ts_remove;
  CHECK(store == (sfcrm_store *)0x1);
  CHECK(s.frees == 0); /* failed creation does not take user_data */
  EXPECT_OK(sfcrm_store_new_callbacks(&cb, &store, &err));
  CHECK(s.frees == 0);
  sfcrm_store_free(store);
  CHECK(s.frees == 1); /* finalizer ran exactly once */
  sfcrm_store_free(store);
  CHECK(s.frees == 1);
  /* the store handle is dead now */
  {
    bool found;
    char *doc;
    EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_store_load(store, "a", "o", &found, &doc, &err));
  }
  pthread_mutex_destroy(&s.mu);
}

static void test_store_roundtrip_and_cas(void) {
  test_store s;
  sfcrm_store *store;
  bool found = true, saved = false, removed = false;
  char *doc = (char *)0x1, *d1 = make_doc("acc-1", "user-1", 1), *d2 = make_doc("acc-1", "user-1", 2);
  ts_init(&s);
  store = ts_new_store(&s);
  CHECK(store != NULL);
  EXPECT_OK(sfcrm_store_load(store, "acc-1", "user-1", &found, &doc, &err));
  CHECK(!found && doc == NULL);
  EXPECT_OK(sfcrm_store_save(store, d1, false, 0, &saved, &err));
  CHECK(saved);
  /* insert when present: conflict */
  EXPECT_OK(sfcrm_store_save(store, d1, false, 0, &saved, &err));
  CHECK(!saved);
  /* wrong expected version: conflict */
  EXPECT_OK(sfcrm_store_save(store, d2, true, 5, &saved, &err));
  CHECK(!saved);
  EXPECT_OK(sfcrm_store_save(store, d2, true, 1, &saved, &err));
  CHECK(saved);
  EXPECT_OK(sfcrm_store_load(store, "acc-1", "user-1", &found, &doc, &err));
  CHECK(found && contains(doc, "\"version\":2") && contains(doc, "00DTEST!access"));
  sfcrm_string_free(doc);
  EXPECT_OK(sfcrm_store_delete(store, "acc-1", "user-1", &removed, &err));
  CHECK(removed);
  EXPECT_OK(sfcrm_store_delete(store, "acc-1", "user-1", &removed, &err));
  CHECK(!removed);
  CHECK(s.off_thread == 0); /* every callback ran on an sfcrm-worker thread, len == strlen */
  /* misuse */
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_save(store, "{\"not\":\"a document\"}", false, 0, &saved, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_store_load(store, "acc\xff", "user-1", &found, &doc, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_load(store, "", "user-1", &found, &doc, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_load(store, "  ", "user-1", &found, &doc, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_delete(store, "acc-1", " \n", &removed, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_load(store, "a", NULL, &found, &doc, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_load(store, "a", "o", NULL, &doc, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_save(store, NULL, false, 0, &saved, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_delete(store, "a", "o", NULL, &err));
  sfcrm_store_free(store);
  CHECK(s.frees == 1);
  free(d1);
  free(d2);
  pthread_mutex_destroy(&s.mu);
}

static void expect_load_store_error(test_store *s, sfcrm_store *store, enum store_mode mode, const char *needle) {
  bool found = false;
  char *doc = NULL;
  sfcrm_error *err = NULL;
  sfcrm_result rc;
  s->mode = mode;
  rc = sfcrm_store_load(store, "acc-1", "user-1", &found, &doc, &err);
  CHECK(rc == SFCRM_RESULT_STORE);
  CHECK(doc == NULL);
  if (!contains(sfcrm_error_message(err), needle))
    fprintf(stderr, "  mode %d: message \"%s\" lacks \"%s\"\n", (int)mode, sfcrm_error_message(err), needle);
  CHECK(contains(sfcrm_error_message(err), needle));
  sfcrm_error_free(err);
}

static void test_store_garbage(void) {
  test_store s;
  sfcrm_store *store;
  bool saved = true, removed = true;
  char *d1 = make_doc("acc-1", "user-1", 1);
  ts_init(&s);
  store = ts_new_store(&s);
  expect_load_store_error(&s, store, MODE_FAIL, "database is down (test)");
  expect_load_store_error(&s, store, MODE_BAD_STATUS, "unknown status 77");
  expect_load_store_error(&s, store, MODE_OK_NO_DOC, "without calling sfcrm_store_reply_set_document");
  expect_load_store_error(&s, store, MODE_BAD_JSON, "not a valid connection document");
  expect_load_store_error(&s, store, MODE_BAD_UTF8, "not valid UTF-8");
  expect_load_store_error(&s, store, MODE_WRONG_KEY, "another connection");
  expect_load_store_error(&s, store, MODE_FUTURE_SCHEMA, "schema 99");
  s.mode = MODE_FAIL;
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_store_save(store, d1, false, 0, &saved, &err) == SFCRM_RESULT_STORE);
    CHECK(contains(sfcrm_error_message(err), "disk full (test)"));
    sfcrm_error_free(err);
  }
  CHECK(saved); /* untouched */
  s.mode = MODE_BAD_STATUS;
  EXPECT_ERR(SFCRM_RESULT_STORE, sfcrm_store_save(store, d1, false, 0, &saved, &err));
  s.mode = MODE_REMOVE_CONFLICT;
  EXPECT_ERR(SFCRM_RESULT_STORE, sfcrm_store_delete(store, "acc-1", "user-1", &removed, &err));
  CHECK(removed);
  /* a callback calling blocking sfcrm functions is refused, not deadlocked */
  s.mode = MODE_REENTER;
  s.self = store;
  {
    bool found;
    char *doc = NULL;
    EXPECT_OK(sfcrm_store_load(store, "acc-1", "user-1", &found, &doc, &err));
  }
  CHECK(s.reenter_store_rc == SFCRM_RESULT_REENTRANT);
  /* a reply pointer kept after its callback returned is dead */
  s.mode = MODE_STASH_REPLY;
  {
    bool found;
    char *doc = NULL;
    EXPECT_OK(sfcrm_store_load(store, "acc-1", "user-1", &found, &doc, &err));
  }
  CHECK(s.stash != NULL);
  CHECK(sfcrm_store_reply_set_document(s.stash, "{}", 2) == SFCRM_RESULT_INVALID_HANDLE);
  CHECK(sfcrm_store_reply_set_error(s.stash, "x") == SFCRM_RESULT_INVALID_HANDLE);
  CHECK(sfcrm_store_reply_set_document(NULL, "{}", 2) == SFCRM_RESULT_NULL_POINTER);
  sfcrm_store_free(store);
  CHECK(s.frees == 1);
  free(d1);
  pthread_mutex_destroy(&s.mu);
}

static char g_tmpdir[256];

static void test_builtin_stores(void) {
  sfcrm_store *mem = NULL, *file = NULL, *sealed = NULL, *bad = (sfcrm_store *)0x1;
  bool found = false, saved = false;
  char *doc = NULL, *d1 = make_doc("acc-2", "user-2", 1), dir[300], path_probe[400];
  const char *key32 = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; /* 32 bytes */
  EXPECT_OK(sfcrm_store_new_memory(&mem, &err));
  EXPECT_OK(sfcrm_store_save(mem, d1, false, 0, &saved, &err));
  CHECK(saved);
  EXPECT_OK(sfcrm_store_load(mem, "acc-2", "user-2", &found, &doc, &err));
  CHECK(found && contains(doc, "00DTEST!access"));
  sfcrm_string_free(doc);
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_new_memory(NULL, &err));

  snprintf(dir, sizeof dir, "%s/filestore", g_tmpdir);
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_new_file(NULL, &file, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_store_new_file("", &file, &err));
  snprintf(path_probe, sizeof path_probe, "%s/not-a-dir", g_tmpdir);
  {
    FILE *f = fopen(path_probe, "w");
    if (f) fclose(f);
  }
  EXPECT_ERR(SFCRM_RESULT_STORE, sfcrm_store_new_file(path_probe, &bad, &err));
  CHECK(bad == (sfcrm_store *)0x1);
  EXPECT_OK(sfcrm_store_new_file(dir, &file, &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_store_new_sealed(file, "k1:dG9vLXNob3J0", &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_store_new_sealed(file, "garbage", &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_store_new_sealed(NULL, key32, &bad, &err));
  CHECK(bad == (sfcrm_store *)0x1);
  EXPECT_OK(sfcrm_store_new_sealed(file, key32, &sealed, &err));
  EXPECT_OK(sfcrm_store_save(sealed, d1, false, 0, &saved, &err));
  CHECK(saved);
  /* through the sealed store: plaintext; in the file store underneath: sealed */
  EXPECT_OK(sfcrm_store_load(sealed, "acc-2", "user-2", &found, &doc, &err));
  CHECK(found && contains(doc, "00DTEST!access"));
  sfcrm_string_free(doc);
  doc = NULL;
  EXPECT_OK(sfcrm_store_load(file, "acc-2", "user-2", &found, &doc, &err));
  CHECK(found && !contains(doc, "00DTEST!access") && contains(doc, "sfcrm-sealed:v1:k1:"));
  sfcrm_string_free(doc);
  sfcrm_store_free(sealed);
  sfcrm_store_free(file);
  sfcrm_store_free(mem);
  free(d1);
}

static void test_export_requests(void) {
  sfcrm_export_request *r = NULL, *bad = (sfcrm_export_request *)0x1;
  EXPECT_ERR(SFCRM_RESULT_UNKNOWN_EXPORT_TYPE, sfcrm_export_request_new("leads", &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_request_new(NULL, &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_export_request_new("contacts\xff", &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_IDENTIFIER, sfcrm_export_request_new_custom("Contact; DELETE", "Id", &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_IDENTIFIER, sfcrm_export_request_new_custom("Contact", "Id,Name'--", &bad, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_new_custom("Contact", " , ", &bad, &err));
  CHECK(bad == (sfcrm_export_request *)0x1);
  EXPECT_OK(sfcrm_export_request_new_custom("Contact", "Id, Name, Account.Name", &r, &err));
  sfcrm_export_request_free(r);
  EXPECT_OK(sfcrm_export_request_new("contacts", &r, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_batch_size(r, 100, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_batch_size(r, 5000, &err));
  EXPECT_OK(sfcrm_export_request_set_batch_size(r, 200, &err));
  EXPECT_OK(sfcrm_export_request_set_batch_size(r, 0, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_request_set_resume_from(r, "not a token", &err));
  EXPECT_OK(sfcrm_export_request_set_resume_from(r, NULL, &err));
  EXPECT_OK(sfcrm_export_request_set_since(r, "2024-01-01T00:00:00Z", &err));
  EXPECT_OK(sfcrm_export_request_set_since(r, NULL, &err));
  EXPECT_OK(sfcrm_export_request_set_include_deleted(r, true, &err));
  EXPECT_OK(sfcrm_export_request_set_progress(r, NULL, NULL, &err));
  sfcrm_export_request_free(r);
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_export_request_set_include_deleted(r, false, &err));
  sfcrm_export_request_free(r);
  sfcrm_export_request_free(NULL);
}

/* ---- tests against the org emulator ------------------------------------------------------- */

static const char *g_login_url, *g_instance_url;
static const char *FORWARD = "http://localhost:3000/integrations/done";

static sfcrm_config *emulator_config(void) {
  sfcrm_config *cfg = NULL;
  sfcrm_error *err = NULL;
  if (sfcrm_config_new(&cfg, &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_client_id(cfg, "sfcrm-demo-client", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_client_secret(cfg, "sfcrm-demo-secret", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_redirect_uri(cfg, "http://127.0.0.1:8765/oauth/callback", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_login_url(cfg, g_login_url, &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_state_secret(cfg, "c-tests-state-secret-0123456789abcdef", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_forward_origins(cfg, "http://localhost:3000", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set(cfg, "SFCRM_MAX_RETRIES", "1", &err) != SFCRM_RESULT_OK) {
    fprintf(stderr, "emulator_config: %s\n", sfcrm_error_message(err));
    sfcrm_error_free(err);
  }
  return cfg;
}

static sfcrm_client *new_client(sfcrm_store *store) {
  sfcrm_config *cfg = emulator_config();
  sfcrm_client *c = NULL;
  sfcrm_error *err = NULL;
  if (sfcrm_client_new(cfg, store, &c, &err) != SFCRM_RESULT_OK) {
    fprintf(stderr, "sfcrm_client_new: %s\n", sfcrm_error_message(err));
    sfcrm_error_free(err);
  }
  sfcrm_config_free(cfg);
  return c;
}

static int emulator_post(const char *path, const char *body) {
  char url[512];
  mini_http_response r;
  int status;
  snprintf(url, sizeof url, "%s%s", g_login_url, path);
  if (mini_http_request("POST", url, body, &r) != 0) return -1;
  status = r.status;
  mini_http_response_free(&r);
  return status;
}

static int emulator_delete(const char *path) {
  char url[512];
  mini_http_response r;
  int status;
  snprintf(url, sizeof url, "%s%s", g_login_url, path);
  if (mini_http_request("DELETE", url, NULL, &r) != 0) return -1;
  status = r.status;
  mini_http_response_free(&r);
  return status;
}

/* login + "the browser" following the authorize URL + callback. Returns 1 on success. */
static int connect_user(sfcrm_client *c, const char *account, const char *owner) {
  char *url = NULL, *code = NULL, *state = NULL;
  bool already = true;
  sfcrm_callback_result cb;
  mini_http_response r = {0};
  sfcrm_error *err = NULL;
  int ok = 0;
  if (sfcrm_client_login(c, account, owner, FORWARD, &url, &already, &err) != SFCRM_RESULT_OK) goto done;
  if (already) {
    ok = 1;
    goto done;
  }
  if (mini_http_request("GET", url, NULL, &r) != 0 || r.status != 302 || !r.location) goto done;
  code = mini_http_query_param(r.location, "code");
  state = mini_http_query_param(r.location, "state");
  if (!code || !state) goto done;
  if (sfcrm_client_callback(c, code, state, NULL, NULL, &cb, &err) != SFCRM_RESULT_OK) goto done;
  ok = cb.success && strcmp(cb.account_id, account) == 0 && strcmp(cb.owner, owner) == 0;
  sfcrm_callback_result_clear(&cb);
done:
  if (err) fprintf(stderr, "connect_user: %s\n", sfcrm_error_message(err));
  sfcrm_error_free(err);
  sfcrm_string_free(url);
  mini_http_response_free(&r);
  free(code);
  free(state);
  return ok;
}

static void test_client_new_misuse(void) {
  sfcrm_config *cfg = emulator_config(), *empty = NULL;
  sfcrm_store *store = NULL;
  sfcrm_client *c = (sfcrm_client *)0x1;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_new(NULL, store, &c, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_new(cfg, NULL, &c, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_new(cfg, store, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_client_new((sfcrm_config *)store, store, &c, &err));
  EXPECT_OK(sfcrm_config_new(&empty, &err));
  EXPECT_ERR(SFCRM_RESULT_CONFIG, sfcrm_client_new(empty, store, &c, &err));
  CHECK(c == (sfcrm_client *)0x1);
  EXPECT_OK(sfcrm_client_new(cfg, store, &c, &err));
  /* the client keeps its own references: config and store handles may go first */
  sfcrm_config_free(cfg);
  sfcrm_store_free(store);
  {
    sfcrm_api_calls calls;
    EXPECT_OK(sfcrm_client_api_calls(c, &calls, &err));
    CHECK(calls.api_requests == 0 && calls.token_requests == 0);
  }
  sfcrm_client_free(c);
  sfcrm_client_free(c);
  sfcrm_client_free(NULL);
  sfcrm_config_free(empty);
}

static void test_login_callback_flow(void) {
  test_store s;
  sfcrm_store *store;
  sfcrm_client *c;
  char *url = NULL, *code = NULL, *state = NULL, *bad = (char *)0x1;
  bool already = true, found = false;
  sfcrm_callback_result cb;
  sfcrm_connection_info info;
  mini_http_response r;
  char expect_prefix[512];
  ts_init(&s);
  store = ts_new_store(&s);
  c = new_client(store);
  s.client = c;
  CHECK(c != NULL);
  /* misuse */
  EXPECT_ERR(SFCRM_RESULT_MISSING_FORWARD_URL, sfcrm_client_login(c, "acc-1", "user-1", NULL, &bad, &already, &err));
  EXPECT_ERR(SFCRM_RESULT_FORWARD_URL_NOT_ALLOWED, sfcrm_client_login(c, "acc-1", "user-1", "https://evil.example/x", &bad, &already, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_client_login(c, "acc-\xc3", "user-1", FORWARD, &bad, &already, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_login(c, NULL, "user-1", FORWARD, &bad, &already, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_login(c, "acc-1", "user-1", FORWARD, NULL, &already, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_login(c, "", "user-1", FORWARD, &bad, &already, &err));
  CHECK(bad == (char *)0x1 && already); /* out-parameters untouched on failure */
  /* login */
  EXPECT_OK(sfcrm_client_login(c, "acc-1", "user-1", FORWARD, &url, &already, &err));
  snprintf(expect_prefix, sizeof expect_prefix, "%s/services/oauth2/authorize?", g_login_url);
  CHECK(!already && url && strncmp(url, expect_prefix, strlen(expect_prefix)) == 0);
  CHECK(contains(url, "code_challenge_method=S256") && contains(url, "state="));
  /* the user's browser: the emulator consents and redirects to redirect_uri?code&state */
  CHECK(mini_http_request("GET", url, NULL, &r) == 0);
  CHECK(r.status == 302 && r.location && contains(r.location, "127.0.0.1:8765/oauth/callback"));
  code = mini_http_query_param(r.location ? r.location : "", "code");
  state = mini_http_query_param(r.location ? r.location : "", "state");
  mini_http_response_free(&r);
  CHECK(code && state);
  if (!code || !state) {
    free(code);
    free(state);
    sfcrm_string_free(url);
    sfcrm_client_free(c);
    sfcrm_store_free(store);
    return;
  }
  /* tampered state */
  {
    size_t n = strlen(state);
    char *t = strdup(state);
    t[n - 2] = t[n - 2] == 'A' ? 'B' : 'A';
    EXPECT_ERR(SFCRM_RESULT_INVALID_STATE, sfcrm_client_callback(c, code, t, NULL, NULL, &cb, &err));
    free(t);
  }
  EXPECT_ERR(SFCRM_RESULT_INVALID_STATE, sfcrm_client_callback(c, code, NULL, NULL, NULL, &cb, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_callback(c, code, state, NULL, NULL, NULL, &err));
  /* the real callback */
  EXPECT_OK(sfcrm_client_callback(c, code, state, NULL, NULL, &cb, &err));
  CHECK(cb.success && cb.error_reason == NULL);
  CHECK(cb.account_id && strcmp(cb.account_id, "acc-1") == 0 && cb.owner && strcmp(cb.owner, "user-1") == 0);
  CHECK(contains(cb.redirect_url, "localhost:3000/integrations/done") && contains(cb.redirect_url, "status=success"));
  sfcrm_callback_result_clear(&cb);
  CHECK(cb.redirect_url == NULL && cb.account_id == NULL);
  sfcrm_callback_result_clear(&cb);
  sfcrm_callback_result_clear(NULL);
  /* the tokens went through the C store (CAS insert) on SDK threads */
  CHECK(s.saves >= 1 && s.n == 1 && s.off_thread == 0);
  CHECK(contains(s.e[0].doc, "\"account_id\":\"acc-1\""));
  /* reusing the code: the token endpoint refuses; an error redirect, not a crash */
  EXPECT_OK(sfcrm_client_callback(c, code, state, NULL, NULL, &cb, &err));
  CHECK(!cb.success && cb.error_reason != NULL);
  sfcrm_callback_result_clear(&cb);
  /* user denied access */
  EXPECT_OK(sfcrm_client_callback(c, NULL, state, "access_denied", "end-user denied authorization", &cb, &err));
  CHECK(!cb.success && cb.error_reason && contains(cb.redirect_url, "status=error"));
  sfcrm_callback_result_clear(&cb);
  free(code);
  free(state);
  sfcrm_string_free(url);
  url = NULL;
  /* connection info */
  EXPECT_OK(sfcrm_client_connection_info(c, "acc-1", "user-1", &found, &info, &err));
  CHECK(found && strcmp(info.instance_url, g_instance_url) == 0 && info.version >= 1 && info.has_refresh_token);
  CHECK(!info.token_invalidated && info.issued_at && strlen(info.issued_at) > 0);
  sfcrm_connection_info_clear(&info);
  EXPECT_OK(sfcrm_client_connection_info(c, "acc-1", "nobody", &found, &info, &err));
  CHECK(!found);
  /* logging in again: already connected */
  EXPECT_OK(sfcrm_client_login(c, "acc-1", "user-1", FORWARD, &url, &already, &err));
  CHECK(already && contains(url, "status=success"));
  sfcrm_string_free(url);
  /* a client call from inside a store callback is refused */
  s.mode = MODE_REENTER;
  s.self = store;
  {
    sfcrm_error *err = NULL;
    sfcrm_client_connection_info(c, "acc-1", "user-1", &found, &info, &err);
    sfcrm_error_free(err);
  }
  CHECK(s.reenter_client_rc == SFCRM_RESULT_REENTRANT);
  CHECK(s.reenter_store_rc == SFCRM_RESULT_REENTRANT);
  s.mode = MODE_NORMAL;
  sfcrm_client_free(c);
  CHECK(s.frees == 0); /* the store handle still holds it */
  sfcrm_store_free(store);
  CHECK(s.frees == 1);
  pthread_mutex_destroy(&s.mu);
}

static void test_store_failure_through_client(void) {
  test_store s;
  sfcrm_store *store;
  sfcrm_client *c;
  char *url = NULL;
  bool already = false;
  ts_init(&s);
  store = ts_new_store(&s);
  c = new_client(store);
  sfcrm_store_free(store); /* the client owns the only reference now */
  s.mode = MODE_FAIL;
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_client_login(c, "acc-9", "user-9", FORWARD, &url, &already, &err) == SFCRM_RESULT_STORE);
    CHECK(contains(sfcrm_error_message(err), "database is down (test)"));
    sfcrm_error_free(err);
  }
  s.mode = MODE_BAD_JSON;
  EXPECT_ERR(SFCRM_RESULT_STORE, sfcrm_client_login(c, "acc-9", "user-9", FORWARD, &url, &already, &err));
  s.mode = MODE_BAD_STATUS;
  EXPECT_ERR(SFCRM_RESULT_STORE, sfcrm_client_login(c, "acc-9", "user-9", FORWARD, &url, &already, &err));
  /* a load that returns another connection's document: the client's check (the core's), typed STORE */
  s.mode = MODE_WRONG_KEY;
  {
    sfcrm_error *err = NULL;
    bool found = true;
    sfcrm_connection_info info;
    CHECK(sfcrm_client_login(c, "acc-9", "user-9", FORWARD, &url, &already, &err) == SFCRM_RESULT_STORE);
    CHECK(sfcrm_error_code(err) == SFCRM_RESULT_STORE && strcmp(sfcrm_error_kind_name(err), "store") == 0);
    CHECK(contains(sfcrm_error_message(err), "returned the document of another connection (someone-else/user-9)"));
    sfcrm_error_free(err);
    err = NULL;
    CHECK(sfcrm_client_connection_info(c, "acc-9", "user-9", &found, &info, &err) == SFCRM_RESULT_STORE);
    CHECK(contains(sfcrm_error_message(err), "another connection"));
    CHECK(found); /* untouched on failure */
    sfcrm_error_free(err);
  }
  /* the one key rule (ConnectionKey::parse): blank parts are refused before the store is called */
  s.mode = MODE_NORMAL;
  {
    int loads = s.loads;
    bool found = false;
    sfcrm_connection_info info;
    EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_login(c, " ", "user-9", FORWARD, &url, &already, &err));
    EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_connection_info(c, "acc-9", "\t", &found, &info, &err));
    EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_login(c, "", "user-9", FORWARD, &url, &already, &err));
    CHECK(s.loads == loads);
  }
  /* a save that fails during the callback: store error, the token is not silently dropped */
  s.mode = MODE_NORMAL;
  {
    char *code = NULL, *state = NULL;
    mini_http_response r;
    sfcrm_callback_result cb;
    EXPECT_OK(sfcrm_client_login(c, "acc-9", "user-9", FORWARD, &url, &already, &err));
    if (mini_http_request("GET", url, NULL, &r) == 0) {
      code = mini_http_query_param(r.location ? r.location : "", "code");
      state = mini_http_query_param(r.location ? r.location : "", "state");
      mini_http_response_free(&r);
    }
    sfcrm_string_free(url);
    s.mode = MODE_FAIL;
    EXPECT_ERR(SFCRM_RESULT_STORE, sfcrm_client_callback(c, code, state, NULL, NULL, &cb, &err));
    free(code);
    free(state);
  }
  CHECK(s.n == 0);
  sfcrm_client_free(c);
  CHECK(s.frees == 1); /* last reference gone: finalizer ran */
  pthread_mutex_destroy(&s.mu);
}

static void test_export_page(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  char *json = NULL, *bad = (char *)0x1;
  size_t len = 0;
  bool known = false;
  uint64_t used = 0, limit = 0;
  sfcrm_api_calls calls;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  EXPECT_OK(sfcrm_client_api_usage(c, &known, &used, &limit, &err));
  CHECK(!known);
  EXPECT_ERR(SFCRM_RESULT_NOT_CONNECTED, sfcrm_client_export_page(c, "acc-p", "user-p", "contacts", 1, 10, &bad, &len, &err));
  CHECK(connect_user(c, "acc-p", "user-p"));
  EXPECT_ERR(SFCRM_RESULT_UNKNOWN_EXPORT_TYPE, sfcrm_client_export_page(c, "acc-p", "user-p", "leads", 1, 10, &bad, &len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_export_page(c, "acc-p", "user-p", "contacts", 1, 10, NULL, &len, &err));
  CHECK(bad == (char *)0x1);
  EXPECT_OK(sfcrm_client_export_page(c, "acc-p", "user-p", "contacts", 2, 10, &json, &len, &err));
  CHECK(json && strlen(json) == len);
  CHECK(strncmp(json, "{\"success\":true,\"message\":\"SUCCESS\",\"data\":[", 44) == 0);
  CHECK(count_substr(json, "\"attributes\":{\"type\":\"Contact\"") == 10);
  CHECK(contains(json, "\"pagination\""));
  sfcrm_string_free(json);
  json = NULL;
  /* deals keep every digit of Amount; len is optional */
  EXPECT_OK(sfcrm_client_export_page(c, "acc-p", "user-p", "deals", 1, 5, &json, NULL, &err));
  CHECK(count_substr(json, "\"attributes\":{\"type\":\"Opportunity\"") == 5 && contains(json, "\"Amount\""));
  sfcrm_string_free(json);
  EXPECT_OK(sfcrm_client_api_usage(c, &known, &used, &limit, &err));
  CHECK(known && used > 0 && limit == 100000);
  EXPECT_OK(sfcrm_client_api_calls(c, &calls, &err));
  CHECK(calls.query >= 2 && calls.token_requests == 1 && calls.api_requests >= calls.query);
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_calls(c, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_usage(c, NULL, &used, &limit, &err));
  sfcrm_client_free(c);
  /* use after free */
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_client_api_calls(c, &calls, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_client_export_page(c, "acc-p", "user-p", "contacts", 1, 10, &json, &len, &err));
}

static void test_refresh_session_and_errors(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_connection_info before, after;
  sfcrm_api_calls calls;
  bool found = false;
  char *json = NULL;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  EXPECT_ERR(SFCRM_RESULT_NOT_CONNECTED, sfcrm_client_refresh(c, "acc-r", "user-r", &after, &err));
  CHECK(connect_user(c, "acc-r", "user-r"));
  EXPECT_OK(sfcrm_client_connection_info(c, "acc-r", "user-r", &found, &before, &err));
  EXPECT_OK(sfcrm_client_refresh(c, "acc-r", "user-r", &after, &err));
  CHECK(after.version > before.version && strcmp(after.instance_url, g_instance_url) == 0);
  sfcrm_connection_info_clear(&before);
  sfcrm_connection_info_clear(&after);
  EXPECT_OK(sfcrm_client_api_calls(c, &calls, &err));
  CHECK(calls.refreshes == 1);
  /* the session dies: the next call refreshes once and retries */
  CHECK(emulator_post("/__emulator/sessions/expire", NULL) == 200);
  EXPECT_OK(sfcrm_client_export_page(c, "acc-r", "user-r", "contacts", 1, 3, &json, NULL, &err));
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_api_calls(c, &calls, &err));
  CHECK(calls.refreshes == 2);
  /* rate limited: typed error with the Salesforce details */
  CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query\",\"kind\":\"request_limit\",\"count\":10}") == 200);
  {
    sfcrm_error *err = NULL;
    uint64_t used = 0, limit = 0;
    CHECK(sfcrm_client_export_page(c, "acc-r", "user-r", "contacts", 1, 3, &json, NULL, &err) == SFCRM_RESULT_RATE_LIMITED);
    CHECK(sfcrm_error_code(err) == SFCRM_RESULT_RATE_LIMITED);
    CHECK(sfcrm_error_http_status(err) == 403);
    CHECK(sfcrm_error_salesforce_code(err) && strcmp(sfcrm_error_salesforce_code(err), "REQUEST_LIMIT_EXCEEDED") == 0);
    CHECK(sfcrm_error_api_usage(err, &used, &limit) && limit > 0);
    CHECK(contains(sfcrm_error_raw_body(err), "\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\""));
    sfcrm_error_free(err);
  }
  CHECK(emulator_delete("/__emulator/faults") == 200);
  /* a server error: API error with status and errorCode */
  CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query\",\"kind\":\"status500\",\"count\":10}") == 200);
  {
    sfcrm_error *err = NULL;
    sfcrm_result rc = sfcrm_client_export_page(c, "acc-r", "user-r", "contacts", 1, 3, &json, NULL, &err);
    CHECK(rc == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(err) == 500);
    CHECK(sfcrm_error_salesforce_code(err) && strcmp(sfcrm_error_salesforce_code(err), "UNKNOWN_EXCEPTION") == 0);
    /* the Salesforce error array, as sent */
    CHECK(sfcrm_error_raw_body(err) && sfcrm_error_raw_body(err)[0] == '[' && contains(sfcrm_error_raw_body(err), "\"errorCode\":\"UNKNOWN_EXCEPTION\""));
    sfcrm_error_free(err);
  }
  CHECK(emulator_delete("/__emulator/faults") == 200);
  /* a maintenance page with Retry-After: the delay is on the error object, in ms */
  CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query\",\"kind\":\"html503\",\"retry_after_s\":1,\"count\":10}") == 200);
  {
    sfcrm_error *err = NULL;
    uint64_t ms = 0;
    sfcrm_result rc = sfcrm_client_export_page(c, "acc-r", "user-r", "contacts", 1, 3, &json, NULL, &err);
    if (rc != SFCRM_RESULT_API) fprintf(stderr, "  html503: %s: %s\n", sfcrm_result_name(rc), sfcrm_error_message(err));
    CHECK(rc == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(err) == 503);
    CHECK(sfcrm_error_retry_after_ms(err, &ms) && ms == 1000);
    /* the HTML maintenance page, as sent */
    {
      const char *raw = sfcrm_error_raw_body(err);
      while (raw && (*raw == ' ' || *raw == '\n' || *raw == '\r' || *raw == '\t')) raw++;
      CHECK(raw && strncasecmp(raw, "<!doctype html", 14) == 0 && contains(raw, "</html>"));
    }
    sfcrm_error_free(err);
  }
  CHECK(emulator_delete("/__emulator/faults") == 200);
  /* the refresh token dies: reconnect required, with the OAuth details */
  CHECK(emulator_post("/__emulator/refresh_tokens/revoke", NULL) == 200);
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_client_refresh(c, "acc-r", "user-r", &after, &err) == SFCRM_RESULT_RECONNECT_REQUIRED);
    CHECK(sfcrm_error_oauth_error(err) && strcmp(sfcrm_error_oauth_error(err), "invalid_grant") == 0);
    CHECK(sfcrm_error_http_status(err) == 400);
    CHECK(contains(sfcrm_error_raw_body(err), "\"error\":\"invalid_grant\""));
    sfcrm_error_free(err);
  }
  EXPECT_ERR(SFCRM_RESULT_RECONNECT_REQUIRED, sfcrm_client_export_page(c, "acc-r", "user-r", "contacts", 1, 3, &json, NULL, &err));
  sfcrm_client_free(c);
  sfcrm_store_free(store);
}

static void test_disconnect(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  bool revoked = false;
  char *revoke_error = (char *)0x1;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-d", "user-d"));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_disconnect(c, "acc-d", "user-d", NULL, NULL, &err));
  EXPECT_OK(sfcrm_client_disconnect(c, "acc-d", "user-d", &revoked, &revoke_error, &err));
  CHECK(revoked && revoke_error == NULL);
  EXPECT_ERR(SFCRM_RESULT_NOT_CONNECTED, sfcrm_client_disconnect(c, "acc-d", "user-d", &revoked, NULL, &err));
  sfcrm_client_free(c);
}

static size_t count_lines(const char *s) { return count_substr(s, "\n"); }

static void test_cursor(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL, *req2 = NULL;
  sfcrm_export_cursor *cur = NULL, *cur2 = NULL;
  char *batch = NULL, tiny[4], *token = NULL;
  size_t len = 0, count = 0, total = 0, first = 0, tlen = 0;
  uint64_t recs = 0, batches = 0, size = 0;
  int n_batches = 0;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-x", "user-x"));
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  EXPECT_OK(sfcrm_export_request_set_batch_size(req, 500, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_cursor_open(c, "acc-x", "user-x", NULL, &cur, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_export_cursor_open(c, "acc-x", "user-x", (sfcrm_export_request *)c, &cur, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-x", "user-x", req, &cur, &err));
  EXPECT_OK(sfcrm_export_cursor_progress(cur, &recs, &batches, &size, &err));
  CHECK(recs == 0 && batches == 0 && size == UINT64_MAX);
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_cursor_next(cur, 7, &batch, &len, &count, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, NULL, &count, &err));
  /* first batch as a JSON array */
  EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_JSON_ARRAY, &batch, &len, &count, &err));
  CHECK(batch && batch[0] == '[' && batch[len - 1] == ']' && count > 0 && count <= 500);
  CHECK(count_substr(batch, "\"attributes\":{\"type\":\"Contact\"") == count);
  first = total = count;
  n_batches = 1;
  sfcrm_string_free(batch);
  /* checkpoint: length query, too small, then exact */
  EXPECT_ERR(SFCRM_RESULT_BUFFER_TOO_SMALL, sfcrm_export_cursor_checkpoint(cur, NULL, 0, &tlen, &err));
  CHECK(tlen > 10);
  EXPECT_ERR(SFCRM_RESULT_BUFFER_TOO_SMALL, sfcrm_export_cursor_checkpoint(cur, tiny, sizeof tiny, &tlen, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_cursor_checkpoint(cur, NULL, 5, &tlen, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_export_cursor_checkpoint(cur, tiny, sizeof tiny, NULL, &err));
  token = malloc(tlen + 1);
  EXPECT_OK(sfcrm_export_cursor_checkpoint(cur, token, tlen + 1, &len, &err));
  CHECK(len == tlen && strlen(token) == tlen);
  /* the rest as NDJSON */
  for (;;) {
    sfcrm_error *err = NULL;
    sfcrm_result rc = sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err);
    if (rc != SFCRM_RESULT_OK) {
      fprintf(stderr, "  next: %s\n", sfcrm_error_message(err));
      sfcrm_error_free(err);
      CHECK(rc == SFCRM_RESULT_OK);
      break;
    }
    if (!batch) {
      CHECK(len == 0 && count == 0);
      break;
    }
    CHECK(count_lines(batch) == count && batch[len - 1] == '\n' && strlen(batch) == len);
    total += count;
    n_batches++;
    sfcrm_string_free(batch);
  }
  CHECK(total == 1500);
  EXPECT_OK(sfcrm_export_cursor_progress(cur, &recs, &batches, &size, &err));
  CHECK(recs == 1500 && batches == (uint64_t)n_batches && size == 1500);
  /* at the end it stays at the end */
  EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  CHECK(batch == NULL);
  sfcrm_export_cursor_free(cur);
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  sfcrm_export_cursor_free(cur);

  /* resume from the checkpoint after the first batch, with a cursor that outlives its client */
  EXPECT_OK(sfcrm_export_request_new("contacts", &req2, &err));
  EXPECT_OK(sfcrm_export_request_set_resume_from(req2, token, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-x", "user-x", req2, &cur2, &err));
  sfcrm_client_free(c);
  total = 0;
  for (;;) {
    sfcrm_error *err = NULL;
    if (sfcrm_export_cursor_next(cur2, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err) != SFCRM_RESULT_OK) {
      fprintf(stderr, "  resumed next: %s\n", sfcrm_error_message(err));
      sfcrm_error_free(err);
      g_failed++;
      break;
    }
    if (!batch) break;
    total += count;
    sfcrm_string_free(batch);
  }
  CHECK(total == 1500 - first);
  sfcrm_export_cursor_free(cur2);
  /* a checkpoint for another sObject is refused when the export starts */
  {
    sfcrm_export_request *deals = NULL;
    sfcrm_client *c2;
    sfcrm_store *st2 = NULL;
    EXPECT_OK(sfcrm_store_new_memory(&st2, &err));
    c2 = new_client(st2);
    sfcrm_store_free(st2);
    CHECK(connect_user(c2, "acc-x", "user-x"));
    EXPECT_OK(sfcrm_export_request_new("deals", &deals, &err));
    EXPECT_OK(sfcrm_export_request_set_resume_from(deals, token, &err));
    EXPECT_OK(sfcrm_export_cursor_open(c2, "acc-x", "user-x", deals, &cur2, &err));
    EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_cursor_next(cur2, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
    sfcrm_export_cursor_free(cur2);
    sfcrm_export_request_free(deals);
    sfcrm_client_free(c2);
  }
  free(token);
  sfcrm_export_request_free(req);
  sfcrm_export_request_free(req2);
}

static size_t drain(sfcrm_export_cursor *cur, sfcrm_result *last) {
  size_t total = 0, len = 0, count = 0;
  char *batch = NULL;
  for (;;) {
    sfcrm_error *err = NULL;
    *last = sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err);
    sfcrm_error_free(err);
    if (*last != SFCRM_RESULT_OK || !batch) return total;
    total += count;
    sfcrm_string_free(batch);
  }
}

/* Records reach C exactly as the org sent them (the header's promise for sfcrm_export_cursor_next).
 * The emulator writes JSON the way serde_json would (compact, non-ASCII as raw UTF-8, only '"', '\'
 * and control characters escaped), so none of its records can tell a pass-through from a faithful
 * re-encoding; ffi/src/export.rs's unit tests feed \u00e9, a surrogate pair, \/ and line breaks
 * through the same encoder. These checks pin what any re-encoding could break: number digits
 * (two-decimal amounts ending in 0, 16-digit amounts with cents), string escapes, UTF-8 left
 * unescaped, and that both batch formats carry the same record bytes. */
typedef struct {
  size_t fields, decimals, trailing_zero, long_digits, malformed;
} amount_scan;

static void scan_amounts(const char *batch, amount_scan *s) {
  static const char KEY[] = "\"Amount\":";
  const char *p = batch;
  while ((p = strstr(p, KEY)) != NULL) {
    size_t int_digits = 0, frac_digits = 0;
    const char *q, *frac = NULL;
    p += sizeof KEY - 1;
    s->fields++;
    if (strncmp(p, "null", 4) == 0) continue;
    for (q = p; *q >= '0' && *q <= '9'; q++) int_digits++;
    if (*q == '.') {
      frac = ++q;
      for (; *q >= '0' && *q <= '9'; q++) frac_digits++;
      s->decimals++;
    }
    /* the emulator writes integers or exactly two decimals (Fmt::Dec: "int.cc") */
    if (int_digits == 0 || (frac && frac_digits != 2) || (*q != ',' && *q != '}')) {
      s->malformed++;
      continue;
    }
    if (frac && frac[1] == '0') s->trailing_zero++;
    if (frac && int_digits >= 16) s->long_digits++;
  }
}

static void test_cursor_records_verbatim(void) {
  static const char NOTE_BODY[] = /* NOTE_BODIES[3] as JSON text */
      "Line one\\nLine two\\r\\n\\tIndented \\\"quoted\\\" text with a backslash \\\\ and a tab.";
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *deals = NULL, *notes = NULL;
  sfcrm_export_cursor *arr = NULL, *nd = NULL, *cur = NULL;
  amount_scan s = {0, 0, 0, 0, 0};
  size_t total = 0, n_notes = 0, same = 0, batches = 0;
  int escapes = 0, utf8_note = 0, utf8_deal = 0, u_escapes = 0, raw_newlines = 0;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-v", "user-v"));

  /* deals, once as JSON arrays and once as NDJSON, batch by batch */
  EXPECT_OK(sfcrm_export_request_new("deals", &deals, &err));
  EXPECT_OK(sfcrm_export_request_set_batch_size(deals, 200, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-v", "user-v", deals, &arr, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-v", "user-v", deals, &nd, &err));
  for (;;) {
    char *a = NULL, *n = NULL;
    size_t alen = 0, acount = 0, nlen = 0, ncount = 0, i;
    EXPECT_OK(sfcrm_export_cursor_next(arr, SFCRM_BATCH_FORMAT_JSON_ARRAY, &a, &alen, &acount, &err));
    EXPECT_OK(sfcrm_export_cursor_next(nd, SFCRM_BATCH_FORMAT_NDJSON, &n, &nlen, &ncount, &err));
    CHECK((a == NULL) == (n == NULL) && acount == ncount);
    if (!a || !n) {
      sfcrm_string_free(a);
      sfcrm_string_free(n);
      break;
    }
    batches++;
    /* "[" + the lines joined by "," + "]" is the array, byte for byte */
    if (alen == nlen + 1 && a[0] == '[' && a[alen - 1] == ']' && n[nlen - 1] == '\n') {
      for (i = 0; i + 1 < nlen; i++)
        if (n[i] == '\n') n[i] = ',';
      same += memcmp(a + 1, n, nlen - 1) == 0;
    }
    raw_newlines += memchr(a, '\n', alen) != NULL || memchr(a, '\r', alen) != NULL;
    u_escapes += contains(a, "\\u");
    utf8_deal |= contains(a, "\"Name\":\"Expansion \xf0\x9f\x9a\x80 #"); /* U+1F680 as UTF-8 */
    scan_amounts(a, &s);
    total += acount;
    sfcrm_string_free(a);
    sfcrm_string_free(n);
  }
  CHECK(total == 850 && batches > 1 && same == batches);
  CHECK(raw_newlines == 0 && u_escapes == 0 && utf8_deal);
  CHECK(s.fields == 850 && s.malformed == 0);
  CHECK(s.decimals > 0 && s.trailing_zero > 0 && s.long_digits > 0);
  if (s.trailing_zero == 0 || s.long_digits == 0 || s.malformed != 0)
    fprintf(stderr, "  amounts: %zu fields, %zu decimals, %zu ending in 0, %zu with 16+ digits, %zu malformed\n",
            s.fields, s.decimals, s.trailing_zero, s.long_digits, s.malformed);
  sfcrm_export_cursor_free(arr);
  sfcrm_export_cursor_free(nd);
  sfcrm_export_request_free(deals);

  /* notes: escapes exactly as sent, non-ASCII as raw UTF-8 (never \u escapes) */
  EXPECT_OK(sfcrm_export_request_new("notes", &notes, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-v", "user-v", notes, &cur, &err));
  for (;;) {
    char *b = NULL;
    size_t len = 0, count = 0;
    EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &b, &len, &count, &err));
    if (!b) break;
    n_notes += count;
    escapes |= contains(b, NOTE_BODY);
    utf8_note |= contains(b, "Customer loved the demo \xf0\x9f\x8e\x89\xf0\x9f\x91\x8d") &&
                 contains(b, "R\xc3\xa9sum\xc3\xa9 re\xc3\xa7u");
    u_escapes += contains(b, "\\u");
    CHECK(count_lines(b) == count);
    sfcrm_string_free(b);
  }
  CHECK(n_notes == 320 && escapes && utf8_note && u_escapes == 0);
  sfcrm_export_cursor_free(cur);
  sfcrm_export_request_free(notes);
  sfcrm_client_free(c);
}

static void test_cursor_options_and_sealed_client_store(void) {
  sfcrm_store *file = NULL, *sealed = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_result last;
  char dir[300], *doc = NULL, *batch = NULL;
  bool found = false;
  size_t len, count;
  snprintf(dir, sizeof dir, "%s/sealed-client", g_tmpdir);
  EXPECT_OK(sfcrm_store_new_file(dir, &file, &err));
  EXPECT_OK(sfcrm_store_new_sealed(file, "k2:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", &sealed, &err));
  c = new_client(sealed);
  sfcrm_store_free(sealed);
  CHECK(connect_user(c, "acc-s", "user-s"));
  /* on disk the tokens are sealed */
  EXPECT_OK(sfcrm_store_load(file, "acc-s", "user-s", &found, &doc, &err));
  CHECK(found && contains(doc, "sfcrm-sealed:v1:k2:") && contains(doc, "\"instance_url\""));
  sfcrm_string_free(doc);
  sfcrm_store_free(file);

  /* incremental mode: nothing modified after 2999 */
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  EXPECT_OK(sfcrm_export_request_set_since(req, "2999-01-01T00:00:00Z", &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-s", "user-s", req, &cur, &err));
  CHECK(drain(cur, &last) == 0 && last == SFCRM_RESULT_OK);
  sfcrm_export_cursor_free(cur);
  /* everything modified since 2000 */
  EXPECT_OK(sfcrm_export_request_set_since(req, "2000-01-01T00:00:00Z", &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-s", "user-s", req, &cur, &err));
  CHECK(drain(cur, &last) == 1500 && last == SFCRM_RESULT_OK);
  sfcrm_export_cursor_free(cur);
  /* a malformed `since` is reported by the first next() */
  EXPECT_OK(sfcrm_export_request_set_since(req, "yesterday", &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-s", "user-s", req, &cur, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  sfcrm_export_cursor_free(cur);
  sfcrm_export_request_free(req);

  /* a custom sObject export with chosen fields */
  EXPECT_OK(sfcrm_export_request_new_custom("Contact", "Email, Account.Name", &req, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-s", "user-s", req, &cur, &err));
  EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_JSON_ARRAY, &batch, &len, &count, &err));
  CHECK(batch && contains(batch, "\"Email\"") && !contains(batch, "\"Phone\"") && count > 0);
  sfcrm_string_free(batch);
  sfcrm_export_cursor_free(cur);
  sfcrm_export_request_free(req);

  /* a field the org does not have: Salesforce's error, with its errorCode, on the error object */
  EXPECT_OK(sfcrm_export_request_new_custom("Contact", "Id,NoSuchField__c", &req, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-s", "user-s", req, &cur, &err));
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err) == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(err) == 400);
    CHECK(sfcrm_error_salesforce_code(err) && strcmp(sfcrm_error_salesforce_code(err), "INVALID_FIELD") == 0);
    CHECK(contains(sfcrm_error_message(err), "NoSuchField__c"));
    CHECK(sfcrm_error_fields_json(err) && sfcrm_error_fields_json(err)[0] == '[');
    sfcrm_error_free(err);
  }
  sfcrm_export_cursor_free(cur);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

struct cancel_arg {
  sfcrm_export_cursor *cur;
  int delay_ms;
  uint32_t rc;
};

static void *cancel_thread(void *p) {
  struct cancel_arg *a = p;
  struct timespec ts = {a->delay_ms / 1000, (long)(a->delay_ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
  a->rc = sfcrm_export_cursor_cancel(a->cur);
  return NULL;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_cursor_cancel(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  char *batch = NULL, tok[512];
  size_t len = 0, count = 0, tlen = 0;
  pthread_t th;
  struct cancel_arg a;
  double t0, elapsed;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-k", "user-k"));
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  EXPECT_OK(sfcrm_export_request_set_batch_size(req, 200, &err));
  /* every query-locator page is slow: the first batch (query) arrives at once, the prefetch of the
   * second one (nextRecordsUrl) hangs for 4 s, so the second next() blocks until cancelled */
  CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query_more\",\"kind\":\"delay\",\"ms\":4000,\"count\":20}") == 200);
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-k", "user-k", req, &cur, &err));
  EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  CHECK(batch != NULL && count > 0 && count <= 200);
  sfcrm_string_free(batch);
  batch = NULL;
  a.cur = cur;
  a.delay_ms = 300;
  a.rc = 999;
  pthread_create(&th, NULL, cancel_thread, &a);
  t0 = now_s();
  EXPECT_ERR(SFCRM_RESULT_CANCELLED, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  elapsed = now_s() - t0;
  pthread_join(th, NULL);
  CHECK(a.rc == SFCRM_RESULT_OK);
  CHECK(batch == NULL);
  if (elapsed >= 3.5) fprintf(stderr, "  cancel took %.2f s\n", elapsed);
  CHECK(elapsed < 3.5); /* returned promptly, not after the 4 s delay */
  /* later calls: use after cancel; the checkpoint is still readable; cancel is idempotent */
  EXPECT_ERR(SFCRM_RESULT_USE_AFTER_CANCEL, sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  EXPECT_OK(sfcrm_export_cursor_checkpoint(cur, tok, sizeof tok, &tlen, &err));
  CHECK(tlen > 0);
  CHECK(sfcrm_export_cursor_cancel(cur) == SFCRM_RESULT_OK);
  CHECK(sfcrm_export_cursor_cancel(NULL) == SFCRM_RESULT_NULL_POINTER);
  sfcrm_export_cursor_free(cur);
  CHECK(sfcrm_export_cursor_cancel(cur) == SFCRM_RESULT_INVALID_HANDLE);
  CHECK(emulator_delete("/__emulator/faults") == 200);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

struct sink {
  char *data;
  size_t len, cap;
  int calls, off_thread, fail_after;
  int progress_calls;
  uint64_t last_records, last_total;
};

static int32_t sink_write(void *ud, const uint8_t *data, size_t len) {
  struct sink *s = ud;
  if (!on_sdk_thread()) s->off_thread++;
  s->calls++;
  if (s->fail_after && s->calls > s->fail_after) return -5;
  if (s->len + len + 1 > s->cap) {
    size_t cap = (s->len + len + 1) * 2;
    char *n = realloc(s->data, cap);
    if (!n) return -1;
    s->data = n;
    s->cap = cap;
  }
  memcpy(s->data + s->len, data, len);
  s->len += len;
  s->data[s->len] = '\0';
  return 0;
}

static void sink_progress(void *ud, uint64_t records, uint64_t batches, uint64_t total) {
  struct sink *s = ud;
  (void)batches;
  if (!on_sdk_thread()) s->off_thread++;
  s->progress_calls++;
  s->last_records = records;
  s->last_total = total;
}

static void test_export_to_path_and_callback(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_summary sum = {0, 0, 0};
  char path[400], *checkpoint = NULL, line[256];
  struct sink s = {0}, ps = {0};
  FILE *f;
  size_t lines = 0;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-e", "user-e"));
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  EXPECT_OK(sfcrm_export_request_set_progress(req, sink_progress, &ps, &err));
  snprintf(path, sizeof path, "%s/contacts.csv", g_tmpdir);
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_export_to_path(c, "acc-e", "user-e", req, 9, path, &sum, NULL, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_export_to_path(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_CSV, NULL, &sum, NULL, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_export_to_path(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_CSV, path, NULL, NULL, NULL, &err));
  EXPECT_OK(sfcrm_client_export_to_path(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_CSV, path, &sum, &checkpoint, NULL, &err));
  CHECK(sum.records == 1500 && sum.api_calls >= 1);
  CHECK(checkpoint && strlen(checkpoint) > 10);
  sfcrm_string_free(checkpoint);
  CHECK(ps.progress_calls >= 1 && ps.last_records == 1500 && ps.last_total == 1500 && ps.off_thread == 0);
  f = fopen(path, "r");
  CHECK(f != NULL);
  if (f) {
    if (fgets(line, sizeof line, f)) CHECK(strncmp(line, "Id,Name,Account.Name,Title,Phone,Email,Owner.Alias\r\n", 52) == 0);
    lines = 1;
    while (fgets(line, sizeof line, f)) if (strchr(line, '\n')) lines++;
    fclose(f);
  }
  CHECK(lines >= 1501); /* header + 1500 records (a quoted field may hold a newline) */
  /* a directory that does not exist: I/O error */
  EXPECT_ERR(SFCRM_RESULT_IO, sfcrm_client_export_to_path(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_CSV, "/nonexistent-dir/x.csv", &sum, NULL, NULL, &err));

  /* NDJSON through a write callback */
  EXPECT_OK(sfcrm_export_request_set_progress(req, NULL, NULL, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_export_to_callback(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_NDJSON, NULL, &s, &sum, NULL, NULL, &err));
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_NDJSON, sink_write, &s, &sum, NULL, NULL, &err));
  CHECK(sum.records == 1500 && s.data && count_lines(s.data) == 1500 && s.off_thread == 0);
  CHECK(s.data && s.data[0] == '{' && !contains(s.data, "\"attributes\""));
  free(s.data);
  memset(&s, 0, sizeof s);
  /* JSON array */
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_JSON, sink_write, &s, &sum, NULL, NULL, &err));
  CHECK(s.data && s.data[0] == '[' && sum.records == 1500);
  free(s.data);
  memset(&s, 0, sizeof s);
  /* the callback fails: I/O error, no crash */
  s.fail_after = 1;
  {
    sfcrm_error *err = NULL;
    CHECK(sfcrm_client_export_to_callback(c, "acc-e", "user-e", req, SFCRM_EXPORT_FORMAT_CSV, sink_write, &s, &sum, NULL, NULL, &err) == SFCRM_RESULT_IO);
    CHECK(contains(sfcrm_error_message(err), "-5") || sfcrm_error_code(err) == SFCRM_RESULT_IO);
    sfcrm_error_free(err);
  }
  if (s.calls != 2) fprintf(stderr, "  write callback calls: %d\n", s.calls);
  CHECK(s.calls == 2); /* not called again after it failed */
  free(s.data);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

struct worker_arg {
  sfcrm_client *client;
  int ok;
  int refresh; /* also call sfcrm_client_refresh */
};

static void *worker(void *p) {
  struct worker_arg *a = p;
  for (int i = 0; i < 3; i++) {
    char *json = NULL;
    sfcrm_connection_info info;
    sfcrm_error *err = NULL;
    if (sfcrm_client_export_page(a->client, "acc-t", "user-t", "contacts", i + 1, 20, &json, NULL, &err) == SFCRM_RESULT_OK &&
        count_substr(json, "\"attributes\":{\"type\":\"Contact\"") == 20)
      a->ok++;
    sfcrm_string_free(json);
    sfcrm_error_free(err);
    err = NULL;
    if (!a->refresh) continue;
    if (sfcrm_client_refresh(a->client, "acc-t", "user-t", &info, &err) == SFCRM_RESULT_OK) {
      a->ok++;
      sfcrm_connection_info_clear(&info);
    }
    sfcrm_error_free(err);
  }
  return NULL;
}

static void test_client_from_many_threads(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  pthread_t th[4];
  struct worker_arg args[4];
  char *json = NULL;
  sfcrm_api_calls calls;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-t", "user-t"));
  /* every session dies: four threads hit the 401 at once; one refresh serves them all */
  CHECK(emulator_post("/__emulator/sessions/expire", NULL) == 200);
  for (int i = 0; i < 4; i++) {
    args[i].client = c;
    args[i].ok = 0;
    args[i].refresh = 0;
    pthread_create(&th[i], NULL, worker, &args[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(args[i].ok == 3);
  }
  EXPECT_OK(sfcrm_client_api_calls(c, &calls, &err));
  if (calls.refreshes != 1) fprintf(stderr, "  refreshes after concurrent 401s: %llu\n", (unsigned long long)calls.refreshes);
  CHECK(calls.refreshes == 1);
  /* exports and explicit refreshes from four threads at once */
  for (int i = 0; i < 4; i++) {
    args[i].ok = 0;
    args[i].refresh = 1;
    pthread_create(&th[i], NULL, worker, &args[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(th[i], NULL);
    CHECK(args[i].ok == 6);
  }
  EXPECT_OK(sfcrm_client_export_page(c, "acc-t", "user-t", "contacts", 1, 1, &json, NULL, &err));
  sfcrm_string_free(json);
  sfcrm_client_free(c);
}

/* ---- failure parity with Python and Node (bindings/failure-scenarios.json) ----------------- */

/* The same scenarios as bindings/failure-scenarios.json (Python and Node read that file); this
 * table repeats them and test_failure_parity checks, line by line, that the file says the same. */
typedef struct parity_case {
  const char *name, *kind;
  uint32_t code;
  uint16_t status; /* 0: none */
  const char *error_code, *oauth_error, *oauth_error_description, *fields;
  uint64_t api_usage_limit; /* 0: not checked */
} parity_case;

static const parity_case PARITY[] = {
    {"session_expired_no_refresh_token", "session_expired", 204, 401, "INVALID_SESSION_ID", NULL, NULL, "[]", 0},
    {"refresh_token_revoked", "reconnect_required", 203, 400, NULL, "invalid_grant", "expired access/refresh token", "[]", 0},
    {"request_limit_exceeded", "rate_limited", 300, 403, "REQUEST_LIMIT_EXCEEDED", NULL, NULL, "[]", 100000},
    {"invalid_field", "api", 301, 400, "INVALID_FIELD", NULL, NULL, "[]", 0},
    {"unknown_export_type", "unknown_export_type", 104, 0, NULL, NULL, NULL, "[]", 0},
    {"forward_url_not_allowed", "forward_url_not_allowed", 103, 0, NULL, NULL, NULL, "[]", 0},
    {"invalid_state", "invalid_state", 200, 0, NULL, NULL, NULL, "[]", 0},
};
#define N_PARITY (sizeof PARITY / sizeof PARITY[0])
static const char *PARITY_SEALING_KEY = "k1:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=";

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf;
  long n;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  buf = malloc((size_t)n + 1);
  if (fread(buf, 1, (size_t)n, f) != (size_t)n) n = 0;
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* The repository's root: scripts/test-c.sh defines it (-DSFCRM_REPO_ROOT=...), so the files the
   tests read do not depend on the working directory; otherwise the working directory is the root. */
#ifndef SFCRM_REPO_ROOT
#define SFCRM_REPO_ROOT "."
#endif

/* A file of the repository by its path from the root, NUL-terminated (free it), NULL if unreadable. */
static char *read_repo_file(const char *relative) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", SFCRM_REPO_ROOT, relative);
  return read_file(path);
}

static void json_or_null(char *out, size_t cap, const char *s) {
  if (s) snprintf(out, cap, "\"%s\"", s); else snprintf(out, cap, "null");
}

/* The value of a top-level-ish string field "name":"..." in a JSON text (no escapes in tokens). */
static char *json_string_field(const char *json, const char *name) {
  char pat[64];
  const char *p, *q;
  char *v;
  snprintf(pat, sizeof pat, "\"%s\":\"", name);
  if (!json || !(p = strstr(json, pat))) return NULL;
  p += strlen(pat);
  if (!(q = strchr(p, '"'))) return NULL;
  v = malloc((size_t)(q - p) + 1);
  memcpy(v, p, (size_t)(q - p));
  v[q - p] = '\0';
  return v;
}

/* Runs one scenario; returns its error (the caller frees it) and adds the secrets it handled. */
static sfcrm_error *parity_run(const parity_case *pc, int n, char **secrets, int *n_secrets) {
  char account[64], *url = NULL, *json = NULL, *doc = NULL, *code = NULL, *state = NULL;
  sfcrm_store *inner = NULL, *store = NULL;
  sfcrm_config *cfg = emulator_config();
  sfcrm_client *c = NULL;
  sfcrm_error *err = NULL, *setup = NULL;
  sfcrm_connection_info info;
  mini_http_response r = {0};
  bool already = false, found = false;
  snprintf(account, sizeof account, "par-%d", n);
  CHECK(sfcrm_config_set(cfg, "SFCRM_MAX_RETRIES", "0", &setup) == SFCRM_RESULT_OK);
  if (strcmp(pc->name, "session_expired_no_refresh_token") == 0)
    CHECK(sfcrm_config_set_scopes(cfg, "api id web", &setup) == SFCRM_RESULT_OK);
  CHECK(sfcrm_store_new_memory(&inner, &setup) == SFCRM_RESULT_OK);
  CHECK(sfcrm_store_new_sealed(inner, PARITY_SEALING_KEY, &store, &setup) == SFCRM_RESULT_OK);
  CHECK(sfcrm_client_new(cfg, store, &c, &setup) == SFCRM_RESULT_OK);
  sfcrm_config_free(cfg);
  if (strcmp(pc->name, "forward_url_not_allowed") == 0) {
    sfcrm_client_login(c, account, "u", "https://evil.example.com/x", &url, &already, &err);
    goto done;
  }
  if (strcmp(pc->name, "invalid_state") == 0) {
    CHECK(sfcrm_client_login(c, account, "u", FORWARD, &url, &already, &setup) == SFCRM_RESULT_OK);
    CHECK(url && mini_http_request("GET", url, NULL, &r) == 0 && r.status == 302 && r.location);
    code = r.location ? mini_http_query_param(r.location, "code") : NULL;
    state = r.location ? mini_http_query_param(r.location, "state") : NULL;
    CHECK(code && state && strlen(state) > 2);
    if (code && state) {
      sfcrm_callback_result cb;
      secrets[(*n_secrets)++] = strdup(code);
      state[strlen(state) - 2] = 'x';
      state[strlen(state) - 1] = 'x';
      sfcrm_client_callback(c, code, state, NULL, NULL, &cb, &err);
    }
    goto done;
  }
  CHECK(connect_user(c, account, "u"));
  CHECK(sfcrm_store_load(store, account, "u", &found, &doc, &setup) == SFCRM_RESULT_OK && found);
  {
    char *at = json_string_field(doc, "access_token"), *rt = json_string_field(doc, "refresh_token");
    CHECK(at && strncmp(at, "sfcrm-sealed:", 13) != 0); /* the sealed store opens the tokens */
    if (at) secrets[(*n_secrets)++] = at;
    if (rt) secrets[(*n_secrets)++] = rt;
    if (strcmp(pc->name, "session_expired_no_refresh_token") == 0) CHECK(rt == NULL);
  }
  if (strcmp(pc->name, "session_expired_no_refresh_token") == 0) {
    CHECK(emulator_post("/__emulator/sessions/expire", NULL) == 200);
    sfcrm_client_export_page(c, account, "u", "notes", 1, 3, &json, NULL, &err);
  } else if (strcmp(pc->name, "refresh_token_revoked") == 0) {
    CHECK(emulator_post("/__emulator/refresh_tokens/revoke", NULL) == 200);
    if (sfcrm_client_refresh(c, account, "u", &info, &err) == SFCRM_RESULT_OK) sfcrm_connection_info_clear(&info);
  } else if (strcmp(pc->name, "request_limit_exceeded") == 0) {
    CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query\",\"kind\":\"request_limit\",\"count\":5}") == 200);
    sfcrm_client_export_page(c, account, "u", "notes", 1, 3, &json, NULL, &err);
  } else if (strcmp(pc->name, "invalid_field") == 0) {
    sfcrm_export_request *req = NULL;
    sfcrm_export_cursor *cur = NULL;
    char *batch = NULL;
    size_t len = 0, count = 0;
    CHECK(sfcrm_export_request_new_custom("Contact", "Name,Bogus__c", &req, &setup) == SFCRM_RESULT_OK);
    if (sfcrm_export_cursor_open(c, account, "u", req, &cur, &err) == SFCRM_RESULT_OK) {
      while (sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err) == SFCRM_RESULT_OK && count > 0) {
        sfcrm_string_free(batch);
        batch = NULL;
      }
      sfcrm_string_free(batch);
    }
    sfcrm_export_cursor_free(cur);
    sfcrm_export_request_free(req);
  } else if (strcmp(pc->name, "unknown_export_type") == 0) {
    sfcrm_client_export_page(c, account, "u", "widgets", 1, 3, &json, NULL, &err);
  }
done:
  CHECK(emulator_delete("/__emulator/faults") == 200);
  if (setup) fprintf(stderr, "  parity setup (%s): %s\n", pc->name, sfcrm_error_message(setup));
  CHECK(setup == NULL);
  sfcrm_error_free(setup);
  sfcrm_string_free(url);
  sfcrm_string_free(json);
  sfcrm_string_free(doc);
  mini_http_response_free(&r);
  free(code);
  free(state);
  sfcrm_client_free(c);
  sfcrm_store_free(store);
  sfcrm_store_free(inner);
  return err;
}

static void test_failure_parity(void) {
  char *file = read_repo_file("bindings/failure-scenarios.json");
  CHECK(file != NULL);
  CHECK(file && count_substr(file, "\"kind\":") == N_PARITY);
  for (size_t i = 0; i < N_PARITY; i++) {
    const parity_case *pc = &PARITY[i];
    char line[512], ec[64], oe[64], od[64], st[16];
    char *secrets[8] = {strdup("sfcrm-demo-secret"), strdup("c-tests-state-secret-0123456789abcdef"),
                        strdup(PARITY_SEALING_KEY + 3)};
    int n_secrets = 3;
    sfcrm_error *e;
    const char *texts[5];
    uint64_t used = 0, limit = 0;
    /* the table says what the shared file says */
    json_or_null(ec, sizeof ec, pc->error_code);
    json_or_null(oe, sizeof oe, pc->oauth_error);
    json_or_null(od, sizeof od, pc->oauth_error_description);
    if (pc->status) snprintf(st, sizeof st, "%u", (unsigned)pc->status); else snprintf(st, sizeof st, "null");
    snprintf(line, sizeof line,
             "\"%s\": {\"kind\": \"%s\", \"code\": %u, \"status\": %s, \"error_code\": %s, \"oauth_error\": %s, "
             "\"oauth_error_description\": %s, \"fields\": %s",
             pc->name, pc->kind, (unsigned)pc->code, st, ec, oe, od, pc->fields);
    if (!contains(file, line)) fprintf(stderr, "  failure-scenarios.json lacks: %s\n", line);
    CHECK(contains(file, line));
    /* the binding surfaces exactly that */
    e = parity_run(pc, (int)i, secrets, &n_secrets);
    CHECK(e != NULL);
    if (!e) continue;
    if (sfcrm_error_code(e) != pc->code)
      fprintf(stderr, "  %s: got %s: %s\n", pc->name, sfcrm_error_kind_name(e), sfcrm_error_message(e));
    CHECK(sfcrm_error_code(e) == pc->code);
    CHECK(strcmp(sfcrm_error_kind_name(e), pc->kind) == 0);
    CHECK(sfcrm_error_http_status(e) == pc->status);
    CHECK(pc->error_code ? contains(sfcrm_error_salesforce_code(e), pc->error_code) && strcmp(sfcrm_error_salesforce_code(e), pc->error_code) == 0
                         : sfcrm_error_salesforce_code(e) == NULL);
    CHECK(pc->oauth_error ? sfcrm_error_oauth_error(e) && strcmp(sfcrm_error_oauth_error(e), pc->oauth_error) == 0
                          : sfcrm_error_oauth_error(e) == NULL);
    CHECK(pc->oauth_error_description
              ? sfcrm_error_oauth_error_description(e) && strcmp(sfcrm_error_oauth_error_description(e), pc->oauth_error_description) == 0
              : sfcrm_error_oauth_error_description(e) == NULL);
    CHECK(sfcrm_error_fields_json(e) && strcmp(sfcrm_error_fields_json(e), pc->fields) == 0);
    CHECK(sfcrm_error_message(e)[0] != '\0');
    if (pc->api_usage_limit) CHECK(sfcrm_error_api_usage(e, &used, &limit) && limit == pc->api_usage_limit);
    /* no secret in any string the error object gives out */
    CHECK(n_secrets >= (strcmp(pc->name, "forward_url_not_allowed") == 0 ? 3 : 4));
    texts[0] = sfcrm_error_message(e);
    texts[1] = sfcrm_error_salesforce_code(e);
    texts[2] = sfcrm_error_oauth_error(e);
    texts[3] = sfcrm_error_oauth_error_description(e);
    texts[4] = sfcrm_error_fields_json(e);
    for (int s = 0; s < n_secrets; s++) {
      for (int t = 0; t < 5; t++) {
        if (contains(texts[t], secrets[s])) fprintf(stderr, "  %s: a secret appears in the error\n", pc->name);
        CHECK(!contains(texts[t], secrets[s]));
      }
      free(secrets[s]);
    }
    sfcrm_error_free(e);
  }
  free(file);
}

/* ---- the seed paginator vectors (tests/contract/paginator-seed-vectors.json) -------------- */

/* The copy vendored in the repository (tests/contract/, kept equal to ../shared/contract by
   scripts/check-contract.sh). */
static char *read_vectors(void) {
  char *text = read_repo_file("tests/contract/paginator-seed-vectors.json");
  if (!text) fprintf(stderr, "  cannot read %s/tests/contract/paginator-seed-vectors.json\n", SFCRM_REPO_ROOT);
  return text;
}

#define VNULL INT64_MIN
typedef struct vcase {
  int64_t items, page, per_page; /* VNULL: omitted */
  int page_is_text;
  char page_text[16];
  int64_t out[7]; /* page, per_page, total, total_pages, next_page, prev_page, offsetValue */
} vcase;
static const char *VKEYS[7] = {"page", "per_page", "total", "total_pages", "next_page", "prev_page", "offsetValue"};

/* Reads the value of "key" (the next occurrence after *p): null, an integer or a short string. */
static int vread(const char **p, const char *key, int64_t *num, char *text, size_t cap) {
  char pat[32];
  const char *q;
  snprintf(pat, sizeof pat, "\"%s\":", key);
  if (!(q = strstr(*p, pat))) return -1;
  q += strlen(pat);
  while (*q == ' ' || *q == '\n') q++;
  if (text) text[0] = '\0';
  if (strncmp(q, "null", 4) == 0) {
    *num = VNULL;
    q += 4;
  } else if (*q == '"') {
    const char *end = strchr(q + 1, '"');
    if (!end || !text || (size_t)(end - q - 1) >= cap) return -1;
    memcpy(text, q + 1, (size_t)(end - q - 1));
    text[end - q - 1] = '\0';
    *num = VNULL;
    q = end + 1;
    *p = q;
    return 1; /* a string */
  } else {
    char *end;
    *num = strtoll(q, &end, 10);
    if (end == q) return -1;
    q = end;
  }
  *p = q;
  return 0;
}

static void vformat(char *buf, size_t cap, const int64_t out[7]) {
  size_t n = 0;
  n += (size_t)snprintf(buf + n, cap - n, "{");
  for (int k = 0; k < 7; k++) {
    if (out[k] == VNULL) n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":null", k ? "," : "", VKEYS[k]);
    else n += (size_t)snprintf(buf + n, cap - n, "%s\"%s\":%" PRId64, k ? "," : "", VKEYS[k], out[k]);
  }
  snprintf(buf + n, cap - n, "}");
}

static void test_paginator_vectors(void) {
  char *text = read_vectors();
  const char *p;
  vcase *cases;
  size_t n = 0, cap = 1024, exact = 0, divergent = 0, strings = 0;
  CHECK(text != NULL);
  if (!text) return;
  cases = calloc(cap, sizeof *cases);
  for (p = strstr(text, "\"input\":"); p; p = strstr(p, "\"input\":")) {
    vcase *c = &cases[n];
    int ok = n < cap;
    int64_t unused;
    ok = ok && vread(&p, "items", &c->items, NULL, 0) == 0;
    if (ok) {
      int r = vread(&p, "page", &c->page, c->page_text, sizeof c->page_text);
      ok = r >= 0;
      c->page_is_text = r == 1;
    }
    ok = ok && vread(&p, "per_page", &c->per_page, NULL, 0) == 0;
    for (int k = 0; ok && k < 7; k++) ok = vread(&p, VKEYS[k], &c->out[k], NULL, 0) == 0;
    (void)unused;
    CHECK(ok);
    if (!ok) break;
    n++;
  }
  CHECK(n == count_substr(text, "\"seed_output\":"));
  CHECK(n >= 700);
  for (size_t i = 0; i < n; i++) {
    const vcase *c = &cases[i];
    int64_t want[7];
    char page[32], expect[256], *json = NULL;
    size_t len = 0;
    sfcrm_error *err = NULL;
    sfcrm_result rc;
    memcpy(want, c->out, sizeof want);
    /* D14: pages below 1 are page 1 (the seed output of the page-1 case with the same inputs) */
    if (want[0] != VNULL && want[0] < 1) {
      int found = 0;
      for (size_t j = 0; j < n && !found; j++) {
        if (cases[j].items == c->items && cases[j].per_page == c->per_page && !cases[j].page_is_text && cases[j].page == 1) {
          memcpy(want, cases[j].out, sizeof want);
          found = 1;
        }
      }
      CHECK(found);
    }
    /* D14: zero records give total_pages 0 (the seed's NaN, null in JSON) */
    if (want[3] == VNULL) {
      CHECK(c->items == 0);
      want[3] = 0;
    }
    if (memcmp(want, c->out, sizeof want) == 0) exact++; else divergent++;
    if (c->page_is_text) {
      strings++;
      snprintf(page, sizeof page, "%s", c->page_text);
    } else if (c->page != VNULL) {
      snprintf(page, sizeof page, "%" PRId64, c->page);
    }
    vformat(expect, sizeof expect, want);
    rc = sfcrm_paginator((uint64_t)c->items, (c->page_is_text || c->page != VNULL) ? page : NULL,
                         c->per_page == VNULL ? 0 : (uint64_t)c->per_page, &json, &len, &err);
    if (rc != SFCRM_RESULT_OK || !json || strcmp(json, expect) != 0) {
      fprintf(stderr, "  vector %zu (items %" PRId64 ", page %s, per_page %" PRId64 "): got %s, want %s\n", i, c->items,
              (c->page_is_text || c->page != VNULL) ? page : "null", c->per_page, json ? json : sfcrm_error_message(err), expect);
    }
    CHECK(rc == SFCRM_RESULT_OK && err == NULL && json && strcmp(json, expect) == 0 && len == strlen(json));
    sfcrm_string_free(json);
    sfcrm_error_free(err);
  }
  CHECK(exact > 500 && divergent > 0 && strings > 0);
  printf("  %zu paginator vectors (%zu exact, %zu D14 divergences, %zu string pages)\n", n, exact, divergent, strings);
  /* misuse */
  {
    char *json = NULL;
    EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_paginator(10, "1", 5, NULL, NULL, &err));
    EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_paginator(10, "\xff", 5, &json, NULL, &err));
    CHECK(json == NULL);
    EXPECT_OK(sfcrm_paginator(10, "2", 5, &json, NULL, &err));
    CHECK(contains(json, "\"page\":2,"));
    sfcrm_string_free(json);
  }
  free(cases);
  free(text);
}

/* ---- field cases (tests/contract/field-cases.md) not covered above ------------------------- */

/* BR-02 / BR-17 (a second, empty 401 is SESSION_EXPIRED after exactly one refresh, no loop),
 * BR-03 (a refresh token kept when not rotated; a rotated one stored and used), BR-09 (a null
 * parent stays null), BR-15 (a REST error array keeps its errorCode and raw body). BR-01 is in
 * login_callback_flow, BR-04 / BR-18 / the HTML 503 of BR-15 in refresh_session_and_errors;
 * BR-06, BR-08, BR-12 and BR-14 have their own groups below (a scripted server and the emulator). */
static void test_field_cases(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c = NULL;
  sfcrm_config *cfg = emulator_config();
  sfcrm_api_calls before, after;
  sfcrm_connection_info info;
  char *json = NULL, *doc = NULL, *rt1 = NULL, *rt2 = NULL, *rt3 = NULL;
  bool found = false;
  EXPECT_OK(sfcrm_config_set(cfg, "SFCRM_MAX_RETRIES", "0", &err));
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  EXPECT_OK(sfcrm_client_new(cfg, store, &c, &err));
  sfcrm_config_free(cfg);
  CHECK(connect_user(c, "acc-fc", "user-fc"));
  /* BR-02 / BR-17 */
  CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query\",\"kind\":\"empty401\",\"count\":5}") == 200);
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  {
    sfcrm_error *e = NULL;
    CHECK(sfcrm_client_export_page(c, "acc-fc", "user-fc", "notes", 1, 3, &json, NULL, &e) == SFCRM_RESULT_SESSION_EXPIRED);
    CHECK(sfcrm_error_http_status(e) == 401 && sfcrm_error_message(e)[0] != '\0');
    sfcrm_error_free(e);
  }
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(after.token_requests - before.token_requests == 1);
  CHECK(after.api_requests - before.api_requests == 2);
  CHECK(emulator_delete("/__emulator/faults") == 200);
  /* BR-15: the REST error array's errorCode */
  CHECK(emulator_post("/__emulator/faults", "{\"endpoint\":\"query\",\"kind\":\"invalid_locator\",\"count\":1}") == 200);
  {
    sfcrm_error *e = NULL;
    CHECK(sfcrm_client_export_page(c, "acc-fc", "user-fc", "notes", 1, 3, &json, NULL, &e) == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(e) == 400);
    CHECK(sfcrm_error_salesforce_code(e) && strcmp(sfcrm_error_salesforce_code(e), "INVALID_QUERY_LOCATOR") == 0);
    CHECK(contains(sfcrm_error_raw_body(e), "INVALID_QUERY_LOCATOR")); /* BR-15: the raw body stays reachable */
    sfcrm_error_free(e);
  }
  CHECK(emulator_delete("/__emulator/faults") == 200);
  /* BR-03: not rotated, then rotated */
  EXPECT_OK(sfcrm_store_load(store, "acc-fc", "user-fc", &found, &doc, &err));
  rt1 = json_string_field(doc, "refresh_token");
  sfcrm_string_free(doc);
  EXPECT_OK(sfcrm_client_refresh(c, "acc-fc", "user-fc", &info, &err));
  sfcrm_connection_info_clear(&info);
  EXPECT_OK(sfcrm_store_load(store, "acc-fc", "user-fc", &found, &doc, &err));
  rt2 = json_string_field(doc, "refresh_token");
  sfcrm_string_free(doc);
  CHECK(rt1 && rt2 && strcmp(rt1, rt2) == 0);
  CHECK(emulator_post("/__emulator/rotation", "{\"enabled\":true}") == 200);
  EXPECT_OK(sfcrm_client_refresh(c, "acc-fc", "user-fc", &info, &err));
  sfcrm_connection_info_clear(&info);
  EXPECT_OK(sfcrm_client_refresh(c, "acc-fc", "user-fc", &info, &err)); /* invalid_grant if the old one were sent */
  sfcrm_connection_info_clear(&info);
  EXPECT_OK(sfcrm_store_load(store, "acc-fc", "user-fc", &found, &doc, &err));
  rt3 = json_string_field(doc, "refresh_token");
  sfcrm_string_free(doc);
  CHECK(rt3 && rt1 && strcmp(rt3, rt1) != 0);
  CHECK(emulator_post("/__emulator/rotation", "{\"enabled\":false}") == 200);
  /* BR-09: contacts without an Account keep "Account":null */
  EXPECT_OK(sfcrm_client_export_page(c, "acc-fc", "user-fc", "contacts", 1, 0, &json, NULL, &err));
  CHECK(contains(json, "\"Account\":null") && contains(json, "\"Account\":{"));
  sfcrm_string_free(json);
  free(rt1);
  free(rt2);
  free(rt3);
  sfcrm_client_free(c);
  sfcrm_store_free(store);
}

/* Sealing key material never appears in a config error (malformed or short key) or in the store
 * error of a wrong key (parity with the Python and Node tests). */
static void test_sealing_key_not_in_errors(void) {
  const char *right = "UlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlI=";   /* 32 x 'R' */
  const char *wrong = "V1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1dXV1c=";   /* 32 x 'W' */
  sfcrm_store *inner = NULL, *a = NULL, *b = NULL, *bad = NULL;
  sfcrm_client *ca = NULL, *cb = NULL;
  sfcrm_error *e = NULL;
  char keyring[128], *json = NULL;
  EXPECT_OK(sfcrm_store_new_memory(&inner, &err));
  CHECK(sfcrm_store_new_sealed(inner, "k1:UlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJSUlJS!!!!", &bad, &e) == SFCRM_RESULT_CONFIG);
  CHECK(!contains(sfcrm_error_message(e), "UlJSUlJS"));
  sfcrm_error_free(e);
  e = NULL;
  CHECK(sfcrm_store_new_sealed(inner, "k1:U1NTU1NTU1NT", &bad, &e) == SFCRM_RESULT_CONFIG);
  CHECK(!contains(sfcrm_error_message(e), "U1NTU1NTU1NT"));
  sfcrm_error_free(e);
  e = NULL;
  snprintf(keyring, sizeof keyring, "k1:%s", right);
  EXPECT_OK(sfcrm_store_new_sealed(inner, keyring, &a, &err));
  snprintf(keyring, sizeof keyring, "k1:%s", wrong);
  EXPECT_OK(sfcrm_store_new_sealed(inner, keyring, &b, &err));
  ca = new_client(a);
  cb = new_client(b);
  CHECK(connect_user(ca, "acc-seal", "user-seal"));
  CHECK(sfcrm_client_export_page(cb, "acc-seal", "user-seal", "notes", 1, 3, &json, NULL, &e) == SFCRM_RESULT_STORE);
  CHECK(sfcrm_error_message(e)[0] != '\0' && !contains(sfcrm_error_message(e), right) && !contains(sfcrm_error_message(e), wrong));
  sfcrm_error_free(e);
  sfcrm_client_free(ca);
  sfcrm_client_free(cb);
  sfcrm_store_free(a);
  sfcrm_store_free(b);
  sfcrm_store_free(inner);
}

/* ---- a scripted Salesforce, for field cases that need the exact exchange ------------------ */

/* A loopback HTTP/1.1 server on its own thread, the C twin of core/tests/support's
 * ScriptedServer: it records every request (method, request target exactly as sent,
 * Authorization, Sforce-Query-Options, body) and answers through a handler, which runs with the
 * server's mutex held. One connection at a time, "Connection: close" on every answer. */

#define SS_MAX_REQUESTS 512

typedef struct ss_request {
  char method[8];
  char *target; /* path and query as sent */
  char *authorization, *query_options, *body;
} ss_request;

typedef struct ss_reply {
  int status;
  const char *content_type; /* NULL: no Content-Type header */
  char *body;               /* malloc'd; NULL: empty body */
} ss_reply;

typedef struct scripted_server scripted_server;
typedef void (*ss_handler)(scripted_server *s, const ss_request *req, ss_reply *out);

struct scripted_server {
  int fd, stop;
  char base_url[64];
  pthread_t thread;
  pthread_mutex_t mu;
  ss_request reqs[SS_MAX_REQUESTS];
  int n_reqs, dropped;
  ss_handler handler;
  void *state;
};

static char *ss_header(const char *head, const char *name) {
  size_t n = strlen(name);
  const char *p = strstr(head, "\r\n");
  while (p && p[2] != '\r' && p[2] != '\0') {
    const char *line = p + 2, *end = strstr(line, "\r\n");
    if (!end) break;
    if ((size_t)(end - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
      const char *v = line + n + 1;
      while (*v == ' ') v++;
      return strndup(v, (size_t)(end - v));
    }
    p = end;
  }
  return NULL;
}

/* Reads one request; 0 on success. */
static int ss_read_request(int c, ss_request *r) {
  size_t cap = 8192, len = 0, head_len, body_len = 0;
  char *buf = malloc(cap), *hdr_end, *cl;
  memset(r, 0, sizeof *r);
  for (;;) {
    ssize_t got;
    if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
    got = recv(c, buf + len, cap - len - 1, 0);
    if (got <= 0) goto fail;
    len += (size_t)got;
    buf[len] = '\0';
    if ((hdr_end = strstr(buf, "\r\n\r\n")) != NULL) break;
  }
  head_len = (size_t)(hdr_end - buf) + 4;
  hdr_end[2] = '\0'; /* the head, with the last header's CRLF */
  if ((cl = ss_header(buf, "Content-Length")) != NULL) {
    body_len = (size_t)strtoul(cl, NULL, 10);
    free(cl);
  }
  while (len < head_len + body_len) {
    ssize_t got;
    if (head_len + body_len + 1 > cap) buf = realloc(buf, cap = head_len + body_len + 1);
    got = recv(c, buf + len, cap - len - 1, 0);
    if (got <= 0) goto fail;
    len += (size_t)got;
  }
  {
    const char *sp1 = strchr(buf, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp1 || !sp2 || sp1 - buf >= (ptrdiff_t)sizeof r->method) goto fail;
    memcpy(r->method, buf, (size_t)(sp1 - buf));
    r->target = strndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
  }
  r->authorization = ss_header(buf, "Authorization");
  r->query_options = ss_header(buf, "Sforce-Query-Options");
  r->body = strndup(buf + head_len, body_len);
  free(buf);
  return 0;
fail:
  free(buf);
  return -1;
}

static void ss_request_free(ss_request *r) {
  free(r->target);
  free(r->authorization);
  free(r->query_options);
  free(r->body);
  memset(r, 0, sizeof *r);
}

static void ss_send_all(int c, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = send(c, p, n, MSG_NOSIGNAL);
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static void *ss_main(void *p) {
  scripted_server *s = p;
  while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
    struct pollfd pfd = {s->fd, POLLIN, 0};
    struct timeval tv = {10, 0};
    ss_request req;
    ss_reply out = {500, NULL, NULL};
    char head[512];
    size_t body_len;
    int c;
    if (poll(&pfd, 1, 50) <= 0) continue;
    if ((c = accept(s->fd, NULL, NULL)) < 0) continue;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (ss_read_request(c, &req) == 0) {
      pthread_mutex_lock(&s->mu);
      s->handler(s, &req, &out);
      if (s->n_reqs < SS_MAX_REQUESTS) {
        s->reqs[s->n_reqs++] = req;
      } else {
        s->dropped++;
        ss_request_free(&req);
      }
      pthread_mutex_unlock(&s->mu);
      body_len = out.body ? strlen(out.body) : 0;
      snprintf(head, sizeof head, "HTTP/1.1 %d Scripted\r\n%s%s%sContent-Length: %zu\r\nConnection: close\r\n\r\n",
               out.status, out.content_type ? "Content-Type: " : "", out.content_type ? out.content_type : "",
               out.content_type ? "\r\n" : "", body_len);
      ss_send_all(c, head, strlen(head));
      if (body_len) ss_send_all(c, out.body, body_len);
      free(out.body);
    }
    shutdown(c, SHUT_WR);
    close(c);
  }
  return NULL;
}

static int ss_start(scripted_server *s, ss_handler handler, void *state) {
  struct sockaddr_in a;
  socklen_t alen = sizeof a;
  memset(s, 0, sizeof *s);
  s->handler = handler;
  s->state = state;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if ((s->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0) return 0;
  if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 16) != 0 ||
      getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0) {
    close(s->fd);
    return 0;
  }
  snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d", ntohs(a.sin_port));
  pthread_mutex_init(&s->mu, NULL);
  if (pthread_create(&s->thread, NULL, ss_main, s) != 0) {
    close(s->fd);
    pthread_mutex_destroy(&s->mu);
    return 0;
  }
  return 1;
}

static void ss_clear(scripted_server *s) {
  pthread_mutex_lock(&s->mu);
  for (int i = 0; i < s->n_reqs; i++) ss_request_free(&s->reqs[i]);
  s->n_reqs = s->dropped = 0;
  pthread_mutex_unlock(&s->mu);
}

static int ss_count(scripted_server *s) {
  int n;
  pthread_mutex_lock(&s->mu);
  n = s->n_reqs + s->dropped;
  pthread_mutex_unlock(&s->mu);
  return n;
}

static void ss_stop(scripted_server *s) {
  __atomic_store_n(&s->stop, 1, __ATOMIC_SEQ_CST);
  pthread_join(s->thread, NULL);
  close(s->fd);
  ss_clear(s);
  pthread_mutex_destroy(&s->mu);
}

static void ss_json(ss_reply *out, int status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&out->body, fmt, ap) < 0) out->body = NULL;
  va_end(ap);
  out->status = status;
  out->content_type = "application/json;charset=UTF-8";
}

/* The value of query parameter `name` of a request target: as sent when `decode` is 0, else
 * form-decoded ('+' is a space, %XX a byte), the way Salesforce reads `q`. malloc'd or NULL. */
static char *ss_param(const char *target, const char *name, int decode) {
  const char *q = strchr(target, '?');
  size_t n = strlen(name);
  while (q) {
    const char *k = q + 1, *end = strchr(k, '&');
    if (!end) end = k + strlen(k);
    if ((size_t)(end - k) > n && strncmp(k, name, n) == 0 && k[n] == '=') {
      const char *v = k + n + 1;
      char *out = malloc((size_t)(end - v) + 1), *o = out;
      for (; v < end; v++) {
        if (decode && *v == '+') {
          *o++ = ' ';
        } else if (decode && *v == '%' && v + 2 < end && isxdigit((unsigned char)v[1]) && isxdigit((unsigned char)v[2])) {
          char hex[3] = {v[1], v[2], 0};
          *o++ = (char)strtol(hex, NULL, 16);
          v += 2;
        } else {
          *o++ = *v;
        }
      }
      *o = '\0';
      return out;
    }
    q = *end ? end : NULL;
  }
  return NULL;
}

static int is_query_target(const char *t) {
  return strncmp(t, "/services/data/v", 16) == 0 && strstr(t, "/query?q=") != NULL;
}

/* A client whose store already holds a connection to the scripted server (instance and login
 * host), with fake tokens 00DFAKE!TOKEN1 / 5AepFAKEREFRESH1. */
static sfcrm_client *scripted_client(const scripted_server *s, const char *account, const char *owner) {
  sfcrm_config *cfg = emulator_config();
  sfcrm_store *store = NULL;
  sfcrm_client *c = NULL;
  char doc[1024];
  bool saved = false;
  snprintf(doc, sizeof doc,
           "{\"schema\":1,\"account_id\":\"%s\",\"owner\":\"%s\",\"token\":{\"access_token\":\"00DFAKE!TOKEN1\","
           "\"refresh_token\":\"5AepFAKEREFRESH1\",\"issued_at\":\"1732950000000\"},\"token_invalidated\":false,"
           "\"instance_url\":\"%s\",\"scope\":\"api refresh_token\",\"version\":1}",
           account, owner, s->base_url);
  EXPECT_OK(sfcrm_config_set_login_url(cfg, s->base_url, &err));
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  EXPECT_OK(sfcrm_store_save(store, doc, false, 0, &saved, &err));
  CHECK(saved);
  EXPECT_OK(sfcrm_client_new(cfg, store, &c, &err));
  sfcrm_store_free(store);
  sfcrm_config_free(cfg);
  return c;
}


/* ---- CSV and JSON string decoding (to compare values, not bytes of two encodings) --------- */

/* The next RFC 4180 field at *p (quoted fields may hold "" , CR and LF), malloc'd; *end_of_row is
 * set when the field ends its row. NULL at the end of the text. */
static char *csv_field(const char **p, int *end_of_row) {
  const char *s = *p;
  size_t cap = 64, n = 0;
  char *out;
  if (*s == '\0') return NULL;
  out = malloc(cap);
  if (*s == '"') {
    for (s++;; s++) {
      if (*s == '\0') break;
      if (*s == '"' && s[1] == '"') {
        s++;
      } else if (*s == '"') {
        s++;
        break;
      }
      if (n + 2 > cap) out = realloc(out, cap *= 2);
      out[n++] = *s;
    }
  } else {
    for (; *s && *s != ',' && *s != '\r' && *s != '\n'; s++) {
      if (n + 2 > cap) out = realloc(out, cap *= 2);
      out[n++] = *s;
    }
  }
  out[n] = '\0';
  *end_of_row = *s != ',';
  if (*s == ',') s++;
  else if (*s == '\r' && s[1] == '\n') s += 2;
  else if (*s == '\n') s++;
  *p = s;
  return out;
}

/* Decodes the JSON string starting at `q` (just after its opening quote) into UTF-8, malloc'd. */
static char *json_unescape(const char *q) {
  char *out = malloc(strlen(q) * 2 + 1), *o = out;
  for (; *q && *q != '"'; q++) {
    unsigned cp;
    if (*q != '\\') {
      *o++ = *q;
      continue;
    }
    switch (*++q) {
    case 'n': *o++ = '\n'; break;
    case 'r': *o++ = '\r'; break;
    case 't': *o++ = '\t'; break;
    case 'b': *o++ = '\b'; break;
    case 'f': *o++ = '\f'; break;
    case 'u':
      cp = (unsigned)strtoul((char[5]){q[1], q[2], q[3], q[4], 0}, NULL, 16);
      q += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && q[1] == '\\' && q[2] == 'u') {
        unsigned lo = (unsigned)strtoul((char[5]){q[3], q[4], q[5], q[6], 0}, NULL, 16);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        q += 6;
      }
      if (cp < 0x80) *o++ = (char)cp;
      else if (cp < 0x800) { *o++ = (char)(0xC0 | cp >> 6); *o++ = (char)(0x80 | (cp & 0x3F)); }
      else if (cp < 0x10000) { *o++ = (char)(0xE0 | cp >> 12); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F)); }
      else { *o++ = (char)(0xF0 | cp >> 18); *o++ = (char)(0x80 | ((cp >> 12) & 0x3F)); *o++ = (char)(0x80 | ((cp >> 6) & 0x3F)); *o++ = (char)(0x80 | (cp & 0x3F)); }
      break;
    default: *o++ = *q; break; /* \" \\ \/ */
    }
  }
  *o = '\0';
  return out;
}

/* ---- field cases BR-06, BR-08, BR-12, BR-14 (tests/contract/field-cases.md) --------------- */

#define BR06_MORE2 "/services/data/v59.0/query/01gFAKE000000001AA-2"
#define BR06_MORE4 "/services/data/v59.0/query/01gFAKE000000001AA-4"
static const char *const BR06_NAMES[5] = {"Ann Example", "Bo Sample", "Cy Test", "Jane Roe", "John Doe"};

static char *br06_contact(int n) {
  char *r = NULL;
  if (asprintf(&r, "{\"attributes\":{\"type\":\"Contact\",\"url\":\"/services/data/v59.0/sobjects/Contact/003%012dAAA\"},"
                   "\"Id\":\"003%012dAAA\",\"Name\":\"%s\"}", n, n, BR06_NAMES[n - 1]) < 0) r = NULL;
  return r;
}

/* BR-06's three pages: 2, 2 and 1 records, relative nextRecordsUrls, totalSize 5. */
static void br06_handler(scripted_server *s, const ss_request *r, ss_reply *out) {
  int first = 0, last = 0;
  const char *next = NULL;
  char *a, *b;
  (void)s;
  if (is_query_target(r->target)) first = 1, last = 2, next = BR06_MORE2;
  else if (strcmp(r->target, BR06_MORE2) == 0) first = 3, last = 4, next = BR06_MORE4;
  else if (strcmp(r->target, BR06_MORE4) == 0) first = 5, last = 5;
  if (!first) {
    ss_json(out, 404, "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]");
    return;
  }
  a = br06_contact(first);
  b = last > first ? br06_contact(last) : strdup("");
  if (next)
    ss_json(out, 200, "{\"totalSize\":5,\"done\":false,\"nextRecordsUrl\":\"%s\",\"records\":[%s,%s]}", next, a, b);
  else
    ss_json(out, 200, "{\"totalSize\":5,\"done\":true,\"records\":[%s]}", a);
  free(a);
  free(b);
}

/* BR-06: done=false / nextRecordsUrl with uneven batches (2, 2, 1): every record exactly once, in
 * order, through the cursor (both batch formats) and the NDJSON / CSV writers; exactly 3 GETs, the
 * locators used as sent (no version rewrite), none after done=true. */
static void test_br06_uneven_batches(void) {
  scripted_server s;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_export_summary sum = {0, 0, 0};
  sfcrm_api_calls calls;
  size_t sizes[8] = {0}, n_batches = 0, seen = 0, in_order = 0;
  uint64_t recs = 0, batches = 0, total = 0;
  char *batch = NULL, path[400], *csv;
  size_t len = 0, count = 0;
  struct sink nd = {0};
  if (!ss_start(&s, br06_handler, NULL)) {
    CHECK(!"scripted server started");
    return;
  }
  c = scripted_client(&s, "acc-06", "user-06");
  EXPECT_OK(sfcrm_export_request_new_custom("Contact", "Name", &req, &err));
  EXPECT_OK(sfcrm_export_request_set_batch_size(req, 2000, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-06", "user-06", req, &cur, &err));
  for (;;) {
    uint32_t f = n_batches == 0 ? SFCRM_BATCH_FORMAT_JSON_ARRAY : SFCRM_BATCH_FORMAT_NDJSON;
    const char *p;
    EXPECT_OK(sfcrm_export_cursor_next(cur, f, &batch, &len, &count, &err));
    if (!batch) break;
    if (n_batches < 8) sizes[n_batches] = count;
    n_batches++;
    CHECK(count_substr(batch, "\"Id\":\"003") == count);
    for (p = batch; (p = strstr(p, "\"Name\":\"")) != NULL; p += 8, seen++)
      in_order += seen < 5 && strncmp(p + 8, BR06_NAMES[seen], strlen(BR06_NAMES[seen])) == 0 && p[8 + strlen(BR06_NAMES[seen])] == '"';
    sfcrm_string_free(batch);
  }
  CHECK(n_batches == 3 && sizes[0] == 2 && sizes[1] == 2 && sizes[2] == 1);
  CHECK(seen == 5 && in_order == 5);
  EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
  CHECK(batch == NULL && count == 0);
  EXPECT_OK(sfcrm_export_cursor_progress(cur, &recs, &batches, &total, &err));
  CHECK(recs == 5 && batches == 3 && total == 5);
  sfcrm_export_cursor_free(cur);
  pthread_mutex_lock(&s.mu);
  CHECK(s.n_reqs == 3 && s.dropped == 0);
  if (s.n_reqs == 3) {
    CHECK(strcmp(s.reqs[0].method, "GET") == 0 && is_query_target(s.reqs[0].target));
    CHECK(contains(s.reqs[0].query_options, "batchSize=2000"));
    CHECK(strcmp(s.reqs[1].target, BR06_MORE2) == 0 && strcmp(s.reqs[2].target, BR06_MORE4) == 0);
    for (int i = 0; i < 3; i++) CHECK(s.reqs[i].authorization && strcmp(s.reqs[i].authorization, "Bearer 00DFAKE!TOKEN1") == 0);
  }
  pthread_mutex_unlock(&s.mu);
  EXPECT_OK(sfcrm_client_api_calls(c, &calls, &err));
  CHECK(calls.query == 1 && calls.query_more == 2 && calls.token_requests == 0);

  /* the NDJSON writer over the same pages: 5 lines, each record once */
  ss_clear(&s);
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-06", "user-06", req, SFCRM_EXPORT_FORMAT_NDJSON, sink_write, &nd, &sum, NULL, NULL, &err));
  CHECK(sum.records == 5 && nd.data && count_lines(nd.data) == 5);
  for (int i = 0; i < 5; i++) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"Name\":\"%s\"", BR06_NAMES[i]);
    CHECK(count_substr(nd.data ? nd.data : "", needle) == 1);
  }
  free(nd.data);
  CHECK(ss_count(&s) == 3);
  /* the CSV file writer: header + 5 rows, in order */
  ss_clear(&s);
  snprintf(path, sizeof path, "%s/br06.csv", g_tmpdir);
  EXPECT_OK(sfcrm_client_export_to_path(c, "acc-06", "user-06", req, SFCRM_EXPORT_FORMAT_CSV, path, &sum, NULL, NULL, &err));
  csv = read_file(path);
  CHECK(sum.records == 5 && csv && count_substr(csv, "\r\n") == 6);
  CHECK(csv && contains(csv, "003000000000001AAA,Ann Example\r\n003000000000002AAA,Bo Sample\r\n003000000000003AAA,Cy Test\r\n"
                             "003000000000004AAA,Jane Roe\r\n003000000000005AAA,John Doe\r\n"));
  free(csv);
  CHECK(ss_count(&s) == 3);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
  ss_stop(&s);
}

/* BR-06 against the org emulator (as the Python and Node suites): an org serving short pages
 * (batch_size 199, below the batchSize the SDK asks for): 1500 contacts in 8 batches (7 x 199 +
 * 107), each Id once and ascending, 1 query + 7 nextRecordsUrl requests. */
static void test_br06_short_pages_emulator(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_api_calls before, after;
  static char ids[1600][19];
  size_t n = 0, n_batches = 0, over = 0, ascending = 1;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-06e", "user-06e"));
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  CHECK(emulator_post("/__emulator/batch_size", "{\"size\":199}") == 200);
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-06e", "user-06e", req, &cur, &err));
  for (;;) {
    char *b = NULL, *line;
    size_t len = 0, count = 0;
    sfcrm_error *e = NULL;
    if (sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &b, &len, &count, &e) != SFCRM_RESULT_OK) {
      fprintf(stderr, "  next: %s\n", sfcrm_error_message(e));
      sfcrm_error_free(e);
      CHECK(!"cursor next");
      break;
    }
    if (!b) break;
    n_batches++;
    over += count > 199;
    for (line = b; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
      const char *id = strstr(line, "\"Id\":\"");
      if (!id || n >= 1600) break;
      memcpy(ids[n], id + 6, 18);
      ids[n][18] = '\0';
      if (n > 0 && strcmp(ids[n - 1], ids[n]) >= 0) ascending = 0;
      n++;
    }
    sfcrm_string_free(b);
  }
  CHECK(emulator_post("/__emulator/batch_size", "{\"size\":2000}") == 200);
  sfcrm_export_cursor_free(cur);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  if (n != 1500 || n_batches != 8) fprintf(stderr, "  %zu records in %zu batches\n", n, n_batches);
  CHECK(n == 1500 && n_batches == 8 && over == 0 && ascending);
  CHECK(after.query - before.query == 1 && after.query_more - before.query_more == 7);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

#define BR08_BODY "[{\"message\":\"Maximum SOQL offset allowed for apiName Contact is 2000\",\"errorCode\":\"NUMBER_OUTSIDE_VALID_RANGE\"}]"

typedef struct br08_state {
  int total;         /* Contacts in the fake org: Contact n has Id 003<n, 12 digits>AAA */
  int max_offset;    /* largest OFFSET the SDK sent */
  int over_2000;     /* queries with OFFSET > 2000 (answered 400 NUMBER_OUTSIDE_VALID_RANGE) */
  int unsupported;   /* queries this fake cannot answer (answered 400 MALFORMED_QUERY) */
  int refuse_all;    /* answer every request with BR-08's 400 */
} br08_state;

/* A fake org of `total` Contacts ordered by Id that answers COUNT(), LIMIT, OFFSET and
 * `WHERE Id > '…'` (keyset) queries, and refuses OFFSET > 2000 as Salesforce does. */
static void br08_handler(scripted_server *s, const ss_request *r, ss_reply *out) {
  br08_state *st = s->state;
  char *q = ss_param(r->target, "q", 1), *sel = NULL, *recs = NULL, *tok, *save = NULL;
  const char *p, *from;
  int offset = 0, limit, after = 0, first, last, with_id = 0;
  size_t rlen = 0;
  FILE *mem;
  if (st->refuse_all) {
    ss_json(out, 400, "%s", BR08_BODY);
    goto done;
  }
  if (!q || !is_query_target(r->target)) {
    ss_json(out, 404, "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]");
    goto done;
  }
  if (strcmp(q, "SELECT COUNT() FROM Contact") == 0) {
    ss_json(out, 200, "{\"totalSize\":%d,\"done\":true,\"records\":[]}", st->total);
    goto done;
  }
  from = strstr(q, " FROM Contact");
  p = strstr(q, " WHERE ");
  if (strncmp(q, "SELECT ", 7) != 0 || !from || !strstr(q, " ORDER BY Id") ||
      (p && strncmp(p, " WHERE Id > '003", 16) != 0) || (p && strstr(p + 1, " AND "))) {
    fprintf(stderr, "  BR-08 fake org cannot answer: %s\n", q);
    st->unsupported++;
    ss_json(out, 400, "[{\"message\":\"unsupported by the test's fake org\",\"errorCode\":\"MALFORMED_QUERY\"}]");
    goto done;
  }
  if (p) after = atoi(p + 16);
  offset = (p = strstr(q, " OFFSET ")) ? atoi(p + 8) : 0;
  limit = (p = strstr(q, " LIMIT ")) ? atoi(p + 7) : st->total;
  if (offset > st->max_offset) st->max_offset = offset;
  if (offset > 2000) {
    st->over_2000++;
    ss_json(out, 400, "%s", BR08_BODY);
    goto done;
  }
  first = after + offset + 1;
  last = after + offset + limit < st->total ? after + offset + limit : st->total;
  sel = strndup(q + 7, (size_t)(from - q - 7));
  for (tok = strtok_r(sel, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) with_id |= strcmp(tok, "Id") == 0;
  mem = open_memstream(&recs, &rlen);
  for (int n = first; n <= last; n++) {
    fprintf(mem, "%s{\"attributes\":{\"type\":\"Contact\",\"url\":\"/services/data/v59.0/sobjects/Contact/003%012dAAA\"}", n > first ? "," : "", n);
    if (with_id) fprintf(mem, ",\"Id\":\"003%012dAAA\"", n);
    fprintf(mem, ",\"Name\":\"Contact %d\",\"Account\":null}", n);
  }
  fclose(mem);
  ss_json(out, 200, "{\"totalSize\":%d,\"done\":true,\"records\":[%s]}", last >= first ? last - first + 1 : 0, recs);
done:
  free(recs);
  free(sel);
  free(q);
}

/* Page `page` of `limit` holds Contact first..first+limit-1, in order, and nothing else. */
static int br08_page_is(const char *json, int first, int limit) {
  char needle[64];
  const char *p = json;
  if (!json || count_substr(json, "\"attributes\":{\"type\":\"Contact\"") != (size_t)limit) return 0;
  for (int n = first; n < first + limit; n++) {
    snprintf(needle, sizeof needle, "\"Name\":\"Contact %d\"", n);
    if ((p = strstr(p, needle)) == NULL) return 0;
  }
  return 1;
}

/* BR-08: deep pages of sfcrm_client_export_page never send OFFSET > 2000 (the fake org records
 * every query and refuses those, as Salesforce does) and hold the right records; a
 * NUMBER_OUTSIDE_VALID_RANGE answer is an API error with its status, errorCode, message and raw
 * body, after exactly 1 request (a 4xx is not retried). */
static void test_br08_deep_pages_without_offset(void) {
  scripted_server s;
  br08_state st = {5000, 0, 0, 0, 0};
  sfcrm_client *c;
  char *json = NULL;
  if (!ss_start(&s, br08_handler, &st)) {
    CHECK(!"scripted server started");
    return;
  }
  c = scripted_client(&s, "acc-08", "user-08");
  EXPECT_OK(sfcrm_client_export_page(c, "acc-08", "user-08", "contacts", 25, 100, &json, NULL, &err));
  CHECK(contains(json, "\"offsetValue\":2400") && br08_page_is(json, 2401, 100));
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_export_page(c, "acc-08", "user-08", "contacts", 50, 100, &json, NULL, &err));
  CHECK(contains(json, "\"offsetValue\":4900") && br08_page_is(json, 4901, 100));
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_export_page(c, "acc-08", "user-08", "contacts", 21, 100, &json, NULL, &err));
  CHECK(contains(json, "\"offsetValue\":2000") && br08_page_is(json, 2001, 100));
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_export_page(c, "acc-08", "user-08", "contacts", 3, 1000, &json, NULL, &err));
  CHECK(contains(json, "\"offsetValue\":2000") && br08_page_is(json, 2001, 1000));
  sfcrm_string_free(json);
  json = NULL;
  pthread_mutex_lock(&s.mu);
  if (st.max_offset > 2000 || st.unsupported) fprintf(stderr, "  max OFFSET %d, %d unsupported\n", st.max_offset, st.unsupported);
  CHECK(s.n_reqs > 0 && st.over_2000 == 0 && st.max_offset <= 2000 && st.unsupported == 0);
  pthread_mutex_unlock(&s.mu);

  /* the OFFSET error itself: typed, every detail and the raw body kept, one request */
  ss_clear(&s);
  pthread_mutex_lock(&s.mu);
  st.refuse_all = 1;
  pthread_mutex_unlock(&s.mu);
  {
    sfcrm_error *e = NULL;
    CHECK(sfcrm_client_export_page(c, "acc-08", "user-08", "contacts", 1, 10, &json, NULL, &e) == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(e) == 400);
    CHECK(sfcrm_error_salesforce_code(e) && strcmp(sfcrm_error_salesforce_code(e), "NUMBER_OUTSIDE_VALID_RANGE") == 0);
    CHECK(strcmp(sfcrm_error_message(e), "Maximum SOQL offset allowed for apiName Contact is 2000") == 0);
    CHECK(sfcrm_error_raw_body(e) && strcmp(sfcrm_error_raw_body(e), BR08_BODY) == 0);
    sfcrm_error_free(e);
  }
  CHECK(ss_count(&s) == 1);
  CHECK(json == NULL);
  sfcrm_client_free(c);
  ss_stop(&s);
}

#define BR12_EVENT                                                                                              \
  "{\"attributes\":{\"type\":\"Event\",\"url\":\"/services/data/v59.0/sobjects/Event/00U000000000001AAA\"},"    \
  "\"Id\":\"00U000000000001AAA\",\"SystemModstamp\":\"2024-02-29T23:59:59.999+0000\",\"Subject\":\"Demo for Jane Roe\"," \
  "\"CreatedDate\":\"2016-05-06T15:57:34.000+0000\",\"LastModifiedDate\":\"2024-02-29T23:59:59.999+0000\","     \
  "\"ActivityDate\":\"2024-03-01\"}"

typedef struct br12_state {
  int malformed; /* queries whose decoded datetime had a space where its '+' was */
} br12_state;

/* Salesforce decodes `q` as a form value: a '+' sent unencoded becomes a space, and a datetime
 * followed by " 00:00" is MALFORMED_QUERY. */
static int time_then_space(const char *q) {
  for (const char *p = q; *p; p++) {
    const char *t = p;
    if (!(isdigit((unsigned char)t[0]) && isdigit((unsigned char)t[1]) && t[2] == ':' && isdigit((unsigned char)t[3]) &&
          isdigit((unsigned char)t[4]) && t[5] == ':' && isdigit((unsigned char)t[6]) && isdigit((unsigned char)t[7])))
      continue;
    t += 8;
    if (*t == '.')
      for (t++; isdigit((unsigned char)*t); t++) {}
    if (t[0] == ' ' && isdigit((unsigned char)t[1])) return 1;
  }
  return 0;
}

static void br12_handler(scripted_server *s, const ss_request *r, ss_reply *out) {
  br12_state *st = s->state;
  char *q = ss_param(r->target, "q", 1);
  if (!q || !is_query_target(r->target)) {
    ss_json(out, 404, "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]");
  } else if (time_then_space(q)) {
    st->malformed++;
    ss_json(out, 400, "[{\"message\":\"line 1:70 no viable alternative at character ' '\",\"errorCode\":\"MALFORMED_QUERY\"}]");
  } else {
    ss_json(out, 200, "{\"totalSize\":1,\"done\":true,\"records\":[%s]}", BR12_EVENT);
  }
  free(q);
}

/* BR-12: `+0000` datetimes (milliseconds included) and a date-only value reach C byte-exact
 * through the cursor and the CSV / NDJSON writers; a `since` with a '+' offset goes out without
 * a raw '+' (so Salesforce never reads a space), and means the same instant. */
static void test_br12_datetimes_and_plus(void) {
  static const char *const SINCE[3] = {"2013-12-01T13:00:00+01:00", "2013-12-01T12:00:00.000+0000", "2013-12-01T12:00:00Z"};
  scripted_server s;
  br12_state st = {0};
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_summary sum = {0, 0, 0};
  struct sink csv = {0}, nd = {0};
  if (!ss_start(&s, br12_handler, &st)) {
    CHECK(!"scripted server started");
    return;
  }
  /* the fake's detector itself: BR-12's unencoded '+' read as a space, and two good literals */
  CHECK(time_then_space("SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00 00:00"));
  CHECK(!time_then_space("SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00+00:00"));
  CHECK(!time_then_space("SELECT Id FROM Event WHERE SystemModstamp >= 2013-12-01T12:00:00.000Z ORDER BY Id"));
  c = scripted_client(&s, "acc-12", "user-12");
  EXPECT_OK(sfcrm_export_request_new_custom("Event", "Subject,CreatedDate,LastModifiedDate,ActivityDate", &req, &err));
  for (int i = 0; i < 3; i++) {
    sfcrm_export_cursor *cur = NULL;
    char *b = NULL, *raw = NULL, *q = NULL;
    size_t len = 0, count = 0;
    ss_clear(&s);
    EXPECT_OK(sfcrm_export_request_set_since(req, SINCE[i], &err));
    EXPECT_OK(sfcrm_export_cursor_open(c, "acc-12", "user-12", req, &cur, &err));
    EXPECT_OK(sfcrm_export_cursor_next(cur, i == 1 ? SFCRM_BATCH_FORMAT_JSON_ARRAY : SFCRM_BATCH_FORMAT_NDJSON, &b, &len, &count, &err));
    CHECK(count == 1 && contains(b, BR12_EVENT)); /* the record exactly as sent */
    sfcrm_string_free(b);
    sfcrm_export_cursor_free(cur);
    pthread_mutex_lock(&s.mu);
    if (s.n_reqs >= 1) {
      raw = ss_param(s.reqs[0].target, "q", 0);
      q = ss_param(s.reqs[0].target, "q", 1);
    }
    pthread_mutex_unlock(&s.mu);
    CHECK(raw && !strchr(raw, '+'));
    CHECK(q && contains(q, "SystemModstamp >= ") &&
          (contains(q, ">= 2013-12-01T12:00:00Z") || contains(q, ">= 2013-12-01T12:00:00.000Z") ||
           contains(q, ">= 2013-12-01T13:00:00+01:00") || contains(q, ">= 2013-12-01T12:00:00+00:00") ||
           contains(q, ">= 2013-12-01T12:00:00.000+0000")));
    if (!q || !contains(q, "2013-12-01T1")) fprintf(stderr, "  since %s sent q=%s\n", SINCE[i], q ? q : "(none)");
    free(raw);
    free(q);
  }
  CHECK(st.malformed == 0);
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-12", "user-12", req, SFCRM_EXPORT_FORMAT_CSV, sink_write, &csv, &sum, NULL, NULL, &err));
  CHECK(sum.records == 1 && contains(csv.data, "Demo for Jane Roe,2016-05-06T15:57:34.000+0000,2024-02-29T23:59:59.999+0000,2024-03-01\r\n"));
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-12", "user-12", req, SFCRM_EXPORT_FORMAT_NDJSON, sink_write, &nd, &sum, NULL, NULL, &err));
  CHECK(sum.records == 1 && contains(nd.data, "\"CreatedDate\":\"2016-05-06T15:57:34.000+0000\",\"LastModifiedDate\":\"2024-02-29T23:59:59.999+0000\",\"ActivityDate\":\"2024-03-01\""));
  CHECK(st.malformed == 0);
  free(csv.data);
  free(nd.data);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
  ss_stop(&s);
}

static int matches(const char *re, const char *text) {
  regex_t rx;
  int ok;
  if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) return 0;
  ok = regexec(&rx, text, 0, NULL, 0) == 0;
  regfree(&rx);
  return ok;
}

/* BR-12 against the org emulator (as the Python and Node suites): CloseDate stays date-only; an
 * incremental export since a `+0000` datetime runs, and every SystemModstamp keeps `.mmm+0000`. */
static void test_br12_emulator(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  char *json = NULL, *b = NULL;
  size_t len = 0, count = 0, stamped = 0;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-12e", "user-12e"));
  EXPECT_OK(sfcrm_client_export_page(c, "acc-12e", "user-12e", "deals", 1, 1, &json, NULL, &err));
  CHECK(json && matches("\"CloseDate\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}\"", json));
  sfcrm_string_free(json);
  EXPECT_OK(sfcrm_export_request_new("deals", &req, &err));
  EXPECT_OK(sfcrm_export_request_set_since(req, "2000-01-01T00:00:00.000+0000", &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-12e", "user-12e", req, &cur, &err));
  EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &b, &len, &count, &err));
  CHECK(b && count > 0);
  for (char *line = b; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    stamped += matches("\"SystemModstamp\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}\\+0000\"", line);
    line = nl ? nl + 1 : NULL;
  }
  CHECK(count > 0 && stamped == count);
  sfcrm_string_free(b);
  sfcrm_export_cursor_free(cur);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

/* ---- sfcrm_client_api_get -------------------------------------------------------------------- */

/* Against the org emulator: a SOQL query through /query?q= returns records (compact JSON, the
 * length right), an absolute instance URL works, an unknown path is an API error with status 404
 * and Salesforce's errorCode, bad arguments leave the out-parameters untouched, an expired session
 * is refreshed once and the call retried transparently. */
static void test_api_get_emulator(void) {
  static const char *QUERY = "/services/data/v48.0/query?q=SELECT+Id%2CName+FROM+Contact+ORDER+BY+Id+LIMIT+3";
  static const char BAD_UTF8[] = {'a', (char)0xC3, (char)0x28, 0};
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_api_calls before, after;
  char *json = NULL, *bad = (char *)0x1, url[512];
  size_t len = 0, bad_len = 77;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  EXPECT_ERR(SFCRM_RESULT_NOT_CONNECTED, sfcrm_client_api_get(c, "acc-g", "user-g", QUERY, &bad, &bad_len, &err));
  CHECK(connect_user(c, "acc-g", "user-g"));
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_OK(sfcrm_client_api_get(c, "acc-g", "user-g", QUERY, &json, &len, &err));
  CHECK(json && strlen(json) == len);
  CHECK(json && strncmp(json, "{\"totalSize\":3,\"done\":true,\"records\":[", 38) == 0);
  CHECK(count_substr(json, "\"attributes\":{\"type\":\"Contact\"") == 3 && count_substr(json, "\"Name\":") == 3);
  CHECK(json && !strchr(json, '\n') && !contains(json, "\": ")); /* compact */
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(after.other_api == before.other_api + 1 && after.api_requests == before.api_requests + 1 && after.refreshes == before.refreshes);
  /* an absolute URL on the instance host; len is optional */
  snprintf(url, sizeof url, "%s%s", g_instance_url, QUERY);
  EXPECT_OK(sfcrm_client_api_get(c, "acc-g", "user-g", url, &json, NULL, &err));
  CHECK(count_substr(json, "\"attributes\":{\"type\":\"Contact\"") == 3);
  sfcrm_string_free(json);
  json = NULL;
  /* an unknown path: API error, status 404, errorCode NOT_FOUND; out-parameters untouched */
  {
    sfcrm_error *err = NULL;
    sfcrm_result rc = sfcrm_client_api_get(c, "acc-g", "user-g", "/services/data/v48.0/no-such-resource", &bad, &bad_len, &err);
    CHECK(rc == SFCRM_RESULT_API && sfcrm_error_code(err) == SFCRM_RESULT_API);
    CHECK(sfcrm_error_http_status(err) == 404);
    CHECK(sfcrm_error_salesforce_code(err) && strcmp(sfcrm_error_salesforce_code(err), "NOT_FOUND") == 0);
    CHECK(contains(sfcrm_error_raw_body(err), "\"errorCode\":\"NOT_FOUND\""));
    sfcrm_error_free(err);
  }
  CHECK(bad == (char *)0x1 && bad_len == 77);
  /* NULL and invalid UTF-8 arguments: nothing sent, out-parameters untouched */
  EXPECT_OK(sfcrm_client_api_calls(c, &before, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_get(NULL, "acc-g", "user-g", QUERY, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_get(c, NULL, "user-g", QUERY, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_get(c, "acc-g", NULL, QUERY, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_get(c, "acc-g", "user-g", NULL, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_NULL_POINTER, sfcrm_client_api_get(c, "acc-g", "user-g", QUERY, NULL, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_client_api_get(c, BAD_UTF8, "user-g", QUERY, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_client_api_get(c, "acc-g", BAD_UTF8, QUERY, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_UTF8, sfcrm_client_api_get(c, "acc-g", "user-g", BAD_UTF8, &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_client_api_get((sfcrm_client *)&before, "acc-g", "user-g", QUERY, &bad, &bad_len, &err));
  /* an empty path and a foreign host are invalid arguments (no token sent) */
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_api_get(c, "acc-g", "user-g", "", &bad, &bad_len, &err));
  EXPECT_ERR(SFCRM_RESULT_INVALID_ARGUMENT, sfcrm_client_api_get(c, "acc-g", "user-g", "https://evil.example/services/data/v48.0/query?q=x", &bad, &bad_len, &err));
  CHECK(bad == (char *)0x1 && bad_len == 77);
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(after.api_requests == before.api_requests && after.token_requests == before.token_requests);
  /* the session dies: one refresh, one retry, the caller sees only the result */
  CHECK(emulator_post("/__emulator/sessions/expire", NULL) == 200);
  EXPECT_OK(sfcrm_client_api_get(c, "acc-g", "user-g", QUERY, &json, &len, &err));
  CHECK(json && strlen(json) == len && count_substr(json, "\"attributes\":{\"type\":\"Contact\"") == 3);
  sfcrm_string_free(json);
  json = NULL;
  EXPECT_OK(sfcrm_client_api_calls(c, &after, &err));
  CHECK(after.refreshes == before.refreshes + 1 && after.token_requests == before.token_requests + 1);
  CHECK(after.api_requests == before.api_requests + 2); /* the 401 and the retry */
  sfcrm_client_free(c);
  EXPECT_ERR(SFCRM_RESULT_INVALID_HANDLE, sfcrm_client_api_get(c, "acc-g", "user-g", QUERY, &bad, &bad_len, &err));
  CHECK(bad == (char *)0x1 && bad_len == 77);
}

#define APIGET_EVENT_PATH "/services/data/v59.0/sobjects/Event/00U000000000001AAA"
#define APIGET_OPP_PATH "/services/data/v59.0/sobjects/Opportunity/006000000000001AAA"
#define APIGET_OPP                                                                                     \
  "{\"attributes\":{\"type\":\"Opportunity\"},\"Id\":\"006000000000001AAA\",\"Amount\":12345678901234567890.123456789," \
  "\"Probability\":1.50,\"Tiny\":1E-7,\"Name\":\"Caf\\u00e9 \\\"Q\\\"\",\"Zeta\":null,\"Alpha\":[true,false]}"
#define APIGET_EMPTY_PATH "/services/data/v59.0/sobjects/Event/00U000000000001AAA/empty"
/* BR-12's SOQL with its '+' percent-encoded by the caller, as it must be */
#define BR12_SOQL "SELECT Id FROM Account WHERE LastModifiedDate >= 2013-12-01T12:00:00+00:00"
#define BR12_Q_ENCODED "SELECT+Id+FROM+Account+WHERE+LastModifiedDate+%3E%3D+2013-12-01T12%3A00%3A00%2B00%3A00"

/* BR-12's Event, an Opportunity with long numbers, an empty 204, BR-12's query (MALFORMED_QUERY
 * when a '+' was read as a space), BR-06's Contact query and locators; 404 NOT_FOUND otherwise. */
static void apiget_handler(scripted_server *s, const ss_request *r, ss_reply *out) {
  char *q = is_query_target(r->target) ? ss_param(r->target, "q", 1) : NULL;
  if (strcmp(r->target, APIGET_EVENT_PATH) == 0) {
    ss_json(out, 200, "%s", BR12_EVENT);
  } else if (strcmp(r->target, APIGET_OPP_PATH) == 0) {
    ss_json(out, 200, "%s", APIGET_OPP);
  } else if (strcmp(r->target, APIGET_EMPTY_PATH) == 0) {
    out->status = 204;
  } else if (q && contains(q, "FROM Contact")) {
    br06_handler(s, r, out);
  } else if (q && time_then_space(q)) {
    ss_json(out, 400, "[{\"message\":\"line 1:70 no viable alternative at character ' '\",\"errorCode\":\"MALFORMED_QUERY\"}]");
  } else if (q) {
    ss_json(out, 200, "{\"totalSize\":0,\"done\":true,\"records\":[]}");
  } else {
    br06_handler(s, r, out); /* the locators, or 404 NOT_FOUND */
  }
  free(q);
}

/* The request target the scripted server saw last (malloc'd) and how many it saw. */
static char *ss_last_target(scripted_server *s, int *n) {
  char *t = NULL;
  pthread_mutex_lock(&s->mu);
  *n = s->n_reqs;
  if (s->n_reqs > 0) t = strdup(s->reqs[s->n_reqs - 1].target);
  pthread_mutex_unlock(&s->mu);
  return t;
}

/* Through a scripted server, the exact request line and body: BR-12 (datetimes untouched, a '%2B'
 * in a SOQL literal sent as is, so Salesforce decodes exactly the SOQL; an unencoded '+' is the
 * caller's MALFORMED_QUERY), BR-06's single page (done=false and nextRecordsUrl come back as is,
 * no further request; the locator fetched on its own), every digit of a number, 204 → null. */
static void test_api_get_scripted(void) {
  scripted_server s;
  sfcrm_client *c;
  char *json = NULL, *target = NULL, *raw = NULL, *q = NULL, url[256];
  size_t len = 0;
  int n = 0;
  if (!ss_start(&s, apiget_handler, NULL)) {
    CHECK(!"scripted server started");
    return;
  }
  c = scripted_client(&s, "acc-ag", "user-ag");
  /* BR-12: the Event's datetimes and date reach C byte-exact (the body is already compact) */
  EXPECT_OK(sfcrm_client_api_get(c, "acc-ag", "user-ag", APIGET_EVENT_PATH, &json, &len, &err));
  CHECK(json && strcmp(json, BR12_EVENT) == 0 && len == strlen(BR12_EVENT));
  sfcrm_string_free(json);
  json = NULL;
  target = ss_last_target(&s, &n);
  CHECK(n == 1 && target && strcmp(target, APIGET_EVENT_PATH) == 0);
  free(target);
  pthread_mutex_lock(&s.mu);
  CHECK(s.n_reqs == 1 && strcmp(s.reqs[0].method, "GET") == 0 && s.reqs[0].authorization &&
        strcmp(s.reqs[0].authorization, "Bearer 00DFAKE!TOKEN1") == 0);
  pthread_mutex_unlock(&s.mu);
  /* BR-12: raw SOQL with "%2B" goes out exactly as given; the server decodes exactly the SOQL */
  ss_clear(&s);
  EXPECT_OK(sfcrm_client_api_get(c, "acc-ag", "user-ag", "/services/data/v59.0/query?q=" BR12_Q_ENCODED, &json, &len, &err));
  CHECK(json && strcmp(json, "{\"totalSize\":0,\"done\":true,\"records\":[]}") == 0);
  sfcrm_string_free(json);
  json = NULL;
  target = ss_last_target(&s, &n);
  CHECK(n == 1 && target && strcmp(target, "/services/data/v59.0/query?q=" BR12_Q_ENCODED) == 0);
  if (target) {
    raw = ss_param(target, "q", 0);
    q = ss_param(target, "q", 1);
  }
  CHECK(raw && contains(raw, "2013-12-01T12%3A00%3A00%2B00%3A00"));
  CHECK(q && strcmp(q, BR12_SOQL) == 0);
  free(target);
  free(raw);
  free(q);
  /* the SDK does not re-encode a path: a raw '+' reaches Salesforce as a space (MALFORMED_QUERY) */
  {
    sfcrm_error *err = NULL;
    char *untouched = (char *)0x1;
    sfcrm_result rc = sfcrm_client_api_get(c, "acc-ag", "user-ag",
                                           "/services/data/v59.0/query?q=SELECT+Id+FROM+Account+WHERE+LastModifiedDate+%3E%3D+2013-12-01T12:00:00+00:00",
                                           &untouched, NULL, &err);
    CHECK(rc == SFCRM_RESULT_API && sfcrm_error_http_status(err) == 400);
    CHECK(sfcrm_error_salesforce_code(err) && strcmp(sfcrm_error_salesforce_code(err), "MALFORMED_QUERY") == 0);
    CHECK(untouched == (char *)0x1);
    sfcrm_error_free(err);
  }
  /* BR-06, one page: done=false and nextRecordsUrl come back as is; no locator is followed */
  ss_clear(&s);
  EXPECT_OK(sfcrm_client_api_get(c, "acc-ag", "user-ag", "/services/data/v59.0/query?q=SELECT+Id%2CName+FROM+Contact+ORDER+BY+Name", &json, &len, &err));
  {
    char *a = br06_contact(1), *b = br06_contact(2), *want = NULL;
    if (asprintf(&want, "{\"totalSize\":5,\"done\":false,\"nextRecordsUrl\":\"%s\",\"records\":[%s,%s]}", BR06_MORE2, a, b) < 0) want = NULL;
    CHECK(json && want && strcmp(json, want) == 0 && len == strlen(want));
    free(a);
    free(b);
    free(want);
  }
  sfcrm_string_free(json);
  json = NULL;
  CHECK(ss_count(&s) == 1);
  /* the locator, fetched by the caller as an absolute instance URL: page 2 as is */
  snprintf(url, sizeof url, "%s%s", s.base_url, BR06_MORE2);
  EXPECT_OK(sfcrm_client_api_get(c, "acc-ag", "user-ag", url, &json, NULL, &err));
  CHECK(contains(json, "\"done\":false,\"nextRecordsUrl\":\"" BR06_MORE4 "\"") && count_substr(json, "\"Id\":\"003") == 2 &&
        contains(json, "\"Name\":\"Cy Test\"") && contains(json, "\"Name\":\"Jane Roe\""));
  sfcrm_string_free(json);
  json = NULL;
  target = ss_last_target(&s, &n);
  CHECK(n == 2 && target && strcmp(target, BR06_MORE2) == 0);
  free(target);
  /* numbers keep every digit, strings their escapes' meaning, keys their order */
  EXPECT_OK(sfcrm_client_api_get(c, "acc-ag", "user-ag", APIGET_OPP_PATH, &json, &len, &err));
  CHECK(contains(json, "\"Amount\":12345678901234567890.123456789,\"Probability\":1.50,"));
  CHECK(json && strncmp(json, "{\"attributes\":{\"type\":\"Opportunity\"},\"Id\":", 42) == 0 &&
        contains(json, "\"Zeta\":null,\"Alpha\":[true,false]}") && contains(json, "\"Name\":\"Café \\\"Q\\\"\""));
  if (!contains(json, "\"Amount\":12345678901234567890.123456789,")) fprintf(stderr, "  api_get number: %s\n", json ? json : "(null)");
  sfcrm_string_free(json);
  json = NULL;
  /* an empty 204 body is JSON null */
  EXPECT_OK(sfcrm_client_api_get(c, "acc-ag", "user-ag", APIGET_EMPTY_PATH, &json, &len, &err));
  CHECK(json && strcmp(json, "null") == 0 && len == 4);
  sfcrm_string_free(json);
  json = NULL;
  /* an unknown path: 404 with Salesforce's errorCode */
  {
    sfcrm_error *err = NULL;
    sfcrm_result rc = sfcrm_client_api_get(c, "acc-ag", "user-ag", "/services/data/v59.0/nothing", &json, &len, &err);
    CHECK(rc == SFCRM_RESULT_API && sfcrm_error_http_status(err) == 404);
    CHECK(sfcrm_error_salesforce_code(err) && strcmp(sfcrm_error_salesforce_code(err), "NOT_FOUND") == 0);
    CHECK(json == NULL);
    sfcrm_error_free(err);
  }
  sfcrm_client_free(c);
  ss_stop(&s);
}

/* BR-14's values (UTF-8 in this source file): an en dash and Latin accents, a rocket and a
 * thumbs-up with a skin-tone modifier (2 code points), CJK, an escaped newline, HTML with &amp;. */
#define BR14_NAME1 "Jane Roe – Café ãñõ"
#define BR14_DESC1 "Loves 🚀 launches 👍🏽"
#define BR14_RICH "<p>Met <b>Jane</b> &amp; team 😀</p><br><ul><li>café</li></ul>"
#define BR14_NAME2 "北京 Acme"
#define BR14_MORE "/services/data/v59.0/query/01gFAKE000000014AA-1"
#define BR14_REC1                                                                                             \
  "{\"attributes\":{\"type\":\"Account\",\"url\":\"/services/data/v59.0/sobjects/Account/001000000000001AAA\"}," \
  "\"Id\":\"001000000000001AAA\",\"Name\":\"" BR14_NAME1 "\",\"Description\":\"" BR14_DESC1 "\","                \
  "\"Notes_Rich__c\":\"" BR14_RICH "\"}"
#define BR14_REC2                                                                                             \
  "{\"attributes\":{\"type\":\"Account\",\"url\":\"/services/data/v59.0/sobjects/Account/001000000000002AAA\"}," \
  "\"Id\":\"001000000000002AAA\",\"Name\":\"" BR14_NAME2 "\",\"Description\":\"Line one\\nline two\","            \
  "\"Notes_Rich__c\":null}"

static void br14_handler(scripted_server *s, const ss_request *r, ss_reply *out) {
  (void)s;
  if (is_query_target(r->target))
    ss_json(out, 200, "{\"totalSize\":2,\"done\":false,\"nextRecordsUrl\":\"%s\",\"records\":[%s]}", BR14_MORE, BR14_REC1);
  else if (strcmp(r->target, BR14_MORE) == 0)
    ss_json(out, 200, "{\"totalSize\":2,\"done\":true,\"records\":[%s]}", BR14_REC2);
  else
    ss_json(out, 404, "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]");
}

/* The CSV rows of `text` as fields (row-major, `*cols` per row when all rows agree), malloc'd. */
static char **csv_parse(const char *text, size_t *n_fields, size_t *cols) {
  size_t cap = 64, n = 0, in_row = 0;
  char **f = malloc(cap * sizeof *f), *v;
  int eor = 0;
  *cols = 0;
  while ((v = csv_field(&text, &eor)) != NULL) {
    if (n == cap) f = realloc(f, (cap *= 2) * sizeof *f);
    f[n++] = v;
    in_row++;
    if (eor) {
      if (*cols == 0) *cols = in_row;
      else if (*cols != in_row) *cols = SIZE_MAX;
      in_row = 0;
    }
  }
  *n_fields = n;
  return f;
}

static void csv_free(char **f, size_t n) {
  for (size_t i = 0; i < n; i++) free(f[i]);
  free(f);
}

/* BR-14: non-ASCII text, emoji (a skin-tone sequence whole) and rich text reach C byte-exact
 * through the cursor's batches (both formats, across two uneven pages) and the CSV file and
 * NDJSON writers; a quoted CSV field keeps its newline as one field. */
static void test_br14_unicode_byte_exact(void) {
  scripted_server s;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_export_summary sum = {0, 0, 0};
  struct sink nd = {0};
  char *all = NULL, path[400], *csv, **f;
  size_t all_len = 0, records = 0, nf = 0, cols = 0;
  FILE *mem;
  /* 👍🏽 is U+1F44D U+1F3FD */
  CHECK(strstr(BR14_DESC1, "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd") != NULL);
  if (!ss_start(&s, br14_handler, NULL)) {
    CHECK(!"scripted server started");
    return;
  }
  c = scripted_client(&s, "acc-14", "user-14");
  EXPECT_OK(sfcrm_export_request_new_custom("Account", "Name,Description,Notes_Rich__c", &req, &err));
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-14", "user-14", req, &cur, &err));
  mem = open_memstream(&all, &all_len);
  for (int i = 0;; i++) {
    char *b = NULL;
    size_t len = 0, count = 0;
    EXPECT_OK(sfcrm_export_cursor_next(cur, i == 0 ? SFCRM_BATCH_FORMAT_JSON_ARRAY : SFCRM_BATCH_FORMAT_NDJSON, &b, &len, &count, &err));
    if (!b) break;
    CHECK(strlen(b) == len && count == 1);
    records += count;
    fwrite(b, 1, len, mem);
    sfcrm_string_free(b);
  }
  fclose(mem);
  CHECK(records == 2);
  CHECK(count_substr(all, BR14_REC1) == 1 && count_substr(all, BR14_REC2) == 1);
  CHECK(!contains(all, "Ã") && !contains(all, "\\u"));
  free(all);
  sfcrm_export_cursor_free(cur);

  /* the NDJSON writer: the same values, the escaped newline still an escape */
  EXPECT_OK(sfcrm_client_export_to_callback(c, "acc-14", "user-14", req, SFCRM_EXPORT_FORMAT_NDJSON, sink_write, &nd, &sum, NULL, NULL, &err));
  CHECK(sum.records == 2 && nd.data && count_lines(nd.data) == 2);
  CHECK(contains(nd.data, "\"Name\":\"" BR14_NAME1 "\",\"Description\":\"" BR14_DESC1 "\",\"Notes_Rich__c\":\"" BR14_RICH "\""));
  CHECK(contains(nd.data, "\"Name\":\"" BR14_NAME2 "\",\"Description\":\"Line one\\nline two\""));
  CHECK(!contains(nd.data, "Ã"));
  free(nd.data);

  /* the CSV file writer: decoded fields equal the JSON values */
  snprintf(path, sizeof path, "%s/br14.csv", g_tmpdir);
  EXPECT_OK(sfcrm_client_export_to_path(c, "acc-14", "user-14", req, SFCRM_EXPORT_FORMAT_CSV, path, &sum, NULL, NULL, &err));
  csv = read_file(path);
  CHECK(sum.records == 2 && csv && !contains(csv, "Ã"));
  f = csv_parse(csv ? csv : "", &nf, &cols);
  CHECK(cols == 4 && nf == 12);
  if (cols == 4 && nf == 12) {
    CHECK(strcmp(f[0], "Id") == 0 && strcmp(f[1], "Name") == 0 && strcmp(f[2], "Description") == 0 && strcmp(f[3], "Notes_Rich__c") == 0);
    CHECK(strcmp(f[4], "001000000000001AAA") == 0 && strcmp(f[5], BR14_NAME1) == 0);
    CHECK(strcmp(f[6], BR14_DESC1) == 0 && strcmp(f[7], BR14_RICH) == 0);
    CHECK(strcmp(f[9], BR14_NAME2) == 0 && strcmp(f[10], "Line one\nline two") == 0 && f[11][0] == '\0');
  }
  CHECK(contains(csv, "\"Line one\nline two\"")); /* one quoted field, the newline inside it */
  csv_free(f, nf);
  free(csv);
  CHECK(ss_count(&s) == 6); /* 2 pages each for the cursor and the two writers */
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
  ss_stop(&s);
}

/* BR-14 against the org emulator (as the Python and Node suites): the CSV file's Names equal the
 * cursor's JSON Names, record by record; some are non-ASCII and none is mojibake. */
static void test_br14_emulator(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_export_request *req = NULL;
  sfcrm_export_cursor *cur = NULL;
  sfcrm_export_summary sum = {0, 0, 0};
  char path[400], *csv, **f;
  size_t nf = 0, cols = 0, row = 1, same = 0, non_ascii = 0, mojibake = 0, n = 0;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  sfcrm_store_free(store);
  CHECK(connect_user(c, "acc-14e", "user-14e"));
  EXPECT_OK(sfcrm_export_request_new("contacts", &req, &err));
  snprintf(path, sizeof path, "%s/br14-contacts.csv", g_tmpdir);
  EXPECT_OK(sfcrm_client_export_to_path(c, "acc-14e", "user-14e", req, SFCRM_EXPORT_FORMAT_CSV, path, &sum, NULL, NULL, &err));
  csv = read_file(path);
  f = csv_parse(csv ? csv : "", &nf, &cols);
  CHECK(cols == 7 && nf == 7 * 1501 && strcmp(f[0], "Id") == 0 && strcmp(f[1], "Name") == 0);
  EXPECT_OK(sfcrm_export_cursor_open(c, "acc-14e", "user-14e", req, &cur, &err));
  for (;;) {
    char *b = NULL;
    size_t len = 0, count = 0;
    EXPECT_OK(sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_NDJSON, &b, &len, &count, &err));
    if (!b) break;
    for (char *line = b; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
      const char *id = strstr(line, "\"Id\":\""), *nm = id ? strstr(id, "\"Name\":\"") : NULL;
      char *name;
      if (!nm) break;
      n++;
      name = json_unescape(nm + 8);
      if (cols == 7 && row * 7 + 1 < nf && strncmp(f[row * 7], id + 6, 18) == 0 && strcmp(f[row * 7 + 1], name) == 0) same++;
      for (const unsigned char *u = (const unsigned char *)name; *u; u++)
        if (*u >= 0x80) {
          non_ascii++;
          break;
        }
      mojibake += contains(name, "Ã");
      free(name);
      row++;
    }
    sfcrm_string_free(b);
  }
  CHECK(n == 1500 && same == 1500);
  CHECK(non_ascii > 0 && mojibake == 0);
  csv_free(f, nf);
  free(csv);
  sfcrm_export_cursor_free(cur);
  sfcrm_export_request_free(req);
  sfcrm_client_free(c);
}

/* sfcrm_error_raw_body: the body of the failed response, never a token. A successful token
 * response that cannot be read (it holds tokens) is not kept; an OAuth error body is, without
 * the tokens the client holds. (BR-08's REST error array is checked in br08; the HTML 503 and
 * Salesforce error arrays in refresh_session_and_errors.) */
static void test_error_raw_body_never_holds_a_token(void) {
  sfcrm_store *store = NULL;
  sfcrm_client *c;
  sfcrm_connection_info info;
  bool found = false;
  char *doc = NULL, *at = NULL, *rt = NULL, *json = NULL;
  EXPECT_OK(sfcrm_store_new_memory(&store, &err));
  c = new_client(store);
  CHECK(connect_user(c, "acc-rb", "user-rb"));
  EXPECT_OK(sfcrm_store_load(store, "acc-rb", "user-rb", &found, &doc, &err));
  at = json_string_field(doc, "access_token");
  rt = json_string_field(doc, "refresh_token");
  sfcrm_string_free(doc);
  CHECK(at && rt && strlen(at) > 8 && strlen(rt) > 8);
  /* a 2xx token response cut off mid-way: a typed error without the body */
  CHECK(emulator_post("/__emulator/faults",
                      "{\"endpoint\":\"token\",\"kind\":\"custom\",\"count\":1,\"status\":200,\"content_type\":\"application/json\","
                      "\"body\":\"{\\\"access_token\\\":\\\"00DFAKE!LEAKED\\\",\\\"refresh_token\\\":\\\"5AepFAKELEAKED\\\",\\\"instance_url\\\":\"}") == 200);
  {
    sfcrm_error *e = NULL;
    sfcrm_result rc = sfcrm_client_refresh(c, "acc-rb", "user-rb", &info, &e);
    CHECK(rc != SFCRM_RESULT_OK && e != NULL);
    if (rc == SFCRM_RESULT_OK) sfcrm_connection_info_clear(&info);
    CHECK(sfcrm_error_raw_body(e) == NULL);
    CHECK(!contains(sfcrm_error_message(e), "LEAKED"));
    sfcrm_error_free(e);
  }
  CHECK(emulator_delete("/__emulator/faults") == 200);
  /* a refused refresh: the OAuth error object is kept, and no token of this client is in it */
  CHECK(emulator_post("/__emulator/refresh_tokens/revoke", NULL) == 200);
  CHECK(emulator_post("/__emulator/sessions/expire", NULL) == 200);
  {
    sfcrm_error *e = NULL;
    CHECK(sfcrm_client_export_page(c, "acc-rb", "user-rb", "notes", 1, 3, &json, NULL, &e) == SFCRM_RESULT_RECONNECT_REQUIRED);
    CHECK(contains(sfcrm_error_raw_body(e), "\"error\":\"invalid_grant\""));
    CHECK(at && rt && !contains(sfcrm_error_raw_body(e), at) && !contains(sfcrm_error_raw_body(e), rt));
    CHECK(at && rt && !contains(sfcrm_error_message(e), at) && !contains(sfcrm_error_message(e), rt));
    sfcrm_error_free(e);
  }
  free(at);
  free(rt);
  sfcrm_client_free(c);
  sfcrm_store_free(store);
}

/* Issue 11: queries, bind values, child cursors, describe, all-fields and filtered exports. */
#include "test_query.c"
#include "test_incremental.c"
#include "test_bulk.c"

/* ---- main --------------------------------------------------------------------------------- */

static int asan_selftest(void) {
  volatile char *p = malloc(8);
  int i = 8;
  p[i] = 'x'; /* heap-buffer-overflow: ASan must abort here */
  free((void *)p);
  return 0;
}

int main(int argc, char **argv) {
  char tmpl[] = "/tmp/sfcrm-c-tests-XXXXXX";
  if (argc > 1 && strcmp(argv[1], "--asan-selftest") == 0) return asan_selftest();
  if (argc > 1) g_only = argv[1];
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    return 2;
  }
  snprintf(g_tmpdir, sizeof g_tmpdir, "%s", tmpl);
  g_login_url = getenv("SF_ORG_EMULATOR_LOGIN_URL");
  g_instance_url = getenv("SF_ORG_EMULATOR_INSTANCE_URL");

  run("version", test_version);
  run("result_names", test_result_names);
  run("error_accessors_on_bad_handles", test_error_accessors_on_bad_handles);
  run("error_object_details", test_error_object_details);
  run("strings", test_strings);
  run("config", test_config);
  run("store_callbacks_lifecycle", test_store_callbacks_lifecycle);
  run("store_roundtrip_and_cas", test_store_roundtrip_and_cas);
  run("store_garbage", test_store_garbage);
  run("builtin_stores", test_builtin_stores);
  run("export_requests", test_export_requests);
  run("paginator_vectors", test_paginator_vectors);
  if (g_login_url && g_instance_url) {
    run("client_new_misuse", test_client_new_misuse);
    run("login_callback_flow", test_login_callback_flow);
    run("store_failure_through_client", test_store_failure_through_client);
    run("export_page", test_export_page);
    run("refresh_session_and_errors", test_refresh_session_and_errors);
    run("disconnect", test_disconnect);
    run("client_from_many_threads", test_client_from_many_threads);
    run("cursor", test_cursor);
    run("cursor_records_verbatim", test_cursor_records_verbatim);
    run("cursor_cancel", test_cursor_cancel);
    run("cursor_options_and_sealed_client_store", test_cursor_options_and_sealed_client_store);
    run("export_to_path_and_callback", test_export_to_path_and_callback);
    run("failure_parity", test_failure_parity);
    run("field_cases", test_field_cases);
    run("br06_uneven_batches", test_br06_uneven_batches);
    run("br06_short_pages_emulator", test_br06_short_pages_emulator);
    run("br08_deep_pages_without_offset", test_br08_deep_pages_without_offset);
    run("br12_datetimes_and_plus", test_br12_datetimes_and_plus);
    run("br12_emulator", test_br12_emulator);
    run("api_get_emulator", test_api_get_emulator);
    run("api_get_scripted", test_api_get_scripted);
    run("br14_unicode_byte_exact", test_br14_unicode_byte_exact);
    run("br14_emulator", test_br14_emulator);
    run("error_raw_body_never_holds_a_token", test_error_raw_body_never_holds_a_token);
    run("sealing_key_not_in_errors", test_sealing_key_not_in_errors);
    run("query_request_misuse", test_query_request_misuse);
    run("query_bind_values", test_query_bind_values);
    run("query_children", test_query_children);
    run("describe", test_describe);
    run("wide_all_fields_export", test_wide_all_fields_export);
    run("export_where", test_export_where);
    run("query_resume_after_session_expiry", test_query_resume_after_session_expiry);
    run("query_bad_soql", test_query_bad_soql);
    run("bulk_request_misuse", test_bulk_request_misuse);
    run("bulk_export_equals_rest", test_bulk_export_equals_rest);
    run("bulk_query_equals_rest", test_bulk_query_equals_rest);
    run("bulk_fallbacks", test_bulk_fallbacks);
    run("incremental_watermarks", test_incremental_watermarks); /* last: it moves the clock, touches Notes */
  } else {
    fprintf(stderr, "FAIL: SF_ORG_EMULATOR_LOGIN_URL / SF_ORG_EMULATOR_INSTANCE_URL not set; client tests not run\n");
    g_failed++;
  }
  {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmpdir);
  }
  printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
