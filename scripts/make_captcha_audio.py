#!/usr/bin/env python3
"""Write the spoken digits of the audio captcha to static/captcha/<language>/<digit>.wav.

Usage: .venv/bin/python scripts/make_captcha_audio.py [DIRECTORY]

Run once (and again only to change a voice); the files are committed, so the portal serves
the audio captcha without a speech synthesiser (enrollment/captcha.py puts the six digits
together per request). Needs the Debian packages espeak-ng (Dutch) and flite (English):

    sudo apt install espeak-ng flite

Each file is one digit, mono 16-bit PCM at 8000 Hz (telephone quality, a few kB), with the
silence around the word cut off, so that the portal decides the pauses between digits.
"""

from __future__ import annotations

import array
import shutil
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "static" / "captcha"
RATE = 8000
# How each language's synthesiser says a digit: the command, with {text} and {out}.
VOICES: dict[str, tuple[list[str], list[str]]] = {
    # espeak-ng's Dutch voice; a little slower than its default of 175 words a minute.
    "nl": (
        ["nul", "één", "twee", "drie", "vier", "vijf", "zes", "zeven", "acht", "negen"],
        ["espeak-ng", "-v", "nl", "-s", "140", "-w", "{out}", "{text}"],
    ),
    # flite's "slt" voice is its clearest English one.
    "en": (
        ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
        ["flite", "-voice", "slt", "-t", "{text}", "-o", "{out}"],
    ),
}
SILENCE = 300  # samples below this amplitude (of 32767) count as silence when trimming


def read_mono16(path: Path) -> tuple[array.array[int], int]:
    with wave.open(str(path), "rb") as source:
        if source.getsampwidth() != 2 or source.getnchannels() != 1:
            raise SystemExit(f"{path}: expected mono 16-bit PCM")
        samples = array.array("h", source.readframes(source.getnframes()))
        if sys.byteorder == "big":
            samples.byteswap()
        return samples, source.getframerate()


def resample(samples: array.array[int], rate: int) -> array.array[int]:
    """To RATE: a moving average over one output period against aliasing, then linear
    interpolation. Crude, but digits stay clear at telephone quality."""
    if rate == RATE:
        return samples
    width = max(1, round(rate / RATE))
    smoothed = [
        sum(samples[max(0, i - width + 1) : i + 1]) / len(samples[max(0, i - width + 1) : i + 1])
        for i in range(len(samples))
    ]
    count = int(len(smoothed) * RATE / rate)
    out = array.array("h")
    for n in range(count):
        position = n * rate / RATE
        i = int(position)
        fraction = position - i
        nxt = smoothed[min(i + 1, len(smoothed) - 1)]
        out.append(int(max(-32768, min(32767, smoothed[i] * (1 - fraction) + nxt * fraction))))
    return out


def trim(samples: array.array[int]) -> array.array[int]:
    loud = [i for i, sample in enumerate(samples) if abs(sample) > SILENCE]
    if not loud:
        raise SystemExit("the synthesiser produced silence")
    margin = RATE // 50  # 20 ms, so that no consonant is cut
    return samples[max(0, loud[0] - margin) : loud[-1] + margin]


def normalise(samples: array.array[int]) -> array.array[int]:
    """Every digit equally loud: peaks at about 70 % of full scale."""
    peak = max(abs(sample) for sample in samples)
    factor = 0.7 * 32767 / peak
    return array.array("h", (int(sample * factor) for sample in samples))


def write(path: Path, samples: array.array[int]) -> None:
    if sys.byteorder == "big":
        samples = array.array("h", samples)
        samples.byteswap()
    with wave.open(str(path), "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(2)
        target.setframerate(RATE)
        target.writeframes(samples.tobytes())


def main(directory: Path) -> None:
    for language, (words, command) in VOICES.items():
        if shutil.which(command[0]) is None:
            raise SystemExit(f"{command[0]} is missing: sudo apt install {command[0]}")
        (directory / language).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory() as work:
            for digit, word in enumerate(words):
                raw = Path(work) / f"{digit}.wav"
                arguments = [part.format(text=word, out=raw) for part in command]
                subprocess.run(arguments, check=True, capture_output=True)
                samples, rate = read_mono16(raw)
                target = directory / language / f"{digit}.wav"
                write(target, normalise(trim(resample(samples, rate))))
                print(f"{target}: {word}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIRECTORY)
