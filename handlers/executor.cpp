#include "handlers/executor.hpp"

#include <boost/json/serialize.hpp>
#include <openssl/rand.h>

#include <functional>

#include "bot/core/note.hpp"
#include "bot/core/text.hpp"
#include "bot/core/time.hpp"
#include "handlers/context.hpp"
#include "handlers/grammar.hpp"

namespace signoff {
namespace {

constexpr std::string_view not_recorded_reply =
    "NOT RECORDED: signoff could not write to its database, so nothing was changed and "
    "this command did not take effect. Please try again shortly; if it persists, tell an "
    "operator.";

// What a redelivery or a late confirmation repeats of a reply that held a
// secret (a console login link): the database never keeps the link itself.
constexpr std::string_view secret_reply_kept =
    "Your audit console link was sent in the reply to this command. It is single use and valid for "
    "5 minutes; if you did not get it, type /audit console again for a new one.";

std::string platform_channel_id(const conf::config& cfg, platform on, const std::string& channel) {
  if (on == platform::shell) return channel;  // the terminal shows channel names
  const auto* ch = cfg.find_channel(channel);
  const std::string* id = ch ? ch->id_on(on) : nullptr;
  return id ? *id : std::string();
}

// A person's user ID on `on` ('' when none): mentions are resolved here,
// once, so adapters never read the config.
std::string platform_user_id(const conf::config& cfg, platform on, const std::string& person) {
  const auto* p = cfg.find_person(person);
  const std::string* id = p ? p->id_on(on) : nullptr;
  return id ? *id : std::string();
}

// The person a direct message ("@person") is for.
std::string dm_person(const std::string& channel) { return channel.substr(channel.starts_with('@') ? 1 : 0); }

// Fans each post out to every delivering platform that has an ID for its
// channel; returns the outbox IDs and names channels no platform can reach.
void enqueue_posts(const conf::config& cfg, store& db, const std::vector<platform>& platforms,
                   const std::vector<handlers::post_request>& posts, const std::string& by,
                   time_point now, handlers::result& res) {
  boost::json::array ids, unrouted, dm_unrouted;
  for (const auto& p : posts) {
    bool routed = false;
    // A direct message ("@person") goes to that person's user ID on each
    // platform where they have one (the shell shows the person's id).
    const bool dm = p.kind == post_kind::dm;
    const std::string person = dm ? dm_person(p.channel) : std::string();
    for (const platform on : platforms) {
      auto pc = !dm ? platform_channel_id(cfg, on, p.channel)
                : on == platform::shell ? person
                                        : platform_user_id(cfg, on, person);
      if (pc.empty()) continue;
      outbox_post op;
      op.created_at = now;
      op.platform = on;
      op.channel = p.channel;
      op.platform_channel = pc;
      op.kind = p.kind;
      op.subject = p.subject;
      op.text = display_text(p.text);  // what a reader sees: no control characters
      op.requested_by = by;
      op.approve_rev = p.approve_rev;
      for (const auto& who : p.mentions) op.mentions.push_back({who, platform_user_id(cfg, on, who)});
      if (p.card) {  // what a reader sees, field by field, as for the text
        op.card = *p.card;
        op.card->headline = display_line(op.card->headline);
        op.card->status = display_line(op.card->status);
        for (auto& t : op.card->targets) t = display_line(t);
        for (auto& a : op.card->authors) a = display_line(a);
        op.card->body = display_text(op.card->body);
      }
      ids.push_back(db.enqueue_post(op));
      routed = true;
    }
    if (!routed) (dm ? dm_unrouted : unrouted).push_back(boost::json::value(p.channel));
  }
  if (!ids.empty()) res.detail["outbox"] = std::move(ids);
  // The page in the channel still reaches them; the record says who got no DM.
  if (!dm_unrouted.empty()) res.detail["dm_unrouted"] = std::move(dm_unrouted);
  if (!unrouted.empty()) {
    res.reply += "\nWarning: no connected platform has an ID for channel(s)";
    for (const auto& u : unrouted) res.reply += " #" + std::string(u.as_string());
    res.reply += "; that post was not sent.";
    res.detail["unrouted"] = std::move(unrouted);
  }
}

// 32 random bytes, base64url without padding: a console login token or
// session cookie value.
std::string random_secret() {
  unsigned char raw[32];
  if (RAND_bytes(raw, sizeof raw) != 1) throw std::runtime_error("no random bytes for a console secret");
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : raw) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += alphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

}  // namespace

actor executor::resolved(const actor& a) const {
  if (!a.person.empty() || a.platform_user.empty()) return a;
  actor out = a;
  const conf::person* p = a.platform == platform::shell ? cfg_->find_person(a.platform_user)
                                                : cfg_->find_by_platform(a.platform, a.platform_user);
  if (p) out.person = p->id;
  return out;
}

// Not owned: an aliasing pointer with no control block.
executor::executor(const conf::config& cfg, store& db, std::vector<platform> delivery_platforms)
    : executor(std::shared_ptr<const conf::config>(std::shared_ptr<const conf::config>(), &cfg), db,
               std::move(delivery_platforms)) {}

executor::executor(std::shared_ptr<const conf::config> cfg, store& db, std::vector<platform> delivery_platforms)
    : new_secret(random_secret), cfg_(std::move(cfg)), db_(db), platforms_(std::move(delivery_platforms)) {}

// The limit's key: the person, or the platform user ID for someone not in
// the config (SPEC: every actor is limited, unknown users included).
static std::string limit_key(const actor& who) {
  return who.person.empty() ? "unknown:" + std::string(to_string(who.platform)) + ":" + who.platform_user
                            : who.person;
}

bool executor::over_limit(const actor& who, time_point now, std::string& why) {
  const auto& lim = cfg_->limits.commands_per_person;
  if (!lim) return false;
  auto window = std::chrono::duration_cast<std::chrono::milliseconds>(lim->window);
  // Slots older than every window are dead weight: drop them once a minute.
  if (now - last_prune_ >= std::chrono::minutes(1)) {
    db_.prune_rate_slots(std::max(now - window, min_time));
    last_prune_ = now;
  }
  time_point retry_at;
  if (db_.take_rate_slot(limit_key(who), now, window, lim->count, retry_at)) return false;
  why = "over the command limit of " + std::to_string(lim->count) + " per " + format_age(window) +
        "; try again in " + format_age(retry_at - now);
  return true;
}

execution executor::execute(const incoming& in, time_point now) {
  auto out = execute_batch({in}, now);
  return std::move(out.front());
}

std::vector<execution> executor::execute_batch(const std::vector<incoming>& batch, time_point now,
                                               const confirmations& confirmed) {
  riders extra;
  extra.confirmed = confirmed;
  rider_results ignored;
  return execute_batch(batch, now, extra, ignored);
}

std::vector<execution> executor::execute_batch(const std::vector<incoming>& batch, time_point now,
                                               const riders& extra, rider_results& extra_out) {
  std::vector<execution> out;
  out.reserve(batch.size());
  stats_.commands += batch.size();
  extra_out = {};
  try {
    write_transaction tx(db_);
    for (const auto& [on, ids] : extra.confirmed) db_.confirm_envelopes(on, ids);
    for (const auto& d : extra.deliveries) extra_out.delivered.push_back(record_delivery_in(d.post, d.sent, d.result, now));
    for (const auto& in : batch) out.push_back(run_one(in, now));
    for (const auto& c : extra.claims)
      extra_out.claimed.push_back(db_.claim_posts(c.platform, c.owner, now, c.lease, c.limit));
    tx.commit();  // durable from here: only now may a reply report it
  } catch (const std::exception& e) {  // storage_failure, or a failure outside any handler
    db_.take_due_changed();  // rolled back
    stats_.not_recorded += batch.size();
    extra_out = {};
    extra_out.error = e.what();
    std::vector<execution> refused(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      // The operator's log names each refused command, also the one that
      // was running when the database failed.
      refused[i].action = i < out.size() ? out[i].action : std::string(cmd::action_for_line(batch[i].line));
      refused[i].error = e.what();
      refused[i].reply = std::string(not_recorded_reply);
    }
    return refused;
  }
  for (std::size_t i = 0; i < extra_out.delivered.size(); ++i)
    if (extra_out.delivered[i]) ++(extra.deliveries[i].sent ? stats_.posts_sent : stats_.posts_failed);
  extra_out.recorded = true;
  extra_out.due_changed = db_.take_due_changed();
  return out;
}

// One command inside the caller's transaction, in its own savepoint so a
// defect in a handler undoes only that command's changes.
execution executor::run_one(const incoming& in, time_point now) {
  // Adapters name the platform user; the executor knows who that is.
  const actor who = resolved(in.who);
  const std::string actor_name = who.audit_name();
  const conf::person* person = who.person.empty() ? nullptr : cfg_->find_person(who.person);

  // A delivery seen before (a retry, a replay, an envelope repeated across a
  // restart) gets the reply it got then and changes nothing.
  if (!who.envelope.empty() && in.refusal.empty()) {
    if (auto seen = db_.find_envelope(who.platform, who.envelope)) {
      ++stats_.duplicates;
      execution ex;
      ex.duplicate = true;
      ex.recorded = true;
      ex.seq = seen->seq;
      ex.reply = std::move(seen->reply);
      return ex;
    }
  }

  boost::json::object base;
  const bool utf8 = valid_utf8(in.line);
  if (utf8) base["raw"] = in.line;
  else base["raw_hex"] = to_hex(in.line);
  if (!who.platform_user.empty()) base["platform_user"] = who.platform_user;
  if (!who.os_user.empty()) base["os_user"] = who.os_user;
  if (!who.envelope.empty()) base["envelope"] = who.envelope;

  // Steps 1 and 2 of SPEC's outcome order need no database.
  std::optional<handlers::result> early;
  std::optional<cmd::command> parsed;
  std::string action = "command.invalid";
  if (!utf8) {
    early = handlers::invalid("the command is not valid UTF-8");
  } else {
    auto p = cmd::parse(in.line, now, cmd::limits{cfg_->limits.max_text});
    if (auto* err = std::get_if<cmd::parse_error>(&p)) {
      if (err->v) action = std::string(cmd::action_of(*err->v));
      early = handlers::invalid(err->message, err->subject);
      early->reply += err->v ? "\nUsage: " + std::string(cmd::usage_of(*err->v))
                             : "\nType /signoff help for the commands you may use.";
    } else {
      parsed = std::get<cmd::command>(std::move(p));
      action = std::string(cmd::action_of(parsed->v));
    }
  }
  if (!in.refusal.empty()) {
    early = handlers::denied(in.refusal);
    if (parsed) early->subject = cmd::subject_of(*parsed);
  }
  // Every line counts toward its actor's limit, malformed or not and known
  // or not; SPEC's order still decides the outcome (a malformed line is
  // `invalid` first), so the limit shows in the detail there.
  std::string limit_why;
  const bool limited = over_limit(who, now, limit_why);
  if (early) {
    if (limited) early->detail["over_limit"] = true;
  } else {
    if (!person && parsed->v != cmd::verb::help)
      early = handlers::denied("you (" + actor_name +
                               ") are not in signoff's config; you may only ask for help");
    else if (limited)
      early = handlers::denied(limit_why);
    // A refusal before the handler still names its subject for `audit --subject`.
    if (early) early->subject = cmd::subject_of(*parsed);
  }

  execution ex;
  ex.action = action;
  ex.read_only = parsed && cmd::read_only(parsed->v);
  auto record = [&](handlers::result res) {
    enqueue_posts(*cfg_, db_, platforms_, res.posts, actor_name, now, res);
    if (parsed && !parsed->options_in_text.empty()) {
      boost::json::array names;
      for (const auto& o : parsed->options_in_text) {
        names.emplace_back(o.substr(0, o.find(' ')));
        res.reply += "\nNote: " + quote_arg(o) +
                     " was taken as part of the text, not as an option: options must come before "
                     "the text. To use it as an option, put it first: " +
                     std::string(cmd::usage_of(parsed->v));
      }
      res.detail["options_in_text"] = std::move(names);
    }
    res.reply = display_text(res.reply);  // user text must not rewrite what a reader sees
    boost::json::object detail = base;
    for (auto& kv : res.detail) detail[kv.key()] = kv.value();
    audit::entry e{who.platform, who.workspace, who.channel, actor_name, action,
                   res.subject, res.revision, res.outcome, boost::json::serialize(detail)};
    auto rec = db_.append_audit(e, now);
    if (!who.envelope.empty() && in.refusal.empty())
      db_.remember_envelope(who.platform, who.envelope, rec.seq,
                            res.secret_reply ? std::string(secret_reply_kept) : res.reply, in.response_url, now);
    ex.recorded = true;
    ex.seq = rec.seq;
    ex.outcome = res.outcome;
    if (const auto* ids = res.detail.if_contains("outbox"); ids && ids->is_array())
      ex.posts_enqueued = ids->as_array().size();
    ex.subject = res.subject;
    ex.reply = std::move(res.reply);
  };

  db_.savepoint();
  try {
    record([&]() -> handlers::result {
      if (early) return *early;
      if (parsed->v == cmd::verb::help) {
        handlers::result r;
        r.reply = handlers::help_text(*cfg_, person);
        return r;
      }
      handlers::context ctx{*cfg_, db_, now, *person};
      switch (parsed->v) {
        case cmd::verb::draft_new: case cmd::verb::draft_edit: case cmd::verb::draft_show:
        case cmd::verb::draft_list: case cmd::verb::draft_withdraw:
          return handlers::handle_draft(*parsed, ctx);
        case cmd::verb::approve: case cmd::verb::reject:
          return handlers::handle_decision(*parsed, ctx);
        case cmd::verb::crisis_start: case cmd::verb::crisis_end: case cmd::verb::crisis_status:
        case cmd::verb::hold_list: case cmd::verb::hold_show: case cmd::verb::hold_issue:
          return handlers::handle_crisis(*parsed, ctx);
        case cmd::verb::escalate: case cmd::verb::ack: case cmd::verb::resolve:
        case cmd::verb::escalations:
          return handlers::handle_escalation(*parsed, ctx);
        case cmd::verb::audit: return handlers::handle_audit(*parsed, ctx);
        case cmd::verb::audit_console: return handlers::handle_audit_console(*parsed, ctx, new_secret());
        case cmd::verb::handover: return handlers::handle_handover(*parsed, ctx);
        case cmd::verb::help: break;
      }
      return handlers::invalid("unhandled command");
    }());
    db_.release_savepoint();
  } catch (const storage_failure&) {
    throw;  // the whole batch is refused: nothing of it is recorded
  } catch (const std::exception& bug) {
    // A defect in signoff, not in the input: undo what the handler did,
    // record it as `error` so the attempt is audited, and say nothing changed.
    db_.rollback_to_savepoint();
    ex = execution{};
    ex.action = action;
    handlers::result r;
    r.outcome = outcome::error;
    const bool corrupt = dynamic_cast<const corrupt_row*>(&bug) != nullptr;
    r.detail["error"] = std::string(corrupt ? "" : "internal error: ") + bug.what();
    r.reply = corrupt ? "signoff could not read stored data this command needs (" +
                            std::string(bug.what()) +
                            "); nothing was changed. The failure is recorded; please tell an operator."
                      : "signoff failed while processing this command (internal error); nothing was "
                        "changed. The failure is recorded; please tell an operator.";
    record(std::move(r));
  }
  return ex;
}

void executor::record_config(bool reload, const std::string& source, time_point now) {
  boost::json::object d;
  d["config_sha256"] = cfg_->sha256;
  d["source"] = source;
  d["people"] = static_cast<std::int64_t>(cfg_->people.size());
  write_transaction tx(db_);
  db_.append_audit({platform::system, "", "", "system", reload ? "config.reload" : "config.load", "",
                    std::nullopt, outcome::ok, boost::json::serialize(d)},
                   now);
  tx.commit();
}

executor::reload_result executor::reload(const conf::load_result& loaded, const std::string& source,
                                         time_point now) {
  reload_result out;
  out.cfg = cfg_;
  boost::json::object d;
  d["source"] = source;
  outcome oc = outcome::ok;
  std::shared_ptr<const conf::config> next;
  if (!loaded.ok()) {
    for (const auto& diag : loaded.diagnostics)
      if (!diag.warning) out.error += (out.error.empty() ? "" : "; ") + conf::format(diag);
    if (out.error.empty()) out.error = "the config could not be loaded";
    d["error"] = out.error;
    oc = outcome::invalid;
  } else {
    out.changes = conf::diff(*cfg_, *loaded.cfg);
    next = std::make_shared<const conf::config>(conf::reloadable_part(*cfg_, *loaded.cfg));
    d["config_sha256"] = next->sha256;
    d["previous_config_sha256"] = cfg_->sha256;
    d["people"] = static_cast<std::int64_t>(next->people.size());
    d["changes"] = conf::to_json(out.changes);
    if (!out.changes.ignored.empty())
      d["ignored"] = boost::json::array(out.changes.ignored.begin(), out.changes.ignored.end());
  }
  try {
    write_transaction tx(db_);
    if (next) {
      // A class that gained remind_after: its drafts already pending are
      // reminded remind_after from now (from the reload, not from when they
      // were written: no burst of reminders the moment it is switched on).
      boost::json::array started;
      std::vector<std::int64_t> unreadable;
      for (const auto& dr : db_.list_drafts(draft_status::pending, &unreadable)) {
        if (dr.remind_at) continue;
        const auto* cls = next->find_class(dr.cls);
        if (!cls || !cls->remind_after) continue;
        db_.set_remind_at(dr.id, handlers::next_remind_at(*cls, now));
        started.push_back(boost::json::value("D-" + std::to_string(dr.id)));
      }
      if (!started.empty()) d["reminders_started"] = std::move(started);
    }
    if (next) {
      // SPEC "Audit console": who lost the audit role loses the session now.
      std::vector<std::string> auditors;
      for (const auto& p : next->people)
        if (next->has_permission(p, "audit")) auditors.push_back(p.id);
      if (int n = db_.revoke_console_sessions_except(auditors, now); n > 0) d["console_sessions_revoked"] = n;
    }
    db_.append_audit({platform::system, "", "", "system", "config.reload", "", std::nullopt, oc,
                      boost::json::serialize(d)},
                     now);
    tx.commit();
    out.recorded = true;
    out.due_changed = db_.take_due_changed();
  } catch (const std::exception& e) {
    db_.take_due_changed();  // rolled back
    // Unrecorded, a new config would leave auditors unable to tell who held
    // which role when: the running one stays.
    out.error = (out.error.empty() ? "" : out.error + "; ") + "cannot record config.reload: " + e.what();
    return out;
  }
  if (next) {
    cfg_ = next;
    out.cfg = std::move(next);
    out.applied = true;
  }
  return out;
}

executor::tick_result executor::run_due(time_point now) {
  tick_result out;
  // One transaction and one record per action. A row that cannot be read
  // back fails only its own action: it is reported once, counted, and
  // skipped from then on, so it never holds up the other timers. A database
  // failure stops the round (the work stays due for the next one).
  auto fire = [&](const char* what, std::int64_t id, auto&& action_for) {
    if (skipped_.contains({what, id})) return;
    try {
      write_transaction tx(db_);
      auto ta = action_for();
      if (!ta) return;  // not due after all: rolled back
      enqueue_posts(*cfg_, db_, platforms_, ta->res.posts, "system", now, ta->res);
      audit::entry e{platform::system, "", "", "system", ta->action, ta->res.subject, ta->res.revision,
                     ta->res.outcome, boost::json::serialize(ta->res.detail)};
      db_.append_audit(e, now);
      tx.commit();
      ++stats_.timer_actions;
      out.fired.push_back(display_text(ta->res.reply));
    } catch (const storage_failure&) {
      throw;
    } catch (const std::exception& e) {
      skipped_.insert({what, id});
      ++stats_.timer_rows_skipped;
      out.skipped.push_back(std::string(what) + " " + std::to_string(id) + " skipped: " + e.what());
    }
  };
  try {
    for (auto id : db_.due_escalations(now))
      fire("escalation", id, [&] { return handlers::fire_escalation(id, *cfg_, db_, now); });
    bool frozen = db_.active_crisis().has_value();
    for (auto id : db_.due_embargoes(now, frozen))
      fire("embargo", id, [&] { return handlers::clear_embargo(id, *cfg_, db_, now); });
    for (auto id : db_.due_reminders(now, frozen))
      fire("reminder", id, [&] { return handlers::remind_draft(id, *cfg_, db_, now); });
  } catch (const std::exception& e) {
    ++stats_.timer_failures;
    out.error = e.what();
  }
  db_.take_due_changed();  // the caller reads next_due() after a round anyway
  return out;
}

std::optional<time_point> executor::next_due() {
  // A freeze pauses embargo releases and reminders: no due time for them, so
  // no busy loop; ending the crisis flags take_due_changed, which wakes the
  // scheduler.
  const bool frozen = db_.active_crisis().has_value();
  std::optional<time_point> out;
  for (auto t : {db_.next_escalation_due(), db_.next_embargo(frozen), db_.next_reminder(frozen)})
    if (t && (!out || *t < *out)) out = t;
  return out;
}

executor::checkpoint_result executor::checkpoint(const note::signer& key, std::int64_t min_new,
                                                 time_point now) {
  checkpoint_result out;
  write_transaction tx(db_);
  out.pending = db_.records_since_checkpoint();
  if (out.pending < std::max<std::int64_t>(min_new, 1)) return out;  // rolled back: nothing written
  const auto [size, root] = db_.tree_head();
  out.size = size;
  out.root_hash = note::base64(root);
  out.note = key.sign(note::checkpoint_text(key.name(), static_cast<std::uint64_t>(size), root));
  handlers::result res;
  res.detail["size"] = size;
  res.detail["root_hash"] = out.root_hash;
  if (cfg_->audit && !cfg_->audit->channel.empty()) {
    // The note verbatim after one line of explanation: `audit verify
    // --checkpoint` reads a file holding the whole post.
    const std::string text = "Audit checkpoint of " + key.name() + ": the first " + std::to_string(size) +
                             " records. Keep this signed note; `signoff audit verify --checkpoint FILE "
                             "--key VKEY` checks the log against it.\n\n" + out.note;
    handlers::post_request post{cfg_->audit->channel, post_kind::checkpoint, "", text, std::nullopt, {},
                                std::nullopt};
    enqueue_posts(*cfg_, db_, platforms_, {post}, "system", now, res);
    out.posted = res.detail.contains("outbox");
  }
  const auto rec = db_.append_audit({platform::system, "", "", "system", "audit.checkpoint", "", std::nullopt,
                                     outcome::ok, boost::json::serialize(res.detail)},
                                    now);
  db_.add_checkpoint({size, out.root_hash, out.note, rec.ts});
  tx.commit();
  out.made = true;
  return out;
}

executor::console_login_result executor::console_login(const std::string& token, time_point now) {
  console_login_result out;
  const std::string hash = sha256_hex(token);
  boost::json::object d;
  d["token_id"] = hash.substr(0, 12);
  write_transaction tx(db_);
  const auto t = db_.find_console_token(hash);
  std::string actor_name = "unknown:console";
  if (!t) {
    out.error = "this login link is not one signoff issued";
  } else {
    actor_name = out.person = t->person;
    const conf::person* p = cfg_->find_person(t->person);
    if (t->used_at)
      out.error = "this login link was already used";
    else if (now >= t->expires_at)
      out.error = "this login link expired (links are valid for 5 minutes)";
    else if (!p || !cfg_->has_permission(*p, "audit"))
      out.error = t->person + " no longer may use the audit console";
    if (!t->used_at) db_.use_console_token(hash, now);  // single use, even when refused
  }
  if (out.error.empty()) {
    out.session = new_secret();
    const std::string sid = sha256_hex(out.session);
    const time_point expires = now + std::chrono::hours(8);
    db_.add_console_session(sid, out.person, now, expires);
    d["session_id"] = sid.substr(0, 12);
    d["expires_at"] = format_rfc3339_ms(expires);
    out.ok = true;
  } else {
    d["error"] = out.error;
  }
  db_.append_audit({platform::console, "", "", actor_name, "console.login", "", std::nullopt,
                    out.ok ? outcome::ok : outcome::denied, boost::json::serialize(d)},
                   now);
  tx.commit();
  if (!out.ok) out.session.clear();
  return out;
}

void executor::console_logout(const std::string& session, time_point now) {
  write_transaction tx(db_);
  db_.revoke_console_session(sha256_hex(session), now);
  tx.commit();
}

void executor::console_export(const std::string& person, const std::string& format, boost::json::object filters,
                              time_point now) {
  boost::json::object d;
  d["format"] = format;
  if (!filters.empty()) d["filters"] = std::move(filters);
  write_transaction tx(db_);
  db_.append_audit({platform::console, "", "", person, "console.export", "", std::nullopt, outcome::ok,
                    boost::json::serialize(d)},
                   now);
  tx.commit();
}

bool executor::record_delivery(const outbox_post& p, bool sent, const std::string& result,
                               time_point now) {
  write_transaction tx(db_);
  if (!record_delivery_in(p, sent, result, now)) return false;
  tx.commit();
  ++(sent ? stats_.posts_sent : stats_.posts_failed);
  return true;
}

bool executor::record_delivery_in(const outbox_post& p, bool sent, const std::string& result, time_point now) {
  boost::json::object d;
  d["outbox"] = p.id;
  d["kind"] = to_string(p.kind);
  d["channel_name"] = p.channel;
  if (p.kind == post_kind::dm) d["person"] = dm_person(p.channel);
  d[sent ? "message_id" : "error"] = result;
  d["attempts"] = p.attempts + 1;
  if (!db_.finish_post(p.id, sent, result, now)) return false;  // another process finished it
  db_.append_audit({p.platform, "", p.platform_channel, "system", sent ? "post.sent" : "post.failed",
                    p.subject, std::nullopt, sent ? outcome::ok : outcome::error, boost::json::serialize(d)},
                   now);
  return true;
}

}  // namespace signoff
