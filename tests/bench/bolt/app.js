// Baseline for signoff_bench_slack: a minimal Bolt for JavaScript app in
// Socket Mode that registers signoff's slash commands and acks each one with
// a short text, storing nothing. The benchmark points it at the fake Slack.
//
// Environment:
//   SLACK_APP_TOKEN      xapp-... (apps.connections.open)
//   SLACK_BOT_TOKEN      xoxb-... (Web API)
//   SLACK_API_URL        Web API base, e.g. https://localhost:PORT/api/
//                        (default Slack's own)
//   NODE_EXTRA_CA_CERTS  the fake's throw-away CA, read by Node itself at
//                        start-up; TLS verification stays on.
//
// How the fake is reached (checked in @slack/bolt 5.1.0, @slack/socket-mode
// 3.1.0, @slack/web-api 8.2.0): App passes `clientOptions` to its WebClient
// (auth.test, chat.*) and, through installerOptions.clientOptions, to the
// SocketModeReceiver's SocketModeClient, whose own WebClient calls
// apps.connections.open at `slackApiUrl`. The websocket then goes to the URL
// that call returned. Both clients use Node's own TLS trust store, which
// NODE_EXTRA_CA_CERTS extends (web-api uses global fetch, socket-mode an
// undici Agent; neither sets `ca`).
//
// Prints "ready" on stdout once the Socket Mode link got `hello`, and
// "stopped" after SIGTERM/SIGINT closed it.
'use strict';

const { App, LogLevel } = require('@slack/bolt');

function required(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`app.js: environment variable ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const apiUrl = process.env.SLACK_API_URL || 'https://slack.com/api/';
const app = new App({
  token: required('SLACK_BOT_TOKEN'),
  appToken: required('SLACK_APP_TOKEN'),
  socketMode: true,
  logLevel: LogLevel.WARN,
  clientOptions: { slackApiUrl: apiUrl },
  // Bolt calls auth.test (bot token) once, at construction, as a production
  // app does; every event waits for that answer, and when it fails Bolt acks
  // with no payload and runs no listener (the benchmark counts such acks as
  // errors). BOLT_SKIP_AUTH_TEST=1 gives the IDs instead, so no call is made.
  ...(process.env.BOLT_SKIP_AUTH_TEST === '1' ? { botId: 'B0BENCH', botUserId: 'U0BENCHBOT' } : {}),
});

// The same verbs signoff registers on Slack (SPEC "Commands").
const commands = ['/draft', '/approve', '/reject', '/crisis', '/hold', '/escalate', '/ack',
  '/resolve', '/escalations', '/audit', '/signoff'];
for (const name of commands) {
  app.command(name, async ({ command, ack }) => {
    // A short response payload, as a real app's ack carries.
    await ack({ response_type: 'ephemeral', text: `ok: ${command.command} ${command.text}`.slice(0, 200) });
  });
}

app.error(async (error) => {
  console.error(`app.js: ${error && error.stack ? error.stack : error}`);
});

async function main() {
  await app.start();  // resolves on the link's `hello`
  process.stdout.write('ready\n');
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  try {
    await app.stop();
  } catch (e) {
    console.error(`app.js: stop: ${e}`);
  }
  process.stdout.write('stopped\n');
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e) => {
  console.error(`app.js: start failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
