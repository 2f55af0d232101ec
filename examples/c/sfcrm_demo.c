/*
 * sfcrm_demo: a C host of libsfcrm running the whole flow against a Salesforce org (by default the
 * org emulator, tests/org-emulator):
 *
 *   connect (login -> the user's browser at the authorize URL -> callback), tokens kept in SQLite
 *   -> one seed-compatible export page -> a streaming export of deals through a cursor
 *   -> all contacts exported to CSV -> refresh -> API usage and call counts -> disconnect.
 *
 * Usage: sfcrm_demo [--out contacts.csv] [--db tokens.db] [--keep]
 *   Org: SF_ORG_EMULATOR_LOGIN_URL (printed by sf-org-emulator), with the emulator's demo connected
 *   app; or, when SALESFORCE_CLIENT_ID is set, every setting from the environment
 *   (sfcrm_config_from_env). --keep skips the final disconnect.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini_http.h"
#include "sfcrm.h"
#include "sqlite_store.h"

static const char *ACCOUNT = "acme-account-1";
static const char *OWNER = "user-42";
static const char *FORWARD = "http://localhost:3000/settings/integrations";

/* Prints an error (kind, message and whatever Salesforce said) and frees it. */
static int report(const char *what, sfcrm_result rc, sfcrm_error *err) {
  fprintf(stderr, "%s failed: %s (%u): %s", what, sfcrm_result_name(rc), (unsigned)rc, sfcrm_error_message(err));
  if (sfcrm_error_http_status(err)) fprintf(stderr, " [HTTP %u]", (unsigned)sfcrm_error_http_status(err));
  if (sfcrm_error_salesforce_code(err)) fprintf(stderr, " [%s]", sfcrm_error_salesforce_code(err));
  if (sfcrm_error_oauth_error(err)) fprintf(stderr, " [%s]", sfcrm_error_oauth_error(err));
  fprintf(stderr, "\n");
  sfcrm_error_free(err);
  return 1;
}

#define TRY(what, call)                                \
  do {                                                 \
    sfcrm_error *err = NULL;                           \
    sfcrm_result rc = (call);                          \
    if (rc != SFCRM_RESULT_OK) {                       \
      status = report(what, rc, err);                  \
      goto done;                                       \
    }                                                  \
  } while (0)

