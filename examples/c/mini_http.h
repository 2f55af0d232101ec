/*
 * mini_http: a tiny blocking HTTP/1.1 client for plain-http loopback URLs, used by the sfcrm C
 * example and tests to play the user's browser against the org emulator (follow the authorize
 * URL to its 302) and to call the emulator's /__emulator/ test controls.
 *
 * Not a general HTTP client: http:// only, "Connection: close", no chunked decoding, no redirects.
 */
#ifndef SFCRM_MINI_HTTP_H
#define SFCRM_MINI_HTTP_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mini_http_response {
  int status;        /* HTTP status, e.g. 302 */
  char *location;    /* Location header value (malloc'd) or NULL */
  char *body;        /* response body, NUL-terminated (malloc'd), never NULL on success */
} mini_http_response;

/* Sends `method` (e.g. "GET", "POST") to `url` with an optional JSON `body` (NULL for none).
 * Returns 0 on success (any HTTP status), -1 on a connection or parse error. */
int mini_http_request(const char *method, const char *url, const char *body, mini_http_response *out);

/* Frees the strings of a response. */
void mini_http_response_free(mini_http_response *r);

/* Copies the URL-decoded value of query parameter `name` from `url` into a malloc'd string, or
 * returns NULL when absent. */
char *mini_http_query_param(const char *url, const char *name);

#ifdef __cplusplus
}
#endif

#endif
