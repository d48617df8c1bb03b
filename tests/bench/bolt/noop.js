// The fake Slack's own ceiling for signoff_bench_slack: a Socket Mode client
// that acks every envelope at once with Bolt's short text and does nothing else:
// no Bolt, no middleware, no listener, no storage. It uses undici's
// WebSocket, the one @slack/socket-mode 3.1.0 itself uses, so the transport
// is the same as Bolt's.
//
// Environment: SLACK_APP_TOKEN, SLACK_API_URL and NODE_EXTRA_CA_CERTS, as for
// app.js (TLS verification stays on). Prints "ready" on the first `hello`
// and "stopped" after SIGTERM/SIGINT.
'use strict';

const { WebSocket } = require('undici');

const token = process.env.SLACK_APP_TOKEN;
const apiUrl = process.env.SLACK_API_URL || 'https://slack.com/api/';
if (!token) {
  console.error('noop.js: SLACK_APP_TOKEN is not set');
  process.exit(2);
}

let ws;
async function main() {
  const r = await fetch(new URL('apps.connections.open', apiUrl), {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const body = await r.json();
  if (!body.ok) throw new Error(`apps.connections.open: ${body.error}`);
  ws = new WebSocket(body.url);
  let ready = false;
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(ev.data);
    // The same short text Bolt's app.js answers with ("ok: /draft new …").
    if (msg.envelope_id) {
      const p = msg.payload || {};
      const text = `ok: ${p.command || ''} ${p.text || ''}`.slice(0, 200);
      ws.send(JSON.stringify({ envelope_id: msg.envelope_id, payload: { text } }));
    }
    else if (msg.type === 'hello' && !ready) {
      ready = true;
      process.stdout.write('ready\n');
    }
  });
  ws.addEventListener('error', (e) => console.error(`noop.js: websocket error: ${e.message || e}`));
}

function stop() {
  try {
    if (ws) ws.close(1000);
  } catch (e) {
    console.error(`noop.js: stop: ${e}`);
  }
  process.stdout.write('stopped\n');
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

main().catch((e) => {
  console.error(`noop.js: start failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
