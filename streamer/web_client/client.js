// The viewer page: connects to `streamer serve` (docs/protocol.md), shows the video, sends input,
// shows the session's state and, on demand, statistics and input-to-photon latency.
//
// Read-only hooks for tests and benchmarks:
//   window.streamerState  "connecting" | "streaming" | "ended" | "disconnected"
//   window.streamerStats  numbers from stats.js (latencies: every measured value, in ms)
//   window.streamer       { reason, hello, session, seq, sent, errors, control, joinMs, mapToSurface,
//                           keyName, readMarker, toggleStats(), reconnect() }
//
// `/?kiosk=1` is the kiosk page: the video alone, full window, a cursor that hides when idle, the
// screen kept awake where the browser allows, and reconnection by itself, with backoff and jitter.

import { Connection, fetchConfig } from "./connection.js";
import { InputCapture, keyTable, mapToSurface } from "./input.js";
import { readMarker } from "./marker.js";
import { Stats, emptyStats, formatStats } from "./stats.js";

const RESIZE_DEBOUNCE_MS = 200;
const TOAST_MS = 4000;
const KIOSK = new URLSearchParams(location.search).get("kiosk") === "1";
const CURSOR_IDLE_MS = 3000;
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30000;
const STATE_TEXT = {
  connecting: "connecting…",
  streaming: "streaming",
  ended: "guest ended",
  disconnected: "disconnected",
};

const $ = (id) => document.getElementById(id);
const video = $("video");
const stage = $("stage");

const page = {
  state: "connecting",
  reason: null, // why the session ended or was lost
  config: null,
  hello: null,
  surface: null, // the guest's surface size ({width, height}): `hello`, then each `surface` message
  keys: new Map(),
  connection: null,
  sent: [], // the last input events sent, newest last (for tests)
  errors: [], // `error` messages from the server
  statsOpen: false,
  statsValues: emptyStats(),
  control: null, // shared mode: { driver: "you" | "other" | "none", viewers }
  connectedAt: null, // performance.now() when the peer connection came up
  joinMs: null, // from then to the first frame on screen
  reconnectDelay: RECONNECT_MIN_MS,
};
const stats = new Stats(video, page.statsValues);

// --- state ----------------------------------------------------------------------------------

function setState(state, reason = null) {
  page.state = state;
  page.reason = reason;
  const label = $("state");
  label.dataset.state = state;
  label.textContent = reason ? `${STATE_TEXT[state]}: ${reason}` : STATE_TEXT[state];
  label.title = label.textContent; // the bar may cut a long reason short
  const over = state === "ended" || state === "disconnected";
  $("banner").hidden = !over;
  $("banner-text").textContent = label.textContent;
  stage.classList.toggle("over", over);
  if (state === "streaming") page.reconnectDelay = RECONNECT_MIN_MS;
  if (over && KIOSK) scheduleReconnect();
}

// The kiosk page never waits for a person: it tries again, later each time, with jitter so that
// a room of screens does not return all at once after a server restart.
function scheduleReconnect() {
  clearTimeout(scheduleReconnect.timer);
  const delay = page.reconnectDelay * (0.5 + Math.random());
  page.reconnectDelay = Math.min(page.reconnectDelay * 2, RECONNECT_MAX_MS);
  scheduleReconnect.timer = setTimeout(connect, delay);
}

function showControl(message) {
  page.control = { driver: message.driver, viewers: message.viewers };
  const label = $("control");
  const button = $("control-toggle");
  const text = { you: "you drive", other: "view only: another viewer drives", none: "nobody drives" };
  const viewerOnly = page.hello?.role === "viewer";
  label.hidden = KIOSK;
  button.hidden = KIOSK || viewerOnly;
  label.dataset.driver = message.driver;
  const who = viewerOnly ? "view only" : (text[message.driver] ?? message.driver);
  label.textContent = `${who} · ${message.viewers} watching`;
  button.textContent = message.driver === "you" ? "Give up control" : "Take control";
  button.disabled = message.driver === "other";
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), TOAST_MS);
}

// --- the session ----------------------------------------------------------------------------

async function connect() {
  page.connection?.close();
  page.hello = null;
  page.keys = new Map();
  setState("connecting");
  const connection = new Connection(page.config ?? {}, {
    onTrack: (stream) => {
      video.srcObject = stream;
      video.play().catch(() => {}); // muted autoplay is allowed; a refusal leaves the poster
      video.requestVideoFrameCallback((now) => {
        if (connection === page.connection && page.connectedAt !== null) page.joinMs = now - page.connectedAt;
        frameShown(connection);
      });
    },
    onMessage: (message) => onMessage(connection, message),
    onPong: (rtt) => stats.notePong(rtt),
    onClosed: (reason) => {
      // After `ended` the server closes the connection: that is not a second failure.
      if (connection === page.connection && page.state !== "ended") setState("disconnected", reason);
    },
  });
  page.connection = connection;
  page.connectedAt = page.joinMs = null;
  try {
    page.config = page.config ?? (await fetchConfig());
    connection.config = page.config;
    $("scene").textContent = page.config.scene ?? "";
    await connection.open();
    const connected = () => {
      if (connection.pc.connectionState === "connected") page.connectedAt ??= performance.now();
    };
    connection.pc.addEventListener("connectionstatechange", connected);
    connected();
    stats.attach(connection.pc);
  } catch (error) {
    if (connection === page.connection) setState("disconnected", String(error.message ?? error));
    connection.close();
  }
}

