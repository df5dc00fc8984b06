// One session with the server (docs/protocol.md): signalling over HTTP, the video track, and the
// `input` data channel. A Connection is used once; reconnecting makes a new one.

const VERSION = 1;
const PING_INTERVAL_MS = 2000; // the server ends a session whose channel is silent for 10 s
// A server that answers nothing (not even a pong) for this long is gone, even while ICE still
// says "connected" (its consent checks take about 30 s to fail): give up and offer to reconnect.
const SILENCE_TIMEOUT_MS = 6000;
const SILENCE_CHECK_MS = 500;
const GATHER_TIMEOUT_MS = 5000; // host candidates take milliseconds; never hang on a stuck gatherer

export async function fetchConfig() {
  const response = await fetch("/config", { cache: "no-store" });
  if (!response.ok) throw new Error(`GET /config failed: ${response.status}`);
  return response.json();
}

export class Connection {
  // handlers: onTrack(stream), onMessage(message), onClosed(reason), onPong(rttMs)
  constructor(config, handlers) {
    this.config = config;
    this.handlers = handlers;
    this.pc = null;
    this.channel = null;
    this.seq = 0; // the last input seq sent; the first event is 1 so marker 0 covers none
    this.session = null;
    this.closed = false;
    this.pingTimer = 0;
    this.silenceTimer = 0;
    this.lastHeard = 0; // performance.now() of the server's last message
  }

  async open() {
    // An explicit (usually empty) list: no public STUN server unless the server names one.
    const pc = new RTCPeerConnection({ iceServers: this.config.iceServers ?? [] });
    this.pc = pc;
    const { receiver } = pc.addTransceiver("video", { direction: "recvonly" });
    // Interactive video: ask the jitter buffer to hold as little as it can (the browser keeps what
    // decoding needs). jitterBufferTarget is the standard name, playoutDelayHint Chromium's older one.
    if ("jitterBufferTarget" in receiver) receiver.jitterBufferTarget = 0;
    if ("playoutDelayHint" in receiver) receiver.playoutDelayHint = 0;
    pc.addEventListener("track", (e) => this.handlers.onTrack(e.streams[0] ?? new MediaStream([e.track])));
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" || pc.connectionState === "closed") {
        this.fail(`connection ${pc.connectionState}`);
      }
    });
    this.channel = pc.createDataChannel("input");
    this.channel.addEventListener("open", () => {
      this.startPings();
      this.watchSilence();
    });
    this.channel.addEventListener("message", (e) => this.receive(e.data));
    this.channel.addEventListener("close", () => this.fail("the data channel closed"));

    await pc.setLocalDescription(await pc.createOffer());
    await gatheringComplete(pc);
    const response = await fetch("/offer", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, type: "offer" }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error ?? `POST /offer failed: ${response.status}`);
    this.session = body.session;
    await pc.setRemoteDescription({ sdp: body.sdp, type: body.type });
  }

  receive(data) {
    this.lastHeard = performance.now(); // anything at all shows the server is there
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return; // not the protocol: nothing sensible to do with it
    }
    if (message.type === "pong" && typeof message.t === "number") {
      this.handlers.onPong(performance.now() - message.t);
    } else {
      this.handlers.onMessage(message);
    }
  }

  startPings() {
    const ping = () => this.send({ type: "ping", t: performance.now() });
    ping();
    this.pingTimer = setInterval(ping, PING_INTERVAL_MS);
  }

  // While the channel is open: fail once nothing has come from the server for SILENCE_TIMEOUT_MS.
  watchSilence() {
    this.lastHeard = performance.now();
    this.silenceTimer = setInterval(() => {
      const silent = performance.now() - this.lastHeard;
      if (silent >= SILENCE_TIMEOUT_MS) {
        this.fail(`the server went silent (nothing heard for ${Math.round(silent / 1000)} s)`);
      }
    }, SILENCE_CHECK_MS);
  }

  // Send one protocol message; false when the channel is not open.
  send(message) {
    if (this.channel?.readyState !== "open") return false;
    this.channel.send(JSON.stringify({ v: VERSION, ...message }));
    return true;
  }

  // Send an input event stamped with the next seq and its DOM time; the seq, or null if unsent.
  sendInput(event, t) {
    if (this.channel?.readyState !== "open") return null;
    this.seq += 1;
    this.send({ ...event, seq: this.seq, t });
    return this.seq;
  }

  fail(reason) {
    if (this.closed) return;
    this.close();
    this.handlers.onClosed(reason);
  }

  close() {
    this.closed = true;
    clearInterval(this.pingTimer);
    clearInterval(this.silenceTimer);
    this.channel?.close();
    this.pc?.close();
  }
}

// Resolve when ICE gathering is complete (the offer then carries every candidate: no trickle).
function gatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== "complete") return;
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", done);
      resolve();
    };
    const timer = setTimeout(() => {
      pc.removeEventListener("icegatheringstatechange", done);
      resolve(); // send what we have; the server answers with its own candidates anyway
    }, GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", done);
  });
}
