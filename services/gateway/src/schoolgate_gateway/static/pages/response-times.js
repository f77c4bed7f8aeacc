import { api, messagingApi } from "../core/api.js";
import { fill, h, section } from "../core/dom.js";
import { checkAgain } from "../core/messages.js";
import { countOf, when } from "../core/words.js";

// Counts by class and for the office, never by member of staff: the page helps a leader see
// where families wait, not rank colleagues.
function table(rows) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { class: "report-table waiting-table" },
      h("caption", { text: "Families waiting for a reply" }),
      h(
        "thead",
        null,
        h("tr", null,
          h("th", { scope: "col", text: "Class" }),
          h("th", { scope: "col", text: "Waiting" }),
          h("th", { scope: "col", text: "Longer than one school day" }),
          h("th", { scope: "col", text: "Waiting since" })),
      ),
      h(
        "tbody",
        null,
        rows.map((row) =>
          h("tr", null,
            h("th", { scope: "row", text: row.class_id ? row.name || "A class" : "The office" }),
            h("td", { text: String(row.waiting) }),
            h("td", { class: row.overdue ? "sum" : null, text: String(row.overdue) }),
            h("td", { text: row.oldest_since ? when(row.oldest_since) : "" })),
        ),
      ),
    ),
  );
}

/** Leaders: conversations waiting for the school's reply, by class and for the office. */
export async function responseTimesView() {
  const area = h("div");
  async function load() {
    const answer = await api("GET", messagingApi("/response-times"));
    const rows = answer.rows || [];
    const waiting = rows.reduce((n, r) => n + r.waiting, 0);
    const overdue = rows.reduce((n, r) => n + r.overdue, 0);
    fill(
      area,
      waiting
        ? h("p", { text: `${countOf(waiting, "conversation")} waiting for a reply; ${overdue ? `${overdue} longer than one school day` : "none longer than one school day"}.` })
        : h("p", { class: "ok", text: "No family is waiting for a reply." }),
      waiting ? table(rows) : null,
    );
  }
  await load();
  return section(
    "Replies waiting",
    h("p", { text: "Conversations where a family wrote last and the school has not replied yet, by class and for the office. It shows no names of staff: it is here to see where families wait, not to compare colleagues." }),
    h("p", { class: "muted", text: "One school day means a whole day of the school's hours, counted from when the family wrote, or from the next morning if they wrote after hours. Evenings, weekends and holidays do not count: a message sent on Friday evening is waiting longer than one school day only once Monday's hours are over. The office's count uses the office's own hours. “Waiting since” is when the longest-waiting of those families wrote." }),
    area,
    checkAgain(load),
  );
}
