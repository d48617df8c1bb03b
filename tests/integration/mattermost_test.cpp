// The real `signoff run` against the fake Mattermost (tests/fakes/fake_mattermost):
// commands typed with the trigger, replies threaded or by DM, cards with
// buttons and the Reject dialog, forged and replayed clicks, events missed
// while the link was down, rate limits, secrets kept out of every output,
// and all three platforms served by one process.
#include <catch2/catch.hpp>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>

#include <map>
#include <set>
#include <thread>

#include "fakes/fake_discord.hpp"
#include "fakes/fake_mattermost.hpp"
#include "fakes/fake_slack.hpp"
#include "integration/running_bot.hpp"
#include "support/fixture.hpp"
#include "support/http_get.hpp"
#include "support/test_pki.hpp"

using namespace signoff;
using namespace signoff::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const char* const everyone[] = {"alice", "bob", "carol", "dave", "erin", "frank", "heidi", "ivan", "lena"};
constexpr const char* actions_secret = "0123456789abcdef0123456789abcdef";

std::string text(const json::value& v) { return json::serialize(v); }

struct mattermost_env : running_bot {
  fake_mattermost fake;
  temp_dir secrets;
  std::uint16_t port = 0;  // the bot's [http] listen port (actions_url names it)
  installation inst;

  static config_options options(config_options o, const fake_mattermost& f, const temp_dir& s,
                                const fake_mattermost::options& fo, std::uint16_t port, bool buttons) {
    o.mattermost_ids = true;
    s.write("mattermost-token", fo.token + "\n");
    s.write("actions-secret", std::string(actions_secret) + "\n");
    o.extra += "[mattermost]\nurl = \"" + f.url() + "\"\ntoken_file = \"" + s.file("mattermost-token") +
               "\"\nca_file = \"" + test_pki().ca_pem + "\"\n";
    if (buttons)
      o.extra += "actions_url = \"http://127.0.0.1:" + std::to_string(port) +
                 "/mattermost/actions\"\nactions_secret_file = \"" + s.file("actions-secret") + "\"\n";
    o.extra += "\n[http]\nlisten = \"127.0.0.1:" + std::to_string(port) + "\"\n";
    return o;
  }

  explicit mattermost_env(config_options o = {}, fake_mattermost::options fo = {}, bool buttons = true)
      : fake(fo), port(free_port()), inst(SIGNOFF_BINARY, options(std::move(o), fake, secrets, fo, port, buttons)) {
    for (const char* p : everyone) fake.add_user(mattermost_id(p), p);
    fake.add_channel(mattermost_approvals, "approvals");
    fake.add_channel(mattermost_escalations, "escalations");
    fake.add_channel(mattermost_statements, "statements");
  }
  ~mattermost_env() { terminate(); }

  // Starts `signoff run`; with `ready`, waits for hello-or-resume number `links`.
  void start(bool ready = true, int links = 1) {
    launch(inst);
    if (ready) {
      REQUIRE(fake.wait_connected(links, 10s));
      REQUIRE(log_has("state connected"));
    }
  }

  // `who` types "!signoff LINE" in `channel`; returns the post ID.
  std::string type(const std::string& who, const std::string& line,
                   const std::string& channel = mattermost_approvals) {
    return fake.post_as(mattermost_id(who), channel, "!signoff " + line);
  }
  // The bot's threaded reply to post `id`.
  std::string reply_to(const std::string& id) {
    auto r = fake.wait_reply(id, 8s);
    INFO("bot stderr:\n" << (bot ? bot->err() : ""));
    REQUIRE(r);
    return r->message;
  }
  // Types a command and returns its threaded reply.
  std::string cmd(const std::string& who, const std::string& line,
                  const std::string& channel = mattermost_approvals) {
    return reply_to(type(who, line, channel));
  }
  // Types a read-only command and returns the DM it is answered with.
  // (Pages are DMs too: the answer is the first new DM without buttons.)
  std::string ask(const std::string& who, const std::string& line) {
    const auto ch = fake.dm_channel_of(mattermost_id(who));
    std::set<std::string> before;
    for (const auto& p : fake.bot_posts(ch)) before.insert(p.id);
    type(who, line);
    auto r = fake.wait_bot_post([&](const fake_mattermost::post_rec& p) {
      return p.channel_id == ch && !before.count(p.id) && text(p.props).find("\"actions\"") == std::string::npos;
    }, 8s);
    INFO("bot stderr:\n" << (bot ? bot->err() : ""));
    REQUIRE(r);
    return r->message;
  }

