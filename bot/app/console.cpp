#include "bot/app/console.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "bot/app/audit_format.hpp"
#include "bot/console/render.hpp"
#include "bot/console/request.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "bot/net/net.hpp"
#include "bot/runtime/pipeline.hpp"
#include "config/config.hpp"
#include "handlers/executor.hpp"
#include "storage/audit_log.hpp"
#include "storage/console_read.hpp"

namespace signoff::app {
namespace {

namespace asio = boost::asio;
using header_list = std::vector<std::pair<std::string, std::string>>;
using form_map = std::map<std::string, std::string, std::less<>>;

constexpr int page_rows = 50;
constexpr auto verify_every = std::chrono::minutes(10);  // the chain page's verify is at most this old
constexpr std::size_t export_chunk = 64 * 1024;

// Every answer: no script, no outside origin, no framing, no caching.
header_list security_headers() {
  return {{"Content-Security-Policy",
           "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
           "base-uri 'none'"},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", "no-store"},
          {"X-Frame-Options", "DENY"}};
}

net::console_response html(unsigned status, std::string body) {
  net::console_response r;
  r.status = status;
  r.headers = security_headers();
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.body = std::move(body);
  return r;
}

net::console_response redirect(std::string location, header_list extra = {}) {
  net::console_response r;
  r.status = 303;
  r.headers = security_headers();
  r.headers.emplace_back("Location", std::move(location));
  for (auto& h : extra) r.headers.push_back(std::move(h));
  return r;
}

net::console_response message(unsigned status, std::string_view title, std::string_view text) {
  return html(status, console::render_message(title, text));
}

std::optional<std::int64_t> positive(std::string_view s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

}  // namespace

struct audit_console::impl : std::enable_shared_from_this<impl> {
  impl(std::shared_ptr<const conf::config> c, runtime::command_pipeline& p, executor& e, asio::any_io_executor main,
       std::string vkey, std::shared_ptr<spdlog::logger> l)
      : cfg(std::move(c)), pipe(p), exec(e), main_io(main), verifier_key(std::move(vkey)), log(std::move(l)) {
    base_path = console::base_path_of(cfg->console->base_url);
    secure_cookie = cfg->console->base_url.starts_with("https://") || !cfg->console->cert_file.empty();
  }

  std::shared_ptr<const conf::config> current() {
    std::lock_guard lock(cfg_m);
    return cfg;
  }

  // Runs `job` on the pipeline's database thread (the one writer) and
  // resumes on the console's thread with its result. The pipeline is driven
  // from the main io thread, so the job is handed over there.
  template <class R, class Job>
  asio::awaitable<R> on_pipeline(Job job) {
    auto self = shared_from_this();
    return asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
        [self](auto handler, Job j) {
          auto h = std::make_shared<decltype(handler)>(std::move(handler));
          auto back = self->ioc.get_executor();
          asio::post(self->main_io, [self, h, back, j = std::move(j)]() mutable {
            self->pipe.run(std::move(j), [h, back](R r) mutable {
              asio::post(back, [h, r = std::move(r)]() mutable { std::move (*h)(std::move(r)); });
            });
          });
        },
        asio::use_awaitable, std::move(job));
  }

  // The signed-in person, when the request's cookie names a live session of
  // someone who still may audit.
  const conf::person* signed_in(const net::console_request& req, const conf::config& c, std::string* session) {
    auto value = console::cookie_value(req.cookie, console::cookie_name);
    if (!value || value->empty()) return nullptr;
    auto person = reader->session_person(sha256_hex(*value), clock_now());
    if (!person) return nullptr;
    const conf::person* p = c.find_person(*person);
    if (!p || !c.has_permission(*p, "audit")) return nullptr;
    if (session) *session = *value;
    return p;
  }

