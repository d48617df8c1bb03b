#pragma once
// `GET /healthz` and `GET /metrics` (SPEC "Command-line interface"), shared
// by every adapter: pure functions of a snapshot of values, so they are
// tested without a socket. `snapshot` gathers those values on the io thread
// (the pipeline's counters as of its last database job: no lock, no
// database access).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bot/core/command.hpp"
#include "bot/runtime/adapter.hpp"
#include "bot/runtime/checkpointer.hpp"

namespace signoff::runtime {

class command_pipeline;

// One adapter as /healthz and /metrics show it.
struct platform_health {
  std::string name;       // the key under `platforms`
  adapter_status status;  // state and whatever the platform adds
  std::string metrics;    // its own Prometheus families (signoff_<platform>_*)
};

struct health_snapshot {
  executor_stats stats;
  bool database_ok = true;  // false while the last group commit could not be recorded
  std::uint64_t batches = 0;  // durable group commits of commands
  std::vector<platform_health> platforms;
  // Signed checkpoints, when [audit] has a signing key.
  std::optional<checkpoint_stats> checkpoints;
};

struct health_reply {
  unsigned status = 200;
  std::string content_type;
  std::string body;
};

// The pipeline's counters and each adapter's status and metrics, now.
// Call on the io thread.
health_snapshot snapshot(const command_pipeline& pipe, const std::vector<std::unique_ptr<adapter>>& adapters);

// SPEC `/healthz`: JSON {"status", "database": "ok"|"failing", "platforms":
// {name: {"state", …}}, "commands", "not_recorded"}; 503 when the database is
// failing or any platform is "disabled", else 200.
health_reply healthz(const health_snapshot& s);

// `/metrics` in the Prometheus text format: the process-wide signoff_*
// families, then each platform's. Operators' dashboards depend on the
// names: never rename one.
health_reply metrics(const health_snapshot& s);

}  // namespace signoff::runtime