  std::int64_t count(const std::string& where) { return running_bot::count(inst, where); }
  void chain_holds() { running_bot::chain_holds(inst); }
  std::string health() { return http_get(http_port, "/healthz").body; }

  // The bot's card of `draft` in #approvals.
  std::optional<fake_mattermost::post_rec> card(const std::string& draft) {
    for (auto& p : fake.bot_posts(mattermost_approvals))
      if (p.root_id.empty() && (p.message.find(draft + " ") != std::string::npos ||
                                p.message.find(draft + "*") != std::string::npos ||
                                text(p.props).find(draft + " ") != std::string::npos))
        return p;
    return std::nullopt;
  }
  std::optional<fake_mattermost::post_rec> wait_card(const std::string& draft) {
    std::optional<fake_mattermost::post_rec> c;
    wait([&] { return (c = card(draft)).has_value(); });
    return c;
  }

  void no_protocol_errors() {
    INFO(text(json::value_from(fake.protocol_errors())));
    CHECK(fake.protocol_errors().empty());
  }
};

// The action IDs of a post's buttons.
std::set<std::string> buttons_of(const fake_mattermost::post_rec& p) {
  std::set<std::string> out;
  const auto* props = p.props.if_object();
  if (!props) return out;
  const auto* atts = props->if_contains("attachments");
  if (!atts || !atts->is_array()) return out;
  for (const auto& a : atts->as_array()) {
    const auto* acts = a.as_object().if_contains("actions");
    if (!acts || !acts->is_array()) continue;
    for (const auto& b : acts->as_array()) out.insert(std::string(b.at("id").as_string()));
  }
  return out;
}

}  // namespace

