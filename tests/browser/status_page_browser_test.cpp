// The status page in a real browser: Debian's headless Chromium loads / from a real agent
// watching a real PostgreSQL (two targets up, one unreachable), runs status.js under the
// page's CSP, and dumps the DOM and a screenshot. Proves the cards, the sparklines drawn
// from /debug/history, and that basic auth carries over to the page's own fetches.
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "agent_helpers.hpp"
#include "helpers.hpp"
#include "net.hpp"
#include "sessions.hpp"
#include "temp_dir.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;
using nlohmann::json;

namespace {

constexpr const char* kUser = "oncall";
constexpr const char* kPassword = "pa55-w0rd";
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
const std::vector<std::string> kTargets = {"orders-primary", "reporting", "unreachable"};

// Debian's chromium, or what CHROMIUM names. scripts/install-deps installs it.
std::string chromium() {
  if (const char* c = std::getenv("CHROMIUM"); c != nullptr && *c != '\0') return c;
  for (const char* dir : {"/usr/bin", "/usr/local/bin", "/bin"}) {
    for (const char* name : {"chromium", "chromium-browser"}) {
      const std::string path = std::string(dir) + "/" + name;
      if (::access(path.c_str(), X_OK) == 0) return path;
    }
  }
  return "";
}

struct Page {
  int status = 0;
  std::string body;
  std::string csp;
  std::string nosniff;
};

Page fetch(int port, const std::string& path, bool auth) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  if (auth) client.set_basic_auth(kUser, kPassword);
  Page p;
  if (auto r = client.Get(path)) {
    p.status = r->status;
    p.body = r->body;
    p.csp = r->get_header_value("Content-Security-Policy");
    p.nosniff = r->get_header_value("X-Content-Type-Options");
  }
  return p;
}

