// The web chat page: posts what the visitor says, shows what the assistant replies. No business logic here: the
// engine decides everything, this draws it. Every text goes in as textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  var storeKey = body.dataset.transcript;
  var maxUpload = Number(body.dataset.maxUpload);
  var ui = JSON.parse(body.dataset.texts || "{}");
  var log = document.getElementById("log");
  var typing = document.getElementById("typing");
  var input = document.getElementById("chat-input");
  var composer = document.getElementById("composer");
  var fileInput = document.getElementById("file");
  var verify = document.getElementById("verify");
  var emailForm = document.getElementById("email-form");
  var codeForm = document.getElementById("code-form");
  var verifyStatus = document.getElementById("verify-status");
  var pending = null; // the command to send again once the e-mail is proven
  var busy = 0;

  function fill(template, vars) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, name) {
      return name in vars ? String(vars[name]) : "{" + name + "}";
    });
  }

  // Storage may be refused (a frame on another site, in a browser that blocks third-party storage): the chat then
  // works without keeping anything in this browser.
  function stored(kind, key, value) {
    try {
      var store = window[kind];
      if (value === undefined) { return store.getItem(key); }
      if (value === null) { store.removeItem(key); } else { store.setItem(key, value); }
    } catch (e) { /* refused */ }
    return null;
  }

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // -- the conversation, kept in this browser ------------------------------------------------------------------
  function load() {
    try { return JSON.parse(stored("localStorage", storeKey) || "[]"); } catch (e) { return []; }
  }
  var transcript = load();
  function save() {
    stored("localStorage", storeKey, JSON.stringify(transcript.slice(-300)));
  }

  function add(item) {
    transcript.push(item);
    save();
    draw(item, transcript.length - 1);
  }

  function bubble(who) {
    var li = document.createElement("li");
    li.className = "msg " + who;
    var label = document.createElement("span");
    label.className = "sr-only";
    label.textContent = (who === "me" ? ui.you : ui.bot) + ": ";
    li.appendChild(label);
    log.appendChild(li);
    return li;
  }

  function build(item, index) {
    var li = document.createElement("li");
    li.className = "msg " + item.who;
    var label = document.createElement("span");
    label.className = "sr-only";
    label.textContent = (item.who === "me" ? ui.you : ui.bot) + ": ";
    li.appendChild(label);
    if (item.stale) { li.classList.add("stale"); }
    if (item.type === "document") {
      var a = document.createElement("a");
      a.href = item.url;
      a.setAttribute("download", item.name);
      a.className = "document";
      a.textContent = fill(ui.download, { name: item.name });
      li.appendChild(a);
      if (item.caption) {
        var caption = document.createElement("p");
        caption.textContent = item.caption;
        li.appendChild(caption);
      }
    } else {
      var p = document.createElement("p");
      p.textContent = item.text;
      li.appendChild(p);
    }
    if (item.choices && item.choices.length) {
      li.appendChild(keyboard(item, index));
    }
    return li;
  }

  function draw(item, index) {
    var li = build(item, index);
    log.appendChild(li);
    li.scrollIntoView({ block: "end" });
  }

  // The engine's answer to a toggle (or to 完成): the pressed message as it is now, drawn in its place.
  function replace(index, item, focusAt) {
    item.who = "bot";
    transcript[index] = item;
    save();
    var old = log.children[index];
    var li = build(item, index);
    log.replaceChild(li, old);
    var buttons = li.querySelectorAll(".choices button");
    if (focusAt !== null && buttons.length) { buttons[Math.min(focusAt, buttons.length - 1)].focus(); }
  }

  function isToggle(choice) { return typeof choice.chosen === "boolean"; }

  function keyboard(item, index) {
    var group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", item.text.split("\n").slice(-1)[0].slice(0, 120));
    item.choices.forEach(function (choice, n) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = choice.label;
      button.dataset.value = choice.value;
      button.disabled = !!item.used;
      if (isToggle(choice)) {
        button.className = "toggle";
        button.setAttribute("aria-pressed", choice.chosen ? "true" : "false");
      } else if (item.used === choice.value) {
        button.setAttribute("aria-pressed", "true");
      }
      button.addEventListener("click", function () { press(item, index, choice, n, group); });
      group.appendChild(button);
    });
    return group;
  }

  function press(item, index, choice, n, group) {
    if (item.used || busy) { return; }
    var buttons = group.querySelectorAll("button");
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    if (!isToggle(choice)) {
      item.used = choice.value;
      transcript[index] = item;
      save();
      buttons[n].setAttribute("aria-pressed", "true");
      add({ who: "me", type: "text", text: fill(ui.chosen, { label: choice.label }) });
    }
    send({ id: newId(), choice: choice.value, keyboard: item.keyboard }, { index: index, focusAt: n }).then(function (edited) {
      // A toggle not answered with its question again (a stale press, an error): its buttons work as before.
      if (isToggle(choice) && !edited) {
        Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      }
    });
  }

  // -- talking to the server ----------------------------------------------------------------------------------
  function setBusy(on) {
    busy += on ? 1 : -1;
    typing.hidden = busy === 0;
    composer.setAttribute("aria-busy", busy ? "true" : "false");
  }

  // Draws the replies; returns whether one of them was shown in place of the pressed message.
  function show(replies, pressed) {
    var edited = false;
    (replies || []).forEach(function (reply) {
      if (reply.edit && pressed) {
        replace(pressed.index, reply, pressed.focusAt);
        edited = true;
        return;
      }
      if (reply.type === "verify") {
        add({ who: "bot", type: "text", text: reply.text });
        openVerify(reply.then);
        return;
      }
      reply.who = "bot";
      add(reply);
    });
    return edited;
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": csrf, "accept": "application/json" },
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.json().then(function (json) { json.status = response.status; return json; });
    });
  }

  function send(message, pressed) {
    setBusy(true);
    var edited = false;
    return post("/chat/api/messages", message).then(function (json) {
      if (json.replies) {
        edited = show(json.replies, pressed);
      } else {
        add({ who: "bot", type: "text", text: json.text || json.detail || ui.offline, stale: true });
      }
    }).catch(function () {
      add({ who: "bot", type: "text", text: ui.offline, stale: true });
    }).then(function () { setBusy(false); return edited; });
  }

  function say(text) {
    text = text.trim();
    if (!text) { return; }
    add({ who: "me", type: "text", text: text });
    send({ id: newId(), text: text });
  }

  composer.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    say(text);
    input.focus();
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-command]"), function (button) {
    button.addEventListener("click", function () { say("/" + button.dataset.command); });
  });

  // -- uploads, with progress ---------------------------------------------------------------------------------
  var uploadBox = document.getElementById("upload");
  var uploadBar = document.getElementById("upload-progress");
  var uploadText = document.getElementById("upload-text");
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    fileInput.value = "";
    if (!file) { return; }
    add({ who: "me", type: "text", text: "📎 " + file.name });
    if (file.size > maxUpload) {
      add({ who: "bot", type: "text", text: ui.too_large });
      return;
    }
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("id", newId());
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/chat/api/upload");
    xhr.setRequestHeader("x-csrf-token", csrf);
    xhr.setRequestHeader("accept", "application/json");
    uploadBox.hidden = false;
    uploadBar.value = 0;
    uploadText.textContent = fill(ui.uploading, { name: file.name, percent: 0 });
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        var percent = Math.round(100 * event.loaded / event.total);
        uploadBar.value = percent;
        uploadText.textContent = fill(ui.uploading, { name: file.name, percent: percent });
      }
    });
    setBusy(true);
    xhr.addEventListener("loadend", function () {
      uploadBox.hidden = true;
      setBusy(false);
      var json = null;
      try { json = JSON.parse(xhr.responseText); } catch (e) { json = null; }
      if (json && json.replies) { show(json.replies); return; }
      add({ who: "bot", type: "text", text: (json && json.text) || (xhr.status === 413 ? ui.too_large : ui.upload_failed), stale: true });
    });
    xhr.send(form);
  });

  // -- proving an e-mail address ------------------------------------------------------------------------------
  function openVerify(then) {
    pending = then || null;
    verify.hidden = false;
    codeForm.hidden = true;
    verifyStatus.textContent = "";
    document.getElementById("email").focus();
  }
  document.getElementById("verify-cancel").addEventListener("click", function () {
    verify.hidden = true;
    input.focus();
  });
  emailForm.addEventListener("submit", function (event) {
    event.preventDefault();
    post("/chat/api/email", { email: document.getElementById("email").value }).then(function (json) {
      verifyStatus.textContent = json.text || json.detail || "";
      if (json.ok) {
        codeForm.hidden = false;
        document.getElementById("code").focus();
      }
    }).catch(function () { verifyStatus.textContent = ui.offline; });
  });
  codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    post("/chat/api/email/verify", {
      email: document.getElementById("email").value, code: document.getElementById("code").value
    }).then(function (json) {
      verifyStatus.textContent = json.text || json.detail || "";
      if (json.ok) {
        // The cookie may now name the visitor who proved this address first: start afresh as them.
        if (pending) { stored("sessionStorage", "kcxf-then", pending); }
        window.location.reload();
      }
    }).catch(function () { verifyStatus.textContent = ui.offline; });
  });

  // -- clearing this device's copy ----------------------------------------------------------------------------
  document.getElementById("clear").addEventListener("click", function () {
    if (!window.confirm(ui.clear_confirm)) { return; }
    transcript = [];
    save();
    log.textContent = "";
  });

  // -- messages nobody asked for here: status changes, staff notices ------------------------------------------
  if (window.EventSource) {
    var stream = new EventSource("/chat/api/stream");
    stream.addEventListener("message", function (event) {
      try { show([JSON.parse(event.data)]); } catch (e) { /* not ours */ }
    });
  }

  // -- start ----------------------------------------------------------------------------------------------------
  transcript.forEach(draw);
  var then = stored("sessionStorage", "kcxf-then");
  stored("sessionStorage", "kcxf-then", null);
  if (then) {
    say("/" + then);
  } else if (!transcript.length) {
    send({ id: newId(), text: "/start" });
  }
}());
