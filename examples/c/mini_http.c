/* See mini_http.h. */
#define _POSIX_C_SOURCE 200809L
#include "mini_http.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int parse_url(const char *url, char *host, size_t hostcap, char *port, size_t portcap, const char **path) {
  const char *p;
  size_t n;
  if (strncmp(url, "http://", 7) != 0) return -1;
  p = url + 7;
  n = strcspn(p, ":/");
  if (n == 0 || n >= hostcap) return -1;
  memcpy(host, p, n);
  host[n] = '\0';
  p += n;
  if (*p == ':') {
    p++;
    n = strcspn(p, "/");
    if (n == 0 || n >= portcap) return -1;
    memcpy(port, p, n);
    port[n] = '\0';
    p += n;
  } else {
    snprintf(port, portcap, "80");
  }
  *path = *p ? p : "/";
  return 0;
}

int mini_http_request(const char *method, const char *url, const char *body, mini_http_response *out) {
  char host[256], port[16], *req = NULL, *buf = NULL, *hdr_end, *line;
  const char *path;
  struct addrinfo hints, *res = NULL, *ai;
  int fd = -1, rc = -1;
  size_t len = 0, cap = 0, reqlen, sent = 0;
  memset(out, 0, sizeof *out);
  if (parse_url(url, host, sizeof host, port, sizeof port, &path) != 0) return -1;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  reqlen = strlen(method) + strlen(path) + strlen(host) + strlen(port) + (body ? strlen(body) : 0) + 256;
  req = malloc(reqlen);
  if (!req) goto done;
  snprintf(req, reqlen,
           "%s %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\nAccept: */*\r\n"
           "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
           method, path, host, port, body ? strlen(body) : (size_t)0, body ? body : "");
  reqlen = strlen(req);
  while (sent < reqlen) {
    ssize_t w = send(fd, req + sent, reqlen - sent, MSG_NOSIGNAL);
    if (w <= 0) goto done;
    sent += (size_t)w;
  }
  for (;;) {
    ssize_t r;
    if (cap - len < 4096) {
      char *nb = realloc(buf, cap ? cap * 2 : 8192);
      if (!nb) goto done;
      buf = nb;
      cap = cap ? cap * 2 : 8192;
    }
    r = recv(fd, buf + len, cap - len - 1, 0);
    if (r < 0) goto done;
    if (r == 0) break;
    len += (size_t)r;
  }
  if (!buf) goto done;
  buf[len] = '\0';
  if (sscanf(buf, "HTTP/1.%*d %d", &out->status) != 1) goto done;
  hdr_end = strstr(buf, "\r\n\r\n");
  if (!hdr_end) goto done;
  *hdr_end = '\0';
  out->body = strdup(hdr_end + 4);
  for (line = strstr(buf, "\r\n"); line; line = strstr(line, "\r\n")) {
    line += 2;
    if (strncasecmp(line, "Location:", 9) == 0) {
      const char *v = line + 9;
      size_t n;
      while (*v == ' ') v++;
      n = strcspn(v, "\r\n");
      out->location = strndup(v, n);
    }
  }
  rc = out->body ? 0 : -1;
done:
  if (rc != 0) mini_http_response_free(out);
  free(req);
  free(buf);
  close(fd);
  return rc;
}

void mini_http_response_free(mini_http_response *r) {
  free(r->location);
  free(r->body);
  r->location = NULL;
  r->body = NULL;
}

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

char *mini_http_query_param(const char *url, const char *name) {
  const char *q = strchr(url, '?');
  size_t nlen = strlen(name);
  while (q) {
    q++;
    if (strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
      const char *v = q + nlen + 1;
      size_t n = strcspn(v, "&#"), i, j = 0;
      char *out = malloc(n + 1);
      if (!out) return NULL;
      for (i = 0; i < n; i++) {
        if (v[i] == '%' && i + 2 < n && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
          out[j++] = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
          i += 2;
        } else if (v[i] == '+') {
          out[j++] = ' ';
        } else {
          out[j++] = v[i];
        }
      }
      out[j] = '\0';
      return out;
    }
    q = strchr(q, '&');
  }
  return NULL;
}
