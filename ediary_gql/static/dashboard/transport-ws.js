// A small graphql-transport-ws client (the protocol of github.com/enisdenjo/graphql-ws):
// one socket, many subscriptions, reconnects by itself with a growing pause, and resumes
// every subscription after the last cursor it received.

const PROTOCOL = "graphql-transport-ws";
const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 30000;
const ACK_TIMEOUT_MS = 10000;

export class LiveClient {
  /**
   * @param {string} url ws:// or wss:// address of /graphql
   * @param {object} hooks
   *   token():        the current access token (asked before every connection)
   *   onState(state): "connecting" | "open" | "waiting" | "closed"
   *   onRefused(code): the server refused the token (close 4403 or a token error);
   *                    resolve true to try again (a new token), false to stop
   */
  constructor(url, hooks) {
    this.url = url;
    this.hooks = hooks;
    this.socket = null;
    this.subscriptions = new Map();
    this.nextId = 1;
    this.pause = FIRST_PAUSE_MS;
    this.stopped = false;
    this.acked = false;
    this.timer = null;
  }

  /**
   * Follow a subscription. `variables` may name `after`: it is replaced by the last cursor
   * seen (read from `cursorOf(data)`), so a reconnect resumes where the stream stopped.
   * Returns a function that ends it.
   */
  subscribe({ query, variables, cursorOf, onData, onError }) {
    const id = String(this.nextId++);
    const entry = { id, query, variables, cursorOf, onData, onError, cursor: variables.after ?? null };
    this.subscriptions.set(id, entry);
    if (this.acked) this._send(entry);
    else this._connect();
    return () => {
      if (this.subscriptions.delete(id) && this.acked) {
        this._write({ id, type: "complete" });
      }
    };
  }

  close() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.subscriptions.clear();
    if (this.socket) this.socket.close(1000, "bye");
    this.socket = null;
    this.hooks.onState("closed");
  }

  _connect() {
    if (this.socket || this.stopped) return;
    clearTimeout(this.timer);
    this.hooks.onState("connecting");
    const socket = new WebSocket(this.url, PROTOCOL);
    this.socket = socket;
    this.acked = false;
    let ackTimer = null;
    socket.onopen = () => {
      this._write({ type: "connection_init", payload: { authorization: `Bearer ${this.hooks.token()}` } });
      ackTimer = setTimeout(() => socket.close(4408, "no ack"), ACK_TIMEOUT_MS);
    };
    socket.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this._receive(message, () => clearTimeout(ackTimer));
    };
    socket.onclose = (event) => {
      clearTimeout(ackTimer);
      if (this.socket === socket) this.socket = null;
      this.acked = false;
      if (this.stopped) return;
      if (event.code === 4403) {
        this._refused("FORBIDDEN");
        return;
      }
      this._retryLater();
    };
  }

  _receive(message, acknowledged) {
    switch (message.type) {
      case "connection_ack":
        acknowledged();
        this.acked = true;
        this.pause = FIRST_PAUSE_MS;
        this.hooks.onState("open");
        for (const entry of this.subscriptions.values()) this._send(entry);
        break;
      case "ping":
        this._write({ type: "pong" });
        break;
      case "next": {
        const entry = this.subscriptions.get(message.id);
        if (!entry) break;
        const payload = message.payload || {};
        if (payload.errors && payload.errors.length) {
          this._streamError(entry, payload.errors);
          break;
        }
        const cursor = entry.cursorOf(payload.data);
        if (cursor) entry.cursor = cursor;
        entry.onData(payload.data);
        break;
      }
      case "error": {
        const entry = this.subscriptions.get(message.id);
        if (entry) this._streamError(entry, message.payload || []);
        break;
      }
      case "complete": {
        // the server ended a stream we still want (e.g. it was interrupted): take it up again
        const entry = this.subscriptions.get(message.id);
        if (entry && !entry.failed && this.acked) {
          this.timer = setTimeout(() => this.subscriptions.has(entry.id) && this._send(entry), this.pause);
        }
        break;
      }
      default:
        break;
    }
  }

  _streamError(entry, errors) {
    const code = (errors[0] && errors[0].extensions && errors[0].extensions.code) || "ERROR";
    if (code === "TOKEN_EXPIRED" || code === "TOKEN_REVOKED" || code === "UNAUTHENTICATED") {
      this._refused(code);
      return;
    }
    if (code === "CURSOR_EXPIRED") {
      // the log no longer holds what followed the cursor: start afresh (the summary sends
      // the current counts first anyway)
      entry.cursor = null;
      return;
    }
    if (code === "STREAM_INTERRUPTED") return; // "complete" follows; it is taken up again
    entry.failed = true;
    entry.onError(code, errors[0] ? errors[0].message : "");
  }

  async _refused(code) {
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.onclose = null;
      socket.close(1000, "refused");
    }
    this.acked = false;
    const again = await this.hooks.onRefused(code);
    if (again && !this.stopped) this._connect();
    else if (!this.stopped) this.close();
  }

  _retryLater() {
    this.hooks.onState("waiting");
    // a growing pause with jitter, so a restarted server is not met by every screen at once
    const wait = this.pause / 2 + Math.random() * this.pause;
    this.pause = Math.min(this.pause * 2, LONGEST_PAUSE_MS);
    this.timer = setTimeout(() => this._connect(), wait);
  }

  _send(entry) {
    const variables = { ...entry.variables, after: entry.cursor };
    this._write({ id: entry.id, type: "subscribe", payload: { query: entry.query, variables } });
  }

  _write(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }
}
