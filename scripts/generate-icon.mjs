// Writes resources/icon.svg and resources/icon.png (256x256) from one description of the icon,
// so the two never drift apart. No image libraries: the PNG is rasterised here, 4x4 supersampled,
// and encoded with node:zlib. Run: node scripts/generate-icon.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 256;
const TOP = [0x3b, 0x6e, 0xf5];
const BOTTOM = [0x1e, 0x3a, 0x8a];
const tile = { x: 8, y: 8, w: 240, h: 240, r: 52 };
// An append-only log: three events, and a fainter dot where the next one lands.
const bars = [
  { x: 56, y: 66, w: 144, h: 28 },
  { x: 56, y: 114, w: 112, h: 28 },
  { x: 56, y: 162, w: 72, h: 28 },
];
const next = { cx: 160, cy: 176, r: 14, opacity: 0.55 };

const hex = (rgb) => `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;

function svg() {
  const rects = bars
    .map((b) => `  <rect x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="${b.h / 2}" fill="#fff"/>`)
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}" viewBox="0 0 ${SIZE} ${SIZE}">
  <title>AllSource</title>
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="${hex(TOP)}"/>
      <stop offset="1" stop-color="${hex(BOTTOM)}"/>
    </linearGradient>
  </defs>
  <rect x="${tile.x}" y="${tile.y}" width="${tile.w}" height="${tile.h}" rx="${tile.r}" fill="url(#bg)"/>
${rects}
  <circle cx="${next.cx}" cy="${next.cy}" r="${next.r}" fill="#fff" fill-opacity="${next.opacity}"/>
</svg>
`;
}

function inRoundedRect(px, py, { x, y, w, h, r }) {
  const cx = Math.min(Math.max(px, x + r), x + w - r);
  const cy = Math.min(Math.max(py, y + r), y + h - r);
  return px >= x && px <= x + w && py >= y && py <= y + h && (px - cx) ** 2 + (py - cy) ** 2 <= r * r;
}

function pixel(px, py) {
  const n = 4;
  let bg = 0;
  let white = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const sx = px + (i + 0.5) / n;
      const sy = py + (j + 0.5) / n;
      if (!inRoundedRect(sx, sy, tile)) continue;
      bg += 1;
      if (bars.some((b) => inRoundedRect(sx, sy, { ...b, r: b.h / 2 }))) white += 1;
      else if ((sx - next.cx) ** 2 + (sy - next.cy) ** 2 <= next.r ** 2) white += next.opacity;
    }
  }
  const samples = n * n;
  const t = (py + 0.5 - tile.y) / tile.h;
  const base = TOP.map((c, k) => c + (BOTTOM[k] - c) * Math.min(Math.max(t, 0), 1));
  const w = bg === 0 ? 0 : white / bg;
  const rgb = base.map((c) => Math.round(c + (255 - c) * w));
  return [...rgb, Math.round((bg / samples) * 255)];
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png() {
  const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
  for (let y = 0; y < SIZE; y++) {
    raw[y * (SIZE * 4 + 1)] = 0; // filter: none
    for (let x = 0; x < SIZE; x++) {
      Buffer.from(pixel(x, y)).copy(raw, y * (SIZE * 4 + 1) + 1 + x * 4);
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(SIZE, 0);
  header.writeUInt32BE(SIZE, 4);
  header.set([8, 6, 0, 0, 0], 8); // 8-bit RGBA, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const out = new URL('../resources/', import.meta.url);
writeFileSync(new URL('icon.svg', out), svg());
writeFileSync(new URL('icon.png', out), png());
console.log('wrote resources/icon.svg and resources/icon.png');
