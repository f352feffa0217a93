// @ts-check
// The PeerHub real-time connection: one WebSocket, reconnection with backoff, resume
// from the last seq of each room, and re-sending of unacknowledged messages with
// their original client_id (the server answers a retry with the first ack).
// Protocol: docs/protocol.md. Nothing is written to browser storage.

import { _, lang } from "./i18n.js";

/**
 * A frame from the server (docs/protocol.md): its `type` says which other fields it has.
 * The client reads them as the server sends them, unchecked, so they are `any` here.
 * @typedef {{ type: string, [field: string]: any }} Frame
 */

const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 25000;
const SILENT_LIMIT_MS = 60000;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30000;

const REQUEST_TIMEOUT_MS = 15000;

// Close codes after which reconnecting would not help (session ended, removed).
const FINAL_CLOSE_CODES = new Set([1008]);
// Reconnect at once (then back off if that fails) and resume: 1013, this socket fell
// behind; 1006, the connection dropped with no close frame, which is what a client
// that had stopped reading (a phone asleep, a busy tab) sees when the server's 1013
// could not reach it (docs/protocol.md, "Close codes").
const AT_ONCE_CLOSE_CODES = new Set([1006, 1013]);

// A refusal of a request() (an `error` frame with its ref), or no answer at all.
export class RequestError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   * @param {Frame | null} [frame]
   */
  constructor(code, message, frame = null) {
    super(message);
    this.code = code;
    this.frame = frame;
  }
}

// Text the server cannot store is refused (bad_frame): a lone surrogate (half of an
// emoji, cut by a copy or a truncation) or NUL. Mend it before sending, so nobody's
// words are refused for a character they cannot see: a lone half becomes U+FFFD.
/** @param {string} text */
export function storableText(text) {
  const whole = typeof text.toWellFormed === "function" ? text.toWellFormed() : mendSurrogates(text);
  return whole.replaceAll("\0", "");
}

/** @param {string} text */
function mendSurrogates(text) {
  let out = "";
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (code >= 0xd800 && code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out += text[i] + text[i + 1];
      i += 1;
    } else {
      out += code >= 0xd800 && code <= 0xdfff ? "\ufffd" : text[i];
    }
  }
  return out;
}

/**
 * A JSON.stringify replacer.
 * @param {string} key
 * @param {unknown} value
 */
function storableStrings(key, value) {
  return typeof value === "string" ? storableText(value) : value;
}

export function newClientId() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID().replaceAll("-", "");
  }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Events dispatched (each a CustomEvent whose detail is the frame or a status):
//   "frame"   every server frame (batches unpacked), detail = frame
//   "status"  detail = { state: "connecting" | "open" | "waiting" | "closed", code, reason, retryIn }
export class RealtimeClient extends EventTarget {
  constructor({ infoUrl = "/api/realtime" } = {}) {
    super();
    this.infoUrl = infoUrl;
    /** @type {WebSocket | null} */
    this.socket = null;
    /** @type {Map<string, number | null>} */
    this.rooms = new Map(); // room id -> last seq seen (null: never synced)
    /** @type {Map<string, { room: string, body: string }>} */
    this.pending = new Map(); // client id -> { room, body } awaiting an ack
    this.attempt = 0;
    this.stopped = false;
    /** @type {number | null} */
    this.timer = null;
    /** @type {number | null} */
    this.pinger = null;
    this.lastFrameAt = 0;
    this.user = null;
    this.refs = 0;
    /** @type {Map<string, { resolve: (frame: Frame) => void, reject: (err: RequestError) => void, timer: number }>} */
    this.waiting = new Map(); // ref -> { resolve, reject, timer }
  }

  // Follow a room; after a reconnect it is resumed from its last seq.
  /**
   * @param {string} room
   * @param {number | null} [lastSeq]
   */
  follow(room, lastSeq = null) {
    if (!this.rooms.has(room)) this.rooms.set(room, lastSeq);
    if (this.isOpen()) this.sendFrame({ type: "subscribe", room, ...(lastSeq === null ? {} : { after: lastSeq }) });
  }

  isOpen() {
    return this.socket !== null && this.socket.readyState === WebSocket.OPEN;
  }