function onMessage(connection, message) {
  if (connection !== page.connection) return;
  switch (message.type) {
    case "hello":
      page.hello = message;
      page.surface = { width: message.width, height: message.height };
      page.keys = keyTable(message.keys ?? []);
      if (message.role === "viewer") {
        // A viewer's link may watch, not drive: say so, and offer no control.
        $("control").hidden = KIOSK;
        $("control").dataset.driver = "viewer";
        $("control").textContent = "view only";
        $("control-toggle").hidden = true;
      }
      // A shared stream carries no latency marker: it would be in everyone's picture.
      if (page.statsOpen && !message.shared) connection.send({ type: "probe", enabled: true });
      if ($("match-size").checked) requestResize();
      break;
    case "ended":
      setState("ended", message.reason);
      break;
    case "surface":
      page.surface = { width: message.width, height: message.height };
      break;
    case "stream":
      stats.noteStream(message);
      break;
    case "control":
      showControl(message);
      break;
    case "error":
      page.errors.push(message);
      toast(message.dropped > 1 ? `${message.message} (${message.dropped} refused)` : message.message);
      break;
  }
}

// The page shows "streaming" once a frame is on screen, not merely once ICE connects.
function frameShown(connection) {
  if (connection === page.connection && page.state === "connecting") setState("streaming");
}
video.addEventListener("playing", () => frameShown(page.connection));

// --- input ----------------------------------------------------------------------------------

function isStatsShortcut(e) {
  return e.ctrlKey && e.shiftKey && !e.altKey && !e.metaKey && e.code === "KeyS";
}

function sendInput(event, domEvent) {
  const connection = page.connection;
  if (!connection || page.state !== "streaming") return;
  const t = domEvent ? domEvent.timeStamp : performance.now(); // the DOM event's own time
  const seq = connection.sendInput(event, t);
  if (seq === null) return;
  stats.noteInput(seq, t, event.type);
  page.sent.push({ ...event, seq, t });
  if (page.sent.length > 100) page.sent.shift();
}

new InputCapture(stage, video, {
  send: sendInput,
  isShortcut: isStatsShortcut,
  keys: () => page.keys,
  surface: () => page.surface,
});

// The shortcut works wherever focus is (it is never forwarded to the guest).
window.addEventListener("keydown", (e) => {
  if (isStatsShortcut(e)) {
    e.preventDefault();
    if (!e.repeat) toggleStats();
  }
});

// --- resize ---------------------------------------------------------------------------------

let resizeTimer = 0;

function requestResize() {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(sendResize, RESIZE_DEBOUNCE_MS);
}

// Ask for the stage's size in device pixels, within the server's maximum.
function sendResize() {
  const hello = page.hello;
  if (!hello) return;
  const box = stage.getBoundingClientRect();
  const dpr = window.devicePixelRatio || 1;
  const width = clampInt(Math.round(box.width * dpr), 1, hello.max_width);
  const height = clampInt(Math.round(box.height * dpr), 1, hello.max_height);
  sendInput({ type: "resize", width, height }, null);
}

function clampInt(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

new ResizeObserver(() => {
  if ($("match-size").checked) requestResize();
}).observe(stage);

$("match-size").addEventListener("change", (e) => {
  if (e.target.checked) requestResize();
  else if (page.hello) sendInput({ type: "resize", width: page.hello.width, height: page.hello.height }, null);
});

// --- stats ----------------------------------------------------------------------------------

function toggleStats(open = !page.statsOpen) {
  page.statsOpen = open;
  $("stats").hidden = !open;
  $("stats-toggle").setAttribute("aria-pressed", String(open));
  const shared = page.hello?.shared === true;
  stats.setProbing(open && !shared);
  if (!shared) page.connection?.send({ type: "probe", enabled: open });
  if (open) renderStats();
}

function renderStats() {
  if (!page.statsOpen) return;
  for (const [name, text] of Object.entries(formatStats(page.statsValues))) $(`stat-${name}`).textContent = text;
  setTimeout(renderStats, 500);
}

$("stats-toggle").addEventListener("click", () => toggleStats());
$("control-toggle").addEventListener("click", () => {
  page.connection?.send({ type: "control", take: page.control?.driver !== "you" });
  stage.focus({ preventScroll: true });
});
$("reconnect").addEventListener("click", () => {
  connect();
  stage.focus({ preventScroll: true });
});

// --- hooks ----------------------------------------------------------------------------------

Object.defineProperty(window, "streamerState", { get: () => page.state });
Object.defineProperty(window, "streamerStats", { get: () => page.statsValues });
Object.defineProperty(window, "streamer", {
  value: Object.freeze({
    get reason() {
      return page.reason;
    },
    get hello() {
      return page.hello;
    },
    get session() {
      return page.connection?.session ?? null;
    },
    get seq() {
      return page.connection?.seq ?? 0;
    },
    get sent() {
      return page.sent.slice();
    },
    get errors() {
      return page.errors.slice();
    },
    get control() {
      return page.control;
    },
    get joinMs() {
      return page.joinMs;
    },
    mapToSurface,
    keyName: (code) => page.keys.get(code) ?? null,
    readMarker,
    toggleStats,
    reconnect: connect,
  }),
});

// Leaving the page closes the connection at once, so the server frees this viewer's worker now
// rather than when its heartbeat runs out (10 s).
window.addEventListener("pagehide", () => page.connection?.close());

if (KIOSK) {
  document.body.classList.add("kiosk");
  let idle = null;
  const wake = () => {
    document.body.classList.remove("cursor-idle");
    clearTimeout(idle);
    idle = setTimeout(() => document.body.classList.add("cursor-idle"), CURSOR_IDLE_MS);
  };
  document.addEventListener("pointermove", wake);
  wake();
  const keepAwake = () => navigator.wakeLock?.request("screen").catch(() => {});
  keepAwake();
  document.addEventListener("visibilitychange", () => document.visibilityState === "visible" && keepAwake());
}

connect();