TEST_CASE("mattermost: every verb typed with the trigger is recorded once, with team, channel and post ID",
          "[mattermost][commands]") {
  mattermost_env env;
  env.start();
  const auto id = env.type("alice", "draft new --to twitter,linkedin Our Q3 results are out");
  CHECK_THAT(env.reply_to(id), Catch::Contains("D-1"));
  CHECK_THAT(env.cmd("alice", "draft edit D-1 Our Q3 results are out today"), Catch::Contains("revision 2"));
  CHECK_THAT(env.ask("alice", "draft show D-1"), Catch::Contains("today"));
  CHECK_THAT(env.ask("alice", "draft list pending"), Catch::Contains("D-1"));
  CHECK_THAT(env.cmd("bob", "approve D-1@2 fine by me"), Catch::Contains("approved"));
  CHECK_THAT(env.cmd("alice", "draft new second"), Catch::Contains("D-2"));
  CHECK_THAT(env.cmd("bob", "reject D-2 off brand"), Catch::Contains("rejected"));
  CHECK_THAT(env.cmd("alice", "draft withdraw D-2 never mind"), Catch::Contains("withdrawn"));
  CHECK_THAT(env.cmd("frank", "crisis start sev1 Breach"), Catch::Contains("C-1"));
  CHECK_THAT(env.ask("frank", "crisis status"), Catch::Contains("C-1"));
  CHECK_THAT(env.ask("frank", "hold list"), Catch::Contains("data-breach"));
  CHECK_THAT(env.ask("frank", "hold show data-breach system=email next_update=noon"), Catch::Contains("email"));
  CHECK_THAT(env.cmd("frank", "hold issue data-breach system=\"the mail system\" next_update=noon"),
             Catch::Contains("data-breach"));
  CHECK_THAT(env.cmd("frank", "crisis end all clear"), Catch::Contains("ended"));
  CHECK_THAT(env.cmd("alice", "escalate slow --sev sev2 Printer on fire"), Catch::Contains("E-1"));
  CHECK_THAT(env.cmd("bob", "ack E-1"), Catch::Contains("E-1"));
  CHECK_THAT(env.ask("bob", "escalations"), Catch::Contains("E-1"));
  CHECK_THAT(env.cmd("bob", "resolve E-1 fixed"), Catch::Contains("resolved"));
  CHECK_THAT(env.ask("heidi", "audit --limit 3"), Catch::Contains("escalation.resolve"));
  CHECK_THAT(env.ask("bob", "handover"), Catch::Contains("Handover for bob"));
  CHECK_THAT(env.ask("alice", "help"), Catch::Contains("/draft new"));
  CHECK_THAT(env.ask("alice", ""), Catch::Contains("/draft new"));  // the trigger alone is help
  CHECK_THAT(env.cmd("alice", "frobnicate now"), Catch::Contains("frobnicate"));

  auto db = env.inst.db();
  // Each command once, from Mattermost, naming the team, channel, post and
  // the platform-neutral line.
  auto rows = db.rows("SELECT platform, workspace, channel, json_extract(detail, '$.envelope'), "
                      "json_extract(detail, '$.raw'), json_extract(detail, '$.platform_user') FROM audit_log "
                      "WHERE actor <> 'system' ORDER BY seq");
  REQUIRE(rows.size() == 23);
  std::set<std::string> posts;
  for (const auto& r : rows) {
    CHECK(*r[0] == "mattermost");
    CHECK(*r[1] == fake_mattermost::options{}.team_id);
    CHECK(*r[2] == mattermost_approvals);
    posts.insert(*r[3]);
    CHECK(r[4]->front() == '/');
  }
  CHECK(posts.size() == rows.size());
  CHECK(*rows[0][3] == id);
  CHECK(*rows[0][4] == "/draft new --to twitter,linkedin Our Q3 results are out");
  CHECK(*rows[0][5] == mattermost_id("alice"));
  CHECK(env.count("action = 'command.invalid' AND outcome = 'invalid'") == 1);
  env.no_protocol_errors();
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: the bot's own posts, other bots' posts and ordinary chat are not commands",
          "[mattermost][commands]") {
  mattermost_env env;
  env.fake.add_user("otherbot00000000000000000a", "otherbot", true);
  env.start();
  env.fake.post_as("otherbot00000000000000000a", mattermost_approvals, "!signoff draft new from a bot");
  env.fake.post_as(mattermost_id("alice"), mattermost_approvals, "lunch? !signoff draft new not at the start");
  env.fake.post_as(mattermost_id("alice"), mattermost_approvals, "!signoffdraft new no space");
  // The bot's reply to this one quotes the trigger: its own post must not run.
  env.cmd("alice", "draft new \"!signoff draft new echo\"");
  std::this_thread::sleep_for(1500ms);
  CHECK(env.count("actor <> 'system'") == 1);
  CHECK(env.count("action = 'draft.new'") == 1);
  env.no_protocol_errors();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: a command typed in a thread is answered in that thread", "[mattermost][commands]") {
  mattermost_env env;
  env.start();
  const auto root = env.fake.post_as(mattermost_id("alice"), mattermost_approvals, "launch plan, comments below");
  const auto in_thread = env.fake.post_as(mattermost_id("alice"), mattermost_approvals,
                                          "!signoff draft new from the thread", root);
  // Mattermost refuses a reply to a reply: the answer goes under the thread's root.
  auto r = env.fake.wait_bot_post([&](const fake_mattermost::post_rec& p) { return p.root_id == root; }, 8s);
  REQUIRE(r);
  CHECK_THAT(r->message, Catch::Contains("D-1"));
  CHECK(env.count("action = 'draft.new' AND json_extract(detail, '$.envelope') = '" + in_thread + "'") == 1);
  env.no_protocol_errors();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: an unknown user is recorded as unknown:<id> and denied", "[mattermost][commands]") {
  mattermost_env env;
  env.fake.add_user("stranger000000000000000000", "stranger");
  env.start();
  auto reply = env.reply_to(env.fake.post_as("stranger000000000000000000", mattermost_approvals, "!signoff draft new hi"));
  CHECK_THAT(reply, Catch::Contains("not in signoff's config"));
  CHECK(env.count("actor = 'unknown:stranger000000000000000000' AND outcome = 'denied'") == 1);
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: Approve on a card acts as /approve D-n@R and the card is updated in place",
          "[mattermost][buttons]") {
  mattermost_env env;
  env.start();
  env.cmd("bob", "draft new launch day");
  auto card = env.wait_card("D-1");
  REQUIRE(card);
  CHECK(buttons_of(*card) == std::set<std::string>{"approve", "reject"});
  // The author may not approve: the refusal is the click's answer, to him only.
  auto own = env.fake.click(mattermost_id("bob"), card->id, "approve");
  CHECK(own.status == 200);
  CHECK_THAT(own.ephemeral_text, Catch::Contains("own"));
  auto r = env.fake.click(mattermost_id("carol"), card->id, "approve");
  CHECK(r.status == 200);
  CHECK_THAT(r.ephemeral_text, Catch::Contains("approved"));
  REQUIRE(env.wait([&] {
    auto c = env.fake.find_post(card->id);
    return c && c->patches >= 1 && buttons_of(*c).empty();
  }));
  std::size_t cards = 0;  // updated, not posted again (the rest are thread replies)
  for (const auto& p : env.fake.bot_posts(mattermost_approvals)) cards += p.root_id.empty();
  CHECK(cards == 1);
  CHECK(env.count("action = 'draft.approve' AND outcome = 'ok' AND actor = 'carol' AND revision = 1") == 1);
  CHECK(env.count("action = 'draft.approve' AND outcome = 'denied' AND actor = 'bob'") == 1);
  env.no_protocol_errors();
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: Reject opens a dialog, its reason is recorded and the card updated", "[mattermost][buttons]") {
  mattermost_env env;
  env.start();
  env.cmd("alice", "draft new risky words");
  auto card = env.wait_card("D-1");
  REQUIRE(card);
  auto r = env.fake.click(mattermost_id("bob"), card->id, "reject");
  CHECK(r.status == 200);
  auto d = env.fake.wait_dialog(mattermost_id("bob"), 5s);
  REQUIRE(d);
  CHECK_THAT(d->title, Catch::Contains("D-1@1"));
  auto done = env.fake.submit_dialog(*d, {{"reason", "tone is off"}});
  CHECK(done.status == 200);
  CHECK(done.error.empty());
  REQUIRE(env.wait([&] { return env.count("action = 'draft.reject' AND outcome = 'ok'") == 1; }));
  auto db = env.inst.db();
  auto rows = db.rows("SELECT actor, json_extract(detail, '$.reason') FROM audit_log WHERE action = 'draft.reject'");
  REQUIRE(rows.size() == 1);
  CHECK(*rows[0][0] == "bob");
  CHECK(*rows[0][1] == "tone is off");
  REQUIRE(env.wait([&] {
    auto c = env.fake.find_post(card->id);
    return c && c->patches >= 1 && buttons_of(*c).empty();
  }));
  // Bob hears the result by DM (a dialog's answer carries no text).
  CHECK(env.fake.wait_dm(mattermost_id("bob"), 5s));
  // A submission whose state was made for bob, sent as carol: refused and recorded.
  auto d2 = *d;
  d2.user_id = mattermost_id("carol");
  auto forged = env.fake.submit_dialog(d2, {{"reason", "me too"}});
  CHECK(forged.status == 403);
  CHECK(env.count("action = 'draft.reject' AND outcome = 'denied' AND actor = 'carol'") == 1);
  env.no_protocol_errors();
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: forged, altered and replayed clicks are refused and recorded", "[mattermost][buttons]") {
  mattermost_env env;
  env.start();
  env.cmd("alice", "draft new guarded");
  auto card = env.wait_card("D-1");
  REQUIRE(card);
  const std::string url = "http://127.0.0.1:" + std::to_string(env.port) + "/mattermost/actions";
  auto click_body = [&](const std::string& user, const std::string& subject, const std::string& tag,
                        const std::string& trigger) {
    return text(json::object{{"user_id", user}, {"user_name", "x"}, {"channel_id", mattermost_approvals},
                             {"team_id", fake_mattermost::options{}.team_id}, {"post_id", card->id},
                             {"trigger_id", trigger}, {"type", "button"}, {"data_source", ""},
                             {"context", {{"action", "approve"}, {"subject", subject}, {"tag", tag}}}});
  };
  // No tag, a made-up tag, and a real-looking trigger: all refused.
  auto forged = fake_mattermost::raw_post(url, click_body(mattermost_id("bob"), "D-1@1", std::string(64, 'a'), "eA=="));
  CHECK(forged.status == 403);
  CHECK_THAT(forged.ephemeral_text, Catch::Contains("Refused"));
  // A click that went through Mattermost, replayed byte for byte.
  auto real = env.fake.click(mattermost_id("carol"), card->id, "approve");
  CHECK(real.status == 200);
  CHECK(env.count("action = 'draft.approve' AND outcome = 'ok'") == 1);
  CHECK(env.count("action = 'draft.approve' AND outcome = 'denied' AND actor = 'bob'") == 1);
  CHECK(env.count("actor = 'bob' AND json_extract(detail, '$.error') LIKE '%signature%'") == 1);
  // Nothing was approved by the forgery: the only approval is carol's.
  auto db = env.inst.db();
  CHECK(db.rows("SELECT actor FROM audit_log WHERE action = 'draft.approve' AND outcome = 'ok'") ==
        std::vector<sqlite_db::row>{{"carol"}});
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: a replayed click (same trigger) is refused and recorded", "[mattermost][buttons]") {
  mattermost_env env;
  env.start();
  env.cmd("alice", "draft new twice");
  env.cmd("alice", "draft new thrice");
  auto card = env.wait_card("D-2");
  REQUIRE(card);
  // Capture a real click's body through the fake's record of what it sent,
  // by clicking, then send the same body again straight to the bot.
  auto first = env.fake.click(mattermost_id("bob"), card->id, "approve");
  CHECK(first.status == 200);
  auto sent = env.fake.last_action_request();
  REQUIRE_FALSE(sent.empty());
  const std::string url = "http://127.0.0.1:" + std::to_string(env.port) + "/mattermost/actions";
  auto again = fake_mattermost::raw_post(url, sent);
  CHECK(again.status == 403);
  CHECK_THAT(again.ephemeral_text, Catch::Contains("replayed"));
  CHECK(env.count("action = 'draft.approve' AND outcome = 'ok'") == 1);
  CHECK(env.count("action = 'draft.approve' AND outcome = 'denied' AND json_extract(detail, '$.error') LIKE "
                  "'%replayed%'") == 1);
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: without actions_url cards show the commands to type", "[mattermost][buttons]") {
  mattermost_env env({}, {}, false);
  env.start();
  env.cmd("alice", "draft new plain card");
  auto card = env.wait_card("D-1");
  REQUIRE(card);
  CHECK(buttons_of(*card).empty());
  CHECK_THAT(card->message + text(card->props), Catch::Contains("!signoff approve D-1@1"));
  // No route: a click-shaped POST is refused by the listener.
  auto r = fake_mattermost::raw_post("http://127.0.0.1:" + std::to_string(env.port) + "/mattermost/actions", "{}");
  CHECK(r.status == 405);
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: a page goes to the channel with an @mention and to the paged person by DM",
          "[mattermost][outbox]") {
  mattermost_env env;
  env.start();
  env.cmd("alice", "escalate fast --sev sev1 Database down");
  // Level 1 pages dave: a DM with an Ack button, and a channel post naming him.
  auto dm = env.fake.wait_dm(mattermost_id("dave"), 8s);
  REQUIRE(dm);
  CHECK_THAT(dm->message, Catch::Contains("E-1"));
  CHECK(buttons_of(*dm) == std::set<std::string>{"ack"});
  REQUIRE(env.wait([&] {
    for (const auto& p : env.fake.bot_posts(mattermost_escalations))
      if (p.message.find("@dave") != std::string::npos) return true;
    return false;
  }));
  auto ack = env.fake.click(mattermost_id("dave"), dm->id, "ack");
  CHECK_THAT(ack.ephemeral_text, Catch::Contains("E-1"));
  CHECK(env.count("action = 'escalation.ack' AND actor = 'dave' AND outcome = 'ok'") == 1);
  env.no_protocol_errors();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: commands typed while the link was down run once when it is back", "[mattermost][faults]") {
  mattermost_env env;
  env.start();
  env.cmd("alice", "draft new before");
  SECTION("dropped link: the server replays the queued events on resume") {
    env.fake.refuse_connections(true);
    env.fake.drop_links();
    auto p1 = env.type("alice", "draft new typed while down");
    std::this_thread::sleep_for(500ms);
    env.fake.refuse_connections(false);
    CHECK_THAT(env.reply_to(p1), Catch::Contains("D-2"));
    // Usually a resume (no hello). When the server has not yet seen the old
    // socket go, it answers with a fresh hello instead (as the real one
    // does): then the catch-up brings the post. Once either way.
    CHECK(env.fake.resumes() + env.fake.hellos() >= 2);
  }
  SECTION("server restart: the events are gone, the bot catches up on the channel's posts") {
    env.fake.refuse_connections(true);
    env.fake.drop_links();
    auto p1 = env.type("alice", "draft new lost event");
    env.fake.forget_connections();
    env.fake.refuse_connections(false);
    CHECK_THAT(env.reply_to(p1), Catch::Contains("D-2"));
    CHECK(env.fake.hellos() >= 2);
  }
  SECTION("bot down: the posts made meanwhile run after its restart") {
    CHECK(env.stop() == 0);
    auto p1 = env.type("alice", "draft new while signoff was stopped");
    env.start(true, 2);
    CHECK_THAT(env.reply_to(p1), Catch::Contains("D-2"));
  }
  std::this_thread::sleep_for(1s);
  CHECK(env.count("action = 'draft.new'") == 2);
  CHECK(env.fake.bot_posts().size() >= 3);
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: a seq gap, garbage frames and a zombie link are survived", "[mattermost][faults]") {
  mattermost_env env;
  env.start();
  env.fake.send_raw("not json");
  // A posted event whose post is no JSON, and one without its seq: the
  // bot skips the first and reconnects on the second (it cannot know what
  // it missed); neither stops the next command.
  env.fake.send_raw(R"({"event":"posted","data":{"post":"{broken"}})");
  CHECK_THAT(env.cmd("alice", "draft new after garbage"), Catch::Contains("D-1"));
  env.fake.zombie(true);
  auto p = env.type("alice", "draft new while zombie");
  std::this_thread::sleep_for(500ms);
  env.fake.zombie(false);
  CHECK_THAT(env.reply_to(p), Catch::Contains("D-2"));
  CHECK(env.count("action = 'draft.new'") == 2);
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: 429s are honoured and no reply or post is dropped", "[mattermost][outbox]") {
  mattermost_env env;
  env.start();
  env.fake.rate_limit_next("/posts", 1, 3);
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(env.type("alice", "draft new limited " + std::to_string(i)));
  for (const auto& id : ids) CHECK_THAT(env.reply_to(id), Catch::Contains("D-"));
  REQUIRE(env.wait([&] { return env.fake.bot_posts(mattermost_approvals).size() >= 8; }, 20s));
  // Each card's delivery is recorded just after the post went.
  CHECK(env.wait([&] { return env.count("action = 'post.sent'") == 4; }));
  CHECK(env.count("action = 'post.failed'") == 0);
  env.no_protocol_errors();
  CHECK(env.stop() == 0);
}

TEST_CASE("mattermost: a refused token disables the adapter and never shows up in any output",
          "[mattermost][secrets]") {
  fake_mattermost::options fo;
  mattermost_env env({}, fo);
  env.start();
  env.cmd("alice", "draft new x");
  auto metrics = http_get(env.http_port, "/metrics").body;
  CHECK(metrics.find("signoff_mattermost_commands_total 1") != std::string::npos);
  CHECK(metrics.find(fo.token) == std::string::npos);
  env.fake.set_token("another-token-000000000000");
  env.fake.drop_links();
  REQUIRE(env.wait([&] { return env.health().find("\"disabled\"") != std::string::npos; }, 20s));
  CHECK(http_get(env.http_port, "/healthz").status == 503);
  CHECK(env.health().find(fo.token) == std::string::npos);
  CHECK(env.stop() == 0);
  CHECK(env.bot->err().find(fo.token) == std::string::npos);
  CHECK(env.bot->out().find(fo.token) == std::string::npos);
  CHECK(env.bot->err().find(actions_secret) == std::string::npos);
  auto db = env.inst.db();
  CHECK(db.rows("SELECT seq FROM audit_log WHERE instr(detail, ?) > 0", {fo.token}).empty());
  CHECK(db.rows("SELECT seq FROM audit_log WHERE instr(detail, ?) > 0", {std::string(actions_secret)}).empty());
  auto cc = run({env.inst.binary(), "check-config", "--config", env.inst.config_path()});
  CHECK(cc.out.find(fo.token) == std::string::npos);
  CHECK(cc.err.find(fo.token) == std::string::npos);
}

// ---- every platform in one process --------------------------------------------------

namespace {

struct three_platforms {
  fake_slack slack;
  fake_discord discord;
  temp_dir keys;
  std::unique_ptr<mattermost_env> env;

  three_platforms() {
    keys.write("app-token", fake_slack::options{}.app_token + "\n");
    keys.write("bot-token", fake_slack::options{}.bot_token + "\n");
    keys.write("discord-token", fake_discord::options{}.token + "\n");
    config_options o;
    o.slack_ids = true;
    o.discord_ids = true;
    const fake_discord::options fo;
    o.extra = "[slack]\napp_token_file = \"" + keys.file("app-token") + "\"\nbot_token_file = \"" +
              keys.file("bot-token") + "\"\napi_base = \"" + slack.api_base() + "\"\nca_file = \"" +
              test_pki().ca_pem + "\"\n\n[discord]\ntoken_file = \"" + keys.file("discord-token") +
              "\"\napplication_id = \"" + fo.application_id + "\"\nguild_id = \"" + fo.guild_id +
              "\"\napi_base = \"" + discord.api_base() + "\"\nca_file = \"" + test_pki().ca_pem + "\"\n\n";
    env = std::make_unique<mattermost_env>(o);
  }
  void start() {
    env->start();
    REQUIRE(slack.wait_connections(1, 10s));
    REQUIRE(discord.wait_ready(1, 10s));
  }
};

}  // namespace

TEST_CASE("all platforms: a draft made on Slack is approved on Mattermost, its card updated on all three",
          "[mattermost][slack][discord][journey]") {
  three_platforms t;
  auto& env = *t.env;
  t.start();
  auto made = t.slack.wait_ack(t.slack.slash_command(slack_id("bob"), "C0APPROVALS", "/draft", "new cross-platform"), 5s);
  REQUIRE(made);
  // One card per platform.
  REQUIRE(env.wait([&] {
    return t.slack.messages("C0APPROVALS").size() == 1 && t.discord.messages(discord_approvals).size() == 1 &&
           env.card("D-1").has_value();
  }));
  // Bob may not approve his own draft from another platform either.
  CHECK_THAT(env.cmd("bob", "approve D-1"), Catch::Contains("own"));
  // Carol approves on Mattermost.
  CHECK_THAT(env.cmd("carol", "approve D-1"), Catch::Contains("approved"));
  REQUIRE(env.wait([&] {
    auto mm = env.card("D-1");
    auto dc = t.discord.messages(discord_approvals);
    auto sl = t.slack.messages("C0APPROVALS");
    return mm && mm->patches >= 1 && !dc.empty() && dc[0].edits >= 1 && !sl.empty() && sl[0].updates >= 1;
  }, 15s));
  auto db = env.inst.db();
  CHECK(db.rows("SELECT platform, actor, outcome FROM audit_log WHERE action IN ('draft.new', 'draft.approve') "
                "ORDER BY seq") == std::vector<sqlite_db::row>{{"slack", "bob", "ok"},
                                                              {"mattermost", "bob", "denied"},
                                                              {"mattermost", "carol", "ok"}});
  // Each delivery is its own post.sent, on its own platform (recorded just
  // after the platform took it).
  CHECK(env.wait([&] {
    return env.count("action = 'post.sent' AND platform = 'slack'") >= 2 &&
           env.count("action = 'post.sent' AND platform = 'discord'") >= 2 &&
           env.count("action = 'post.sent' AND platform = 'mattermost'") >= 2;
  }));
  env.no_protocol_errors();
  CHECK(t.slack.protocol_errors().empty());
  CHECK(t.discord.protocol_errors().empty());
  env.chain_holds();
  CHECK(env.stop() == 0);
}

TEST_CASE("all platforms: one platform down never holds up the others, and /healthz names it",
          "[mattermost][slack][discord][faults]") {
  three_platforms t;
  auto& env = *t.env;
  std::string why;
  SECTION("refusing connections") {
    t.env->fake.refuse_connections(true);
    why = "connecting";
  }
  SECTION("a refused token") {
    t.env->fake.set_token("some-other-token-0000000000");
    why = "disabled";
  }
  SECTION("5xx") {
    // Six failed connections: with full-jitter backoff that is seconds to a half-minute.
    t.env->fake.fail_next("/users/me", 503, 6);
    why = "connecting";
  }
  env.start(false);
  REQUIRE(t.slack.wait_connections(1, 10s));
  REQUIRE(t.discord.wait_ready(1, 10s));
  REQUIRE(env.log_has("running"));
  auto made = t.slack.wait_ack(t.slack.slash_command(slack_id("alice"), "C0APPROVALS", "/draft", "new while mm down"), 5s);
  REQUIRE(made);
  REQUIRE(made->payload);
  CHECK_THAT(text(*made->payload), Catch::Contains("D-1"));
  REQUIRE(env.wait([&] { return t.discord.messages(discord_approvals).size() == 1; }));
  REQUIRE(env.wait([&] {
    auto h = json::parse(env.health()).as_object();
    return h.at("platforms").at("mattermost").at("state") != "connected";
  }));
  auto h = json::parse(env.health()).as_object();
  CHECK(h.at("platforms").at("slack").at("state") == "connected");
  CHECK(h.at("platforms").at("discord").at("state") == "connected");
  if (why == "disabled") {
    REQUIRE(env.wait([&] { return env.health().find("\"disabled\"") != std::string::npos; }));
    CHECK(http_get(env.http_port, "/healthz").status == 503);
  } else {
    // The Mattermost card waits in the outbox and goes once it is back.
    t.env->fake.refuse_connections(false);
    REQUIRE(env.wait([&] { return env.card("D-1").has_value(); }, 70s));
  }
  CHECK(env.stop() == 0);
}

TEST_CASE("all platforms: kill -9 under mixed load loses and doubles nothing", "[mattermost][slack][discord][restart]") {
  three_platforms t;
  auto& env = *t.env;
  t.start();
  std::vector<std::string> mm_posts;
  std::vector<std::string> slack_ids, discord_ids;
  for (int i = 0; i < 40; ++i) {
    mm_posts.push_back(env.type("alice", "draft new mm " + std::to_string(i)));
    slack_ids.push_back(t.slack.slash_command(slack_id("carol"), "C0APPROVALS", "/draft", "new slack " + std::to_string(i)));
    discord_ids.push_back(t.discord.command(discord_id("bob"), discord_approvals, "draft",
                                            json::array{json::object{{"name", "new"}, {"type", 1},
                                                                     {"options", json::array{json::object{
                                                                         {"name", "text"}, {"type", 3},
                                                                         {"value", "discord " + std::to_string(i)}}}}}}));
    if (i == 25) {
      // Under load: the first commands are being recorded when it dies.
      REQUIRE(env.wait([&] { return env.count("platform = 'mattermost' AND action = 'draft.new'") >= 3; }));
      env.crash();
    }
  }
  env.start(true, 2);
  REQUIRE(t.slack.wait_connections(1, 10s));
  // Every Mattermost command (posted before, during and after the crash) runs once.
  REQUIRE(env.wait([&] {
    auto db = env.inst.db();
    return db.rows("SELECT seq FROM audit_log WHERE platform = 'mattermost' AND action = 'draft.new'").size() == 40;
  }, 30s));
  auto db = env.inst.db();
  for (const auto& id : mm_posts)
    CHECK(db.rows("SELECT seq FROM audit_log WHERE json_extract(detail, '$.envelope') = ?", {id}).size() == 1);
  // Slack: what was acknowledged is there once; nothing twice.
  for (const auto& id : slack_ids)
    CHECK(db.rows("SELECT seq FROM audit_log WHERE json_extract(detail, '$.envelope') = ?", {id}).size() <= 1);
  for (const auto& id : discord_ids)
    CHECK(db.rows("SELECT seq FROM audit_log WHERE json_extract(detail, '$.envelope') = ?", {id}).size() <= 1);
  // IDs are one sequence across platforms: no draft number twice.
  CHECK(db.rows("SELECT subject FROM audit_log WHERE action = 'draft.new' GROUP BY subject HAVING count(*) > 1")
            .empty());
  // Every Mattermost command got its answer: in its thread before the
  // crash, or as a late confirmation by DM after it; none twice.
  REQUIRE(env.wait([&] {
    auto now_db = env.inst.db();
    return now_db.rows("SELECT envelope_id FROM seen_envelopes WHERE platform = 'mattermost' AND confirmed = 0")
        .empty();
  }, 20s));
  const auto dm = env.fake.dm_channel_of(mattermost_id("alice"));
  for (const auto& id : mm_posts) {
    std::size_t replies = 0;
    for (const auto& p : env.fake.bot_posts()) replies += p.root_id == id;
    CHECK(replies <= 1);
    if (replies == 0) {
      auto subject = db.rows("SELECT subject FROM audit_log WHERE json_extract(detail, '$.envelope') = ?", {id});
      REQUIRE(subject.size() == 1);
      bool late = false;
      for (const auto& p : env.fake.bot_posts(dm))
        late = late || (p.message.find("restarted") != std::string::npos &&
                        p.message.find(*subject[0][0] + " ") != std::string::npos);
      INFO(id << " " << *subject[0][0]);
      CHECK(late);
    }
  }
  env.chain_holds();
  CHECK(env.stop() == 0);
}
