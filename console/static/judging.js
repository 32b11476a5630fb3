// The scoring page saves the judge's draft as they type (progressive enhancement: the buttons work without it).
"use strict";

(() => {
  const form = document.querySelector("form[data-autosave]");
  if (!form || form.querySelector("fieldset[disabled]")) return;
  const status = document.getElementById("autosave-status");
  const token = form.querySelector("input[name=csrf_token]").value;
  let timer = null;
  let pending = null;

  async function save() {
    timer = null;
    const body = new URLSearchParams(new FormData(form));
    pending = fetch(form.dataset.autosave, {
      method: "POST", body, credentials: "same-origin",
      headers: { "x-csrf-token": token, accept: "application/json" },
    }).then((r) => r.json()).then((answer) => {
      if (!status) return;
      status.textContent = answer.saved
        ? form.dataset.saved.replace("{time}", answer.at) + (answer.problems.length ? " · " + answer.problems.join("；") : "")
        : answer.problems.join("；");
      status.classList.toggle("bad", !answer.saved || answer.problems.length > 0);
    }).catch(() => {});
  }

  // Half a second after the last keystroke or choice: one request per pause, not per key.
  form.addEventListener("input", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 500);
  });
  form.addEventListener("change", () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 200);
  });
})();
