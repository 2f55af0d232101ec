/* C API client of the benchmark: a full streaming export through libsfcrm's export cursor.
 * Usage: export <login_url> <store_dir> <export_type> <batch_size>
 * Prints one JSON line: records, batches, bytes of batch text received, seconds (export only). */
#define _POSIX_C_SOURCE 199309L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sfcrm.h"

static int fail(const char *what, sfcrm_error *err) {
    fprintf(stderr, "export.c: %s: %s\n", what, err ? sfcrm_error_message(err) : "(no error object)");
    sfcrm_error_free(err);
    return 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s <login_url> <store_dir> <export_type> <batch_size>\n", argv[0]);
        return 2;
    }
    sfcrm_error *err = NULL;
    sfcrm_config *cfg = NULL;
    sfcrm_store *store = NULL;
    sfcrm_client *client = NULL;
    sfcrm_export_request *req = NULL;
    sfcrm_export_cursor *cur = NULL;
    if (sfcrm_config_new(&cfg, &err) != SFCRM_RESULT_OK) return fail("config", err);
    if (sfcrm_config_set_client_id(cfg, "sfcrm-demo-client", &err) != SFCRM_RESULT_OK ||
        sfcrm_config_set_client_secret(cfg, "sfcrm-demo-secret", &err) != SFCRM_RESULT_OK ||
        sfcrm_config_set_redirect_uri(cfg, "http://127.0.0.1:8788/callback", &err) != SFCRM_RESULT_OK ||
        sfcrm_config_set_login_url(cfg, argv[1], &err) != SFCRM_RESULT_OK ||
        sfcrm_config_set_state_secret(cfg, "bench-state-secret-0123456789abcdef0123456789", &err) != SFCRM_RESULT_OK ||
        sfcrm_config_set_forward_origins(cfg, "http://127.0.0.1:3000", &err) != SFCRM_RESULT_OK)
        return fail("config set", err);
    if (sfcrm_store_new_file(argv[2], &store, &err) != SFCRM_RESULT_OK) return fail("store", err);
    if (sfcrm_client_new(cfg, store, &client, &err) != SFCRM_RESULT_OK) return fail("client", err);
    if (sfcrm_export_request_new(argv[3], &req, &err) != SFCRM_RESULT_OK) return fail("request", err);
    if (sfcrm_export_request_set_batch_size(req, (uint32_t)atoi(argv[4]), &err) != SFCRM_RESULT_OK)
        return fail("batch size", err);

    double t0 = now_s();
    if (sfcrm_export_cursor_open(client, "bench", "bench", req, &cur, &err) != SFCRM_RESULT_OK)
        return fail("cursor", err);
    uint64_t records = 0, batches = 0, bytes = 0;
    for (;;) {
        char *batch = NULL;
        size_t len = 0, count = 0;
        if (sfcrm_export_cursor_next(cur, SFCRM_BATCH_FORMAT_JSON_ARRAY, &batch, &len, &count, &err) != SFCRM_RESULT_OK)
            return fail("next", err);
        if (batch == NULL) break;
        records += count;
        batches += 1;
        bytes += len;
        sfcrm_string_free(batch);
    }
    double secs = now_s() - t0;
    printf("{\"records\":%llu,\"batches\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n", (unsigned long long)records,
           (unsigned long long)batches, (unsigned long long)bytes, secs);
    sfcrm_export_cursor_free(cur);
    sfcrm_export_request_free(req);
    sfcrm_client_free(client);
    sfcrm_store_free(store);
    sfcrm_config_free(cfg);
    return 0;
}
