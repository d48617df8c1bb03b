#include "support/fixture.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <utility>

namespace signoff::test {

std::string test_config(const std::string& db_path, const config_options& o) {
  std::string t;
  t += "[storage]\npath = \"" + db_path + "\"\nbusy_timeout = \"" + o.busy_timeout + "\"\n\n";
  // People: one role each, but lena holds both regulated stages' roles.
  const char* people[][2] = {{"alice", "drafter"},  {"bob", "approver"},   {"carol", "approver"},
                             {"dave", "legal"},     {"erin", "compliance"}, {"frank", "crisis-lead"},
                             {"heidi", "auditor"},  {"ivan", "admin"}};
  auto ids = [&](const std::string& id) {
    std::string out;
    if (o.slack_ids) out += "slack = \"" + slack_id(id) + "\"\n";
    if (o.discord_ids) out += "discord = \"" + discord_id(id) + "\"\n";
    if (o.mattermost_ids) out += "mattermost = \"" + mattermost_id(id) + "\"\n";
    return out;
  };
  for (const auto& p : people)
    t += std::string("[[people]]\nid = \"") + p[0] + "\"\nroles = [\"" + p[1] + "\"]\n" + ids(p[0]) + "\n";
  t += "[[people]]\nid = \"lena\"\nroles = [\"legal\", \"compliance\"]\n" + ids("lena") + "\n";
  t += R"toml([roles]
draft   = ["drafter", "approver", "admin"]
approve = ["approver", "legal", "compliance", "crisis-lead"]
crisis  = ["crisis-lead"]
audit   = ["auditor", "admin"]
admin   = ["admin"]

[approval.standard]
channel = "approvals"
stages = [{ name = "comms", roles = ["approver"], count = 1 }]

[approval.regulated]
stages = [{ name = "legal", roles = ["legal"] },
          { name = "compliance", roles = ["compliance"] }]

[approval.crisis]
stages = [{ name = "lead", roles = ["crisis-lead"] }]

[escalation.fast]
channel = "escalations"
)toml";
  t += "levels = [{ notify = [\"dave\"], after = \"1s\" },\n          { notify = [\"erin\"], after = \"" +
       o.fast_level2_after + "\" },\n          { notify = [\"ivan\"] }]\n";
  t += R"toml(
[escalation.slow]
channel = "escalations"
levels = [{ notify = ["bob"], after = "1h" },
          { notify = ["carol"] }]

[channels]
)toml";
  auto channel = [&](const char* name, const char* slack, const char* discord, const char* mattermost) {
    t += std::string(name) + " = { slack = \"" + slack + "\"" +
         (o.discord_ids ? std::string(", discord = \"") + discord + "\"" : std::string()) +
         (o.mattermost_ids ? std::string(", mattermost = \"") + mattermost + "\"" : std::string()) + " }\n";
  };
  channel("approvals", "C0APPROVALS", discord_approvals, mattermost_approvals);
  channel("escalations", "C0ESCALATIONS", discord_escalations, mattermost_escalations);
  channel("statements", "C0COMMS", discord_statements, mattermost_statements);
  channel("audit", "C0AUDIT", discord_audit, mattermost_audit);
  t += R"toml(
[[holding_statement]]
key = "data-breach"
title = "Data security incident"
severity = "sev1"
channel = "statements"
version = 3
approved_by = ["legal:dave", "pr:frank"]
approved_on = "2026-10-01"
text = "We are aware of an incident affecting {system}. Next update by {next_update}."

)toml";
  t += "[limits]\ncommands_per_person = \"" + o.commands_per_person + "\"\nmax_text = " +
       std::to_string(o.max_text) + "\n";
  if (!o.extra.empty()) t += "\n" + o.extra + "\n";
  return t;
}

std::string slack_id(const std::string& person) {
  std::string out = "U0";
  for (char c : person) out += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return out;
}

std::string discord_id(const std::string& person) {
  std::string out = "9";
  for (char c : person) out += std::to_string(c >= 'a' && c <= 'z' ? c - 'a' + 10 : 99);
  return out;
}

std::string mattermost_id(const std::string& person) {
  std::string out = "u" + person;
  out.resize(26, '0');
  return out;
}

std::string current_os_user() {
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) return pw->pw_name;
  if (const char* u = std::getenv("USER")) return u;
  return "uid:" + std::to_string(geteuid());
}

