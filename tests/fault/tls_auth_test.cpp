// HTTPS with a real certificate chain (made with the openssl CLI) and HTTP authentication,
// against the agent as a real process.

#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent_helpers.hpp"
#include "helpers.hpp"

using namespace std::chrono_literals;
using namespace pgv::testing;

namespace {

constexpr const char* kOpenssl = "/usr/bin/openssl";

// Canaries: neither may appear in the agent's log.
constexpr const char* kToken = "tok-CANARY-7f3a9c1e";
constexpr const char* kUser = "scraper";
constexpr const char* kPassword = "pw:CANARY-b4s1c";  // a colon in a password is legal

void openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {kOpenssl};
  argv.insert(argv.end(), args.begin(), args.end());
  const CommandResult out = run_capture(argv, {});
  INFO(out.output);
  REQUIRE(out.exit_code == 0);
}

// A throwaway CA and a server certificate it signed for 127.0.0.1 and localhost, plus an
// unrelated CA that must not be trusted for it.
class Pki {
 public:
  Pki() {
    char tmpl[] = "/tmp/pgvitals-pki-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    const std::vector<std::string> ec = {"-newkey", "ec", "-pkeyopt",
                                         "ec_paramgen_curve:prime256v1", "-nodes"};
    for (const char* ca : {"ca", "other-ca"}) {
      std::vector<std::string> args = {"req", "-x509"};
      args.insert(args.end(), ec.begin(), ec.end());
      args.insert(args.end(), {"-keyout", path(std::string(ca) + ".key"), "-out",
                               path(std::string(ca) + ".crt"), "-days", "2", "-subj",
                               std::string("/CN=pgvitals test ") + ca, "-addext",
                               "basicConstraints=critical,CA:TRUE", "-addext",
                               "keyUsage=critical,keyCertSign,cRLSign"});
      openssl(args);
    }
    std::vector<std::string> csr = {"req", "-new"};
    csr.insert(csr.end(), ec.begin(), ec.end());
    csr.insert(csr.end(), {"-keyout", path("server.key"), "-out", path("server.csr"), "-subj",
                           "/CN=127.0.0.1"});
    openssl(csr);
    TempFile ext(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        "basicConstraints=CA:FALSE\n",
        ".cnf");
    openssl({"x509", "-req", "-in", path("server.csr"), "-CA", path("ca.crt"), "-CAkey",
             path("ca.key"), "-CAcreateserial", "-out", path("server.crt"), "-days", "2",
             "-extfile", ext.path()});
  }
  ~Pki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Pki(const Pki&) = delete;
  Pki& operator=(const Pki&) = delete;

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  std::string tls_yaml(const std::string& cert = "server.crt",
                       const std::string& key = "server.key") const {
    return "tls: {cert_file: '" + path(cert) + "', key_file: '" + path(key) + "'}\n";
  }

 private:
  std::string dir_;
};

struct Answer {
  int status = 0;  // 0: no HTTP answer
  std::string body;
  std::string www_authenticate;
  httplib::Error error = httplib::Error::Success;
};

template <typename Client>
Answer fetch_with(Client& client, const std::string& path, const std::string& authorization) {
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(2, 0);
  client.set_write_timeout(2, 0);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  Answer a;
  if (auto res = client.Get(path.c_str(), headers)) {
    a.status = res->status;
    a.body = res->body;
    a.www_authenticate = res->get_header_value("WWW-Authenticate");
  } else {
    a.error = res.error();
  }
  return a;
}

Answer fetch(int port, const std::string& path, const std::string& authorization = "") {
  httplib::Client client("127.0.0.1", port);
  return fetch_with(client, path, authorization);
}

// HTTPS, verifying the server against `ca_file` (host `host` must match the certificate).
Answer fetch_tls(int port, const std::string& path, const std::string& ca_file,
                 const std::string& authorization = "", const std::string& host = "127.0.0.1") {
  httplib::SSLClient client(host, port);
  client.set_address_family(AF_INET);
  client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);
  return fetch_with(client, path, authorization);
}

