// A happy sound, made in code (no audio files).
const SOUND_KEY = "schoolgate-sound";

let audio = null;

export const soundOn = () => {
  try {
    return localStorage.getItem(SOUND_KEY) !== "off";
  } catch {
    return true;
  }
};

export function setSound(on) {
  try {
    localStorage.setItem(SOUND_KEY, on ? "on" : "off");
  } catch {
    // private browsing: the choice lasts until the page is closed
  }
}

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  audio ??= new Context();
  if (audio.state === "suspended") audio.resume().catch(() => {});
  return audio;
}

/** Browsers only let a page play sound after someone touched it: wake the sound up then. */
export function unlockSound() {
  if (!soundOn()) return;
  try {
    audioContext();
  } catch {
    // no sound on this device
  }
}

/** A short rising chime. Never fails: a device without sound still gives the point. */
export function cheer() {
  if (!soundOn()) return;
  try {
    const ctx = audioContext();
    if (!ctx) return;
    const start = ctx.currentTime + 0.02;
    [523.25, 659.25, 783.99, 1046.5].forEach((frequency, i) => {
      const tone = ctx.createOscillator();
      const volume = ctx.createGain();
      const at = start + i * 0.08;
      tone.type = "triangle";
      tone.frequency.setValueAtTime(frequency, at);
      volume.gain.setValueAtTime(0.0001, at);
      volume.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      volume.gain.exponentialRampToValueAtTime(0.0001, at + 0.35);
      tone.connect(volume);
      volume.connect(ctx.destination);
      tone.start(at);
      tone.stop(at + 0.4);
    });
  } catch {
    // no sound on this device: the point counts all the same
  }
}
