import { api, roster } from "../core/api.js";
import { fill, h, section } from "../core/dom.js";
import { working } from "../core/messages.js";
import { state } from "../core/state.js";
import { monster, monsterChooser } from "../ui/monsters.js";
import { pointsPanel } from "../ui/points.js";

export async function pupilHomeView() {
  const me = state.me;
  const self = me.children[0];
  let avatar = self.avatar;
  if (!avatar) {
    try {
      avatar = (await api("GET", roster(`/pupils/${encodeURIComponent(self.pupil_id)}`))).avatar;
    } catch {
      // the picture made from their id will do
    }
  }
  avatar ||= self.pupil_id;
  const picture = h("span", { class: "hello-monster" }, monster(avatar));
  const panel = pointsPanel(self, { self: true });
  let body = panel.node;
  try {
    await panel.ready;
  } catch (error) {
    body = h("p", { text: `Your points are not available right now. ${error.message}` });
  }
  const refresh = h("button", { type: "button", text: "Check again" });
  refresh.addEventListener("click", () => working(refresh, "Checking…", () => panel.refresh()));
  return section(
    `Hello, ${self.name}!`,
    h("div", { class: "pupil-hello" }, picture, h("p", { text: "Here are your points." })),
    body,
    refresh,
    monsterChooser(self.pupil_id, avatar, (seed) => fill(picture, monster(seed))),
  );
}
