// Stream statistics (from RTCPeerConnection.getStats) and input-to-photon latency by the frame
// marker, read on every presented frame while the probe is on. The marker says which input the
// guest had been given before it rendered a frame, not that the frame shows its effect: for a
// guest that applies input at once the two agree (docs/web-client.md).

import { MARKER_HEIGHT, MARKER_WIDTH, markerCovers, readMarker } from "./marker.js";

const POLL_MS = 1000;
const PENDING_MAX_AGE_MS = 10000; // an event no frame showed in 10 s was lost (or coalesced away)
const KEPT = 10000; // measurements kept in each list

// The numbers tests and benchmarks read (window.streamerStats); updated in place.
export function emptyStats() {
  return {
    width: 0,
    height: 0,
    codec: null,
    fps: null,
    bitrate: null, // bits per second
    rtt: null, // ICE candidate pair round trip, ms
    channelRtt: null, // data-channel ping/pong, ms
    channelRtts: [], // every ping/pong round trip measured, ms
    framesDecoded: 0,
    framesDropped: 0,
    inbound: null, // the last inbound-rtp report of the video, as getStats gave it (every second)
    lastMarker: null,
    lastLatency: null, // ms, input event's DOM time to presentation of the first frame marked with it
    latencies: [],
    measured: [], // {type, seq, latency} of every event measured, in the order measured
    sentWhileProbing: {}, // input events sent while probing, by type
    server: null, // the server's last `stream` message: its estimate of our link, what it sends
  };
}

export class Stats {
  constructor(video, values) {
    this.video = video;
    this.values = values;
    this.pc = null;
    this.timer = 0;
    this.previous = null; // the last inbound-rtp report, for deltas
    this.probing = false;
    this.pending = []; // {seq, t} of input events sent while probing, not yet seen in a frame
    this.canvas = document.createElement("canvas");
    this.canvas.width = MARKER_WIDTH;
    this.canvas.height = MARKER_HEIGHT;
    this.context = this.canvas.getContext("2d", { willReadFrequently: true });
  }

  // Follow a new peer connection (after a reconnect the old numbers mean nothing).
  attach(pc) {
    this.pc = pc;
    this.previous = null;
    this.pending = [];
    clearInterval(this.timer);
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  detach() {
    clearInterval(this.timer);
    this.pc = null;
  }

  async poll() {
    const pc = this.pc;
    if (!pc) return;
    let report;
    try {
      report = await pc.getStats();
    } catch {
      return; // closed under us (session over): keep the last numbers
    }
    const v = this.values;
    let inbound = null;
    let pairId = null;
    report.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "video") inbound = s;
      if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
    });
    const pair = pairId ? report.get(pairId) : findNominatedPair(report);
    if (pair?.currentRoundTripTime !== undefined) v.rtt = pair.currentRoundTripTime * 1000;
    if (!inbound) return;
    v.inbound = { ...inbound };
    v.width = inbound.frameWidth ?? v.width;
    v.height = inbound.frameHeight ?? v.height;
    v.framesDecoded = inbound.framesDecoded ?? 0;
    v.framesDropped = inbound.framesDropped ?? 0;
    v.codec = report.get(inbound.codecId)?.mimeType?.replace("video/", "") ?? v.codec;
    const last = this.previous;
    if (last) {
      const seconds = (inbound.timestamp - last.timestamp) / 1000;
      if (seconds > 0) {
        v.bitrate = ((inbound.bytesReceived - last.bytesReceived) * 8) / seconds;
        // framesPerSecond is missing in some reports; decoded frames over time says the same.
        v.fps = inbound.framesPerSecond ?? (inbound.framesDecoded - last.framesDecoded) / seconds;
      }
    }
    this.previous = inbound;
  }

  // Probe on: read the marker of every presented frame. The caller tells the server.
  setProbing(on) {
    if (on === this.probing) return;
    this.probing = on;
    this.pending = [];
    if (on) this.video.requestVideoFrameCallback((now, meta) => this.frame(meta));
  }

  // An input event was sent: remember its DOM time until a frame shows it.
  noteInput(seq, t, type) {
    if (!this.probing || seq === null) return;
    this.pending.push({ seq, t, type });
    const sent = this.values.sentWhileProbing;
    sent[type] = (sent[type] ?? 0) + 1;
  }

  frame(meta) {
    if (!this.probing) return;
    this.video.requestVideoFrameCallback((now, next) => this.frame(next));
    if (meta.width < MARKER_WIDTH || meta.height < MARKER_HEIGHT) return;
    this.context.drawImage(this.video, 0, 0, MARKER_WIDTH, MARKER_HEIGHT, 0, 0, MARKER_WIDTH, MARKER_HEIGHT);
    const marker = readMarker(this.context.getImageData(0, 0, MARKER_WIDTH, MARKER_HEIGHT).data);
    this.values.lastMarker = marker;
    if (marker === null) return;
    const shown = meta.presentationTime ?? meta.expectedDisplayTime;
    const still = [];
    for (const event of this.pending) {
      if (markerCovers(marker, event.seq)) this.record(shown - event.t, event);
      else if (shown - event.t < PENDING_MAX_AGE_MS) still.push(event);
    }
    this.pending = still;
  }

  // The server's view of our link (docs/protocol.md, `stream`), once a second.
  noteStream(message) {
    this.values.server = message;
  }

  // A pong came back: the data channel's round trip, for contrast with the video path.
  notePong(rtt) {
    this.values.channelRtt = rtt;
    keep(this.values.channelRtts, rtt);
  }

  record(latency, event) {
    keep(this.values.latencies, latency);
    keep(this.values.measured, { type: event.type, seq: event.seq, latency });
    this.values.lastLatency = latency;
  }
}

function keep(list, value) {
  list.push(value);
  if (list.length > KEPT) list.splice(0, list.length - KEPT);
}

function findNominatedPair(report) {
  let found = null;
  report.forEach((s) => {
    if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") found = s;
  });
  return found;
}

// Human-readable values for the overlay.
export function formatStats(v) {
  const ms = (x) => (x === null || x === undefined ? "–" : `${x.toFixed(1)} ms`);
  return {
    resolution: v.width ? `${v.width}×${v.height}` : "–",
    codec: v.codec ?? "–",
    fps: v.fps === null ? "–" : v.fps.toFixed(1),
    bitrate: v.bitrate === null ? "–" : `${(v.bitrate / 1e6).toFixed(2)} Mb/s`,
    rtt: ms(v.rtt),
    "channel-rtt": ms(v.channelRtt),
    dropped: String(v.framesDropped),
    latency: ms(v.lastLatency),
    ...formatServer(v.server),
  };
}

// What the server sends us and why: its estimate of our link, its target, the retransmissions.
function formatServer(s) {
  const mbps = (x) => (x === null || x === undefined ? "–" : `${(x / 1e6).toFixed(2)} Mb/s`);
  if (!s) return { estimate: "–", sending: "–", retransmits: "–" };
  return {
    estimate: s.estimate === null ? "unlimited" : mbps(s.estimate),
    sending:
      `${mbps(s.bitrate)} · ${Number(s.fps).toFixed(0)} fps · ${s.width}×${s.height}` +
      (s.levels > 1 ? ` · level ${s.level + 1} of ${s.levels}` : ""),
    retransmits:
      `${s.retransmissions}` +
      (s.retransmissions_missed ? `, ${s.retransmissions_missed} too late` : "") +
      (s.retransmissions_limited ? `, ${s.retransmissions_limited} over budget` : ""),
  };
}
