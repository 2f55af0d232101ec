/* See sqlite_store.h. */
#include "sqlite_store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char *SCHEMA =
    "CREATE TABLE IF NOT EXISTS connections ("
    "  account_id TEXT NOT NULL,"
    "  owner      TEXT NOT NULL,"
    "  document   TEXT NOT NULL,"  /* the SDK's connection document (JSON, schema 1) */
    "  version    INTEGER NOT NULL," /* mirrors document.version; the compare-and-swap column */
    "  PRIMARY KEY (account_id, owner))";

/* Reports an SQLite failure to the SDK (it becomes an SFCRM_RESULT_STORE error). */
static uint32_t fail(sqlite3 *db, sfcrm_store_reply *reply, const char *what) {
  char msg[512];
  snprintf(msg, sizeof msg, "sqlite %s: %s", what, sqlite3_errmsg(db));
  sfcrm_store_reply_set_error(reply, msg);
  return SFCRM_STORE_STATUS_ERROR;
}

static uint32_t load(void *user_data, const char *account_id, const char *owner, sfcrm_store_reply *reply) {
  sqlite3 *db = user_data;
  sqlite3_stmt *st = NULL;
  uint32_t status;
  int rc;
  if (sqlite3_prepare_v2(db, "SELECT document FROM connections WHERE account_id = ?1 AND owner = ?2", -1, &st, NULL) != SQLITE_OK)
    return fail(db, reply, "prepare load");
  sqlite3_bind_text(st, 1, account_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *doc = (const char *)sqlite3_column_text(st, 0);
    int len = sqlite3_column_bytes(st, 0);
    sfcrm_store_reply_set_document(reply, doc, (size_t)len); /* copied by the SDK */
    status = SFCRM_STORE_STATUS_OK;
  } else if (rc == SQLITE_DONE) {
    status = SFCRM_STORE_STATUS_NOT_FOUND;
  } else {
    status = fail(db, reply, "load");
  }
  sqlite3_finalize(st);
  return status;
}

static uint32_t save(void *user_data, const char *account_id, const char *owner, const char *document_json,
                     size_t document_len, uint64_t new_version, bool has_expected_version, uint64_t expected_version,
                     sfcrm_store_reply *reply) {
  sqlite3 *db = user_data;
  sqlite3_stmt *st = NULL;
  const char *sql = has_expected_version
                        ? "UPDATE connections SET document = ?3, version = ?4 "
                          "WHERE account_id = ?1 AND owner = ?2 AND version = ?5"
                        : "INSERT INTO connections (account_id, owner, document, version) VALUES (?1, ?2, ?3, ?4) "
                          "ON CONFLICT (account_id, owner) DO NOTHING";
  uint32_t status;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return fail(db, reply, "prepare save");
  sqlite3_bind_text(st, 1, account_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 3, document_json, (int)document_len, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)new_version);
  if (has_expected_version) sqlite3_bind_int64(st, 5, (sqlite3_int64)expected_version);
  if (sqlite3_step(st) != SQLITE_DONE) {
    status = fail(db, reply, "save");
  } else {
    /* exactly one row changed: our write won; none: another writer got there first */
    status = sqlite3_changes(db) == 1 ? SFCRM_STORE_STATUS_OK : SFCRM_STORE_STATUS_CONFLICT;
  }
  sqlite3_finalize(st);
  return status;
}

static uint32_t remove_doc(void *user_data, const char *account_id, const char *owner, sfcrm_store_reply *reply) {
  sqlite3 *db = user_data;
  sqlite3_stmt *st = NULL;
  uint32_t status;
  if (sqlite3_prepare_v2(db, "DELETE FROM connections WHERE account_id = ?1 AND owner = ?2", -1, &st, NULL) != SQLITE_OK)
    return fail(db, reply, "prepare remove");
  sqlite3_bind_text(st, 1, account_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, owner, -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) != SQLITE_DONE)
    status = fail(db, reply, "remove");
  else
    status = sqlite3_changes(db) == 1 ? SFCRM_STORE_STATUS_OK : SFCRM_STORE_STATUS_NOT_FOUND;
  sqlite3_finalize(st);
  return status;
}

static void close_db(void *user_data) { sqlite3_close((sqlite3 *)user_data); }

sfcrm_store *sqlite_store_open(const char *path) {
  sqlite3 *db = NULL;
  sfcrm_store *store = NULL;
  sfcrm_error *err = NULL;
  /* FULLMUTEX: the SDK calls the callbacks from several worker threads */
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite open %s: %s\n", path, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 5000); /* other processes sharing the file */
  if (sqlite3_exec(db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "sqlite schema: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return NULL;
  }
  {
    sfcrm_store_callbacks cb = {db, load, save, remove_doc, close_db};
    if (sfcrm_store_new_callbacks(&cb, &store, &err) != SFCRM_RESULT_OK) {
      fprintf(stderr, "sfcrm_store_new_callbacks: %s\n", sfcrm_error_message(err));
      sfcrm_error_free(err);
      sqlite3_close(db); /* on failure the caller keeps ownership of user_data */
      return NULL;
    }
  }
  return store;
}
