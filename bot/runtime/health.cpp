#include "bot/runtime/health.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "bot/runtime/pipeline.hpp"

namespace signoff::runtime {

health_snapshot snapshot(const command_pipeline& pipe, const std::vector<std::unique_ptr<adapter>>& adapters) {
  health_snapshot s;
  s.stats = pipe.stats();
  s.database_ok = pipe.database_ok();
  s.batches = pipe.batches();
  for (const auto& a : adapters) {
    metrics_text m;
    a->metrics(m);
    s.platforms.push_back({std::string(a->name()), a->status(), m.str()});
  }
  return s;
}

health_reply healthz(const health_snapshot& s) {
  boost::json::object o, platforms;
  bool healthy = s.database_ok;
  for (const auto& p : s.platforms) {
    boost::json::object entry = p.status.extra;
    entry["state"] = p.status.state;
    platforms[p.name] = std::move(entry);
    healthy = healthy && p.status.state != "disabled";
  }
  o["status"] = healthy ? "ok" : "unhealthy";
  o["database"] = s.database_ok ? "ok" : "failing";
  o["platforms"] = std::move(platforms);
  o["commands"] = s.stats.commands;
  o["not_recorded"] = s.stats.not_recorded;
  return {healthy ? 200u : 503u, "application/json", boost::json::serialize(o) + "\n"};
}

health_reply metrics(const health_snapshot& s) {
  metrics_text m;
  const auto& st = s.stats;
  m.counter("signoff_commands_total", "Commands received (every one audited or refused as not recorded).",
            st.commands);
  m.counter("signoff_commands_not_recorded_total", "Commands refused because the database could not record.",
            st.not_recorded);
  m.counter("signoff_deliveries_duplicate_total", "Platform deliveries seen before and not executed again.",
            st.duplicates);
  m.counter("signoff_batches_total", "Durable group commits of commands.", s.batches);
  m.counter("signoff_timer_actions_total", "Escalation levels and embargo releases fired.", st.timer_actions);
  m.counter("signoff_timer_failures_total", "Timer rounds stopped by a database failure.", st.timer_failures);
  m.counter("signoff_timer_rows_skipped_total", "Timer rows that could not be read back, skipped.",
            st.timer_rows_skipped);
  m.counter("signoff_posts_sent_total", "Outbox posts delivered.", st.posts_sent);
  m.counter("signoff_posts_failed_total", "Outbox posts that failed for good.", st.posts_failed);
  m.gauge("signoff_database_up", "1 when the last group commit was recorded.", s.database_ok ? 1 : 0);
  m.gauge("signoff_audit_records", "The last audit record's seq this process committed or read.",
          st.log_size);
  if (const auto& c = s.checkpoints) {
    m.counter("signoff_audit_checkpoints_total", "Signed audit checkpoints made by this process.", c->made);
    m.counter("signoff_audit_checkpoint_failures_total", "Audit checkpoints that could not be made.",
              c->failures);
    m.gauge("signoff_audit_checkpoint_size", "Tree size of the newest checkpoint this process signed.",
            c->last_size);
  }
  std::string body = m.str();
  for (const auto& p : s.platforms) body += p.metrics;
  return {200, "text/plain; version=0.0.4; charset=utf-8", std::move(body)};
}

}  // namespace signoff::runtime