  // A POST from another site is refused: SameSite=Strict keeps the cookie
  // off it anyway, and a login form must not be submitted from elsewhere.
  bool same_site(const net::console_request& req) {
    if (req.sec_fetch_site == "cross-site") return false;
    if (req.origin.empty() || req.origin == "null") return req.origin.empty();
    const std::string base = current()->console->base_url;
    return base.starts_with(req.origin) &&
           (base.size() == req.origin.size() || base[req.origin.size()] == '/');
  }

  std::string session_cookie(const std::string& value, bool clear) const {
    std::string c = std::string(console::cookie_name) + "=" + value + "; Path=" + base_path +
                    "; HttpOnly; SameSite=Strict";
    if (secure_cookie) c += "; Secure";
    c += clear ? "; Max-Age=0" : "; Max-Age=28800";
    return c;
  }

  // The chain page's verify: run again when the last is older than
  // verify_every (on this thread; 1M records take under a second).
  void refresh_verify(console::chain_view& v) {
    const auto now = std::chrono::steady_clock::now();
    if (!last_verify || now - verified_at > verify_every) {
      try {
        sql::db d(current()->storage.path, sql::db::options{true, false, nullptr});
        last_verify = audit::verify(d);
      } catch (const std::exception& e) {
        last_verify = audit::verify_result{};
        last_verify->ok = false;
        last_verify->problem = std::string("could not read the database: ") + e.what();
      }
      verified_at = now;
      verified_ts = format_rfc3339_ms(clock_now());
    }
    v.verify_ok = last_verify->ok;
    v.verify_at = verified_ts;
    v.verified_records = last_verify->records;
    if (!last_verify->ok) {
      v.verify_problem = last_verify->first_bad_seq != 0
                             ? "seq " + std::to_string(last_verify->first_bad_seq) + ": " + last_verify->problem
                             : last_verify->problem;
      for (const auto& p : last_verify->schema_problems) v.verify_problem += (v.verify_problem.empty() ? "" : "; ") + p;
    }
    v.verifier_key = verifier_key;
  }

