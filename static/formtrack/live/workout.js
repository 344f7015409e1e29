// A workout on the live page (workout=…): the step and set under way with their target, the rest
// counted down, and what comes next, in the live coach HUD (hud.js). The engine runs the workout
// and says where it is (docs/events.md, "Workouts"); until its first event the page shows the
// first step (or workoutFrom's), from the workout the server embedded (config.workout: each step
// with its label). A reconnected socket continues at the set under way (resumeFrom).
import { config } from "../bridge.js";
import { text } from "../text.js";
import { beep, say } from "./audio.js";
import { hideClock, hideGrade, setKind, showClock, showCount, showCue, showRest, showTitle, showWorkoutLines } from "./hud.js";

const plan = config.workout || null;
export const active = plan !== null;
// Beeps for the last seconds of a rest.
const COUNTDOWN_BEEPS_S = 3;
const CLOCK_TICK_MS = 250;

const state = { index: 1, set: 1, readySince: null, clock: null };
// The set a new session continues at, as workoutFrom spells it ("2.3"): the set under way, or the
// one after the set that just ended; null before the first event and after the last set.
let position = (config.params && config.params.workout_from) || null;

export function resumeFrom() {
  return position;
}

const stepAt = (index) => plan.steps[index - 1];
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, key) => values[key]);

function setLine(set, sets) {
  return sets > 1 ? fill(text.set_of, { set, sets }) : "";
}

function stepLine(index, set) {
  const step = plan.steps.length > 1 ? fill(text.step_of, { step: index, steps: plan.steps.length }) : "";
  return [step, setLine(set, stepAt(index).sets)].filter(Boolean).join(" · ");
}

// "Next: Plank"; "Next: Set 2 of 3" for another set of the step under way.
function nextLine(next) {
  if (!next) return "";
  const step = stepAt(next.index);
  const what = next.index === state.index && next.set > 1 ? setLine(next.set, step.sets) : step.label;
  return fill(text.next, { exercise: what });
}

// A time target on a movement that counts reps: the set lasts that long, from when the person is
// ready; the count shows their reps.
function timed(step) {
  return step.unit === "seconds" && step.kind === "repetition";
}

// What the count of the set under way counts toward (none for a timed set: its clock does).
export function countTarget() {
  const step = stepAt(state.index);
  return timed(step) ? null : step.target;
}

function stopClock() {
  clearInterval(state.clock);
  state.clock = null;
}

function showSet(index, set, next) {
  const step = stepAt(index);
  stopClock();
  Object.assign(state, { index, set, readySince: null });
  setKind(step.kind);
  hideGrade();
  showTitle(step.label);
  showWorkoutLines(stepLine(index, set), nextLine(next));
  showCount(0, countTarget());
  if (timed(step)) showClock(0, step.target, true);
  else hideClock();
}

// The engine counts a timed set from when the person is ready: so does its clock.
export function onPosture(event) {
  const step = stepAt(state.index);
  if (!event.ready || !timed(step) || state.readySince !== null) return;
  state.readySince = performance.now();
  state.clock = setInterval(() => showClock((performance.now() - state.readySince) / 1000, step.target, true), CLOCK_TICK_MS);
}

export function onEvent(event) {
  switch (event.type) {
    case "workout_step":
      position = event.done ? (event.next ? event.next.index + "." + event.next.set : null) : event.index + "." + event.set;
      if (!event.done) {
        showSet(event.index, event.set, event.next);
      } else {
        stopClock();
        if (event.next) {
          showCue(text.target_reached, true);
          say(text.target_reached);
          beep(true);
        }
      }
      break;
    case "rest":
      if (event.secondsLeft === event.seconds) {
        showTitle(text.rest);
        showWorkoutLines("", nextLine(event.next));
        say(nextLine(event.next));
      } else if (event.secondsLeft <= COUNTDOWN_BEEPS_S) {
        beep();
      }
      showRest(event.secondsLeft, event.seconds);
      break;
    case "workout_summary":
      stopClock();
      if (event.completed) {
        showTitle(text.workout_done);
        showWorkoutLines("", "");
        showCue(text.workout_done, true);
        say(text.workout_done);
        beep(true);
      }
      break;
  }
}

function nextAfter(index, set) {
  if (set < stepAt(index).sets) return { index, set: set + 1 };
  return index < plan.steps.length ? { index: index + 1, set: 1 } : null;
}

if (active) {
  const [index, set] = (position || "1.1").split(".").map(Number);
  showSet(index, set, nextAfter(index, set));
}
