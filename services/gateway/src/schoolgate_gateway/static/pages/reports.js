import { api, caughtUp, consent, messagingApi, parentName, roster } from "../core/api.js";
import { field, fill, h, heading, paragraphs, section, uid } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { when } from "../core/words.js";

const DECISIONS = {
  dismissed: "dismissed, nothing done",
  hidden: "message hidden",
  warned: "sender warned",
  suspended: "sender suspended",
};
const RESOLVED_SHOWN = 30;

/** Names for the ids in reports: staff by the school's list, parents by their account. */
function namer(staff) {
  const staffNames = Object.fromEntries(staff.map((s) => [s.staff_id, s.display_name]));
  const parents = {};
  return {
    reporter: (report, conversation) =>
      report.side === "school"
        ? staffNames[report.reported_by] || "a member of staff"
        : conversation.pupil_name ? `a parent of ${conversation.pupil_name}` : "a parent",
    async sender(message) {
      if (message.side === "school") return staffNames[message.sender_id] || "A member of staff";
      parents[message.sender_id] ??= parentName(message.sender_id);
      return parents[message.sender_id];
    },
  };
}

function summary(detail, names) {
  const { report, conversation } = detail;
  const about = conversation.pupil_name ? ` about ${conversation.pupil_name}` : "";
  return `Reported by ${names.reporter(report, conversation)} on ${when(report.reported_at)}, in a conversation${about}.`;
}

async function conversationList(detail, names) {
  const { report, conversation } = detail;
  const list = h("ol", { class: "report-conversation" });
  for (const message of conversation.messages) {
    const reported = message.message_id === report.message_id;
    const state = message.withdrawn ? " (withdrawn by the sender)" : message.hidden ? " (hidden from families)" : "";
    list.append(
      h(
        "li",
        { class: reported ? "report-message reported" : "report-message" },
        reported ? h("p", { class: "notice-text", text: "The reported message" }) : null,
        h("p", { class: "muted", text: `${await names.sender(message)}, ${when(message.visible_from)}${state}` }),
        paragraphs(message.text, "report-message-text"),
        message.attachments?.length ? h("p", { class: "muted", text: `${message.attachments.length} attachment(s)` }) : null,
      ),
    );
  }
  return list;
}

/** Leaders: messages staff or parents reported, each with its conversation and a decision. */
export async function reportsView() {
  const area = h("div");
  const staff = await api("GET", roster("/staff")).catch(() => []);
  const names = namer(staff);
  const details = (list) => Promise.all(list.map((r) => api("GET", messagingApi(`/reports/${encodeURIComponent(r.report_id)}`))));

  async function showList(focusFirst = false) {
    const [open, resolved] = await Promise.all([
      api("GET", messagingApi("/reports?status=open")).then(details),
      api("GET", messagingApi("/reports?status=resolved")).then((r) => details(r.slice(0, RESOLVED_SHOWN))),
    ]);
    const openList = open.length
      ? h("ul", { class: "cards" }, open.map((detail) => {
          const titleId = uid("report");
          const read = h("button", { type: "button", text: "Read and decide", "aria-describedby": titleId });
          read.addEventListener("click", () => showReport(detail.report.report_id));
          return h(
            "li",
            null,
            h(
              "article",
              { class: "card", "aria-labelledby": titleId },
              h("h3", { id: titleId, text: `“${detail.report.reason}”` }),
              h("p", { text: summary(detail, names) }),
              read,
            ),
          );
        }))
      : h("p", { class: "ok", text: "No reported message is waiting for a decision." });
    const resolvedList = resolved.length
      ? h("ul", { class: "decided" }, resolved.map(({ report, conversation }) =>
          h(
            "li",
            null,
            h("p", null, h("strong", { text: `Decision: ${DECISIONS[report.action] || report.action}` }), ` on ${when(report.resolved_at)}.`),
            h("p", { class: "muted", text: `“${report.reason}”. ${summary({ report, conversation }, names)}` }),
            report.note ? h("p", { text: `Note: ${report.note}` }) : null,
          ),
        ))
      : h("p", { class: "muted", text: "None yet." });
    fill(
      area,
      heading(2, "Waiting for a decision"),
      openList,
      heading(2, "Decided"),
      resolvedList,
    );
    if (focusFirst) area.querySelector("h2")?.focus();
  }

  async function showReport(reportId) {
    const detail = await api("GET", messagingApi(`/reports/${encodeURIComponent(reportId)}`));
    const { report, conversation } = detail;
    const senderMessage = conversation.messages.find((m) => m.message_id === report.message_id);
    const back = h("button", { type: "button", class: "secondary", text: "Back to reported messages" });
    back.addEventListener("click", () => showList(true));
    const title = heading(2, "A reported message");
    const parts = [
      title,
      h("p", { text: summary(detail, names) }),
      h("p", null, "Their reason: ", h("strong", { text: `“${report.reason}”` })),
      heading(3, conversation.pupil_name ? `The whole conversation about ${conversation.pupil_name}${conversation.class_name ? `, class ${conversation.class_name}` : ""}` : "The whole conversation"),
      await conversationList(detail, names),
    ];
    if (report.status === "resolved") {
      parts.push(h("p", null, h("strong", { text: `Decision: ${DECISIONS[report.action] || report.action}` }), ` on ${when(report.resolved_at)}.`));
      if (report.note) parts.push(h("p", { text: `Note: ${report.note}` }));
    } else {
      parts.push(decisionForm(report, senderMessage));
    }
    parts.push(back);
    fill(area, ...parts);
    title.focus();
  }

  function decisionForm(report, message) {
    const note = h("textarea", { rows: 3, maxlength: 1000 });
    const family = message?.side === "family";
    const choices = [
      ["dismissed", "Dismiss the report", "secondary"],
      ["hidden", "Hide the message", null],
      ["warned", "Warn the sender", null],
      family ? ["suspended", "Suspend the sender", "danger"] : null,
    ].filter(Boolean);
    const buttons = choices.map(([action, label, cls]) => {
      const button = h("button", { type: "button", class: cls, text: label });
      button.addEventListener("click", () =>
        working(button, "Saving…", async () => {
          const text = note.value.trim();
          if (action === "suspended") {
            // the parent's account itself is suspended where every suspension is kept
            await api("POST", consent(`/parents/${encodeURIComponent(report.sender_id)}/suspension`), {
              reason: text || `A reported message: ${report.reason}`.slice(0, 2000),
            });
          }
          await api("POST", messagingApi(`/reports/${encodeURIComponent(report.report_id)}/resolve`), { action, note: text });
          await caughtUp();
          await showList(true);
          say(`Decision recorded: ${DECISIONS[action]}.`);
        }),
      );
      return button;
    });
    const titleId = uid("decide");
    return h(
      "section",
      { class: "card", "aria-labelledby": titleId },
      h("h3", { id: titleId, text: "Your decision" }),
      field("A note for the record (optional)", {
        control: note,
        hint: "Kept with your decision. If you warn the sender, they read this note in the conversation (nobody else does).",
      }),
      h("p", {
        class: "hint",
        text: family
          ? "Hiding keeps the message for the record but families no longer see it. Suspending stops this parent or carer signing in until a leader lifts it on Parent accounts."
          : "Hiding keeps the message for the record but families no longer see it. A member of staff is not suspended here.",
      }),
      h("div", { class: "row" }, buttons),
    );
  }

  await showList();
  return section(
    "Reported messages",
    h("p", { text: "Messages that staff or parents reported to the school's leaders. Read each with its conversation, then decide. Every decision is recorded." }),
    area,
  );
}
