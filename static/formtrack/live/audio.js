// Spoken cues (voice=true: the browser's speech synthesis, in the session's language) and beeps
// (sound=true: one per counted rep, a higher one when a target is reached). Browsers may hold
// sound back until the person touches the page: a button then asks for that touch.
import { config } from "../bridge.js";

const params = config.params || {};
const settings = params.passthrough || {};
const language = params.language || "en";
const BEEP_S = 0.12;
const REP_HZ = 880;
const TARGET_HZ = 1320;
const button = document.getElementById("ft-sound");
let audio = null;

function offerUnlock() {
  button.hidden = false;
}

button.addEventListener("click", () => {
  button.hidden = true;
  if (audio) audio.resume();
  // Said within the touch, an empty utterance lets speech play from now on.
  if (settings.voice && window.speechSynthesis) window.speechSynthesis.speak(new SpeechSynthesisUtterance(""));
});

export function startAudio() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!settings.sound || !Context) return;
  audio = new Context();
  // Safari also suspends sound later (a call, the app in the background): ask again then.
  audio.addEventListener("statechange", (event) => {
    const { state } = event.target;
    if (state === "running") button.hidden = true;
    else if (state !== "closed") offerUnlock();
  });
  if (audio.state !== "running") offerUnlock();
}

export function say(message) {
  const speech = window.speechSynthesis;
  if (!settings.voice || !speech || !message) return;
  const utterance = new SpeechSynthesisUtterance(message);
  utterance.lang = language;
  const voice = speech.getVoices().find((v) => v.lang.toLowerCase().split(/[-_]/)[0] === language);
  if (voice) utterance.voice = voice;
  utterance.addEventListener("error", (event) => { if (event.error === "not-allowed") offerUnlock(); });
  speech.cancel(); // the newest cue is the one that matters
  speech.speak(utterance);
}

export function beep(target = false) {
  if (!audio || audio.state !== "running") return;
  const at = audio.currentTime;
  const tone = audio.createOscillator();
  const volume = audio.createGain();
  tone.frequency.value = target ? TARGET_HZ : REP_HZ;
  volume.gain.setValueAtTime(0.0001, at);
  volume.gain.exponentialRampToValueAtTime(0.3, at + 0.01);
  volume.gain.exponentialRampToValueAtTime(0.0001, at + BEEP_S);
  tone.connect(volume).connect(audio.destination);
  tone.start(at);
  tone.stop(at + BEEP_S);
}

export function stopAudio() {
  if (window.speechSynthesis && settings.voice) window.speechSynthesis.cancel();
  if (audio) audio.close();
  audio = null;
  button.hidden = true;
}
