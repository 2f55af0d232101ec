// sfcrm.hpp: small C++17 RAII wrappers over the libsfcrm C API (header-only, example quality).
//
// - every handle is a std::unique_ptr with the matching sfcrm_*_free as deleter;
// - a failed call throws sfcrm::Error (result code, kind name, message, HTTP status, Salesforce
//   errorCode), which owns and frees the sfcrm_error;
// - owned strings returned by the library become std::string and are freed at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "sfcrm.h"

namespace sfcrm {

class Error : public std::runtime_error {
 public:
  Error(sfcrm_result code, sfcrm_error *err)
      : std::runtime_error(std::string(sfcrm_result_name(code)) + ": " + sfcrm_error_message(err)),
        code_(code),
        http_status_(sfcrm_error_http_status(err)),
        salesforce_code_(sfcrm_error_salesforce_code(err) ? sfcrm_error_salesforce_code(err) : "") {
    sfcrm_error_free(err);
  }
  sfcrm_result code() const noexcept { return code_; }
  std::uint16_t http_status() const noexcept { return http_status_; }
  const std::string &salesforce_code() const noexcept { return salesforce_code_; }

 private:
  sfcrm_result code_;
  std::uint16_t http_status_;
  std::string salesforce_code_;
};

// Calls `f(&err)`; throws Error unless it returned SFCRM_RESULT_OK.
template <typename F>
void check(F &&f) {
  sfcrm_error *err = nullptr;
  sfcrm_result rc = f(&err);
  if (rc != SFCRM_RESULT_OK) throw Error(rc, err);
}

template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *p) const noexcept { Free(p); }
};
using ConfigPtr = std::unique_ptr<sfcrm_config, Deleter<sfcrm_config, sfcrm_config_free>>;
using StorePtr = std::unique_ptr<sfcrm_store, Deleter<sfcrm_store, sfcrm_store_free>>;
using ClientPtr = std::unique_ptr<sfcrm_client, Deleter<sfcrm_client, sfcrm_client_free>>;
using RequestPtr = std::unique_ptr<sfcrm_export_request, Deleter<sfcrm_export_request, sfcrm_export_request_free>>;
using CursorPtr = std::unique_ptr<sfcrm_export_cursor, Deleter<sfcrm_export_cursor, sfcrm_export_cursor_free>>;
using QueryPtr = std::unique_ptr<sfcrm_query_request, Deleter<sfcrm_query_request, sfcrm_query_request_free>>;

// Takes ownership of a library string: copies it and frees the original.
inline std::string take(char *s) {
  std::unique_ptr<char, Deleter<char, sfcrm_string_free>> owned(s);
  return s ? std::string(s) : std::string();
}

inline StorePtr memory_store() {
  sfcrm_store *s = nullptr;
  check([&](sfcrm_error **e) { return sfcrm_store_new_memory(&s, e); });
  return StorePtr(s);
}

class Client {
 public:
  Client(const sfcrm_config *config, const sfcrm_store *store) {
    sfcrm_client *c = nullptr;
    check([&](sfcrm_error **e) { return sfcrm_client_new(config, store, &c, e); });
    client_.reset(c);
  }
  const sfcrm_client *get() const noexcept { return client_.get(); }

  // Returns the URL to send the browser to, or nullopt when already connected.
  std::optional<std::string> login(const std::string &account, const std::string &owner, const std::string &forward) {
    char *url = nullptr;
    bool already = false;
    check([&](sfcrm_error **e) {
      return sfcrm_client_login(client_.get(), account.c_str(), owner.c_str(), forward.c_str(), &url, &already, e);
    });
    std::string u = take(url);
    if (already) return std::nullopt;
    return u;
  }

  // Completes the OAuth callback; returns true when the connection was stored.
  bool callback(const std::string &code, const std::string &state) {
    sfcrm_callback_result r{};
    check([&](sfcrm_error **e) { return sfcrm_client_callback(client_.get(), code.c_str(), state.c_str(), nullptr, nullptr, &r, e); });
    bool ok = r.success;
    sfcrm_callback_result_clear(&r);
    return ok;
  }

  // Salesforce's describe of an sObject, as JSON text (cached per client).
  std::string describe(const std::string &account, const std::string &owner, const std::string &sobject) {
    char *json = nullptr;
    check([&](sfcrm_error **e) {
      return sfcrm_client_describe(client_.get(), account.c_str(), owner.c_str(), sobject.c_str(), &json, nullptr, e);
    });
    return take(json);
  }

  bool disconnect(const std::string &account, const std::string &owner) {
    bool revoked = false;
    check([&](sfcrm_error **e) { return sfcrm_client_disconnect(client_.get(), account.c_str(), owner.c_str(), &revoked, nullptr, e); });
    return revoked;
  }

 private:
  ClientPtr client_;
};

// A streaming export or SOQL query: next() returns one NDJSON batch, or nullopt at the end.
class Cursor {
 public:
  // A SOQL query with :name placeholders filled from `params_json` (a JSON object, "{}" for none).
  static Cursor query(const Client &client, const std::string &account, const std::string &owner,
                      const std::string &soql, const std::string &params_json) {
    sfcrm_query_request *q = nullptr;
    check([&](sfcrm_error **e) { return sfcrm_query_request_new(soql.c_str(), &q, e); });
    QueryPtr request(q);
    check([&](sfcrm_error **e) { return sfcrm_query_request_set_params_json(request.get(), params_json.c_str(), e); });
    sfcrm_export_cursor *c = nullptr;
    check([&](sfcrm_error **e) { return sfcrm_query_cursor_open(client.get(), account.c_str(), owner.c_str(), request.get(), &c, e); });
    return Cursor(CursorPtr(c));
  }

  Cursor(const Client &client, const std::string &account, const std::string &owner, const std::string &type) {
    sfcrm_export_request *r = nullptr;
    check([&](sfcrm_error **e) { return sfcrm_export_request_new(type.c_str(), &r, e); });
    RequestPtr request(r);
    sfcrm_export_cursor *c = nullptr;
    check([&](sfcrm_error **e) { return sfcrm_export_cursor_open(client.get(), account.c_str(), owner.c_str(), request.get(), &c, e); });
    cursor_.reset(c);
  }
  std::optional<std::string> next(std::size_t &count) {
    char *batch = nullptr;
    std::size_t len = 0;
    check([&](sfcrm_error **e) { return sfcrm_export_cursor_next(cursor_.get(), SFCRM_BATCH_FORMAT_NDJSON, &batch, &len, &count, e); });
    if (!batch) return std::nullopt;
    return take(batch);
  }
  void cancel() noexcept { sfcrm_export_cursor_cancel(cursor_.get()); }

 private:
  explicit Cursor(CursorPtr cursor) : cursor_(std::move(cursor)) {}
  CursorPtr cursor_;
};

}  // namespace sfcrm