static sfcrm_config *make_config(void) {
  sfcrm_config *cfg = NULL;
  sfcrm_error *err = NULL;
  const char *login = getenv("SF_ORG_EMULATOR_LOGIN_URL");
  if (getenv("SALESFORCE_CLIENT_ID")) {
    if (sfcrm_config_from_env(&cfg, &err) != SFCRM_RESULT_OK) {
      report("sfcrm_config_from_env", sfcrm_error_code(err), err);
      return NULL;
    }
    return cfg;
  }
  if (!login) {
    fprintf(stderr, "set SF_ORG_EMULATOR_LOGIN_URL (start target/debug/sf-org-emulator) or SALESFORCE_* variables\n");
    return NULL;
  }
  if (sfcrm_config_new(&cfg, &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_client_id(cfg, "sfcrm-demo-client", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_client_secret(cfg, "sfcrm-demo-secret", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_redirect_uri(cfg, "http://127.0.0.1:8080/oauth/salesforce/callback", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_login_url(cfg, login, &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_state_secret(cfg, "demo-only-state-secret-change-me-0123456789", &err) != SFCRM_RESULT_OK ||
      sfcrm_config_set_forward_origins(cfg, "http://localhost:3000", &err) != SFCRM_RESULT_OK) {
    report("config", sfcrm_error_code(err), err);
    sfcrm_config_free(cfg);
    return NULL;
  }
  return cfg;
}

int main(int argc, char **argv) {
  const char *out_path = "contacts.csv", *db_path = "sfcrm-tokens.db";
  int keep = 0, status = 0;
  sfcrm_config *cfg = NULL;
  sfcrm_store *store = NULL;
  sfcrm_client *client = NULL;
  sfcrm_export_request *deals = NULL, *contacts = NULL;
  sfcrm_export_cursor *cursor = NULL;
  char *url = NULL, *code = NULL, *state = NULL, *page = NULL, *batch = NULL, *checkpoint = NULL;
  bool already = false, found = false, known = false, revoked = false;
  sfcrm_callback_result cb = {0};
  sfcrm_connection_info info = {0}, refreshed = {0};
  mini_http_response browser = {0};
  sfcrm_export_summary summary = {0, 0, 0};
  sfcrm_api_calls calls;
  uint64_t used = 0, limit = 0, deal_records = 0;
  size_t len = 0, count = 0, batches = 0;

  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) out_path = argv[++i];
    else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) db_path = argv[++i];
    else if (strcmp(argv[i], "--keep") == 0) keep = 1;
    else {
      fprintf(stderr, "usage: %s [--out contacts.csv] [--db tokens.db] [--keep]\n", argv[0]);
      return 2;
    }
  }
  printf("libsfcrm %s (header %s)\n", sfcrm_version(), SFCRM_VERSION_STRING);
  if (strcmp(sfcrm_version(), SFCRM_VERSION_STRING) != 0) {
    fprintf(stderr, "header and library versions differ\n");
    return 1;
  }

  if (!(cfg = make_config()) || !(store = sqlite_store_open(db_path))) {
    status = 1;
    goto done;
  }
  TRY("sfcrm_client_new", sfcrm_client_new(cfg, store, &client, &err));

  /* 1. connect: login gives the authorize URL; the user's browser goes there, Salesforce redirects
   *    back to our callback with ?code&state (here mini_http plays the browser). */
  TRY("sfcrm_client_login", sfcrm_client_login(client, ACCOUNT, OWNER, FORWARD, &url, &already, &err));
  if (!already) {
    if (mini_http_request("GET", url, NULL, &browser) != 0 || browser.status != 302 || !browser.location) {
      fprintf(stderr, "the authorize URL did not redirect (status %d)\n", browser.status);
      status = 1;
      goto done;
    }
    code = mini_http_query_param(browser.location, "code");
    state = mini_http_query_param(browser.location, "state");
    TRY("sfcrm_client_callback", sfcrm_client_callback(client, code, state, NULL, NULL, &cb, &err));
    if (!cb.success) {
      fprintf(stderr, "connection failed: %s\n", cb.error_reason);
      status = 1;
      goto done;
    }
    printf("connected %s/%s; browser goes to %s\n", cb.account_id, cb.owner, cb.redirect_url);
  } else {
    printf("already connected (%s)\n", url);
  }
  TRY("sfcrm_client_connection_info", sfcrm_client_connection_info(client, ACCOUNT, OWNER, &found, &info, &err));
  if (found) printf("instance_url %s, document version %llu\n", info.instance_url, (unsigned long long)info.version);

  /* 2. the seed's export page: {"success":true,"message":"SUCCESS","data":[...],"pagination":{...}} */
  TRY("sfcrm_client_export_page", sfcrm_client_export_page(client, ACCOUNT, OWNER, "contacts", 1, 5, &page, &len, &err));
  printf("export page (contacts, page 1, limit 5): %zu bytes of JSON\n", len);

  /* 3. a streaming export through a cursor (NDJSON batches) */
  TRY("sfcrm_export_request_new", sfcrm_export_request_new("deals", &deals, &err));
  TRY("sfcrm_export_cursor_open", sfcrm_export_cursor_open(client, ACCOUNT, OWNER, deals, &cursor, &err));
  for (;;) {
    TRY("sfcrm_export_cursor_next", sfcrm_export_cursor_next(cursor, SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, &err));
    if (!batch) break;
    deal_records += count;
    batches++;
    sfcrm_string_free(batch);
    batch = NULL;
  }
  printf("streamed %llu deals in %zu batches\n", (unsigned long long)deal_records, batches);

  /* 4. every contact to CSV (written to a temporary file, renamed on success) */
  TRY("sfcrm_export_request_new", sfcrm_export_request_new("contacts", &contacts, &err));
  TRY("sfcrm_client_export_to_path",
      sfcrm_client_export_to_path(client, ACCOUNT, OWNER, contacts, SFCRM_EXPORT_FORMAT_CSV, out_path, &summary, &checkpoint, NULL, &err));
  printf("exported %llu contacts to %s (%llu query calls)\n", (unsigned long long)summary.records, out_path,
         (unsigned long long)summary.api_calls);

  /* 5. refresh, usage, counters */
  TRY("sfcrm_client_refresh", sfcrm_client_refresh(client, ACCOUNT, OWNER, &refreshed, &err));
  printf("refreshed: document version %llu\n", (unsigned long long)refreshed.version);
  TRY("sfcrm_client_api_usage", sfcrm_client_api_usage(client, &known, &used, &limit, &err));
  if (known) printf("org API usage: %llu of %llu daily requests\n", (unsigned long long)used, (unsigned long long)limit);
  TRY("sfcrm_client_api_calls", sfcrm_client_api_calls(client, &calls, &err));
  printf("this client: %llu API requests (%llu query, %llu query-more), %llu token requests, %llu refreshes\n",
         (unsigned long long)calls.api_requests, (unsigned long long)calls.query, (unsigned long long)calls.query_more,
         (unsigned long long)calls.token_requests, (unsigned long long)calls.refreshes);

  /* 6. disconnect: revoke at Salesforce, delete the row */
  if (!keep) {
    TRY("sfcrm_client_disconnect", sfcrm_client_disconnect(client, ACCOUNT, OWNER, &revoked, NULL, &err));
    printf("disconnected (revoked: %s)\n", revoked ? "yes" : "no");
  }

done:
  sfcrm_string_free(url);
  sfcrm_string_free(page);
  sfcrm_string_free(batch);
  sfcrm_string_free(checkpoint);
  sfcrm_callback_result_clear(&cb);
  sfcrm_connection_info_clear(&info);
  sfcrm_connection_info_clear(&refreshed);
  sfcrm_export_cursor_free(cursor);
  sfcrm_export_request_free(deals);
  sfcrm_export_request_free(contacts);
  sfcrm_client_free(client);
  sfcrm_store_free(store); /* last reference: closes the database */
  sfcrm_config_free(cfg);
  mini_http_response_free(&browser);
  free(code);
  free(state);
  return status;
}
