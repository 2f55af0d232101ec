// sfcrm_demo_cpp: the C API from C++17 through RAII wrappers (sfcrm.hpp): connect to the org
// emulator (SF_ORG_EMULATOR_LOGIN_URL), stream every contact through a cursor, run a SOQL query
// with a bind value, describe Contact, disconnect.
// Nothing is freed by hand: handles, strings and errors are owned by unique_ptr / sfcrm::Error.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "mini_http.h"
#include "sfcrm.hpp"

int main() {
  const char *login = std::getenv("SF_ORG_EMULATOR_LOGIN_URL");
  if (!login) {
    std::cerr << "set SF_ORG_EMULATOR_LOGIN_URL (start target/debug/sf-org-emulator)\n";
    return 2;
  }
  try {
    sfcrm_config *raw = nullptr;
    sfcrm::check([&](sfcrm_error **e) { return sfcrm_config_new(&raw, e); });
    sfcrm::ConfigPtr config(raw);
    auto set = [&](sfcrm_result (*setter)(sfcrm_config *, const char *, sfcrm_error **), const char *v) {
      sfcrm::check([&](sfcrm_error **e) { return setter(config.get(), v, e); });
    };
    set(sfcrm_config_set_client_id, "sfcrm-demo-client");
    set(sfcrm_config_set_client_secret, "sfcrm-demo-secret");
    set(sfcrm_config_set_redirect_uri, "http://127.0.0.1:8080/oauth/salesforce/callback");
    set(sfcrm_config_set_login_url, login);
    set(sfcrm_config_set_state_secret, "cpp-demo-state-secret-change-me-0123456789");
    set(sfcrm_config_set_forward_origins, "http://localhost:3000");

    sfcrm::StorePtr store = sfcrm::memory_store();
    sfcrm::Client client(config.get(), store.get());

    const std::string account = "acme-cpp", owner = "user-7";
    if (auto url = client.login(account, owner, "http://localhost:3000/done")) {
      // play the browser: the authorize URL redirects to our callback with ?code&state
      mini_http_response r{};
      if (mini_http_request("GET", url->c_str(), nullptr, &r) != 0 || !r.location) {
        std::cerr << "authorize did not redirect\n";
        mini_http_response_free(&r);
        return 1;
      }
      std::unique_ptr<char, decltype(&std::free)> code(mini_http_query_param(r.location, "code"), &std::free);
      std::unique_ptr<char, decltype(&std::free)> state(mini_http_query_param(r.location, "state"), &std::free);
      mini_http_response_free(&r);
      if (!code || !state || !client.callback(code.get(), state.get())) {
        std::cerr << "connection failed\n";
        return 1;
      }
    }

    sfcrm::Cursor cursor(client, account, owner, "contacts");
    std::size_t count = 0, total = 0, batches = 0;
    while (auto batch = cursor.next(count)) {
      total += count;
      batches++;
    }
    // a SOQL query with a bind value (a literal, whatever it holds), and a describe
    auto query = sfcrm::Cursor::query(client, account, owner, "SELECT Id, LastName FROM Contact WHERE LastName = :name",
                                      "{\"name\":\"O'Connor\"}");
    std::size_t matched = 0;
    while (auto batch = query.next(count)) matched += count;
    std::string contact = client.describe(account, owner, "Contact");
    std::cout << "cpp: query matched " << matched << " O'Connor contacts; describe Contact: " << contact.size()
              << " bytes of JSON\n";

    bool revoked = client.disconnect(account, owner);
    std::cout << "cpp: " << total << " contacts in " << batches << " batches; disconnected (revoked: "
              << (revoked ? "yes" : "no") << ")\n";

    // errors are exceptions carrying the result code
    try {
      sfcrm::Cursor gone(client, account, owner, "leads");
    } catch (const sfcrm::Error &e) {
      std::cout << "cpp: expected error: " << e.what() << "\n";
      if (e.code() != SFCRM_RESULT_UNKNOWN_EXPORT_TYPE) return 1;
    }
    return total > 0 && matched > 0 ? 0 : 1;
  } catch (const sfcrm::Error &e) {
    std::cerr << "sfcrm error " << e.code() << ": " << e.what() << "\n";
    return 1;
  }
}
