// The frame marker (docs/protocol.md, streamer/marker.py): 18 cells of 8x8 pixels in the
// picture's top-left corner, cell 0 white and cell 1 black as reference levels, then 16 bits of
// the last applied input `seq` (mod 65536), most significant first, white for 1.

export const CELL = 8;
export const BITS = 16;
export const MARKER_WIDTH = (BITS + 2) * CELL;
export const MARKER_HEIGHT = CELL;

// Read the marker from RGBA pixels (an ImageData's `data`) of a region at least
// MARKER_WIDTH x MARKER_HEIGHT whose rows are `stride` pixels wide; null when there is none.
// Mirrors read_marker in streamer/marker.py so both viewers agree on every frame.
export function readMarker(rgba, stride = MARKER_WIDTH) {
  const levels = new Float64Array(BITS + 2);
  for (let cell = 0; cell < BITS + 2; cell++) {
    // The middle 4x4 pixels of each cell: edges bleed into neighbours after compression.
    let sum = 0;
    for (let y = 2; y < CELL - 2; y++) {
      for (let x = cell * CELL + 2; x < cell * CELL + CELL - 2; x++) {
        const i = (y * stride + x) * 4;
        sum += rgba[i] + rgba[i + 1] + rgba[i + 2];
      }
    }
    levels[cell] = sum / ((CELL - 4) * (CELL - 4) * 3);
  }
  const [white, black] = levels;
  if (white - black < 128) return null;
  const mid = (white + black) / 2;
  let value = 0;
  for (let bit = 0; bit < BITS; bit++) value = (value << 1) | (levels[bit + 2] > mid ? 1 : 0);
  return value;
}

// Whether a frame whose marker is `marker` already shows the event numbered `seq`: the marker
// is at or past it, modulo 2^16 (half the ring counts as "past" so wrap-around works).
export function markerCovers(marker, seq) {
  return ((marker - (seq % 65536) + 65536) % 65536) < 32768;
}
