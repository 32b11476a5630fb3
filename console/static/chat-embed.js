// The web chat on another site: <script src="https://CHAT-HOST/static/chat-embed.js" defer></script> adds a
// floating button that opens the chat in a frame. Only origins in KCXF_WEBCHAT_ORIGINS may frame it (the chat's
// Content-Security-Policy says so to the browser). Styles are set from here, so the host page needs no CSS.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || document.getElementById("kcxf-chat-button")) { return; }
  var origin = new URL(script.src).origin;
  var zh = (script.dataset.lang || document.documentElement.lang || navigator.language || "zh").slice(0, 2) !== "en";
  var labels = zh ? { open: "咨询申报助手", close: "关闭对话" } : { open: "Chat with the assistant", close: "Close the chat" };

  function style(element, rules) {
    Object.keys(rules).forEach(function (name) { element.style[name] = rules[name]; });
  }

  var button = document.createElement("button");
  button.id = "kcxf-chat-button";
  button.type = "button";
  button.textContent = labels.open;
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-controls", "kcxf-chat-frame");
  style(button, {
    position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000", padding: "12px 18px",
    border: "0", borderRadius: "24px", background: "#0b5cad", color: "#fff", font: "600 16px/1.2 system-ui, sans-serif",
    boxShadow: "0 2px 10px rgba(0,0,0,.25)", cursor: "pointer"
  });

  var frame = null;
  function toggle() {
    var open = button.getAttribute("aria-expanded") !== "true";
    if (open && !frame) {
      frame = document.createElement("iframe");
      frame.id = "kcxf-chat-frame";
      frame.title = labels.open;
      frame.src = origin + "/chat?embed=1";
      style(frame, {
        position: "fixed", right: "16px", bottom: "76px", width: "min(400px, calc(100vw - 32px))",
        height: "min(640px, calc(100vh - 100px))", border: "1px solid #d0d7de", borderRadius: "12px",
        background: "#fff", zIndex: "2147483000", boxShadow: "0 4px 24px rgba(0,0,0,.25)"
      });
      document.body.appendChild(frame);
    }
    frame.hidden = !open;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    button.textContent = open ? labels.close : labels.open;
    if (open) { frame.focus(); }
  }
  button.addEventListener("click", toggle);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") { toggle(); button.focus(); }
  });
  document.body.appendChild(button);
}());
