// Live news from the gateway (server-sent events), and refreshes that show only the newest answer.
/**
 * Load something again whenever news comes, waiting for the newest position heard of, and show
 * only answers newer than the one shown: replies can come back in any order.
 */
export function freshest(load, show) {
  let position = null;
  let issued = 0;
  let shown = 0;
  return async (at) => {
    const n = Number(at);
    if (at != null && Number.isFinite(n) && (position === null || n > position)) position = n;
    const seq = ++issued;
    const value = await load(position);
    if (seq > shown) {
      shown = seq;
      show(value);
    }
    return value;
  };
}

const streams = new Set();

/**
 * Listen to a live stream. `onNews(message)` gets each point's news, or `{ refetch: true }` when
 * the page should fetch again (connected, reconnected, or fell behind). The browser reconnects by
 * itself; if the server refused outright, try again quietly a little later.
 */
export function listen(url, onNews, { event = "points" } = {}) {
  let source = null;
  let timer = null;
  let closed = false;
  const data = (event) => {
    try {
      return JSON.parse(event.data) || {};
    } catch {
      return {};
    }
  };
  const connect = () => {
    if (closed || typeof EventSource === "undefined") return;
    source = new EventSource(url);
    source.addEventListener(event, (news) => onNews(data(news)));
    // Connected (or back again): fetch what there is now. Fell behind: fetch up to that news.
    source.addEventListener("ready", () => onNews({ refetch: true }));
    source.addEventListener("refetch", (event) => onNews({ refetch: true, position: data(event).position }));
    // The stream is over for good (a class board that was stopped): no reconnecting.
    source.addEventListener("ended", () => {
      closed = true;
      source.close();
      onNews({ ended: true });
    });
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED && !closed) {
        clearTimeout(timer);
        timer = setTimeout(connect, 5000);
      }
    });
  };
  connect();
  const handle = {
    close() {
      closed = true;
      clearTimeout(timer);
      source?.close();
      streams.delete(handle);
    },
  };
  streams.add(handle);
  return handle;
}

/** Leaving a page closes its streams. */
export function stopListening() {
  for (const handle of [...streams]) handle.close();
}
