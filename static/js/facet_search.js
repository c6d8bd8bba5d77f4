// Type to narrow a long list of checkboxes (the states on /resolutions/): a box above the list hides
// the choices whose name or code does not start with what was typed (any word of the name counts);
// chosen ones always stay in view. Enter chooses the only choice left instead of sending the form.
// Without JavaScript the whole list shows, in a scrolling box, and the form works the same.
(function () {
  "use strict";

  function normalised(text) {
    var plain = text.normalize ? text.normalize("NFD").replace(/[\u0300-\u036f]/g, "") : text;
    return plain.toLowerCase().replace(/\s+/g, " ").trim();
  }

  function matches(words, typed) {
    if (!typed) { return true; }
    if (words.indexOf(typed) === 0) { return true; }
    return words.indexOf(" " + typed) !== -1;
  }

  function enhance(list) {
    var options = Array.prototype.map.call(list.querySelectorAll("label"), function (label) {
      var box = label.querySelector("input");
      var name = label.getAttribute("data-facet-text") || label.textContent;
      return { label: label, box: box, name: name, words: normalised(name + " " + box.value) };
    });
    if (!options.length) { return; }

    var id = list.id + "-search";
    var wrapper = document.createElement("p");
    wrapper.className = "facet__search";
    var caption = document.createElement("label");
    caption.htmlFor = id;
    caption.textContent = list.getAttribute("data-facet-search");
    var input = document.createElement("input");
    input.type = "search";
    input.id = id;
    input.autocomplete = "off";
    input.spellcheck = false;
    input.setAttribute("aria-controls", list.id);
    var live = document.createElement("span");
    live.className = "visually-hidden";
    live.setAttribute("role", "status");
    live.setAttribute("aria-live", "polite");
    wrapper.appendChild(caption);
    wrapper.appendChild(input);
    wrapper.appendChild(live);
    list.parentNode.insertBefore(wrapper, list);

    function narrow() {
      var typed = normalised(input.value);
      options.forEach(function (option) {
        option.label.hidden = !(option.box.checked || matches(option.words, typed));
      });
      var count = options.filter(function (option) { return !option.label.hidden; }).length;
      live.textContent = typed ? count + " of " + options.length + " shown" : "";
    }

    input.addEventListener("input", narrow);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        var typed = normalised(input.value);
        var left = options.filter(function (option) { return typed && matches(option.words, typed); });
        if (left.length === 1) {
          left[0].box.checked = true;
          live.textContent = left[0].name + ": chosen";
          input.value = "";
          narrow();
        }
      } else if (event.key === "Escape" && input.value) {
        input.value = "";
        narrow();
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-facet-search]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