  async start() {
    this.stopped = false;
    await this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000, "bye");
  }

  /**
   * @param {string} state
   * @param {object} [extra]
   */
  status(state, extra = {}) {
    this.dispatchEvent(new CustomEvent("status", { detail: { state, ...extra } }));
  }

  async connect() {
    clearTimeout(this.timer);
    this.status("connecting");
    let url;
    try {
      const response = await fetch(this.infoUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(`status ${response.status}`);
      url = new URL((await response.json()).url, location.href);
      // The socket speaks the page's language (its error frames and notices).
      url.searchParams.set("lang", lang);
    } catch (err) {
      this.retryLater();
      return;
    }
    let socket;
    try {
      socket = new WebSocket(url);
    } catch (err) {
      this.retryLater();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.status("open");
      this.resume();
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.heartbeat(), PING_EVERY_MS);
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      clearInterval(this.pinger);
      if (this.socket === socket) this.socket = null;
      this.failWaiting();
      if (this.stopped) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.status("closed", { code: event.code, reason: event.reason });
        return;
      }
      // Only the first try is at once: a server that is down also gives 1006.
      const atOnce = AT_ONCE_CLOSE_CODES.has(event.code) && this.attempt === 0;
      this.retryLater(atOnce ? 0 : undefined, event.code);
    });
  }

  /**
   * @param {number} [delay]
   * @param {number} [code]
   */
  retryLater(delay, code) {
    if (this.stopped) return;
    this.attempt += 1;
    // Full jitter: between 0 and the exponential bound, so a crowd spreads out.
    const bound = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(this.attempt, 10));
    const wait = delay !== undefined ? delay + Math.random() * 250 : Math.random() * bound;
    this.status("waiting", { retryIn: wait, attempt: this.attempt, code });
    this.timer = setTimeout(() => this.connect(), wait);
  }

  heartbeat() {
    if (!this.isOpen()) return;
    if (Date.now() - this.lastFrameAt > SILENT_LIMIT_MS) {
      /** @type {WebSocket} */ (this.socket).close(4000, "no answer"); // then reconnect through "close"
      return;
    }
    this.sendFrame({ type: "ping" });
  }

  resume() {
    /** @type {Record<string, number | null>} */
    const rooms = {};
    for (const [room, seq] of this.rooms) rooms[room] = seq;
    if (Object.keys(rooms).length) this.sendFrame({ type: "resume", rooms });
  }

  /** @param {Record<string, unknown>} frame */
  sendFrame(frame) {
    if (!this.isOpen()) return false;
    /** @type {WebSocket} */ (this.socket).send(JSON.stringify({ v: PROTOCOL_VERSION, ...frame }, storableStrings));
    return true;
  }

  // Send a message; it is re-sent (same client id) after a reconnect until acked.
  /**
   * @param {string} room
   * @param {string} body
   * @param {string} [clientId]
   */
  sendMessage(room, body, clientId = newClientId()) {
    this.pending.set(clientId, { room, body });
    this.sendFrame({ type: "send", room, client_id: clientId, body });
    return clientId;
  }

  // Send a frame with a fresh ref; resolves with the frame that answers it (`done`,
  // `report.received`...) and rejects with a RequestError on its `error`, on a
  // dropped connection or when no answer comes. The frame still reaches listeners.
  /**
   * @param {Record<string, unknown>} frame
   * @param {number} [timeoutMs]
   * @returns {Promise<Frame>}
   */
  request(frame, timeoutMs = REQUEST_TIMEOUT_MS) {
    return new Promise((resolve, reject) => {
      if (!this.isOpen()) {
        reject(new RequestError("not_connected", _("You are not connected right now. Please try again in a moment.")));
        return;
      }
      this.refs += 1;
      const ref = `q${this.refs}`;
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        reject(new RequestError("no_answer", _("No answer came from PeerHub. Please check and try again.")));
      }, timeoutMs);
      this.waiting.set(ref, { resolve, reject, timer });
      this.sendFrame({ ...frame, ref });
    });
  }

  failWaiting() {
    for (const [ref, waiter] of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.reject(new RequestError("disconnected", _("The connection dropped before PeerHub answered. Please check and try again.")));
      this.waiting.delete(ref);
    }
  }

  /** @param {string} clientId */
  forget(clientId) {
    this.pending.delete(clientId);
  }

  /** @param {string} data */
  receive(data) {
    this.lastFrameAt = Date.now();
    let frame;
    try {
      frame = JSON.parse(data);
    } catch (err) {
      return;
    }
    const frames = frame.type === "batch" ? frame.frames : [frame];
    for (const one of frames) this.handle(one);
  }

  /** @param {Frame} frame */
  handle(frame) {
    switch (frame.type) {
      case "welcome":
        this.user = frame.user;
        break;
      case "subscribed":
        // Only the latest page follows (too much was missed, or this client's last seq
        // is one the room never reached): start counting again from it, or its
        // messages would be taken for ones already seen.
        if (frame.limited && this.rooms.has(frame.room)) this.rooms.set(frame.room, null);
        break;
      case "message": {
        const last = this.rooms.get(frame.room);
        if (last !== undefined && last !== null && frame.seq <= last) return; // seen already
        if (this.rooms.has(frame.room)) this.rooms.set(frame.room, frame.seq);
        break;
      }
      case "synced": {
        const last = this.rooms.get(frame.room);
        if (last === null || last === undefined || frame.seq > last) this.rooms.set(frame.room, frame.seq);
        // Caught up: re-send what was never acknowledged (the server de-duplicates).
        for (const [clientId, item] of this.pending) {
          if (item.room === frame.room) {
            this.sendFrame({ type: "send", room: item.room, client_id: clientId, body: item.body });
          }
        }
        break;
      }
      case "ack":
        this.pending.delete(frame.client_id);
        break;
      case "error":
        if (frame.client_id) this.pending.delete(frame.client_id);
        break;
      default:
        break;
    }
    const waiter = typeof frame.ref === "string" ? this.waiting.get(frame.ref) : undefined;
    if (waiter) {
      this.waiting.delete(frame.ref);
      clearTimeout(waiter.timer);
      if (frame.type === "error") waiter.reject(new RequestError(frame.code, frame.message, frame));
      else waiter.resolve(frame);
    }
    this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
  }
}
