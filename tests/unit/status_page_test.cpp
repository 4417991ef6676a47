#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "http/assets.hpp"
#include "http/html.hpp"
#include "http/router.hpp"
#include "incidents/incident_log.hpp"
#include "telemetry/telemetry.hpp"

using namespace std::chrono_literals;
using pgv::Clock;
using pgv::http::Request;
using pgv::http::Response;
using pgv::http::Router;
using pgv::incidents::IncidentLog;
using pgv::incidents::IncidentRecord;
using pgv::incidents::Sample;
using pgv::incidents::TargetHistory;
using pgv::telemetry::CheckState;
using pgv::telemetry::FailureRecord;
using pgv::telemetry::TargetState;

namespace {

constexpr const char* kEvil = "<script>alert('x')</script>&\"db";
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

Request get(const std::string& target, const std::string& authorization = "") {
  Request r;
  r.method = "GET";
  r.version = "HTTP/1.1";
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    const std::string query = target.substr(q + 1);
    std::size_t pos = 0;
    while (pos <= query.size()) {
      const auto amp = std::min(query.find('&', pos), query.size());
      const std::string pair = query.substr(pos, amp - pos);
      const auto eq = pair.find('=');
      r.query.emplace(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      pos = amp + 1;
    }
  }
  if (!authorization.empty()) r.headers["authorization"] = authorization;
  return r;
}

std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

CheckState connectivity(bool ok, double seconds = 0.0042) {
  CheckState c;
  c.ran = true;
  c.ok = ok;
  c.seconds = seconds;
  c.last_success = Clock::now();
  c.last_success_unix = 1'700'000'000;
  if (!ok) {
    c.reason = "refused";
    c.phase = "connect";
    c.message = "connection refused";
  }
  return c;
}

std::shared_ptr<TargetState> target(const std::string& name) {
  auto t = std::make_shared<TargetState>();
  t->name = name;
  t->interval_seconds = 5;
  t->timeout_seconds = 2;
  t->probes = {"connectivity"};
  return t;
}

// A fleet: a primary with activity (an old transaction, a blocked session), a replica that
// is down with an open incident, and a target with no result yet.
struct Fleet {
  pgv::telemetry::Telemetry telemetry;
  IncidentLog log;

