"use strict";
const $ = (id) => document.getElementById(id);
const say = (text) => { $("status").textContent = text; };

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: "same-origin",
  });
  const data = response.status === 204 ? null : await response.json();
  if (!response.ok) throw Object.assign(new Error(data.detail || data.title), { status: response.status });
  return data;
}

function show(section) {
  for (const id of ["sign-in", "classroom", "family"]) $(id).hidden = id !== section;
  $("sign-out").hidden = section === "sign-in";
}

async function classroom(me) {
  show("classroom");
  const ways = await api("GET", "/api/school-ways");
  const box = $("ways");
  box.querySelectorAll("label").forEach((el) => el.remove());
  Object.entries(ways).forEach(([id, name], i) => {
    const label = document.createElement("label");
    label.innerHTML = `<input type="radio" name="way" value="${id}" ${i === 0 ? "checked" : ""}> ${name}`;
    box.appendChild(label);
  });
  const list = $("pupils");
  list.replaceChildren();
  for (const [id, name] of Object.entries(me.pupils)) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = name;
    button.dataset.pupil = id;
    button.addEventListener("click", async () => {
      const way = box.querySelector("input:checked").value;
      try {
        await api("POST", "/api/awards", { pupil_id: id, school_way_id: way, class_id: me.class_ids[0] });
        say(`${name} got a point for ${ways[way]}.`);
      } catch (error) { say(`That did not work: ${error.message}`); }
    });
    item.appendChild(button);
    list.appendChild(item);
  }
}

async function family(me) {
  show("family");
  const list = $("children");
  list.replaceChildren();
  for (const [id, name] of Object.entries(me.pupils)) {
    const total = await api("GET", `/api/pupils/${id}/weekly-total`);
    const item = document.createElement("li");
    item.innerHTML = `<strong>${name}</strong><div class="total" data-pupil="${id}">${total.total}</div>` +
      `<span>${total.total === 1 ? "point" : "points"} this week</span>`;
    list.appendChild(item);
  }
}

async function start() {
  try {
    const me = await api("GET", "/api/me");
    say(`Signed in as ${me.display_name}.`);
    if (me.role === "parent") await family(me); else await classroom(me);
  } catch (error) {
    if (error.status === 401) { show("sign-in"); say(""); } else say(error.message);
  }
}

$("sign-in-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("POST", "/api/session", { email: $("email").value, password: $("password").value });
    await start();
  } catch (error) { say(error.message); }
});
$("sign-out").addEventListener("click", async () => { await api("DELETE", "/api/session"); await start(); });
$("refresh").addEventListener("click", start);
start();
