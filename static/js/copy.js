// Optional enhancement: a "Copy" button before each text marked data-copy (a citation, an embed
// snippet). Without JavaScript the text is there to select and copy by hand. No inline script or
// style: the site's Content-Security-Policy allows neither.
(function () {
  "use strict";

  function copyWithSelection(text) {
    return new Promise(function (resolve, reject) {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.className = "copy-buffer";
      document.body.appendChild(area);
      area.select();
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      document.body.removeChild(area);
      if (copied) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyWithSelection(text); });
    }
    return copyWithSelection(text);
  }

  function selectContents(element) {
    if (typeof element.select === "function") { element.select(); return; }
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  document.querySelectorAll("[data-copy]").forEach(function (target) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = "Copy";
    var what = target.getAttribute("data-copy");
    if (what) {
      var hidden = document.createElement("span");
      hidden.className = "visually-hidden";
      hidden.textContent = " " + what;
      button.appendChild(hidden);
    }
    var status = document.createElement("span");
    status.className = "copy-status";
    status.setAttribute("role", "status");
    var bar = document.createElement("div");
    bar.className = "copy-bar";
    bar.appendChild(button);
    bar.appendChild(status);
    target.parentNode.insertBefore(bar, target);

    button.addEventListener("click", function () {
      var text = "value" in target ? target.value : target.textContent;
      status.textContent = "";
      copy(text).then(
        function () { status.textContent = "Copied."; },
        function () { selectContents(target); status.textContent = "Selected: press Ctrl+C (⌘C on a Mac) to copy."; }
      );
    });
  });
})();