  Fleet() {
    auto primary = target("primary");
    primary->checks["connectivity"] = connectivity(true);
    primary->in_recovery = false;
    primary->pool.in_use = 1;
    primary->pool.idle = 1;
    primary->pool.max = 4;
    auto digest = std::make_shared<pgv::probes::ActivityDigest>();
    digest->client_backends = 25;
    digest->max_connections = 103;
    digest->reserved_connections = 3;
    digest->oldest_transaction_seconds = 42.5;
    digest->oldest_transactions.push_back({777, "billing", "app", "idle in transaction", 42.5, ""});
    digest->blocked.push_back({888, {777}});
    primary->activity = digest;
    primary->activity_unix = 1'700'000'000;
    telemetry.state.publish(primary);

    auto replica = target("replica");
    replica->checks["connectivity"] = connectivity(false);
    replica->in_recovery = true;
    replica->required = false;
    telemetry.state.publish(replica);
    telemetry.state.publish(target("fresh"));

    FailureRecord f;
    f.time_unix = 1'700'000'100;
    f.target = "replica";
    f.probe = "connectivity";
    f.phase = "connect";
    f.reason = "refused";
    f.message = "connection refused";
    for (int i = 0; i < 5; ++i) telemetry.failures.push(f);

    for (const char* name : {"primary", "replica"}) {
      auto h = std::make_shared<TargetHistory>();
      h->target = name;
      for (int i = 0; i < 3; ++i) {
        Sample s;
        s.t = 1'700'000'000 + i * 5;
        s.up = std::string(name) == "primary";
        s.latency = s.up ? 0.002F * static_cast<float>(i + 1) : -1;
        h->samples.push_back(s);
      }
      log.publish_history(h);
    }
    log.publish(record("20231114T221320Z-primary", "primary", 1'699'999'000, 1'699'999'100));
    log.publish(record("20231114T223000Z-replica", "replica", 1'700'000'050, 0));
  }

  static std::shared_ptr<const IncidentRecord> record(const std::string& id,
                                                      const std::string& target, double opened,
                                                      double closed) {
    auto r = std::make_shared<IncidentRecord>();
    r->id = id;
    r->target = target;
    r->trigger = "down";
    r->opened_unix = opened;
    r->closed_unix = closed;
    r->first_error = "connection refused";
    r->transitions.push_back({opened, target + "/connectivity failed: connection refused"});
    return r;
  }
};

nlohmann::json body_json(const Response& r) {
  CHECK(r.content_type == "application/json");
  return nlohmann::json::parse(r.body);
}

}  // namespace

TEST_CASE("/debug/history gives one target's whole history, or every target's sparkline data",
          "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {}, &fleet.log);

  const Response one = router.handle(get("/debug/history?target=primary"));
  REQUIRE(one.status == 200);
  const auto h = body_json(one);
  CHECK(h["target"] == "primary");
  REQUIRE(h["samples"].size() == 3);
  CHECK(h["samples"][2]["latency"].get<double>() == Approx(0.006));

  const Response unknown = router.handle(get("/debug/history?target=nope"));
  CHECK(unknown.status == 404);
  CHECK(body_json(unknown)["error"] == "unknown target");

  const Response all = router.handle(get("/debug/history"));
  REQUIRE(all.status == 200);
  const auto j = body_json(all);
  REQUIRE(j["targets"].size() == 2);
  CHECK(j["targets"]["primary"]["latency"].size() == 3);
  CHECK(j["targets"]["primary"]["up"] == nlohmann::json({1, 1, 1}));
  CHECK(j["targets"]["replica"]["up"] == nlohmann::json({0, 0, 0}));
  CHECK(j["targets"]["replica"]["latency"][0].is_null());
}

TEST_CASE("/debug/incidents lists summaries newest first, /debug/incidents/<id> is the record",
          "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {}, &fleet.log);

  const auto list = body_json(router.handle(get("/debug/incidents")))["incidents"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == "20231114T223000Z-replica");
  CHECK(list[0]["open"] == true);
  CHECK(list[0]["closed"].is_null());
  CHECK(list[1]["id"] == "20231114T221320Z-primary");
  CHECK(list[1]["closed"].get<double>() == Approx(1'699'999'100));
  for (const char* key : {"id", "target", "trigger", "opened", "closed", "first_error"}) {
    CHECK(list[0].contains(key));
  }
  CHECK(body_json(router.handle(get("/debug/incidents?target=primary")))["incidents"].size() == 1);

  const Response one = router.handle(get("/debug/incidents/20231114T221320Z-primary"));
  REQUIRE(one.status == 200);
  const auto r = body_json(one);
  CHECK(r["target"] == "primary");
  CHECK(r["transitions"][0]["what"] == "primary/connectivity failed: connection refused");

  const Response missing = router.handle(get("/debug/incidents/20991231T000000Z-x"));
  CHECK(missing.status == 404);
  CHECK(body_json(missing)["error"] == "unknown incident");
  CHECK(router.handle(get("/debug/incidents/")).status == 404);
  CHECK(router.handle(get("/debug/incidents/a/b")).status == 404);
}

TEST_CASE("without an incident log the history and incident routes are 404, the page answers",
          "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {});
  CHECK(router.handle(get("/debug/history")).status == 404);
  CHECK(router.handle(get("/debug/incidents")).status == 404);
  CHECK(router.handle(get("/debug/incidents/x")).status == 404);
  CHECK(router.handle(get("/")).status == 200);
  const auto status = body_json(router.handle(get("/debug/status")));
  CHECK(status["incidents"]["open"].empty());
  CHECK(status["targets"].size() == 3);
}

TEST_CASE("/debug/status has each target's state, role, latency, pool, activity and failures",
          "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {}, &fleet.log);
  const auto j = body_json(router.handle(get("/debug/status")));
  REQUIRE(j["targets"].size() == 3);
  CHECK(j["counts"] == nlohmann::json({{"targets", 3}, {"up", 1}, {"down", 1}}));
  const auto& fresh = j["targets"][0];
  const auto& primary = j["targets"][1];
  const auto& replica = j["targets"][2];
  CHECK(fresh["name"] == "fresh");
  CHECK(fresh["state"] == "unknown");
  CHECK(fresh["role"] == "unknown");
  CHECK(fresh["latency"].is_null());

  CHECK(primary["state"] == "up");
  CHECK(primary["role"] == "primary");
  CHECK(primary["required"] == true);
  CHECK(primary["latency"].get<double>() == Approx(0.0042));
  CHECK(primary["saturation"].get<double>() == Approx(0.25));
  CHECK(primary["pool"] ==
        nlohmann::json({{"in_use", 1}, {"idle", 1}, {"max", 4}, {"waiting", 0}}));
  CHECK(primary["incident"].is_null());
  CHECK(primary["activity"]["oldest_transactions"][0]["pid"] == 777);
  CHECK(primary["activity"]["oldest_transactions"][0]["application"] == "billing");
  CHECK(primary["activity"]["blocked"][0] == nlohmann::json({{"pid", 888}, {"blocked_by", {777}}}));
  CHECK(primary["failures"].empty());

  CHECK(replica["state"] == "down");
  CHECK(replica["detail"] == "connection refused");
  CHECK(replica["role"] == "replica");
  CHECK(replica["required"] == false);
  CHECK(replica["latency"].is_null());
  CHECK(replica["incident"] == "20231114T223000Z-replica");
  CHECK(replica["failures"].size() == 3);  // the last few, not the whole ring
  CHECK(replica["failures"][0]["message"] == "connection refused");

  REQUIRE(j["incidents"]["open"].size() == 1);
  CHECK(j["incidents"]["open"][0]["id"] == "20231114T223000Z-replica");
  REQUIRE(j["incidents"]["recent"].size() == 1);
  CHECK(j["incidents"]["recent"][0]["id"] == "20231114T221320Z-primary");
}

TEST_CASE("the page, its assets and its JSON need credentials when auth is configured",
          "[status][auth]") {
  Fleet fleet;
  pgv::config::AuthConfig auth;
  auth.basic_user = "oncall";
  auth.basic_password = "pw";
  const Router router(fleet.telemetry, auth, &fleet.log);
  const std::string good = "Basic b25jYWxsOnB3";  // oncall:pw
  for (const std::string path :
       {"/", "/?state=down", "/debug/status", "/debug/history", "/debug/history?target=primary",
        "/debug/incidents", "/debug/incidents/20231114T221320Z-primary", "/assets/status.css",
        "/assets/status.js"}) {
    INFO(path);
    const Response none = router.handle(get(path));
    CHECK(none.status == 401);
    CHECK(header(none, "WWW-Authenticate") == R"(Basic realm="pgvitals")");
    CHECK(none.body.find("primary") == std::string::npos);
    CHECK(router.handle(get(path, "Basic b25jYWxsOndyb25n")).status == 401);
    CHECK(router.handle(get(path, good)).status == 200);
  }
}

TEST_CASE("every page, asset and JSON answer carries the CSP, nosniff and no-referrer headers",
          "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {}, &fleet.log);
  for (const std::string path :
       {"/", "/debug/status", "/debug/history", "/debug/incidents", "/debug/incidents/nope",
        "/assets/status.css", "/assets/status.js", "/assets/nope.js"}) {
    INFO(path);
    const Response r = router.handle(get(path));
    CHECK(header(r, "Content-Security-Policy") == kCsp);
    CHECK(header(r, "X-Content-Type-Options") == "nosniff");
    CHECK(header(r, "Referrer-Policy") == "no-referrer");
  }
  const Response page = router.handle(get("/"));
  CHECK(page.content_type == "text/html; charset=utf-8");
  CHECK(header(page, "Cache-Control") == "no-store");
  const Response css = router.handle(get("/assets/status.css"));
  CHECK(css.content_type == "text/css; charset=utf-8");
  CHECK(header(css, "Cache-Control") == "private, max-age=86400");
  CHECK(router.handle(get("/assets/status.js")).content_type == "text/javascript; charset=utf-8");
  // The page asks for the assets under their content hash, so a cached copy cannot go stale.
  const auto* js = pgv::http::find_asset("status.js");
  REQUIRE(js != nullptr);
  CHECK(js->hash.size() == 16);
  CHECK(page.body.find("/assets/status.js?v=" + std::string(js->hash)) != std::string::npos);
  // The template is not an asset of its own; nothing outside assets/ is reachable.
  CHECK(router.handle(get("/assets/status.html")).status == 404);
  CHECK(router.handle(get("/assets/..")).status == 404);
  CHECK(router.handle(get("/assets/")).status == 404);
  CHECK(router.handle(get("/status.js")).status == 404);
}

TEST_CASE("without JavaScript the page is a table of every target and the incidents", "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {}, &fleet.log);
  const std::string html = router.handle(get("/")).body;
  CHECK_THAT(html, Catch::StartsWith("<!doctype html>"));
  CHECK_THAT(html, Catch::Contains("<meta name=\"viewport\""));
  for (const char* name : {"primary", "replica", "fresh"}) {
    CHECK_THAT(html, Catch::Contains("<a href=\"/healthz/" + std::string(name) + "?verbose\">" +
                                     name + "</a></th>"));
  }
  CHECK_THAT(html, Catch::Contains("<span class=\"state down\">down</span>"));
  CHECK_THAT(html, Catch::Contains("<td data-label=\"latency\">4.20 ms</td>"));
  CHECK_THAT(html, Catch::Contains("<td data-label=\"saturation\">25%</td>"));
  CHECK_THAT(html, Catch::Contains("<td data-label=\"pool\">1/4</td>"));
  CHECK_THAT(html, Catch::Contains("href=\"/debug/incidents/20231114T223000Z-replica\""));
  CHECK_THAT(html, Catch::Contains("href=\"/debug/incidents/20231114T221320Z-primary\""));
  CHECK_THAT(html, Catch::Contains("3 targets: 1 up, 1 down, 1 without a result yet"));
  // The old landing page's links live on in the footer.
  for (const char* link : {"/healthz?verbose", "/readyz?verbose", "/livez?verbose", "/metrics",
                           "/debug/failures", "/debug/activity"}) {
    CHECK_THAT(html, Catch::Contains(std::string("href=\"") + link + "\""));
  }
  CHECK(html.find("{{") == std::string::npos);

  const std::string down = router.handle(get("/?state=down")).body;
  CHECK_THAT(down, Catch::Contains(">replica</a></th>"));
  CHECK_THAT(down, !Catch::Contains(">primary</a></th>"));
  CHECK_THAT(down, Catch::Contains("<option value=\"down\" selected>"));
  const std::string search = router.handle(get("/?q=PRIM")).body;
  CHECK_THAT(search, Catch::Contains(">primary</a></th>"));
  CHECK_THAT(search, !Catch::Contains(">replica</a></th>"));
  CHECK_THAT(search, Catch::Contains("value=\"PRIM\""));
}

TEST_CASE("a hostile target name, failure message and search are escaped in the page", "[status]") {
  Fleet fleet;
  auto evil = target(kEvil);
  evil->checks["connectivity"] = connectivity(false);
  evil->checks["connectivity"].reason = "<img src=x onerror=alert(1)>";
  fleet.telemetry.state.publish(evil);
  auto record = std::make_shared<IncidentRecord>(*Fleet::record("x", kEvil, 1'700'000'060, 0));
  record->first_error = "<b>boom</b>";
  fleet.log.publish(record);
  const Router router(fleet.telemetry, {}, &fleet.log);
  const std::string html = router.handle(get("/")).body;
  CHECK_THAT(html, !Catch::Contains("<script>"));
  CHECK_THAT(html, !Catch::Contains("alert('x')"));
  CHECK_THAT(html, !Catch::Contains("<b>boom"));
  CHECK_THAT(html, Catch::Contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;db"));
  CHECK_THAT(html, Catch::Contains("&lt;b&gt;boom&lt;/b&gt;"));
  CHECK_THAT(html,
             Catch::Contains("/healthz/%3Cscript%3Ealert%28%27x%27%29%3C%2Fscript%3E%26%22db"));
  // The reason is mapped to words by the health rules; whatever it is, it is text.
  CHECK_THAT(html, !Catch::Contains("<img"));
  CHECK_THAT(html, Catch::Contains("&lt;img src=x onerror=alert(1)&gt;"));
  Request search = get("/");
  search.query.emplace("q", "\"><script>x");
  const std::string searched = router.handle(search).body;
  CHECK_THAT(searched, Catch::Contains("value=\"&quot;&gt;&lt;script&gt;x\""));
  CHECK_THAT(searched, !Catch::Contains("<script>"));
  // The JSON carries the name as data, for textContent.
  const auto status = body_json(router.handle(get("/debug/status")));
  CHECK(status["targets"][0]["name"] == kEvil);
}

TEST_CASE("no asset and no rendered page refers to another origin", "[status]") {
  Fleet fleet;
  const Router router(fleet.telemetry, {}, &fleet.log);
  std::vector<std::pair<std::string, std::string>> texts = {{"/", router.handle(get("/")).body}};
  for (const char* name : {"status.html", "status.css", "status.js"}) {
    const auto* a = pgv::http::find_asset(name);
    REQUIRE(a != nullptr);
    CHECK(a->bytes.size() > 100);
    texts.emplace_back(name, std::string(a->bytes));
  }
  // An absolute URL, or a scheme-relative one ("//cdn...", url(//...), src='//...').
  const std::regex external(R"((https?:|ftp:|["'(=`\s]//[^\s/]))", std::regex::icase);
  for (const auto& [name, text] : texts) {
    INFO(name);
    std::smatch m;
    const bool found = std::regex_search(text, m, external);
    INFO((found ? m.str() : std::string()));
    CHECK_FALSE(found);
    CHECK(text.find("@import") == std::string::npos);
    CHECK(text.find("<style") == std::string::npos);
    CHECK(text.find(" style=") == std::string::npos);
    CHECK_FALSE(std::regex_search(text, std::regex(R"(<[^>]+\son[a-z]+=)")));
    CHECK_FALSE(std::regex_search(text, std::regex(R"(<script>)")));
    CHECK(text.find("innerHTML") == std::string::npos);
  }
}

TEST_CASE("html helpers: escaping, percent-encoding, template filling", "[status]") {
  using pgv::http::escape_html;
  using pgv::http::fill_template;
  using pgv::http::percent_encode;
  CHECK(escape_html("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;");
  CHECK(percent_encode("a b/c~d.e_f-g") == "a%20b%2Fc~d.e_f-g");
  CHECK(percent_encode("\xc3\xa9") == "%C3%A9");
  CHECK(fill_template("<p>{{a}}{{b}}{{zz}}</p>{{", {{"a", "{{b}}"}, {"b", "2"}}) ==
        "<p>{{b}}2</p>{{");
  CHECK(pgv::http::utc_time(1'700'000'000) == "2023-11-14 22:13:20Z");
}
