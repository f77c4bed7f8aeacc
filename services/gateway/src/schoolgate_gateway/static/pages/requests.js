import { api, consent, parentName, schoolPupils } from "../core/api.js";
import { field, h, section, uid } from "../core/dom.js";
import { say, working } from "../core/messages.js";
import { longDate } from "../core/words.js";

export async function requestsView() {
  const [requests, pupils] = await Promise.all([api("GET", consent("/guardian-requests")), schoolPupils()]);
  const names = Object.fromEntries(pupils.map((p) => [p.pupil_id, `${p.first_name} ${p.surname}`]));
  const list = h("ul", { class: "cards" });
  const empty = () => h("li", { text: "No requests are waiting." });
  for (const request of requests) {
    const name = names[request.pupil_id] || request.pupil_id;
    const titleId = uid("request");
    const reason = h("textarea", { rows: 3, required: true, maxlength: 2000 });
    const approve = h("button", { type: "submit", value: "approve", text: "Approve" });
    const reject = h("button", { type: "submit", value: "reject", class: "secondary", text: "Reject" });
    const form = h(
      "form",
      { class: "stack" },
      field("Reason", { control: reason, hint: "Say why. It is kept with the decision." }),
      h("div", { class: "row" }, approve, reject),
    );
    const item = h(
      "li",
      null,
      h(
        "article",
        { class: "card", "aria-labelledby": titleId },
        h("h2", { id: titleId, text: `Request to join for ${name}` }),
        h("p", {
          text:
            request.because === "staff_account"
              ? `Someone asked to join as a parent or carer of ${name} on ${longDate(request.since)}, with an account whose email belongs to a member of staff, so a leader decides. Please check with the family before you approve.`
              : `A parent or carer asked to join on ${longDate(request.since)}. ${name} already has two parents or carers on Schoolgate, so a leader decides.`,
        }),
        h("p", { text: `Who is asking: ${await parentName(request.parent_id)}` }),
        form,
      ),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const decision = event.submitter?.value === "reject" ? "reject" : "approve";
      const button = decision === "approve" ? approve : reject;
      working(button, "Saving…", async () => {
        await api(
          "POST",
          consent(`/pupils/${encodeURIComponent(request.pupil_id)}/guardian-requests/${encodeURIComponent(request.request_id)}/decision`),
          { decision, reason: reason.value.trim() },
        );
        item.remove();
        if (!list.children.length) list.append(empty());
        list.closest("section")?.querySelector("h1")?.focus();
        say(decision === "approve" ? `Approved. They can now see ${name}.` : `Rejected. They will not see ${name}.`);
      });
    });
    list.append(item);
  }
  if (!requests.length) list.append(empty());
  return section(
    "Join requests",
    h("p", { text: "When a child already has two parents or carers on Schoolgate, a leader decides about anyone else." }),
    list,
  );
}