// Runs headless Chromium with `args` after the common flags; its stdout in `out_file`.
CommandResult run_chromium(const TempDir& dir, const std::vector<std::string>& args,
                           const std::string& out_file) {
  std::vector<std::string> argv = {"sh",
                                   "-c",
                                   "out=$1; shift; exec \"$@\" >\"$out\"",
                                   "sh",
                                   out_file,
                                   "timeout",
                                   "90",
                                   chromium(),
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--disable-dev-shm-usage",
                                   "--no-first-run",
                                   "--no-default-browser-check",
                                   "--disable-extensions",
                                   "--user-data-dir=" + dir.path() + "/profile"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_capture(argv, {{"HOME", dir.path()},
                            {"XDG_CONFIG_HOME", dir.path() + "/config"},
                            {"XDG_CACHE_HOME", dir.path() + "/cache"}});
}

// The element of the card of `target` in a dumped DOM, or empty.
std::string card_of(const std::string& dom, const std::string& target) {
  const std::size_t at = dom.find("data-target=\"" + target + "\"");
  if (at == std::string::npos) return "";
  const std::size_t start = dom.rfind("<article", at);
  const std::size_t end = dom.find("</article>", at);
  if (start == std::string::npos || end == std::string::npos) return "";
  return dom.substr(start, end - start);
}

bool no_external_url(const std::string& name, const std::string& text) {
  static const std::regex external(R"((https?:|ftp:|["'(=`\s]//[^\s/]))", std::regex::icase);
  std::smatch m;
  const bool found = std::regex_search(text, m, external);
  INFO(name << ": " << (found ? m.str() : std::string()));
  CHECK_FALSE(found);
  return !found;
}

void check_status_page(bool with_auth) {
  const std::string browser = chromium();
  if (browser.empty()) {
    FAIL("chromium not found (set CHROMIUM, or run scripts/install-deps, which installs it)");
  }
  PgCluster cluster;
  auto worker = open_sessions(cluster, 1, "postgres", "billing-worker");
  REQUIRE(worker.size() == 1);
  query(worker[0], "BEGIN; SELECT txid_current()");

  std::string yaml = "targets:\n";
  yaml += "  - name: orders-primary\n    dsn: " + cluster.dsn() + "\n";
  yaml += "  - name: reporting\n    dsn: " + cluster.dsn() + "\n    required: false\n";
  yaml += "  - name: unreachable\n    dsn: postgresql://pgvitals:pw@127.0.0.1:" +
          std::to_string(free_port()) + "/postgres\n";
  if (with_auth) {
    yaml += std::string("auth:\n  protect_health: true\n  basic:\n    user: ") + kUser +
            "\n    password: " + kPassword + "\n";
  }
  TempFile config(yaml);
  std::vector<std::string> args = kFastArgs;
  args.insert(args.end(), {"--config", config.path()});
  AgentProcess agent(args, {});
  const int port = agent.port();

  // Each target has a few samples of history (the unreachable one: all down).
  const bool history = eventually(
      [&] {
        const Page p = fetch(port, "/debug/history", with_auth);
        if (p.status != 200) return false;
        const json j = json::parse(p.body, nullptr, false);
        if (!j.is_object() || !j.contains("targets")) return false;
        for (const auto& t : kTargets) {
          if (!j["targets"].contains(t) || j["targets"][t]["up"].size() < 3) return false;
        }
        return j["targets"]["orders-primary"]["up"].back() == 1;
      },
      30s);
  INFO(agent.log());
  REQUIRE(history);
  // The unreachable target is required: the recorder opens an incident for it.
  const bool incident = eventually(
      [&] {
        const json j = json::parse(fetch(port, "/debug/status", with_auth).body, nullptr, false);
        if (!j.is_object()) return false;
        for (const auto& t : j["targets"]) {
          if (t["name"] == "unreachable") return t["incident"].is_string();
        }
        return false;
      },
      15s);
  CHECK(incident);
  if (with_auth) {
    CHECK(fetch(port, "/", false).status == 401);
    CHECK(fetch(port, "/healthz", false).status == 401);
    CHECK(fetch(port, "/assets/status.js", false).status == 401);
  }

  // The page source and its assets: the CSP, nosniff, nothing from another origin.
  const Page page = fetch(port, "/", with_auth);
  REQUIRE(page.status == 200);
  CHECK(page.csp == kCsp);
  CHECK(page.nosniff == "nosniff");
  for (const auto& t : kTargets) CHECK_THAT(page.body, Catch::Contains(">" + t + "</a></th>"));
  no_external_url("/", page.body);
  for (const char* asset : {"/assets/status.js", "/assets/status.css"}) {
    const Page a = fetch(port, asset, with_auth);
    CHECK(a.status == 200);
    CHECK(a.csp == kCsp);
    no_external_url(asset, a.body);
  }

  // Chromium takes credentials in a top-level URL and reuses them for the page's fetches.
  const std::string url = std::string("http://") +
                          (with_auth ? std::string(kUser) + ":" + kPassword + "@" : "") +
                          "127.0.0.1:" + std::to_string(port) + "/";
  TempDir dir("pgvitals-browser");
  const std::string dom_file = dir.path() + "/dom.html";
  const auto dumped =
      run_chromium(dir, {"--virtual-time-budget=8000", "--dump-dom", url}, dom_file);
  const std::string dom = read_file(dom_file);
  INFO("chromium exit " << dumped.exit_code << " after " << dumped.seconds
                        << "s: " << dumped.output.substr(0, 2000));
  INFO("DOM: " << dom.substr(0, 6000));
  REQUIRE(dumped.exit_code == 0);
  // status.js ran under the CSP and rendered the live view.
  // Only the <html> tag goes through the regex: libstdc++'s regex recurses per character,
  // and over the whole DOM that overflowed the stack under ASan.
  const std::size_t html = dom.find("<html");
  REQUIRE(html != std::string::npos);
  const std::string html_tag = dom.substr(html, dom.find('>', html) - html);
  CHECK(std::regex_search(html_tag, std::regex(R"(class="[^"]*\blive\b)")));
  const std::regex drawn(R"re(<path class="(lat|ups|downs)" d="M[0-9.]+ [0-9.]+)re");
  const std::regex points(R"re(data-points="([0-9]+)")re");
  for (const auto& t : kTargets) {
    INFO("card " << t);
    const std::string card = card_of(dom, t);
    REQUIRE_FALSE(card.empty());
    CHECK_THAT(card, Catch::Contains("<svg class=\"spark\""));
    std::smatch m;
    REQUIRE(std::regex_search(card, m, points));
    CHECK(std::stoi(m[1].str()) >= 3);
    CHECK(std::regex_search(card, drawn));
  }
  CHECK_THAT(card_of(dom, "unreachable"), Catch::Contains("class=\"card down\""));
  CHECK_THAT(card_of(dom, "unreachable"), Catch::Contains("<path class=\"downs\" d=\"M"));
  CHECK_THAT(card_of(dom, "unreachable"), Catch::Contains("href=\"/debug/incidents/"));
  // The open incident heads the list (searched from the list on: see the <html> check).
  const std::size_t list = dom.find(R"(<div id="incident-list"><ul class="incidents">)");
  REQUIRE(list != std::string::npos);
  CHECK(std::regex_search(
      dom.substr(list, 300),
      std::regex(R"re(^<div id="incident-list"><ul class="incidents">)re"
                 R"re(<li class="open"><a href="/debug/incidents/[^"]+-unreachable">)re")));
  CHECK_THAT(card_of(dom, "orders-primary"), Catch::Contains("class=\"card up\""));
  CHECK_THAT(card_of(dom, "orders-primary"), Catch::Contains("<path class=\"lat\" d=\"M"));
  CHECK_THAT(card_of(dom, "orders-primary"), Catch::Contains("billing-worker"));

  // Without JavaScript the page is the server-rendered table (tests/unit/status_page_test.cpp):
  // Chromium's --dump-dom itself needs script, so it cannot show that page here; the table
  // is still in the DOM, hidden by the stylesheet once the cards are live.
  for (const auto& t : kTargets) CHECK_THAT(dom, Catch::Contains(">" + t + "</a></th>"));

  // A screenshot, kept as an artifact (docs/status-page.png is made this way).
  const char* artifacts = std::getenv("PGVITALS_ARTIFACTS");
  const std::string png =
      (artifacts != nullptr && *artifacts != '\0' && !with_auth ? std::string(artifacts)
                                                                : dir.path()) +
      (with_auth ? "/status-page-auth.png" : "/status-page.png");
  std::filesystem::remove(png);
  const auto shot = run_chromium(dir,
                                 {"--virtual-time-budget=8000", "--hide-scrollbars",
                                  "--window-size=1280,900", "--screenshot=" + png, url},
                                 dir.path() + "/screenshot.out");
  INFO("chromium exit " << shot.exit_code << ": " << shot.output.substr(0, 2000));
  CHECK(shot.exit_code == 0);
  REQUIRE(std::filesystem::exists(png));
  CHECK(std::filesystem::file_size(png) > 20'000);
  CHECK(read_file(png).substr(1, 3) == "PNG");
  CHECK_FALSE(agent.wait_exit(0ms).has_value());
}

}  // namespace

TEST_CASE("the status page in Chromium shows every target as a card with its chart",
          "[browser][integration]") {
  check_status_page(false);
}

TEST_CASE("the status page in Chromium behind basic auth, health protected too",
          "[browser][integration][auth]") {
  check_status_page(true);
}