  asio::awaitable<net::console_response> export_view(const conf::person& who, const form_map& form,
                                                     net::response_stream& out, bool& streamed) {
    const auto it = form.find("format");
    const std::string format = it == form.end() ? "" : it->second;
    if (format != "csv" && format != "jsonl") co_return message(400, "Export", "format must be csv or jsonl.");
    const console::log_filter f = console::filter_from(form);
    const auto now = clock_now();
    // Checked before anything is recorded or sent: a bad filter is a 400.
    std::string why;
    if (!console::make_filter(f, now, why)) co_return message(400, "Export", why);
    const std::int64_t upto = reader->last_seq();
    boost::json::object filters;
    for (const auto& [k, v] : form)
      if (k != "format" && !v.empty()) filters[k] = v;
    struct recorded {
      bool ok = false;
      std::string error;
    };
    const std::string person = who.id;
    auto job = [this, person, format, filters, now]() {
      recorded r;
      try {
        exec.console_export(person, format, filters, now);
        r.ok = true;
      } catch (const std::exception& e) {
        r.error = e.what();
      }
      return r;
    };
    const recorded rec = co_await on_pipeline<recorded>(std::move(job));
    if (!rec.ok) {
      log->error("console: export by {} not recorded: {}", person, rec.error);
      co_return message(503, "Export not recorded",
                        "signoff could not record this export in its audit log, so nothing was exported. "
                        "Try again shortly.");
    }
    net::console_response head;
    head.headers = security_headers();
    head.headers.emplace_back("Content-Type", format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson");
    head.headers.emplace_back("Content-Disposition",
                              std::string("attachment; filename=\"signoff-audit.") + format + "\"");
    if (!co_await out.begin(std::move(head))) co_return net::console_response{};
    streamed = true;
    std::ostringstream buf;
    if (format == "csv") buf << csv_header << "\r\n";
    std::int64_t after = 0;
    for (;;) {
      auto rows = reader->export_page(f, after, upto, 2000, now, why);
      for (const auto& r : rows) {
        if (format == "csv")
          put_csv_row(buf, r, false);
        else
          buf << boost::json::serialize(to_json(r)) << '\n';
        after = r.seq;
      }
      if (buf.tellp() >= static_cast<std::streamoff>(export_chunk) || rows.empty()) {
        std::string chunk = buf.str();
        buf.str({});
        if (!chunk.empty() && !co_await out.write(std::move(chunk))) co_return net::console_response{};
      }
      if (rows.empty()) break;
    }
    co_await out.finish();
    co_return net::console_response{};
  }

  asio::awaitable<net::console_response> handle(net::console_request req, net::response_stream& out, bool& streamed) {
    const auto c = current();
    std::string query;
    const std::string route = console::route_of(req.target, base_path, query);
    const bool get = req.method == "GET", post = req.method == "POST";
    if (route == "console.css" && get) {
      net::console_response r;
      r.headers = security_headers();
      r.headers.emplace_back("Content-Type", "text/css; charset=utf-8");
      r.body = std::string(console::stylesheet());
      co_return r;
    }
    if (route == "how-to-login" && get)
      co_return message(200, "Sign in to the audit console",
                        "Type /audit console in chat (Slack, Discord, Mattermost or the shell). signoff answers you "
                        "alone with a link that signs you in; it works once, for 5 minutes. Only auditors and "
                        "admins get one.");
    if (route == "signed-out" && get)
      co_return message(200, "Signed out", "You are signed out. Type /audit console in chat to sign in again.");
    if (route == "login" && get) {
      const auto q = console::parse_form(query);
      const auto t = q.find("token");
      const auto state = t == q.end() ? std::nullopt : reader->token(sha256_hex(t->second), clock_now());
      // A GET spends nothing and records nothing: link previews open it.
      if (!state || state->used || state->expired)
        co_return message(403, "This link does not sign you in",
                          "It was used already, has expired (links work for 5 minutes) or is not one signoff "
                          "issued. Type /audit console in chat for a new one.");
      const conf::person* p = c->find_person(state->person);
      co_return html(200, console::render_login(state->person, p ? p->name : state->person, t->second));
    }
    if (route == "login" && post) {
      if (!same_site(req)) co_return message(403, "Refused", "A sign-in must come from the console's own page.");
      const auto form = console::parse_form(req.body);
      const auto t = form.find("token");
      const std::string token = t == form.end() ? "" : t->second;
      struct login {
        executor::console_login_result r;
        std::string error;
      };
      const auto now = clock_now();
      auto job = [this, token, now]() {
        login l;
        try {
          l.r = exec.console_login(token, now);
        } catch (const std::exception& e) {
          l.error = e.what();
        }
        return l;
      };
      const login l = co_await on_pipeline<login>(std::move(job));
      if (!l.error.empty()) {
        log->error("console: a login could not be recorded: {}", l.error);
        co_return message(503, "Not signed in",
                          "signoff could not record this sign-in in its audit log, so it did not take effect. Try "
                          "again shortly.");
      }
      if (!l.r.ok) co_return message(403, "This link does not sign you in", l.r.error + ". Type /audit console in chat for a new one.");
      log->info("console: {} signed in", l.r.person);
      co_return redirect("log", {{"Set-Cookie", session_cookie(l.r.session, false)}});
    }
    std::string session;
    const conf::person* who = signed_in(req, *c, &session);
    if (route == "logout" && post) {
      if (!same_site(req)) co_return message(403, "Refused", "A sign-out must come from the console's own page.");
      if (who) {
        const auto now = clock_now();
        auto job = [this, session, now]() {
          try {
            exec.console_logout(session, now);
            return true;
          } catch (const std::exception&) {
            return false;
          }
        };
        co_await on_pipeline<bool>(std::move(job));
      }
      co_return redirect("signed-out", {{"Set-Cookie", session_cookie("", true)}});
    }
    if (!who) {
      if (get) co_return redirect("how-to-login");
      co_return message(401, "Not signed in", "Type /audit console in chat to sign in.");
    }
    const console::nav n{who->id, who->name};
    const auto q = console::parse_form(query);
    if (route == "export" && post) {
      if (!same_site(req)) co_return message(403, "Refused", "An export must come from the console's own page.");
      co_return co_await export_view(*who, console::parse_form(req.body), out, streamed);
    }
    if (!get) co_return message(405, "Not allowed", "The console only shows things: nothing here changes by POST.");
    if (route.empty()) co_return redirect("log");
    if (route == "log") {
      std::int64_t before = 0;
      if (auto it = q.find("before"); it != q.end()) before = positive(it->second).value_or(0);
      co_return html(200, console::render_log(reader->log(console::filter_from(q), before, page_rows, clock_now()), n));
    }
    if (route == "draft") {
      const auto it = q.find("id");
      std::string_view id = it == q.end() ? std::string_view() : std::string_view(it->second);
      if (id.starts_with("D-")) id.remove_prefix(2);
      const auto num = positive(id);
      if (!num) co_return message(404, "No such draft", "Give a draft ID such as D-1.");
      co_return html(200, console::render_timeline(reader->draft_timeline(*num), n));
    }
    if (route == "escalations") co_return html(200, console::render_escalations(reader->escalations(), n));
    if (route == "crises") co_return html(200, console::render_crises(reader->crises(), n));
    if (route == "chain") {
      auto v = reader->chain();
      refresh_verify(v);
      co_return html(200, console::render_chain(v, n));
    }
    if (route == "charts") co_return html(200, console::render_charts(reader->charts(clock_now()), n));
    co_return message(404, "Not found", "There is no such page in the audit console.");
  }

  std::mutex cfg_m;
  std::shared_ptr<const conf::config> cfg;
  runtime::command_pipeline& pipe;
  executor& exec;
  asio::any_io_executor main_io;
  std::string verifier_key;
  std::shared_ptr<spdlog::logger> log;
  std::string base_path;
  bool secure_cookie = false;
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::unique_ptr<console::reader> reader;
  std::unique_ptr<net::console_server> server;
  std::thread thread;
  std::optional<audit::verify_result> last_verify;
  std::chrono::steady_clock::time_point verified_at;
  std::string verified_ts;
};

audit_console::audit_console(std::shared_ptr<const conf::config> cfg, runtime::command_pipeline& pipe, executor& exec,
                             asio::any_io_executor io, std::string verifier_key, std::shared_ptr<spdlog::logger> log)
    : impl_(std::make_shared<impl>(std::move(cfg), pipe, exec, io, std::move(verifier_key), std::move(log))) {
  const auto& c = *impl_->cfg->console;
  impl_->reader = std::make_unique<console::reader>(impl_->cfg->storage.path);
  net::console_server_options o;
  o.listen = c.listen;
  o.cert_file = c.cert_file;
  o.key_file = c.key_file;
  o.own_headers = security_headers();
  std::weak_ptr<impl> weak = impl_;
  impl_->server = std::make_unique<net::console_server>(
      impl_->ioc.get_executor(), o,
      [weak](net::console_request req, net::response_stream& out, bool& streamed) -> asio::awaitable<net::console_response> {
        auto self = weak.lock();
        if (!self) co_return message(503, "Stopping", "signoff is stopping.");
        co_return co_await self->handle(std::move(req), out, streamed);
      });
  impl_->server->start();
  impl_->thread = std::thread([i = impl_] { i->ioc.run(); });
}

audit_console::~audit_console() { stop(); }

std::uint16_t audit_console::port() const { return impl_->server ? impl_->server->port() : 0; }

void audit_console::reconfigure(std::shared_ptr<const conf::config> next) {
  std::lock_guard lock(impl_->cfg_m);
  impl_->cfg = std::move(next);
}

void audit_console::stop() {
  if (!impl_->thread.joinable()) return;
  asio::post(impl_->ioc, [i = impl_] {
    i->server->stop();
    i->work.reset();
  });
  impl_->thread.join();
}

}  // namespace signoff::app
