// Load generator for the cable benchmarks: many WebSocket clients and one broadcaster.
//
// Driven by the Python harness over stdin/stdout, one JSON object per line each way,
// so that the harness can sample the server between steps. Every broadcast carries
// the time it was sent, so each delivery's latency is measured on one clock.
import http from "node:http";
import { performance } from "node:perf_hooks";
import readline from "node:readline";
import WebSocket from "ws";

// Each URL argument may list several servers, comma-separated (processes side by side):
// sockets are spread over the cable URLs so that every stream has subscribers on each,
// and broadcasts go to the broadcast URLs in turn.
const [cableArg, broadcastArg, posts] = process.argv.slice(2);
const cableUrls = cableArg.split(",");
// "fresh": a new connection per POST, so that behind several workers each broadcast
// lands on whichever worker accepts it; otherwise one kept-alive connection per URL.
const targets = broadcastArg.split(",").map((url) => ({
  url: new URL(url),
  agent: posts === "fresh" ? false : new http.Agent({ keepAlive: true, maxSockets: 1 }),
}));

const sockets = [];
const byStream = new Map(); // stream -> number of open subscribers
let pings = 0;
let closedUnexpectedly = 0;
let run = null; // the broadcast run being measured

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const reply = (payload) => process.stdout.write(`${JSON.stringify(payload)}\n`);

function onFrame(raw) {
  const frame = JSON.parse(raw.toString());
  if (frame.type === "message") {
    if (run === null) return;
    const data = frame.data;
    const sent = Number(data.slice(2, data.indexOf(";")));
    const at = now();
    if (run.received < run.latencies.length) run.latencies[run.received] = at - sent;
    run.received += 1;
    run.lastReceived = at;
    if (run.sent && run.received >= run.expected) run.done();
  } else if (frame.type === "ping") {
    pings += 1;
    this.send('{"type":"pong"}');
  }
}

// ``localAddress``: the loopback source address to connect from (127.0.0.2, ...), each of
// which has its own range of ephemeral ports, so one generator can hold over 28k sockets.
function open(cableUrl, stream, localAddress) {
  return new Promise((resolve) => {
    const options = { perMessageDeflate: false, handshakeTimeout: 30000 };
    if (localAddress) options.localAddress = localAddress;
    const ws = new WebSocket(cableUrl, options);
    let subscribed = false;
    ws.on("open", () => ws.send(JSON.stringify({ type: "subscribe", stream })));
    ws.on("message", function first(raw) {
      const frame = JSON.parse(raw.toString());
      if (frame.type !== "subscribed") return;
      subscribed = true;
      ws.off("message", first);
      ws.on("message", onFrame);
      ws.stream = stream;
      sockets.push(ws);
      byStream.set(stream, (byStream.get(stream) || 0) + 1);
      resolve(true);
    });
    ws.on("close", () => {
      if (subscribed && !ws.closing) {
        closedUnexpectedly += 1;
        byStream.set(stream, byStream.get(stream) - 1);
      }
      if (!subscribed) resolve(false);
    });
    ws.on("error", () => {
      if (!subscribed) resolve(false);
    });
  });
}

async function connect({ count, prefix, streams, concurrency = 100, sources = [] }) {
  const started = now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const stream = `${prefix}-${next % streams}`;
      const cableUrl = cableUrls[Math.floor(next / streams) % cableUrls.length];
      const source = sources.length ? sources[next % sources.length] : undefined;
      next += 1;
      if (!(await open(cableUrl, stream, source))) failed += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const perUrl = cableUrls.map((url) => sockets.filter((ws) => ws.url === url).length);
  return { open: sockets.length, failed, seconds: (now() - started) / 1000, per_url: perUrl };
}

async function hold({ seconds }) {
  const before = pings;
  const lost = closedUnexpectedly;
  await sleep(seconds * 1000);
  return { open: sockets.length - closedUnexpectedly, pings: pings - before, dropped: closedUnexpectedly - lost };
}

async function closeAll() {
  const closing = sockets.map(
    (ws) =>
      new Promise((resolve) => {
        ws.closing = true;
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", resolve);
        ws.close();
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 5000);
      }),
  );
  await Promise.all(closing);
  sockets.length = 0;
  byStream.clear();
  closedUnexpectedly = 0;
  return { open: 0 };
}

function post({ url, agent }, body, timeoutMs) {
  return new Promise((resolve) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: "POST", agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode));
      },
    );
    request.on("error", () => resolve(0));
    request.setTimeout(timeoutMs, () => request.destroy());
    request.end(body);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

// Sends ``count`` broadcasts (at ``rate`` per second, or back to back when 0) but stops
// sending after ``budget`` seconds, then waits up to ``drain`` seconds for the deliveries.
async function broadcast({ prefix, streams, count, rate, size, budget, drain }) {
  const padding = "x".repeat(size);
  let most = 0;
  for (let i = 0; i < count; i += 1) most += byStream.get(`${prefix}-${i % streams}`) || 0;
  run = { expected: 0, received: 0, latencies: new Float64Array(most), lastReceived: 0, sent: false };
  const finished = new Promise((resolve) => (run.done = resolve));
  const started = now();
  let failedPosts = 0;
  let sent = 0;
  for (; sent < count && now() - started < budget * 1000; sent += 1) {
    if (rate > 0) {
      const due = started + (sent * 1000) / rate;
      if (due > now()) await sleep(due - now());
    }
    const stream = `${prefix}-${sent % streams}`;
    const data = `t=${now()};s=${sent};${padding}`.slice(0, Math.max(size, 40));
    run.expected += byStream.get(stream) || 0;
    const target = targets[sent % targets.length];
    const status = await post(target, JSON.stringify({ stream, data }), budget * 1000);
    if (status !== 200) failedPosts += 1;
  }
  const sentSeconds = (now() - started) / 1000;
  const expected = run.expected;
  run.sent = true;
  if (run.received < expected) await Promise.race([finished, sleep(drain * 1000)]);
  const received = run.received;
  const latencies = run.latencies.slice(0, Math.min(received, expected)).sort();
  const seconds = ((run.lastReceived || now()) - started) / 1000;
  run = null;
  return {
    broadcasts: count, sent, expected, received, lost: Math.max(0, expected - received),
    failed_posts: failedPosts,
    seconds, send_seconds: sentSeconds, deliveries_per_s: received / seconds,
    p50_ms: percentile(latencies, 50), p99_ms: percentile(latencies, 99),
    max_ms: latencies.length ? latencies[latencies.length - 1] : null,
  };
}

const commands = { connect, hold, close: closeAll, broadcast };
const input = readline.createInterface({ input: process.stdin });
input.on("line", async (line) => {
  const { cmd, ...options } = JSON.parse(line);
  try {
    reply({ cmd, ...(await commands[cmd](options)) });
  } catch (error) {
    reply({ cmd, error: String(error && error.stack ? error.stack : error) });
  }
});
input.on("close", () => process.exit(0));
reply({ ready: true });