std::string base64(const std::string& in) {
  static const char* kChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s : {18, 12, 6, 0}) out += kChars[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    const unsigned v = static_cast<unsigned char>(in[i]) << 16;
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const unsigned v =
        (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kChars[(v >> 18) & 63];
    out += kChars[(v >> 12) & 63];
    out += kChars[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64(user + ":" + password);
}

const std::vector<std::string> kProtectedPaths = {"/metrics", "/debug/failures", "/debug/activity",
                                                  "/"};
const std::vector<std::string> kHealthPaths = {"/livez",           "/healthz",        "/readyz",
                                               "/healthz/default", "/readyz/default", "/primary"};

// An agent with `yaml` as its config file, at debug level so that everything that could
// leak is logged.
struct Agent {
  explicit Agent(const PgCluster& cluster, const std::string& yaml)
      : config(yaml),
        process(
            [&] {
              std::vector<std::string> args = kFastArgs;
              args.insert(args.end(), {"--config", config.path(), "--log-level", "debug"});
              return args;
            }(),
            env_for(cluster)) {}
  TempFile config;
  AgentProcess process;

  // Stops the agent and returns everything it logged.
  std::string final_log() {
    process.signal(SIGTERM);
    CHECK(process.wait_exit(5s).has_value());
    return process.log();
  }
};

void check_no_secrets(const std::string& log) {
  INFO(log);
  CHECK_FALSE(log.empty());
  CHECK(log.find(kToken) == std::string::npos);
  CHECK(log.find(kPassword) == std::string::npos);
  CHECK(log.find("CANARY") == std::string::npos);
  CHECK(log.find(base64(std::string(kUser) + ":" + kPassword)) == std::string::npos);
}

// The agent never comes up: a config error (2) or a server that cannot start (1).
void check_refuses_to_start(const std::string& yaml, const std::string& named) {
  TempFile config(yaml);
  AgentProcess agent({"--config", config.path()},
                     {{"DATABASE_URL", "postgresql://u@127.0.0.1:1/db"}});
  const std::optional<int> status = agent.wait_exit(10s);
  INFO(agent.log());
  REQUIRE(status.has_value());
  CHECK(*status != 0);
  CHECK(agent.log().find(named) != std::string::npos);
}

}  // namespace

TEST_CASE("HTTPS: health over a verified TLS connection, plain HTTP refused cleanly",
          "[tls][integration]") {
  Pki pki;
  PgCluster cluster;
  Agent agent(cluster, pki.tls_yaml());
  const int port = agent.process.port();
  REQUIRE(eventually([&] { return fetch_tls(port, "/healthz", pki.path("ca.crt")).status == 200; },
                     10s));
  const Answer ok = fetch_tls(port, "/healthz", pki.path("ca.crt"));
  CHECK(ok.status == 200);
  CHECK(ok.body == "ok");
  CHECK(fetch_tls(port, "/metrics", pki.path("ca.crt")).body.find("pgvitals_up") !=
        std::string::npos);
  // The DNS name in the certificate works too.
  CHECK(fetch_tls(port, "/livez", pki.path("ca.crt"), "", "localhost").status == 200);
  // Verification is real: another CA does not vouch for this certificate.
  const Answer untrusted = fetch_tls(port, "/healthz", pki.path("other-ca.crt"));
  CHECK(untrusted.status == 0);
  CHECK(untrusted.error == httplib::Error::SSLServerVerification);

  // Plain HTTP on the TLS port: no answer, quickly, and nothing breaks.
  for (int i = 0; i < 5; ++i) {
    const HttpResult plain = http_get(port, "/healthz", {}, 3s);
    CHECK(plain.status == 0);
    CHECK(plain.seconds < 1.0);
  }
  // Nor do idle TCP connections that never start a handshake keep HTTPS waiting.
  std::vector<int> idle;
  for (int i = 0; i < 50; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    idle.push_back(fd);
  }
  const auto start = std::chrono::steady_clock::now();
  const Answer after = fetch_tls(port, "/healthz", pki.path("ca.crt"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (int fd : idle) ::close(fd);
  CHECK(after.status == 200);
  CHECK(seconds < 1.0);
  CHECK_FALSE(agent.process.wait_exit(0ms).has_value());
  const std::string log = agent.final_log();
  CHECK(log.find("https://") != std::string::npos);
}

TEST_CASE("an unusable certificate or key: the agent exits non-zero naming the file",
          "[tls][integration]") {
  Pki pki;
  SECTION("a certificate path that does not exist") {
    const std::string missing = pki.path("no-such-cert.pem");
    check_refuses_to_start(
        "tls: {cert_file: '" + missing + "', key_file: '" + pki.path("server.key") + "'}\n",
        missing);
  }
  SECTION("a key path that does not exist") {
    const std::string missing = pki.path("no-such-key.pem");
    check_refuses_to_start(
        "tls: {cert_file: '" + pki.path("server.crt") + "', key_file: '" + missing + "'}\n",
        missing);
  }
  SECTION("a certificate file that is not PEM") {
    TempFile junk("this is not a certificate\n", ".pem");
    check_refuses_to_start(
        "tls: {cert_file: '" + junk.path() + "', key_file: '" + pki.path("server.key") + "'}\n",
        junk.path());
  }
  SECTION("a key that does not match the certificate") {
    check_refuses_to_start(pki.tls_yaml("server.crt", "ca.key"), pki.path("ca.key"));
  }
}

TEST_CASE("bearer token: metrics, debug and landing need it, health stays open",
          "[auth][integration]") {
  PgCluster cluster;
  Agent agent(cluster, std::string("auth: {bearer_token: '") + kToken + "'}\n");
  const int port = agent.process.port();
  REQUIRE(agent.process.wait_for_status("/readyz", 200, 10s));
  const std::string good = std::string("Bearer ") + kToken;
  for (const auto& path : kProtectedPaths) {
    INFO(path);
    const Answer none = fetch(port, path);
    CHECK(none.status == 401);
    CHECK(none.www_authenticate == R"(Bearer realm="pgvitals")");
    CHECK(none.body.find(kToken) == std::string::npos);
    for (const std::string& bad :
         {std::string("Bearer wrong"), std::string("Bearer ") + kToken + "x",
          std::string("Bearer ") + std::string(kToken).substr(1),
          std::string("Bearer ") + std::string(kToken).substr(0, 8), std::string(kToken),
          std::string("Bearer"), std::string("Basic ") + base64(kToken),
          std::string("Token ") + kToken}) {
      INFO("Authorization: " << bad);
      const Answer wrong = fetch(port, path, bad);
      CHECK(wrong.status == 401);
      CHECK(wrong.www_authenticate == R"(Bearer realm="pgvitals")");
    }
    CHECK(fetch(port, path, good).status == 200);
    CHECK(fetch(port, path, std::string("bearer ") + kToken).status == 200);  // scheme case
  }
  for (const auto& path : kHealthPaths) {
    INFO(path);
    CHECK(fetch(port, path).status == 200);
    CHECK(fetch(port, path, "Bearer wrong").status == 200);
  }
  check_no_secrets(agent.final_log());
}

TEST_CASE("protect_health: health endpoints need the token too", "[auth][integration]") {
  PgCluster cluster;
  Agent agent(cluster,
              std::string("auth: {bearer_token: '") + kToken + "', protect_health: true}\n");
  const int port = agent.process.port();
  const std::string good = std::string("Bearer ") + kToken;
  REQUIRE(eventually([&] { return fetch(port, "/readyz", good).status == 200; }, 10s));
  for (const auto& path : kHealthPaths) {
    INFO(path);
    const Answer none = fetch(port, path);
    CHECK(none.status == 401);
    CHECK(none.www_authenticate == R"(Bearer realm="pgvitals")");
    CHECK(fetch(port, path, "Bearer wrong").status == 401);
    CHECK(fetch(port, path, good).status == 200);
  }
  CHECK(fetch(port, "/replica").status == 401);
  CHECK(fetch(port, "/metrics").status == 401);
  CHECK(fetch(port, "/metrics", good).status == 200);
  check_no_secrets(agent.final_log());
}

TEST_CASE("basic auth: the right user and password pass, anything else is 401",
          "[auth][integration]") {
  PgCluster cluster;
  Agent agent(cluster,
              std::string("auth: {basic: {user: ") + kUser + ", password: '" + kPassword + "'}}\n");
  const int port = agent.process.port();
  REQUIRE(agent.process.wait_for_status("/readyz", 200, 10s));
  for (const auto& path : kProtectedPaths) {
    INFO(path);
    const Answer none = fetch(port, path);
    CHECK(none.status == 401);
    CHECK(none.www_authenticate == R"(Basic realm="pgvitals")");
    CHECK(fetch(port, path, basic(kUser, kPassword)).status == 200);
    CHECK(fetch(port, path, "basic " + base64(std::string(kUser) + ":" + kPassword)).status == 200);
  }
  const std::string creds = std::string(kUser) + ":" + kPassword;
  for (const std::string& bad : std::vector<std::string>{
           basic(kUser, "wrong"),                                         // wrong password
           basic("admin", kPassword),                                     // wrong user
           basic(kUser, std::string(kPassword) + "x"),                    // longer password
           basic(kUser, std::string(kPassword).substr(0, 5)),             // prefix of it
           basic(kUser, ""),                                              // empty password
           basic("", kPassword),                                          // empty user
           "Basic " + base64(kUser),                                      // no colon at all
           "Basic " + base64(creds).substr(0, base64(creds).size() - 1),  // broken base64
           "Basic !!!!" + base64(creds),                                  // not base64
           "Basic " + creds,                                              // not encoded
           std::string("Basic"),                                          // no credentials
           "Basic  " + base64(creds),                                     // two spaces
           base64(creds),                                                 // no scheme
           "Bearer " + std::string(kPassword),                            // wrong scheme
       }) {
    INFO("Authorization: " << bad);
    const Answer a = fetch(port, "/metrics", bad);
    CHECK(a.status == 401);
    CHECK(a.www_authenticate == R"(Basic realm="pgvitals")");
  }
  for (const auto& path : kHealthPaths) {
    INFO(path);
    CHECK(fetch(port, path).status == 200);
  }
  check_no_secrets(agent.final_log());
}

TEST_CASE("basic and bearer both configured: either one is accepted", "[auth][integration]") {
  PgCluster cluster;
  Agent agent(cluster, std::string("auth:\n  bearer_token: '") + kToken +
                           "'\n  basic: {user: " + kUser + ", password: '" + kPassword + "'}\n");
  const int port = agent.process.port();
  REQUIRE(agent.process.wait_for_status("/readyz", 200, 10s));
  for (const auto& path : kProtectedPaths) {
    INFO(path);
    CHECK(fetch(port, path, std::string("Bearer ") + kToken).status == 200);
    CHECK(fetch(port, path, basic(kUser, kPassword)).status == 200);
    CHECK(fetch(port, path).status == 401);
    CHECK(fetch(port, path, "Bearer wrong").status == 401);
    CHECK(fetch(port, path, basic(kUser, "wrong")).status == 401);
    // One scheme's secret does not work in the other's.
    CHECK(fetch(port, path, std::string("Bearer ") + kPassword).status == 401);
    CHECK(fetch(port, path, basic(kUser, kToken)).status == 401);
  }
  check_no_secrets(agent.final_log());
}

TEST_CASE("HTTPS with auth, and secrets stay out of config checks", "[tls][auth][integration]") {
  Pki pki;
  PgCluster cluster;
  const std::string yaml = pki.tls_yaml() + "auth: {bearer_token: '" + kToken +
                           "', basic: {user: " + kUser + ", password: '" + kPassword + "'}}\n";
  Agent agent(cluster, yaml);
  const int port = agent.process.port();
  const std::string ca = pki.path("ca.crt");
  REQUIRE(eventually([&] { return fetch_tls(port, "/healthz", ca).status == 200; }, 10s));
  const Answer none = fetch_tls(port, "/metrics", ca);
  CHECK(none.status == 401);
  CHECK(fetch_tls(port, "/metrics", ca, std::string("Bearer ") + kToken).status == 200);
  CHECK(fetch_tls(port, "/metrics", ca, basic(kUser, kPassword)).status == 200);
  check_no_secrets(agent.final_log());

  const auto checked = run_capture(
      {agent_binary(), "run", "--check-config", "--config", agent.config.path()}, env_for(cluster));
  CHECK(checked.exit_code == 0);
  check_no_secrets(checked.output);
  // A half-configured basic auth is refused without echoing the password.
  TempFile half(std::string("auth: {basic: {password: '") + kPassword + "'}}\n");
  const auto refused = run_capture(
      {agent_binary(), "run", "--check-config", "--config", half.path()}, env_for(cluster));
  CHECK(refused.exit_code == 2);
  CHECK(refused.output.find("auth.basic.user") != std::string::npos);
  check_no_secrets(refused.output);
}
