// Conditions (`show_if`) in the browser: the same rules as reviewmech/questionnaires/conditions.py.
//
// A condition is one of
//   {question: CODE, in: [v, ...]}    the answer is one of these (a multiple choice: any selected)
//   {question: CODE, equals: v}       the answer equals v (a multiple choice: v is selected)
//   {question: CODE, answered: bool}  the question has (or has not) a non-empty answer
//   {all: [c, ...]}  {any: [c, ...]}  {not: c}
// `answers` maps a code to its value (an object or a Map); a missing code means no answer.
(function () {
  "use strict";

  const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

  function isPlainObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  // Python's ==: numbers and booleans compare by value (1 == True), lists and dicts deeply.
  function pyEquals(a, b) {
    const numeric = (v) => typeof v === "number" || typeof v === "boolean";
    if (numeric(a) && numeric(b)) return Number(a) === Number(b);
    if (Array.isArray(a) || Array.isArray(b)) {
      return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => pyEquals(v, b[i]));
    }
    if (isPlainObject(a) || isPlainObject(b)) {
      if (!isPlainObject(a) || !isPlainObject(b)) return false;
      const keys = Object.keys(a);
      return keys.length === Object.keys(b).length && keys.every((k) => has(b, k) && pyEquals(a[k], b[k]));
    }
    if (a === undefined) a = null;
    if (b === undefined) b = null;
    return a === b;
  }

  // Python's truthiness: empty strings, lists and dicts, 0 and None are false.
  function pyTruthy(value) {
    if (Array.isArray(value)) return value.length > 0;
    if (isPlainObject(value)) return Object.keys(value).length > 0;
    return Boolean(value);
  }

  function isAnswered(value) {
    if (value === null || value === undefined || value === "") return false;
    if (Array.isArray(value)) return value.length > 0;
    if (isPlainObject(value)) return Object.keys(value).length > 0;
    return true;
  }

  function lookup(answers, code) {
    if (answers instanceof Map) return answers.has(code) ? answers.get(code) : null;
    return answers && has(answers, code) ? answers[code] : null;
  }

  function contains(list, value) {
    return Array.isArray(list) && list.some((item) => pyEquals(item, value));
  }

  function evaluate(condition, answers) {
    if (condition === null || condition === undefined) return true;
    if (has(condition, "all")) return condition.all.every((c) => evaluate(c, answers));
    if (has(condition, "any")) return condition.any.some((c) => evaluate(c, answers));
    if (has(condition, "not")) return !evaluate(condition.not, answers);
    const value = lookup(answers, condition.question);
    if (has(condition, "answered")) return isAnswered(value) === pyTruthy(condition.answered);
    const wanted = has(condition, "in") ? condition.in : [condition.equals];
    if (Array.isArray(value)) return value.some((v) => contains(wanted, v));
    return contains(wanted, value);
  }

  // Which questions show, in questionnaire order. `items` lists [code, conditions] (conditions of the
  // enclosing sections, then the question's own); an object {code: conditions} is taken in key order.
  // A hidden question's answer counts as no answer for later conditions. `isEmpty(code, value)` is
  // optional, as in Python.
  function visibleCodes(items, answers, isEmpty) {
    const list = Array.isArray(items) ? items : Object.entries(items || {});
    const effective = new Map();
    const shown = new Set();
    for (const [code, conditions] of list) {
      if ((conditions || []).every((c) => !pyTruthy(c) || evaluate(c, effective))) {
        shown.add(code);
        const value = lookup(answers, code);
        if (value !== null && value !== undefined && !(isEmpty && isEmpty(code, value))) effective.set(code, value);
      }
    }
    return shown;
  }

  // Every question code a condition names.
  function referencedQuestions(condition, found) {
    found = found || new Set();
    if (!isPlainObject(condition)) return found;
    for (const key of ["all", "any"]) {
      if (Array.isArray(condition[key])) condition[key].forEach((part) => referencedQuestions(part, found));
    }
    if (isPlainObject(condition.not)) referencedQuestions(condition.not, found);
    if (typeof condition.question === "string") found.add(condition.question);
    return found;
  }

  window.ReviewmechConditions = { evaluate, visibleCodes, referencedQuestions, isAnswered, equals: pyEquals };
})();
