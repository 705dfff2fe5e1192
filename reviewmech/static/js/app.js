// Small progressive enhancements; every page works without JavaScript.
document.documentElement.classList.add("js");

// One clock: times written by scripts in the reader's time zone, as the server writes them
// (reviewmech/core/clock.py): "2026-12-01 14:33 (Europe/Paris)" and "14:33 (Europe/Paris)".
window.ReviewmechClock = (function () {
  "use strict";

  function pageZone() {
    const zone = (document.body && document.body.dataset.timezone) || "UTC";
    try {
      new Intl.DateTimeFormat("en", { timeZone: zone });
      return zone;
    } catch (error) {
      return "UTC";
    }
  }

  // A Date, or an ISO 8601 text (a text without an offset is UTC, as the server stores it).
  function toDate(value) {
    if (value instanceof Date) return value;
    if (typeof value !== "string" || !value) return new Date();
    const zoned = /([zZ]|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
    const date = new Date(zoned);
    return Number.isNaN(date.getTime()) ? new Date() : date;
  }

  function parts(value) {
    const format = new Intl.DateTimeFormat("en-GB", {
      timeZone: pageZone(), year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    });
    const found = {};
    for (const part of format.formatToParts(toDate(value))) found[part.type] = part.value;
    return found;
  }

  function label() {
    return pageZone().replace(/_/g, " ");
  }

  return {
    zone: pageZone,
    browserZone() {
      try {
        return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
      } catch (error) {
        return "";
      }
    },
    formatDateTime(value) {
      const p = parts(value);
      return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} (${label()})`;
    },
    formatTime(value) {
      const p = parts(value);
      return `${p.hour}:${p.minute} (${label()})`;
    },
  };
})();

document.addEventListener("DOMContentLoaded", () => {
  const summary = document.querySelector(".error-summary");
  if (summary) summary.focus();
  // The sign-in form tells the server the browser's time zone; it becomes the profile's if there is none.
  for (const input of document.querySelectorAll("input[data-browser-timezone]")) {
    input.value = window.ReviewmechClock.browserZone();
  }
});
