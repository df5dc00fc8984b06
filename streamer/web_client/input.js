// Input capture: DOM pointer and keyboard events on the stage become protocol input events
// (docs/events.md) in surface pixels and wasi:surface key names.

const MOVE_INTERVAL_MS = 1000 / 120; // pointer moves are capped at 120/s: the server allows 240/s

// Map a point in client (CSS) pixels to surface pixels through the displayed picture of a
// `<video>` with object-fit: contain. `box` is the element's client rect, `width`/`height` the
// video's intrinsic size, which places the picture; `surfaceWidth`/`surfaceHeight` the guest's
// surface as the server says it is, which the position is given in. The server may encode a
// smaller picture than the surface on a poor link (docs/design.md), so the two differ.
// Returns {x, y, inside}; x/y are clamped to the picture.
export function mapToSurface(clientX, clientY, box, width, height, surfaceWidth = width, surfaceHeight = height) {
  if (!(width > 0 && height > 0 && box.width > 0 && box.height > 0)) return null;
  if (!(surfaceWidth > 0 && surfaceHeight > 0)) return null;
  const scale = Math.min(box.width / width, box.height / height);
  // The letterbox (or pillarbox) bars split evenly on both sides of the picture.
  const left = box.left + (box.width - width * scale) / 2;
  const top = box.top + (box.height - height * scale) / 2;
  const x = ((clientX - left) / (width * scale)) * surfaceWidth;
  const y = ((clientY - top) / (height * scale)) * surfaceHeight;
  const inside = x >= 0 && y >= 0 && x < surfaceWidth && y < surfaceHeight;
  return { x: clamp(x, 0, surfaceWidth), y: clamp(y, 0, surfaceHeight), inside };
}

// UI Events `code` -> wasi:surface key name, built from the names the server accepts (the
// `hello` message's `keys`): a name is its code in kebab-case, so "arrow-left" is "ArrowLeft".
export function keyTable(keys) {
  const table = new Map();
  for (const key of keys) table.set(codeOf(key), key);
  return table;
}

export function codeOf(key) {
  return key.split("-").map((part) => part.charAt(0).toUpperCase() + part.slice(1)).join("");
}

// The text a key types: `event.key` when it is one character (one code point), else null.
export function keyText(key) {
  return typeof key === "string" && [...key].length === 1 ? key : null;
}

function clamp(value, low, high) {
  return Math.min(high, Math.max(low, value));
}

// Listens on `stage` and calls `send(event, domEvent)` with each protocol event (without v/seq).
// `isShortcut(domEvent)` claims keys for the page itself; those never reach the guest.
// `surface()` is the guest's surface size the server sent ({width, height}), or null before it.
export class InputCapture {
  constructor(stage, video, { send, isShortcut, keys = () => new Map(), surface = () => null }) {
    this.stage = stage;
    this.video = video;
    this.send = send;
    this.isShortcut = isShortcut;
    this.keys = keys;
    this.surface = surface;
    this.buttons = 0; // pointer-downs sent whose pointer-up has not been sent yet
    this.swallowed = new Set(); // codes whose key-down was a page shortcut: drop their key-up too
    this.held = new Map(); // code -> key-down fields sent, for releasing on blur
    this.lastMove = -Infinity;
    this.heldMove = null;
    this.moveTimer = 0;
    this.listen();
  }

  listen() {
    const s = this.stage;
    s.addEventListener("pointerdown", (e) => this.pointerDown(e));
    s.addEventListener("pointerup", (e) => this.pointerUp(e));
    s.addEventListener("pointercancel", (e) => this.pointerUp(e));
    s.addEventListener("pointermove", (e) => this.pointerMove(e));
    s.addEventListener("contextmenu", (e) => e.preventDefault()); // right button belongs to the guest
    s.addEventListener("keydown", (e) => this.key("key-down", e));
    s.addEventListener("keyup", (e) => this.key("key-up", e));
    s.addEventListener("blur", () => this.releaseAll());
  }

  // Never by the video's size alone: it is the encoded picture's, which may be scaled down.
  map(e) {
    const v = this.video;
    const surface = this.surface();
    if (!surface) return null;
    const box = v.getBoundingClientRect();
    return mapToSurface(e.clientX, e.clientY, box, v.videoWidth, v.videoHeight, surface.width, surface.height);
  }

  pointerDown(e) {
    if (e.target !== this.video) return; // a button on an overlay (Reconnect) keeps its click
    const p = this.map(e);
    this.stage.focus({ preventScroll: true });
    if (!p || !p.inside) return; // a click on the bars is not a click on the picture
    this.stage.setPointerCapture(e.pointerId); // so the matching up comes even off the picture
    this.flushMove();
    this.buttons++;
    this.send({ type: "pointer-down", x: p.x, y: p.y }, e);
  }

  pointerUp(e) {
    if (this.buttons === 0) return;
    const p = this.map(e);
    if (!p) return;
    this.flushMove();
    this.buttons--;
    this.send({ type: "pointer-up", x: p.x, y: p.y }, e); // clamped to the picture's edge
  }

  pointerMove(e) {
    const p = this.map(e);
    if (!p || (!p.inside && this.buttons === 0)) return; // hovering the bars means nothing
    this.heldMove = { event: { type: "pointer-move", x: p.x, y: p.y }, dom: e };
    const wait = this.lastMove + MOVE_INTERVAL_MS - e.timeStamp;
    if (wait <= 0) this.flushMove();
    else if (!this.moveTimer) this.moveTimer = setTimeout(() => this.flushMove(), wait);
  }

  // Send the latest held move now (also before a down/up, so the guest sees events in order).
  flushMove() {
    clearTimeout(this.moveTimer);
    this.moveTimer = 0;
    const held = this.heldMove;
    if (!held) return;
    this.heldMove = null;
    this.lastMove = held.dom.timeStamp;
    this.send(held.event, held.dom);
  }

  key(type, e) {
    if (type === "key-down" && this.isShortcut(e)) {
      this.swallowed.add(e.code);
      return;
    }
    if (type === "key-up" && this.swallowed.delete(e.code)) return;
    if (e.code === "Tab" && !e.ctrlKey && !e.altKey && !e.metaKey) return; // keep a way out (a11y)
    e.preventDefault();
    const key = this.keys().get(e.code) ?? null;
    const mods = { alt: e.altKey, ctrl: e.ctrlKey, meta: e.metaKey, shift: e.shiftKey };
    if (type === "key-down") this.held.set(e.code, { key, ...mods });
    else this.held.delete(e.code);
    this.send({ type, key, text: type === "key-down" ? keyText(e.key) : null, ...mods }, e);
  }

  // Focus left mid-press: the key-ups would go elsewhere and the guest would think the keys
  // are still held, so release them here.
  releaseAll() {
    this.swallowed.clear();
    for (const fields of this.held.values()) this.send({ type: "key-up", text: null, ...fields }, null);
    this.held.clear();
  }
}
