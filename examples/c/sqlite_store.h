/*
 * A token store for libsfcrm on SQLite: one row per connection, the SDK's connection document kept
 * as opaque JSON text, and the compare-and-swap done by SQLite itself:
 *
 *   insert (no expected version):  INSERT ... ON CONFLICT DO NOTHING      -> 1 row changed = saved
 *   update (expected version v):   UPDATE ... WHERE ... AND version = v   -> 1 row changed = saved
 *   anything else                  -> SFCRM_STORE_STATUS_CONFLICT (the SDK reloads and decides again)
 *
 * Several processes may share the database file (SQLite locks it); within a process the connection
 * is opened in serialized mode because the SDK calls the callbacks from its worker threads.
 */
#ifndef SFCRM_SQLITE_STORE_H
#define SFCRM_SQLITE_STORE_H

#include "sfcrm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Opens (creating if needed) the database at `path` and wraps it in an sfcrm store. On success the
 * store owns the database connection (closed by free_user_data when the SDK drops the store).
 * Returns NULL (after printing why) on failure. */
sfcrm_store *sqlite_store_open(const char *path);

#ifdef __cplusplus
}
#endif

#endif