std::vector<audit_row> audit_rows(sqlite_db& db, const std::string& where) {
  std::vector<audit_row> out;
  for (const auto& r : db.rows("SELECT seq, ts, platform, actor, action, subject, revision, outcome, detail "
                               "FROM audit_log WHERE " + where + " ORDER BY seq")) {
    audit_row a;
    a.seq = std::stoll(r[0].value_or("0"));
    a.ts = r[1].value_or("");
    a.platform = r[2].value_or("");
    a.actor = r[3].value_or("");
    a.action = r[4].value_or("");
    a.subject = r[5].value_or("");
    if (r[6]) a.revision = std::stoll(*r[6]);
    a.outcome = r[7].value_or("");
    a.detail = r[8].value_or("");
    out.push_back(std::move(a));
  }
  return out;
}

std::vector<audit_row> command_rows(sqlite_db& db) { return audit_rows(db, "actor != 'system'"); }

std::optional<std::string> detail_of(sqlite_db& db, std::int64_t seq, const std::string& key) {
  return db.text("SELECT json_extract(detail, ?) FROM audit_log WHERE seq = ?",
                 {"$." + key, std::to_string(seq)});
}

std::vector<std::vector<std::string>> parse_csv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
      continue;
    }
    any = true;
    if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;  // the \n ends the row
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else {
      field += c;
    }
  }
  if (any || !field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    out.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
  return out;
}

std::string rfc3339_ms(std::chrono::system_clock::time_point t) {
  auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(millis / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // room for any int the format could print (-Wformat-truncation)
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(millis % 1000));
  return buf;
}

std::int64_t first_bad_seq(sqlite_db& db) {
  auto rows = db.rows(
      "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, "
      "detail, prev_hash, hash FROM audit_log ORDER BY seq");
  std::string prev(64, '0');
  std::int64_t expected_seq = 1;
  for (const auto& r : rows) {
    const std::int64_t seq = std::stoll(r[0].value_or("0"));
    if (seq != expected_seq) return expected_seq;
    std::string joined;
    for (std::size_t i = 0; i <= 11; ++i) {
      if (i > 0) joined += '\x1f';
      joined += r[i].value_or("");  // NULL revision: empty
    }
    if (r[11].value_or("") != prev || r[12].value_or("") != sha256_hex(joined)) return seq;
    prev = *r[12];
    ++expected_seq;
  }
  return 0;
}

void rewrite_chain(sqlite_db& db, std::int64_t from_seq) {
  auto rows = db.rows(
      "SELECT seq, ts, platform, workspace, channel, actor, action, subject, revision, outcome, "
      "detail, prev_hash, hash FROM audit_log WHERE seq >= ? ORDER BY seq",
      {std::to_string(from_seq - 1)});
  std::string prev(64, '0');
  for (const auto& r : rows) {
    const std::int64_t seq = std::stoll(r[0].value_or("0"));
    if (seq < from_seq) {
      prev = r[12].value_or("");
      continue;
    }
    std::string joined;
    for (std::size_t i = 0; i <= 10; ++i) {
      if (i > 0) joined += '\x1f';
      joined += r[i].value_or("");
    }
    joined += '\x1f';
    joined += prev;
    const std::string hash = sha256_hex(joined);
    db.rows("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", {prev, hash, std::to_string(seq)});
    prev = hash;
  }
}

std::string ed25519_pem() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!key) throw std::runtime_error("Ed25519 key generation failed");
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio || PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    BIO_free(bio);
    EVP_PKEY_free(key);
    throw std::runtime_error("PEM encoding failed");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  EVP_PKEY_free(key);
  return pem;
}

installation::installation(std::string binary, const config_options& o) : binary_(std::move(binary)) {
  db_ = dir_.file("signoff.db");
  config_ = dir_.write("signoff.toml", test_config(db_, o));
}

std::vector<std::string> installation::shell_argv(const std::vector<std::string>& extra) const {
  std::vector<std::string> argv{binary_, "shell", "--config", config_, "--db", db_};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

run_result installation::shell(std::string_view script, const std::vector<std::string>& extra) const {
  return run(shell_argv(extra), script);
}

child installation::start_shell(const std::vector<std::string>& extra) const {
  return child(shell_argv(extra));
}

child installation::start_shell_on(int stdin_fd, const std::vector<std::string>& extra) const {
  return child(shell_argv(extra), stdin_fd);
}

run_result installation::audit(const std::string& sub, const std::vector<std::string>& args) const {
  std::vector<std::string> argv{binary_, "audit", sub, "--db", db_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

}  // namespace signoff::test
