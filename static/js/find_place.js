// "Find your county or city": a type-ahead over /places/suggest/, as the WAI-ARIA 1.2 combobox
// pattern (list autocomplete, focus stays in the box, the active option named by
// aria-activedescendant). Without JavaScript, or when the suggestions cannot be fetched, the form
// simply submits to /places/, which answers the same search.
(function () {
  "use strict";

  var DEBOUNCE_MS = 250;
  var MIN_CHARS = 2;
  var PARTIAL_ZIP = /^[\d\s-]+$/;
  var WHOLE_ZIP = /^\s*\d{5}(-\d{4})?\s*$/;
  var HAS_WORD = /[0-9A-Za-z\u00C0-\uFFFF]/;

  function enhance(input) {
    var form = input.form;
    var endpoint = input.getAttribute("data-suggest-url");
    if (!form || !endpoint || !window.fetch || !window.JSON) { return; }

    var listId = input.id + "-options";
    var list = document.createElement("ul");
    list.id = listId;
    list.className = "find-place__options";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Places that match");
    list.hidden = true;

    var live = document.createElement("div");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");

    input.parentNode.appendChild(list);
    input.parentNode.appendChild(live);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");

    var options = [];   // [{element, url}]
    var active = -1;
    var timer = null;
    var asked = 0;      // the number of the latest request: older answers are dropped
    var cache = {};

    function announce(text) {
      // A polite live region: the count, once the list changes, not every keystroke.
      if (live.textContent !== text) { live.textContent = text; }
    }

    function setActive(index) {
      if (active >= 0 && options[active]) {
        options[active].element.setAttribute("aria-selected", "false");
      }
      active = index;
      if (active >= 0 && options[active]) {
        var option = options[active].element;
        option.setAttribute("aria-selected", "true");
        input.setAttribute("aria-activedescendant", option.id);
        if (option.scrollIntoView) { option.scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function close() {
      setActive(-1);
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
    }

    function open() {
      if (!options.length) { return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function go(index) {
      var chosen = options[index];
      if (!chosen) { return; }
      close();
      window.location.assign(chosen.url);
    }

    function render(data) {
      list.textContent = "";
      options = [];
      active = -1;
      (data.results || []).forEach(function (result, index) {
        if (typeof result.url !== "string" || result.url.charAt(0) !== "/") { return; }
        var item = document.createElement("li");
        item.id = listId + "-" + index;
        item.className = "find-place__option";
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        var name = document.createElement("span");
        name.className = "find-place__option-name";
        name.textContent = result.level === "state" ? result.name : result.name + ", " + result.state;
        var status = document.createElement("span");
        status.className = "find-place__option-status";
        status.textContent = result.status + (result.detail ? ": " + result.detail : "") +
          (result.note ? ". " + result.note : "");
        item.appendChild(name);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(status);
        var entry = { element: item, url: result.url };
        item.addEventListener("mousedown", function (event) { event.preventDefault(); });  // keep focus in the box
        item.addEventListener("click", function () { go(options.indexOf(entry)); });
        options.push(entry);
        list.appendChild(item);
      });
      var shown = options.length;
      var total = typeof data.total === "number" ? data.total : shown;
      if (!shown) {
        close();
        announce("No suggestions. Press Enter to search.");
        return;
      }
      open();
      announce(
        (total > shown ? shown + " of " + total : String(shown)) +
        (shown === 1 ? " suggestion" : " suggestions") + ". Use the up and down arrows to choose one."
      );
    }

    function suggest() {
      var value = input.value.trim();
      if (value.length < MIN_CHARS || !HAS_WORD.test(value) ||
          (PARTIAL_ZIP.test(value) && !WHOLE_ZIP.test(value))) {
        asked += 1;  // an answer still on its way is no longer wanted
        options = [];
        list.textContent = "";
        close();
        announce("");
        return;
      }
      if (cache[value]) { render(cache[value]); return; }
      var number = ++asked;
      fetch(endpoint + "?q=" + encodeURIComponent(value), { headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (number !== asked) { return; }
          if (!data) { close(); return; }
          cache[value] = data;
          render(data);
        })
        .catch(function () {
          // No suggestions, and nothing else changes: the form still submits to the search page.
          if (number === asked) { close(); }
        });
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(suggest, DEBOUNCE_MS);
    });

    input.addEventListener("keydown", function (event) {
      var expanded = !list.hidden;
      switch (event.key) {
        case "ArrowDown":
          if (!options.length) { return; }
          event.preventDefault();
          if (!expanded) { open(); setActive(event.altKey ? -1 : 0); return; }
          setActive(active + 1 >= options.length ? 0 : active + 1);
          break;
        case "ArrowUp":
          if (!options.length) { return; }
          event.preventDefault();
          if (!expanded) { open(); setActive(options.length - 1); return; }
          setActive(active <= 0 ? options.length - 1 : active - 1);
          break;
        case "Enter":
          if (expanded && active >= 0) {
            event.preventDefault();
            go(active);
          }
          break;  // otherwise the form submits, as without JavaScript
        case "Escape":
          if (expanded) {
            event.preventDefault();
            close();
          } else if (input.value) {
            event.preventDefault();
            input.value = "";
            options = [];
            list.textContent = "";
            announce("");
          }
          break;
        default:
          break;
      }
    });

    input.addEventListener("blur", function () { close(); });
    input.addEventListener("focus", function () {
      if (options.length && input.value.trim().length >= MIN_CHARS) { open(); }
    });
    form.addEventListener("submit", function () { close(); });
  }

  document.querySelectorAll("input[data-suggest-url]").forEach(enhance);
})();
